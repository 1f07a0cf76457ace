/*
 * randread: random 4 KiB reads of a block device, the Linux guest's side of
 * disktest's random mode (tests/bench/linux.sh).
 *
 *   randread DEVICE SECONDS DEPTH [SEED]
 *
 * Reads 4 KiB blocks at uniformly random 4 KiB-aligned offsets over the
 * whole device with O_DIRECT (so every read reaches the device, never the
 * guest's page cache) for SECONDS, and prints
 *
 *   randread: depth 32 reads 123456 ms 5000 per_s 24691
 *
 * DEPTH 1 is one thread's plain pread() loop; a larger DEPTH keeps that many
 * reads in flight through io_uring, a new one submitted as each completes.
 * Exit 0 when every read returned its 4 KiB, 1 otherwise, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLOCK		4096
#define DEPTH_MAX	256

static uint64_t seed, nblocks;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* splitmix64: reproducible from the seed, cheap beside a disk read. */
static off_t random_offset(void)
{
	uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (off_t)((z % nblocks) * BLOCK);
}

/* One pread() at a time: the reads done before END_NS, or -1 on an error. */
static long depth1(int fd, void *buf, int64_t end_ns)
{
	long n = 0;

	while (now_ns() < end_ns) {
		if (pread(fd, buf, BLOCK, random_offset()) != BLOCK) {
			perror("randread: pread");
			return -1;
		}
		n++;
	}
	return n;
}

static void submit_one(struct io_uring *ring, int fd, void *buf)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_read(sqe, fd, buf, BLOCK, (uint64_t)random_offset());
	io_uring_sqe_set_data(sqe, buf);
}

/* DEPTH reads always in flight until END_NS, then the last ones drained:
 * the reads completed, or -1 on an error. */
static long deep(int fd, char *bufs, unsigned depth, int64_t end_ns)
{
	struct io_uring ring;
	unsigned inflight = 0;
	long n = 0;
	int err = io_uring_queue_init(depth, &ring, 0);

	if (err < 0) {
		fprintf(stderr, "randread: io_uring_queue_init: %s\n", strerror(-err));
		return -1;
	}
	for (unsigned i = 0; i < depth; i++, inflight++)
		submit_one(&ring, fd, bufs + (size_t)i * BLOCK);
	io_uring_submit(&ring);
	while (inflight > 0) {
		struct io_uring_cqe *cqe;
		void *buf;

		err = io_uring_wait_cqe(&ring, &cqe);
		if (err < 0 || cqe->res != BLOCK) {
			fprintf(stderr, "randread: read: %s\n", strerror(err < 0 ? -err : cqe->res < 0 ? -cqe->res : EIO));
			n = -1;
			break;
		}
		buf = io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
		n++;
		if (now_ns() < end_ns) {
			submit_one(&ring, fd, buf);
			io_uring_submit(&ring);
			inflight++;
		}
	}
	io_uring_queue_exit(&ring);
	return n;
}

int main(int argc, char **argv)
{
	uint64_t bytes = 0;
	unsigned depth;
	int64_t start, end;
	char *bufs;
	long n;
	int fd;

	if (argc < 4 || atoi(argv[2]) <= 0 || atoi(argv[3]) <= 0 || atoi(argv[3]) > DEPTH_MAX) {
		fprintf(stderr, "usage: randread DEVICE SECONDS DEPTH(1..%d) [SEED]\n", DEPTH_MAX);
		return 2;
	}
	depth = (unsigned)atoi(argv[3]);
	seed = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0 || bytes < BLOCK) {
		perror(argv[1]);
		return 1;
	}
	nblocks = bytes / BLOCK;
	if (posix_memalign((void **)&bufs, BLOCK, (size_t)depth * BLOCK) != 0) {
		fprintf(stderr, "randread: no memory\n");
		return 1;
	}
	start = now_ns();
	end = start + atoi(argv[2]) * 1000000000LL;
	n = depth == 1 ? depth1(fd, bufs, end) : deep(fd, bufs, depth, end);
	if (n < 0)
		return 1;
	end = now_ns();
	printf("randread: depth %u reads %ld ms %lld per_s %.0f\n", depth, n,
	       (long long)((end - start) / 1000000), n * 1e9 / (double)(end - start));
	return 0;
}
