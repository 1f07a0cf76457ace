/*
 * junk: floods the guest's receive path with random frames, then checks that
 * the guest still answers, as the only other host on its Ethernet.
 *
 *   junk -l LISTEN_PORT -r QEMU_PORT [-n FRAMES] [-e DATAGRAMS] [-s SEED]
 *
 * The guest's one NIC is on QEMU's UDP socket backend
 * (-netdev socket,udp=127.0.0.1:LISTEN_PORT,localaddr=127.0.0.1:QEMU_PORT):
 * every datagram junk sends to QEMU_PORT is one frame the guest receives,
 * and every frame the guest sends arrives here.  Nothing else is on that
 * wire, so no frame, however odd, can leave this machine; and nothing but
 * junk decides what the guest sees, so the flood really reaches its RX ring.
 *
 * junk plays 10.0.2.2 (QEMU's user-net gateway, same MAC) to the guest's
 * 10.0.2.15, in four steps, each printing one line:
 *   1. ARP: who-has 10.0.2.15, repeated until answered (the guest is up)
 *   2. the flood: FRAMES frames (default 5000), in bursts: random bytes of
 *      random lengths 1..2000 (runts and oversized among them), ARP with
 *      random bodies, IPv4 to the guest with valid header checksums and
 *      random everything else (fragments, options, lying lengths, any
 *      protocol); what the guest answers is counted
 *   3. ICMP: an echo request, whose reply must carry the same data
 *   4. UDP: DATAGRAMS (default 1000) datagrams of random sizes 1..1472 to
 *      port 7, each echo byte-exact
 * answering the guest's ARP requests for 10.0.2.2 throughout.  Exit 0 when
 * all passed, 1 otherwise (the line says what failed), 2 for bad usage.
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

#define ETH_HLEN	14
#define ETH_MAX		1514
#define JUNK_MAX	2000
#define ETYPE_IP	0x0800
#define ETYPE_ARP	0x0806
#define ECHO_PORT	7
#define BURST		128
#define DGRAM_MAX	1472
#define WAIT_MS		2000	/* for one answer; resent up to TRIES times */
#define TRIES		5

static const uint8_t peer_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static uint8_t guest_mac[6];
static uint32_t peer_ip, guest_ip;	/* network order */
static uint64_t seed = 1;
static int fd;
static long answers;			/* frames from the guest, all steps */

static uint64_t rnd(void)
{
	uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071) of n bytes, folded with sum. */
static uint16_t cksum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void send_frame(const uint8_t *f, size_t n)
{
	if (send(fd, f, n, 0) < 0 && errno != ENOBUFS && errno != EAGAIN &&
	    errno != ECONNREFUSED) {
		perror("junk: send");
		exit(1);
	}
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, type);
	return ETH_HLEN;
}

/* An ARP packet (op 1 request, 2 reply) from 10.0.2.2 into f. */
static size_t arp(uint8_t *f, const uint8_t *dst, int op, const uint8_t *tha, uint32_t tip)
{
	uint8_t *a = f + eth(f, dst, ETYPE_ARP);

	put16(a, 1);
	put16(a + 2, ETYPE_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, (uint16_t)op);
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, &peer_ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, &tip, 4);
	return ETH_HLEN + 28;
}

/* An IPv4 header of a packet of len bytes (header included) at p. */
static void ip_header(uint8_t *p, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)len);
	put16(p + 4, (uint16_t)rnd());
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 10, cksum(p, 20, 0));
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * The next frame from the guest into f, waiting until the deadline (a
 * now_ms() time); -1 when none came.  Answers the guest's ARP requests for
 * 10.0.2.2 on the way, so a step never has to.
 */
static ssize_t recv_frame(uint8_t *f, size_t cap, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t out[64];
	uint32_t tip, sip;
	int64_t left;
	ssize_t n;

	/*
	 * Until QEMU listens, each send earns an ICMP port unreachable that
	 * the next recv reports as ECONNREFUSED: not a frame, keep waiting.
	 */
	for (;;) {
		left = deadline - now_ms();
		if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0)
			return -1;
		if ((n = recv(fd, f, cap, MSG_DONTWAIT)) > 0)
			break;
	}
	answers++;
	if (n >= ETH_HLEN + 28 && get16(f + 12) == ETYPE_ARP && get16(f + ETH_HLEN + 6) == 1) {
		memcpy(&sip, f + ETH_HLEN + 14, 4);
		memcpy(&tip, f + ETH_HLEN + 24, 4);
		if (tip == peer_ip)
			send_frame(out, arp(out, f + 6, 2, f + ETH_HLEN + 8, sip));
	}
	return n;
}

/* The IPv4 packet in frame f of n bytes from the guest, else NULL. */
static const uint8_t *ip_from_guest(const uint8_t *f, ssize_t n, uint8_t proto)
{
	const uint8_t *ip = f + ETH_HLEN;
	uint32_t src;

	if (n < ETH_HLEN + 20 || get16(f + 12) != ETYPE_IP || ip[9] != proto)
		return NULL;
	memcpy(&src, ip + 12, 4);
	if (src != guest_ip || (size_t)n < ETH_HLEN + (size_t)get16(ip + 2) ||
	    cksum(ip, (size_t)(ip[0] & 15) * 4, 0) != 0)
		return NULL;
	return ip;
}

/* Step 1: who-has 10.0.2.15 until it answers; learns its MAC. */
static bool step_arp(void)
{
	uint8_t f[65536];
	static const uint8_t zero[6];
	ssize_t n;
	uint32_t sip;

	for (int i = 0; i < 600; i++) {
		int64_t deadline = now_ms() + 100;

		send_frame(f, arp(f, bcast, 1, zero, guest_ip));
		while ((n = recv_frame(f, sizeof f, deadline)) >= 0) {
			if (n < ETH_HLEN + 28 || get16(f + 12) != ETYPE_ARP ||
			    get16(f + ETH_HLEN + 6) != 2)
				continue;
			memcpy(&sip, f + ETH_HLEN + 14, 4);
			if (sip != guest_ip)
				continue;
			memcpy(guest_mac, f + ETH_HLEN + 8, 6);
			printf("junk: arp ok: 10.0.2.15 is at %02x:%02x:%02x:%02x:%02x:%02x\n",
			    guest_mac[0], guest_mac[1], guest_mac[2], guest_mac[3],
			    guest_mac[4], guest_mac[5]);
			return true;
		}
	}
	printf("junk: FAIL arp: 10.0.2.15 did not answer who-has for 60s\n");
	return false;
}

/* Sets a valid checksum on the transport header at t (len bytes) of ip. */
static void transport_cksum(const uint8_t *ip, uint8_t *t, size_t len)
{
	uint32_t sum = 0;
	size_t at;

	if (ip[9] == 1)
		at = 2;
	else if (ip[9] == 6)
		at = 16;
	else if (ip[9] == 17)
		at = 6;
	else
		return;
	if (len < at + 2)
		return;
	put16(t + at, 0);
	if (ip[9] != 1) {	/* TCP and UDP sum a pseudo header too */
		sum = get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18) +
		    ip[9] + (uint32_t)len;
		if (ip[9] == 17)
			put16(t + 4, (uint16_t)len);
	}
	put16(t + at, cksum(t, len, sum));
}

/* Counts of the kinds of junk sent. */
struct tally {
	long runt, oversize, arp, ip, random;
};

/*
 * One junk IPv4 packet to the guest in f, n bytes long: a valid header
 * checksum so it gets past the first check; with `deep`, a true length and
 * transport checksum so it reaches UDP, TCP or ICMP; otherwise a random
 * length field, header length, fragment fields.  Sources are 10.0.2.2 or
 * another address of the guest's subnet, which only this wire has.
 */
static void junk_ip(uint8_t *f, size_t n, bool deep)
{
	static const uint8_t protos[] = { 1, 6, 17, 1, 6, 17, 2, 50 };
	uint8_t *ip = f + eth(f, guest_mac, ETYPE_IP);
	size_t len = n - ETH_HLEN, hlen = 20;
	uint32_t src = rnd() % 4 == 0 ? peer_ip : htonl(0x0a000264 + (uint32_t)(rnd() % 150));
	uint8_t proto = protos[rnd() % sizeof protos];

	rnd_fill(ip, len);
	ip_header(ip, len, proto, src, guest_ip);
	if (deep) {
		if (proto == 17 && rnd() % 2)		/* half the UDP to the echo port */
			put16(ip + 22, ECHO_PORT);
		transport_cksum(ip, ip + 20, len - 20);
		return;
	}
	hlen = 4 * (5 + rnd() % 11);
	if (hlen > len)
		hlen = 20;
	ip[0] = (uint8_t)(0x40 | hlen / 4);
	put16(ip + 2, (uint16_t)rnd());
	put16(ip + 6, (uint16_t)rnd());		/* flags and fragment offset */
	put16(ip + 10, 0);
	put16(ip + 10, cksum(ip, hlen, 0));
}

/* One junk frame into f; returns its length. */
static size_t junk_frame(uint8_t *f, struct tally *t)
{
	size_t n;

	switch (rnd() % 8) {
	case 0: case 1: case 2:
		n = 1 + rnd() % JUNK_MAX;
		rnd_fill(f, n);
		t->random++;
		break;
	case 3:
		n = 1 + rnd() % (ETH_HLEN + 45);
		rnd_fill(f, n);
		break;
	case 4:
		n = ETH_HLEN + rnd() % 61;
		rnd_fill(f, n);
		eth(f, rnd() % 2 ? bcast : guest_mac, ETYPE_ARP);
		t->arp++;
		break;
	default:
		n = ETH_HLEN + 20 + rnd() % (ETH_MAX - ETH_HLEN - 19);
		junk_ip(f, n, rnd() % 3 != 0);
		t->ip++;
		break;
	}
	if (n < ETH_HLEN)
		t->runt++;
	if (n > ETH_MAX)
		t->oversize++;
	return n;
}

/* Step 2: the flood, in bursts, draining what the guest answers. */
static void step_flood(long count)
{
	struct tally t = { 0 };
	uint8_t f[65536];
	long before = answers;

	for (long i = 0; i < count; i++) {
		send_frame(f, junk_frame(f, &t));
		if (i % BURST == BURST - 1) {
			while (recv_frame(f, sizeof f, 0) >= 0)
				;
			usleep(1000);
		}
	}
	for (int64_t end = now_ms() + 500; recv_frame(f, sizeof f, end) >= 0;)
		;
	printf("junk: flood: sent %ld frames (%ld random, %ld runts, %ld oversize, %ld ARP, "
	    "%ld IPv4); the guest answered %ld frames\n", count, t.random, t.runt, t.oversize,
	    t.arp, t.ip, answers - before);
}

/* An IPv4 packet of len bytes from 10.0.2.2 to the guest: header in f. */
static uint8_t *ip_to_guest(uint8_t *f, size_t len, uint8_t proto)
{
	uint8_t *ip = f + eth(f, guest_mac, ETYPE_IP);

	ip_header(ip, len, proto, peer_ip, guest_ip);
	return ip;
}

/*
 * Sends the n-byte frame f until the guest answers with an IPv4 packet of
 * protocol proto whose payload after skip bytes of its transport header
 * equals want (wlen bytes).  Returns the round trip in µs, or -1.
 */
static long exchange(const uint8_t *f, size_t n, uint8_t proto, size_t skip,
    const uint8_t *want, size_t wlen, bool (*ours)(const uint8_t *t))
{
	uint8_t r[65536];

	for (int tries = 0; tries < TRIES; tries++) {
		int64_t sent = now_ms(), deadline = sent + WAIT_MS;
		struct timespec t0, t1;
		ssize_t m;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		send_frame(f, n);
		while ((m = recv_frame(r, sizeof r, deadline)) >= 0) {
			const uint8_t *ip = ip_from_guest(r, m, proto);
			size_t hl, tl;

			if (ip == NULL)
				continue;
			hl = (size_t)(ip[0] & 15) * 4;
			tl = get16(ip + 2);
			if (tl != hl + skip + wlen || !ours(ip + hl) ||
			    memcmp(ip + hl + skip, want, wlen) != 0)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			return (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
		}
	}
	return -1;
}

static bool icmp_reply(const uint8_t *t)
{
	return t[0] == 0 && get16(t + 4) == 0x4a4b && get16(t + 6) == 1;
}

/* Step 3: one ICMP echo request with 56 random bytes. */
static bool step_icmp(void)
{
	uint8_t f[ETH_MAX], *ip = ip_to_guest(f, 20 + 8 + 56, 1), *icmp = ip + 20;
	long us;

	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 4, 0x4a4b);
	put16(icmp + 6, 1);
	rnd_fill(icmp + 8, 56);
	transport_cksum(ip, icmp, 8 + 56);
	us = exchange(f, ETH_HLEN + 20 + 8 + 56, 1, 8, icmp + 8, 56, icmp_reply);
	if (us < 0) {
		printf("junk: FAIL icmp: no echo reply from 10.0.2.15\n");
		return false;
	}
	printf("junk: icmp ok: echo reply with the same 56 bytes in %ld us\n", us);
	return true;
}

static uint16_t udp_port;

static bool udp_reply(const uint8_t *t)
{
	return get16(t) == ECHO_PORT && get16(t + 2) == udp_port;
}

/* Step 4: count datagrams of 1..1472 random bytes to port 7, each echoed. */
static bool step_udp(long count)
{
	uint8_t f[ETH_MAX];
	long bytes = 0;

	for (long i = 0; i < count; i++) {
		size_t len = 1 + rnd() % DGRAM_MAX;
		uint8_t *ip = ip_to_guest(f, 20 + 8 + len, 17), *udp = ip + 20;

		udp_port = (uint16_t)(40000 + i % 20000);
		put16(udp, udp_port);
		put16(udp + 2, ECHO_PORT);
		rnd_fill(udp + 8, len);
		transport_cksum(ip, udp, 8 + len);
		if (exchange(f, ETH_HLEN + 20 + 8 + len, 17, 8, udp + 8, len, udp_reply) < 0) {
			printf("junk: FAIL udp: datagram %ld (%zu bytes) not echoed byte-exact\n",
			    i, len);
			return false;
		}
		bytes += (long)len;
	}
	printf("junk: udp ok: %ld datagrams (%ld bytes) echoed byte-exact\n", count, bytes);
	return true;
}

static int open_wire(int listen_port, int qemu_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_DGRAM, 0), buf = 4 << 20;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)listen_port);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("junk: bind");
		exit(1);
	}
	a.sin_port = htons((uint16_t)qemu_port);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("junk: connect");
		exit(1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	return s;
}

int main(int argc, char **argv)
{
	int listen_port = 0, qemu_port = 0, c;
	long frames = 5000, datagrams = 1000;
	bool passed;

	while ((c = getopt(argc, argv, "l:r:n:e:s:")) != -1) {
		switch (c) {
		case 'l': listen_port = atoi(optarg); break;
		case 'r': qemu_port = atoi(optarg); break;
		case 'n': frames = atol(optarg); break;
		case 'e': datagrams = atol(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		default: listen_port = 0; break;
		}
	}
	if (listen_port <= 0 || qemu_port <= 0 || frames < 0 || datagrams < 0) {
		fprintf(stderr, "usage: junk -l LISTEN_PORT -r QEMU_PORT [-n FRAMES] "
		    "[-e DATAGRAMS] [-s SEED]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	peer_ip = htonl(0x0a000202);
	guest_ip = htonl(0x0a00020f);
	fd = open_wire(listen_port, qemu_port);
	if (!step_arp())
		return 1;
	step_flood(frames);
	/* Both checks, whatever the first says: each is its own test case. */
	passed = step_icmp();
	passed = step_udp(datagrams) && passed;
	printf("junk: %s\n", passed ? "ok" : "FAIL");
	return passed ? 0 : 1;
}
