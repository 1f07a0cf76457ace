/*
 * kvtool: the host end of the kvstore tests, speaking memcached's ASCII
 * protocol to 127.0.0.1:PORT.
 *
 *   kvtool talk -p PORT [-q MS] [-x]
 *       Sends stdin as it is, then prints every byte received until MS ms
 *       (default 1000) pass without any, or the server closes.  -x: close
 *       right after sending, reading nothing (a client that vanishes).
 *   kvtool load -p PORT -n N [-c CONNS] [-s SIZE] [-k PID -a COUNT] -o FILE
 *       Sets key:0 .. key:N-1 to values of SIZE bytes (default 100) made
 *       from the key, over CONNS connections (default 8), one set in flight
 *       on each.  -k: SIGKILL process PID (QEMU) the moment the COUNTth
 *       STORED arrives, so the cut comes mid-load whatever its speed, and
 *       as close after a reply as the host can make it.  Appends each i to FILE the moment its STORED arrives,
 *       so FILE lists exactly the sets the server answered, even if the
 *       server dies under it (load then stops and still exits 0).  Says
 *       "kvtool: load: CONNS connections" once all are open, before any set.
 *   kvtool verify -p PORT -f FILE [-s SIZE]
 *       Gets every key FILE lists and checks its value byte for byte.
 *   kvtool verify -p PORT -n N [-r SEED] [-s SIZE]
 *       The same for every key of key:0 .. key:N-1, as load sets them, in a
 *       random order (a shuffle seeded with SEED, default 1): the values
 *       come from the keys, so no host copy of the store is needed, and the
 *       order makes the reads random over the store.  Says how long the gets
 *       took, as "in S s, R gets/s".
 *
 * Prints "kvtool: load: N stored" or "kvtool: verify: ok N keys".  Exit 0
 * when all is well, 1 when verify finds a key missing or wrong (the line
 * says which), 2 for bad usage, 3 when the server cannot be reached or
 * stalls for 30 s.
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
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STALL_MS	30000
#define CONNS_MAX	64
#define SIZE_MAX_VALUE	(1024 * 1024)
#define BATCH		50	/* keys per get line in verify */
/* connect tries, 100 ms apart: QEMU's forwarded port takes one at a time. */
#define DIAL_TRIES	100

static int port;

_Noreturn static void die(int code, const char *what)
{
	fprintf(stderr, "kvtool: %s\n", what);
	exit(code);
}

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int tries = 0; tries < DIAL_TRIES; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			return fd;
		}
		fprintf(stderr, "kvtool: connect: %s\n", strerror(errno));
		close(fd);
		usleep(100000);
	}
	die(3, "cannot connect");
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k <= 0)
			die(3, "the connection broke while sending");
		p += k;
		n -= (size_t)k;
	}
}

/* Reads up to n bytes, waiting at most ms; 0 on a timeout, -1 at the end. */
static ssize_t read_wait(int fd, char *p, size_t n, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t k;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	k = read(fd, p, n);
	return k <= 0 ? -1 : k;
}

/* The value of key i: its number, then letters, SIZE bytes in all. */
static void value_of(uint64_t i, char *v, size_t size)
{
	int n = snprintf(v, size + 1, "%llu:", (unsigned long long)i);

	for (size_t j = (size_t)n < size ? (size_t)n : size; j < size; j++)
		v[j] = (char)('a' + (i * 7 + j) % 26);
}

static int talk(int quiet_ms, bool vanish)
{
	char buf[65536];
	int fd = dial();
	ssize_t n;

	while ((n = read(0, buf, sizeof buf)) > 0)
		send_all(fd, buf, (size_t)n);
	if (vanish) {
		close(fd);
		return 0;
	}
	while ((n = read_wait(fd, buf, sizeof buf, quiet_ms)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}

struct loader {
	int fd;
	uint64_t key;		/* in flight */
	char reply[64];
	size_t got;
	bool busy;
};

/* Sends the set of key i on l. */
static void load_send(struct loader *l, uint64_t i, size_t size)
{
	static char msg[SIZE_MAX_VALUE + 128];
	int h = snprintf(msg, sizeof msg, "set key:%llu 0 0 %zu\r\n", (unsigned long long)i, size);

	value_of(i, msg + h, size);
	memcpy(msg + h + size, "\r\n", 2);
	send_all(l->fd, msg, (size_t)h + size + 2);
	l->key = i;
	l->got = 0;
	l->busy = true;
}

static int load(uint64_t n, int conns, size_t size, const char *file, pid_t victim,
    uint64_t kill_at)
{
	struct loader l[CONNS_MAX];
	struct pollfd pfd[CONNS_MAX];
	int out = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	uint64_t next = 0, stored = 0;

	if (out < 0)
		die(2, "cannot open the output file");
	for (int c = 0; c < conns; c++) {
		l[c].fd = dial();
		l[c].busy = false;
	}
	printf("kvtool: load: %d connections\n", conns);
	fflush(stdout);
	for (int c = 0; c < conns && next < n; c++)
		load_send(&l[c], next++, size);
	while (stored < n) {
		int live = 0;

		for (int c = 0; c < conns; c++) {
			pfd[c].fd = l[c].busy ? l[c].fd : -1;
			pfd[c].events = POLLIN;
			live += l[c].busy;
		}
		if (live == 0 || poll(pfd, (nfds_t)conns, STALL_MS) <= 0)
			break;
		for (int c = 0; c < conns; c++) {
			struct loader *x = &l[c];
			ssize_t k;
			char line[32];

			if (!(pfd[c].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(x->fd, x->reply + x->got, sizeof x->reply - 1 - x->got);
			if (k <= 0) {
				x->busy = false;	/* the server is gone: stop here */
				continue;
			}
			x->got += (size_t)k;
			x->reply[x->got] = '\0';
			if (strchr(x->reply, '\n') == NULL)
				continue;
			if (strcmp(x->reply, "STORED\r\n") != 0) {
				fprintf(stderr, "kvtool: load: key:%llu: %s", (unsigned long long)x->key, x->reply);
				return 1;
			}
			k = snprintf(line, sizeof line, "%llu\n", (unsigned long long)x->key);
			if (write(out, line, (size_t)k) != k)
				die(2, "cannot write the output file");
			if (++stored == kill_at && victim > 0)
				kill(victim, SIGKILL);
			x->busy = false;
			if (next < n)
				load_send(x, next++, size);
		}
	}
	printf("kvtool: load: %llu stored\n", (unsigned long long)stored);
	return 0;
}

/* Reads one line (to \n) of at most n bytes from fd, through a buffer. */
struct reader {
	int fd;
	char buf[65536];
	size_t start, end;
};

static bool read_bytes(struct reader *r, char *p, size_t n)
{
	while (n > 0) {
		size_t k;

		if (r->start == r->end) {
			ssize_t got = read_wait(r->fd, r->buf, sizeof r->buf, STALL_MS);

			if (got <= 0)
				return false;
			r->start = 0;
			r->end = (size_t)got;
		}
		k = r->end - r->start < n ? r->end - r->start : n;
		memcpy(p, r->buf + r->start, k);
		r->start += k;
		p += k;
		n -= k;
	}
	return true;
}

static bool read_line(struct reader *r, char *line, size_t max)
{
	for (size_t i = 0; i + 1 < max; i++) {
		if (!read_bytes(r, line + i, 1))
			return false;
		if (line[i] == '\n') {
			line[i + 1] = '\0';
			return true;
		}
	}
	return false;
}

/* Checks one batch of keys with one get line; false after saying what is wrong. */
static bool verify_batch(struct reader *r, const uint64_t *keys, int n, size_t size)
{
	static char want[SIZE_MAX_VALUE + 1], got[SIZE_MAX_VALUE + 2];
	char cmd[BATCH * 32 + 8], line[512];
	size_t len = (size_t)snprintf(cmd, sizeof cmd, "get");

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(cmd + len, sizeof cmd - len, " key:%llu", (unsigned long long)keys[i]);
	len += (size_t)snprintf(cmd + len, sizeof cmd - len, "\r\n");
	send_all(r->fd, cmd, len);
	for (int i = 0; i < n; i++) {
		unsigned long long k;
		unsigned flags;
		size_t vlen;

		if (!read_line(r, line, sizeof line))
			die(3, "verify: no reply");
		if (sscanf(line, "VALUE key:%llu %u %zu", &k, &flags, &vlen) != 3 || k != keys[i]) {
			line[strcspn(line, "\r\n")] = '\0';
			printf("kvtool: verify: key:%llu missing (got \"%s\")\n",
			    (unsigned long long)keys[i], line);
			return false;
		}
		if (vlen != size || !read_bytes(r, got, vlen + 2)) {
			printf("kvtool: verify: key:%llu has %zu bytes, not %zu\n", k, vlen, size);
			return false;
		}
		value_of(k, want, size);
		if (memcmp(got, want, size) != 0) {
			printf("kvtool: verify: key:%llu has a wrong value\n", k);
			return false;
		}
	}
	if (!read_line(r, line, sizeof line) || strcmp(line, "END\r\n") != 0) {
		printf("kvtool: verify: no END after the batch (got %s)\n", line);
		return false;
	}
	return true;
}

/* Milliseconds of the monotonic clock. */
static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A step of xorshift64: the shuffle's random numbers, the same for a seed. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* verify -n: every key below n, in an order shuffled from seed. */
static int verify_random(uint64_t n, uint64_t seed, size_t size)
{
	static struct reader r;
	uint64_t *keys = malloc(n * sizeof *keys), s = seed | 1;
	double start;

	if (keys == NULL)
		die(2, "verify: no memory for the keys");
	for (uint64_t i = 0; i < n; i++)
		keys[i] = i;
	for (uint64_t i = n; i > 1; i--) {	/* Fisher-Yates */
		uint64_t j = next_random(&s) % i, t = keys[i - 1];

		keys[i - 1] = keys[j];
		keys[j] = t;
	}
	r.fd = dial();
	start = now_ms();
	for (uint64_t i = 0; i < n; i += BATCH) {
		int k = n - i < BATCH ? (int)(n - i) : BATCH;

		if (!verify_batch(&r, keys + i, k, size))
			return 1;
	}
	double s_taken = (now_ms() - start) / 1e3;
	printf("kvtool: verify: ok %llu keys in %.3f s, %.0f gets/s\n", (unsigned long long)n,
	    s_taken, s_taken > 0 ? (double)n / s_taken : 0.0);
	free(keys);
	return 0;
}

static int verify(const char *file, size_t size)
{
	static struct reader r;
	FILE *f = fopen(file, "r");
	uint64_t keys[BATCH], total = 0;
	unsigned long long k;
	int n = 0;

	if (f == NULL)
		die(2, "cannot open the key file");
	r.fd = dial();
	while (fscanf(f, "%llu", &k) == 1) {
		keys[n++] = k;
		if (n == BATCH) {
			if (!verify_batch(&r, keys, n, size))
				return 1;
			total += (uint64_t)n;
			n = 0;
		}
	}
	if (n > 0 && !verify_batch(&r, keys, n, size))
		return 1;
	total += (uint64_t)n;
	printf("kvtool: verify: ok %llu keys\n", (unsigned long long)total);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "", *file = NULL;
	uint64_t n = 0;
	int conns = 8, quiet_ms = 1000, opt;
	pid_t victim = 0;
	uint64_t kill_at = 0;
	size_t size = 100;
	uint64_t seed = 1;
	bool vanish = false;

	optind = 2;
	while ((opt = getopt(argc, argv, "p:q:xn:c:s:o:f:k:a:r:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'q': quiet_ms = atoi(optarg); break;
		case 'x': vanish = true; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'c': conns = atoi(optarg); break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 'o': case 'f': file = optarg; break;
		case 'k': victim = (pid_t)atoi(optarg); break;
		case 'a': kill_at = strtoull(optarg, NULL, 10); break;
		case 'r': seed = strtoull(optarg, NULL, 10); break;
		default: die(2, "usage: see the comment at the top of tests/net/kvtool.c");
		}
	}
	if (port <= 0 || conns < 1 || conns > CONNS_MAX || size > SIZE_MAX_VALUE)
		die(2, "bad -p, -c or -s");
	if (strcmp(mode, "talk") == 0)
		return talk(quiet_ms, vanish);
	if (strcmp(mode, "load") == 0 && file != NULL)
		return load(n, conns, size, file, victim, kill_at);
	if (strcmp(mode, "verify") == 0 && file != NULL)
		return verify(file, size);
	if (strcmp(mode, "verify") == 0 && n > 0)
		return verify_random(n, seed, size);
	die(2, "usage: kvtool talk|load|verify (see tests/net/kvtool.c)");
}
