/*
 * kvudp: one memcached request over UDP, as memcached's UDP clients frame it.
 *
 *   kvudp -p PORT [-i ID] [-q MS] [-r] [-n] < REQUEST
 *
 * Sends stdin to 127.0.0.1:PORT in one datagram behind memcached's 8-byte
 * frame header (request id ID, default 4242; sequence 0; count 1; reserved
 * 0), or as it is with -r (a raw datagram: runts and bad headers).  Then
 * gathers the reply's datagrams: each must carry ID, the same datagram
 * count and a sequence number below it, none twice; once all have come, it
 * writes their payloads in sequence order to stdout and prints
 * "kvudp: N datagrams" on stderr.  Waits at most MS ms (default 5000) for
 * each datagram.
 *
 * Exit 0 with the whole reply; 1 on a datagram that breaks the rules above
 * or a reply not whole in time; 2 for bad usage.  With -n no reply is
 * wanted: exit 0 if nothing at all arrives within MS, 1 if anything does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER		8
#define DGRAM_MAX	65536
#define REPLY_MAX	4096	/* datagrams in one reply */

static uint8_t in[DGRAM_MAX];
static uint8_t *part[REPLY_MAX];
static uint16_t part_len[REPLY_MAX];

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int usage(void)
{
	fprintf(stderr, "usage: kvudp -p PORT [-i ID] [-q MS] [-r] [-n] < REQUEST\n");
	return 2;
}

int main(int argc, char **argv)
{
	int port = 0, id = 4242, wait_ms = 5000, opt, s;
	bool raw = false, none = false;
	struct sockaddr_in to = { .sin_family = AF_INET };
	size_t n = 0, r;
	long count = -1, got = 0;

	while ((opt = getopt(argc, argv, "p:i:q:rn")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'i')
			id = atoi(optarg);
		else if (opt == 'q')
			wait_ms = atoi(optarg);
		else if (opt == 'r')
			raw = true;
		else if (opt == 'n')
			none = true;
		else
			return usage();
	}
	if (port <= 0 || id < 0 || id > 0xffff)
		return usage();
	if (!raw) {
		uint8_t h[HEADER] = { (uint8_t)(id >> 8), (uint8_t)id, 0, 0, 0, 1, 0, 0 };

		memcpy(in, h, HEADER);
		n = HEADER;
	}
	while (n < sizeof in && (r = fread(in + n, 1, sizeof in - n, stdin)) > 0)
		n += r;
	to.sin_port = htons((uint16_t)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    connect(s, (struct sockaddr *)&to, sizeof to) != 0 || send(s, in, n, 0) != (ssize_t)n) {
		perror("kvudp: send");
		return 1;
	}
	while (count < 0 || got < count) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		uint8_t d[DGRAM_MAX];
		ssize_t len;
		uint16_t seq;

		if (poll(&pfd, 1, wait_ms) <= 0) {
			if (none)
				return 0;
			fprintf(stderr, "kvudp: %ld of %ld datagrams in time\n", got, count);
			return 1;
		}
		if ((len = recv(s, d, sizeof d, 0)) < 0) {
			perror("kvudp: recv");
			return 1;
		}
		if (none) {
			fprintf(stderr, "kvudp: a reply of %zd bytes where none was wanted\n", len);
			return 1;
		}
		if (len < HEADER || be16(d) != id || be16(d + 6) != 0 || be16(d + 4) == 0 ||
		    be16(d + 4) > REPLY_MAX || (count >= 0 && be16(d + 4) != count)) {
			fprintf(stderr, "kvudp: bad datagram header (%zd bytes, id %u count %u)\n",
			    len, len >= 4 ? be16(d) : 0, len >= 6 ? be16(d + 4) : 0);
			return 1;
		}
		count = be16(d + 4);
		seq = be16(d + 2);
		if (seq >= count || part[seq] != NULL) {
			fprintf(stderr, "kvudp: datagram %u of %ld out of range or twice\n", seq, count);
			return 1;
		}
		part_len[seq] = (uint16_t)(len - HEADER);
		part[seq] = malloc((size_t)(len - HEADER) + 1);
		memcpy(part[seq], d + HEADER, (size_t)(len - HEADER));
		got++;
	}
	for (long i = 0; i < count; i++)
		fwrite(part[i], 1, part_len[i], stdout);
	fprintf(stderr, "kvudp: %ld datagrams\n", count);
	return 0;
}
