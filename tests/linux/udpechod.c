/*
 * udpechod: the Linux guest's UDP echo server (tests/bench/linux.sh), the
 * counterpart of netecho's port 7 for tests/net/udpecho.
 *
 *   udpechod [PORT]
 *
 * Sends every datagram back to its sender unchanged, one at a time, until
 * killed: the plainest server the kernel's socket layer allows, so the
 * round trip measures the kernel and its driver, not the server.  Built
 * static, as the initramfs holds no C library.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	static unsigned char buf[65536];
	int s;

	me.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 7);
	me.sin_addr.s_addr = htonl(INADDR_ANY);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("udpechod");
		return 1;
	}
	printf("udpechod: up port %u\n", ntohs(me.sin_port));
	fflush(stdout);
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

		if (n < 0)
			continue;
		sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
	}
}
