/*
 * udpcount: the host end of the counter on UDP port 8 (layer1/netecho/count.c).
 *
 *   udpcount [-p PORT] [-n COUNT] [-t SECONDS] [-l FILE]
 *
 * Sends one request at a time to 127.0.0.1:PORT (default 10008), each a
 * 16-byte tag of its own, and resends it every 200 ms until a reply carries
 * that tag back.  Every reply that comes, a late one to an earlier send
 * included, is printed at once as one line holding the count it carries
 * (flushed, so that a caller reading the output after killing us has every
 * value we saw).  Stops after COUNT replies to distinct requests (default
 * 0: never).  Exit 0 after COUNT, 1 when SECONDS (default 30) pass without
 * a reply or a reply is malformed, 2 for bad usage.
 *
 * With -l, each line also holds the size FILE had once the reply had come
 * (stat right after reading it): for QEMU's blklogwrites log,
 * which grows as the disk completes writes and flushes, an upper bound of
 * how far the disk had got when the reply reached the host
 * (tests/crash/powerloss-extsync.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAG_BYTES	16
#define COUNT_BYTES	8	/* the reply: the count, little-endian, then the request */
#define RESEND_MS	200

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void)
{
	fprintf(stderr, "usage: udpcount [-p PORT] [-n COUNT] [-t SECONDS] [-l FILE]\n");
	exit(2);
}

static int connect_udp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("udpcount: socket");
		exit(1);
	}
	return fd;
}

/* A tag no other request of this run or of another run carries. */
static void new_tag(uint8_t *tag, uint64_t n)
{
	uint64_t who = ((uint64_t)getpid() << 32) ^ (uint64_t)now_ms();

	memcpy(tag, &who, 8);
	memcpy(tag + 8, &n, 8);
}

/* The size of the file at path, for -l; the caller stops without it. */
static long long size_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		perror(path);
		exit(1);
	}
	return (long long)st.st_size;
}

/*
 * Prints the count a reply carries, and `size` unless it is negative; 1 if
 * it answers tag, 0 if not, -1 if malformed.
 */
static int reply(const uint8_t *buf, ssize_t n, const uint8_t *tag, long long size)
{
	uint64_t v;

	if (n != COUNT_BYTES + TAG_BYTES) {
		fprintf(stderr, "udpcount: a reply of %zd bytes, not %d\n", n, COUNT_BYTES + TAG_BYTES);
		return -1;
	}
	memcpy(&v, buf, COUNT_BYTES);
	if (size >= 0)
		printf("%llu %lld\n", (unsigned long long)v, size);
	else
		printf("%llu\n", (unsigned long long)v);
	fflush(stdout);
	return memcmp(buf + COUNT_BYTES, tag, TAG_BYTES) == 0;
}

int main(int argc, char **argv)
{
	long count = 0, done = 0;
	int port = 10008, limit_s = 30, c, fd;
	const char *watch = 0;
	uint8_t tag[TAG_BYTES], buf[2048];
	int64_t last_reply, last_send;

	while ((c = getopt(argc, argv, "p:n:t:l:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'n': count = atol(optarg); break;
		case 't': limit_s = atoi(optarg); break;
		case 'l': watch = optarg; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || count < 0 || limit_s <= 0)
		usage();
	fd = connect_udp(port);
	new_tag(tag, 0);
	last_reply = now_ms();
	last_send = 0;
	while (count == 0 || done < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		long long size;
		int r;

		if (now_ms() - last_send >= RESEND_MS) {
			/* Refused (nobody listens yet) or a full buffer: the resend covers it. */
			if (send(fd, tag, TAG_BYTES, 0) < 0 && errno != ECONNREFUSED && errno != EAGAIN &&
			    errno != ENOBUFS) {
				perror("udpcount: send");
				return 1;
			}
			last_send = now_ms();
		}
		if (now_ms() - last_reply > (int64_t)limit_s * 1000) {
			fprintf(stderr, "udpcount: no reply for %ds after %ld\n", limit_s, done);
			return 1;
		}
		if (poll(&p, 1, RESEND_MS / 4) <= 0)
			continue;
		while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
			size = watch != 0 ? size_of(watch) : -1;	/* taken after the reply came */
			if ((r = reply(buf, n, tag, size)) < 0)
				return 1;
			last_reply = now_ms();
			if (r == 1) {
				new_tag(tag, (uint64_t)++done);
				last_send = 0;	/* the next request goes at once */
			}
		}
	}
	return 0;
}
