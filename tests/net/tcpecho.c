/*
 * tcpecho: the host end of the TCP echo test and benchmark.
 *
 *   tcpecho [-p PORT] [-m MIB] [-s SEED] [-t SECONDS]
 *
 * Connects to 127.0.0.1:PORT (default 10007), streams MIB mebibytes (default
 * 64) of pseudo-random bytes while reading the echo back at the same time,
 * then closes its sending side and reads to the end.  Every byte must come
 * back, in order, and nothing more.  Prints
 *
 *   tcpecho: ok 67108864 bytes MBps 41.7
 *
 * (MB = 10^6 bytes, over the time from connect to the last byte back).
 * Exit 0 on an exact echo, 1 otherwise (a mismatch says at which offset), 2
 * for bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		65536
#define STALL_MS	30000	/* no progress either way for this long: give up */

/* A reproducible byte stream: the sender and the checker each run one. */
struct stream {
	uint64_t state;
	uint64_t word;
	int left;		/* bytes of word not handed out yet */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fill(struct stream *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->left == 0) {
			/* xorshift64 */
			s->state ^= s->state << 13;
			s->state ^= s->state >> 7;
			s->state ^= s->state << 17;
			s->word = s->state;
			s->left = 8;
		}
		p[i] = (uint8_t)s->word;
		s->word >>= 8;
		s->left--;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: tcpecho [-p PORT] [-m MIB] [-s SEED] [-t SECONDS]\n");
	exit(2);
}

static int connect_tcp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("tcpecho: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

int main(int argc, char **argv)
{
	uint64_t seed = 0x5eed;
	long mib = 64;
	int port = 10007, limit_s = 900, c, fd;
	struct stream tx, rx;
	static uint8_t out[CHUNK], in[CHUNK], want[CHUNK];
	size_t out_len = 0, out_off = 0;
	uint64_t total, sent = 0, got = 0;
	int64_t start, last_progress;
	bool shut = false;

	while ((c = getopt(argc, argv, "p:m:s:t:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'm': mib = atol(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': limit_s = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || mib <= 0 || seed == 0)
		usage();
	total = (uint64_t)mib << 20;
	tx = rx = (struct stream){ .state = seed };
	start = last_progress = now_ns();
	fd = connect_tcp(port);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int64_t t = now_ns();

		if (sent < total)
			p.events |= POLLOUT;
		else if (!shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (t - last_progress > STALL_MS * 1000000LL || t - start > limit_s * 1000000000LL) {
			fprintf(stderr, "tcpecho: stalled: %llu bytes sent, %llu echoed of %llu\n",
			    (unsigned long long)sent, (unsigned long long)got,
			    (unsigned long long)total);
			return 1;
		}
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (p.revents & POLLOUT) {
			if (out_off == out_len) {
				out_len = total - sent < CHUNK ? total - sent : CHUNK;
				fill(&tx, out, out_len);
				out_off = 0;
			}
			n = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
			if (n > 0) {
				out_off += (size_t)n;
				sent += (uint64_t)n;
				last_progress = now_ns();
			} else if (n < 0 && errno != EAGAIN) {
				perror("tcpecho: send");
				return 1;
			}
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(fd, in, sizeof in, 0);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0) {
			perror("tcpecho: recv");
			return 1;
		}
		if (n == 0)
			break;
		if (got + (uint64_t)n > total) {
			fprintf(stderr, "tcpecho: %llu bytes came back, more than the %llu sent\n",
			    (unsigned long long)(got + (uint64_t)n), (unsigned long long)total);
			return 1;
		}
		fill(&rx, want, (size_t)n);
		for (ssize_t i = 0; i < n; i++)
			if (in[i] != want[i]) {
				fprintf(stderr, "tcpecho: byte %llu differs: sent 0x%02x, got 0x%02x\n",
				    (unsigned long long)(got + (uint64_t)i), want[i], in[i]);
				return 1;
			}
		got += (uint64_t)n;
		last_progress = now_ns();
	}
	if (got != total) {
		fprintf(stderr, "tcpecho: the echo ended after %llu of %llu bytes\n",
		    (unsigned long long)got, (unsigned long long)total);
		return 1;
	}
	printf("tcpecho: ok %llu bytes MBps %.1f\n", (unsigned long long)total,
	    (double)total * 1e3 / (double)(now_ns() - start));
	close(fd);
	return 0;
}
