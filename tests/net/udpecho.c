/*
 * udpecho: the host end of the UDP echo test and benchmark.
 *
 *   udpecho [-p PORT] [-n COUNT] [-w WINDOW] [-s SEED] [-t SECONDS]
 *
 * Sends COUNT datagrams (default 10000) of random sizes 1..1472 bytes and
 * random contents to 127.0.0.1:PORT (default 10007), at most WINDOW
 * (default 1) awaiting their echo at a time, and checks that every one comes
 * back byte-exact.  A datagram not echoed within a second is sent again (UDP
 * may lose it; "resent" counts them) up to 5 times.  A reply equal to no
 * datagram awaited is "stray": one per resend may be a late duplicate, any
 * more is corruption.  Prints one line of figures:
 *
 *   udpecho: ok 10000 datagrams 7371234 bytes rtt_median_us 312 per_s 3011 resent 0 stray 0
 *
 * rtt is from a datagram's first send to its echo, over the datagrams never
 * resent; per_s is COUNT over the whole run.  Exit 0 when every datagram came
 * back intact, 1 otherwise, 2 for bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DGRAM_MAX	1472	/* the most that fits one Ethernet frame */
#define WINDOW_MAX	256
#define RESEND_NS	1000000000LL
#define TRIES_MAX	5

/* One datagram awaiting its echo. */
struct flight {
	bool busy;
	int tries;
	uint32_t len;
	int64_t first_ns, last_ns;
	uint8_t data[DGRAM_MAX];
};

static struct flight win[WINDOW_MAX];
static int64_t *rtts;
static long nrtt, resent, stray;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* splitmix64: reproducible from the seed, fast enough to fill datagrams. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void usage(void)
{
	fprintf(stderr, "usage: udpecho [-p PORT] [-n COUNT] [-w WINDOW] [-s SEED] [-t SECONDS]\n");
	exit(2);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void send_one(int fd, struct flight *f)
{
	/* A full socket buffer is a loss like any other: the resend covers it. */
	if (send(fd, f->data, f->len, 0) < 0 && errno != EAGAIN && errno != ENOBUFS &&
	    errno != ECONNREFUSED) {
		perror("udpecho: send");
		exit(1);
	}
	f->tries++;
	f->last_ns = now_ns();
}

/* Fills slot f with a new datagram from the generator and sends it. */
static void launch(int fd, struct flight *f, uint64_t *seed)
{
	f->len = 1 + (uint32_t)(rnd(seed) % DGRAM_MAX);
	for (uint32_t i = 0; i < f->len; i += 8) {
		uint64_t v = rnd(seed);

		memcpy(f->data + i, &v, f->len - i < 8 ? f->len - i : 8);
	}
	f->busy = true;
	f->tries = 0;
	f->first_ns = now_ns();
	send_one(fd, f);
}

/* Matches a reply against the window; true when it completed a datagram. */
static bool match(const uint8_t *buf, ssize_t n, int window)
{
	for (int i = 0; i < window; i++) {
		struct flight *f = &win[i];

		if (!f->busy || (ssize_t)f->len != n || memcmp(f->data, buf, (size_t)n) != 0)
			continue;
		if (f->tries == 1)
			rtts[nrtt++] = now_ns() - f->first_ns;
		f->busy = false;
		return true;
	}
	stray++;
	return false;
}

/* Resends every datagram overdue; false when one ran out of tries. */
static bool resend_overdue(int fd, int window)
{
	int64_t t = now_ns();

	for (int i = 0; i < window; i++) {
		struct flight *f = &win[i];

		if (!f->busy || t - f->last_ns < RESEND_NS)
			continue;
		if (f->tries >= TRIES_MAX) {
			fprintf(stderr, "udpecho: a %u-byte datagram never came back (%d sends)\n",
			    f->len, f->tries);
			return false;
		}
		resent++;
		send_one(fd, f);
	}
	return true;
}

static int connect_udp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int buf = 4 << 20;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("udpecho: socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	return fd;
}

int main(int argc, char **argv)
{
	long count = 10000, launched = 0, done = 0, bytes = 0;
	int port = 10007, window = 1, limit_s = 600, c, fd;
	uint64_t seed = 1;
	uint8_t buf[65536];
	int64_t start, end;

	while ((c = getopt(argc, argv, "p:n:w:s:t:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'n': count = atol(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': limit_s = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || count <= 0 || window < 1 || window > WINDOW_MAX)
		usage();
	if ((rtts = calloc((size_t)count, sizeof *rtts)) == NULL)
		return 1;
	fd = connect_udp(port);
	start = now_ns();
	while (done < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		for (int i = 0; i < window && launched < count; i++)
			if (!win[i].busy) {
				launch(fd, &win[i], &seed);
				bytes += win[i].len;
				launched++;
			}
		if (!resend_overdue(fd, window))
			return 1;
		if (now_ns() - start > (int64_t)limit_s * 1000000000LL) {
			fprintf(stderr, "udpecho: time limit of %ds reached, %ld of %ld echoed\n",
			    limit_s, done, count);
			return 1;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0)
			if (match(buf, n, window))
				done++;
	}
	end = now_ns();
	if (stray > resent) {
		fprintf(stderr, "udpecho: %ld replies matched no datagram sent (%ld resends)\n",
		    stray, resent);
		return 1;
	}
	qsort(rtts, (size_t)nrtt, sizeof *rtts, cmp_i64);
	printf("udpecho: ok %ld datagrams %ld bytes rtt_median_us %lld per_s %.0f resent %ld stray %ld\n",
	    count, bytes, nrtt ? (long long)(rtts[nrtt / 2] / 1000) : -1LL,
	    (double)count * 1e9 / (double)(end - start), resent, stray);
	return 0;
}
