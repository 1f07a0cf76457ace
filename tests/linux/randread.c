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
 *
 * It has a deadline of its own: a read that never completes would otherwise
 * hold it (and the guest) until the host's timeout, with nothing said. A
 * watchdog thread, which runs while the reading thread sleeps in the kernel,
 * ends it with
 *
 *   randread: depth 32 stalled: no read completed for 10 s, 32 in flight: ...
 *
 * (the in-flight reads' byte offsets follow), or "... still running 10 s
 * after its 5 s" should it not stop.
 * Exit 0 when every read returned its 4 KiB, 1 otherwise, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLOCK		4096
#define DEPTH_MAX	256
#define STALL_NS	(10 * 1000000000LL)	/* the watchdog's limit, both kinds */
#define STALL_SHOWN	8	/* in-flight offsets a stall report lists */

static uint64_t seed, nblocks;

/* What the watchdog reads: the run's depth and end, when a read last
 * completed, and each slot's read in flight (its offset + 1, 0 for none). */
static unsigned run_depth;
static int64_t run_end_ns;
static _Atomic int64_t last_done_ns;
static _Atomic int64_t in_flight[DEPTH_MAX];

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

static void read_begins(unsigned slot, off_t offset)
{
	atomic_store(&in_flight[slot], (int64_t)offset + 1);
}

static void read_ends(unsigned slot)
{
	atomic_store(&in_flight[slot], 0);
	atomic_store(&last_done_ns, now_ns());
}

/* The stall report: the depth, what went wrong, and the reads in flight. */
static void report_stall(const char *what)
{
	unsigned n = 0;

	fprintf(stderr, "randread: depth %u stalled: %s", run_depth, what);
	for (unsigned i = 0; i < run_depth; i++)
		n += atomic_load(&in_flight[i]) != 0;
	fprintf(stderr, ", %u in flight:", n);
	for (unsigned i = 0, shown = 0; i < run_depth && shown < STALL_SHOWN; i++) {
		int64_t v = atomic_load(&in_flight[i]);

		if (v != 0) {
			fprintf(stderr, " %lld", (long long)(v - 1));
			shown++;
		}
	}
	fprintf(stderr, "%s\n", n > STALL_SHOWN ? " ..." : "");
}

/* The watchdog: once a second, is the run still moving?  If not, the report
 * and exit 1 at once (the reading thread may sleep in the kernel for ever). */
static void *watchdog(void *unused)
{
	char what[64];

	(void)unused;
	for (;;) {
		int64_t now;

		sleep(1);
		now = now_ns();
		if (now - atomic_load(&last_done_ns) > STALL_NS)
			snprintf(what, sizeof what, "no read completed for %lld s", STALL_NS / 1000000000LL);
		else if (now - run_end_ns > STALL_NS)
			snprintf(what, sizeof what, "still running %lld s after its end", STALL_NS / 1000000000LL);
		else
			continue;
		report_stall(what);
		_exit(1);
	}
	return NULL;
}

/* One pread() at a time: the reads done before END_NS, or -1 on an error. */
static long depth1(int fd, void *buf, int64_t end_ns)
{
	long n = 0;

	while (now_ns() < end_ns) {
		off_t offset = random_offset();

		read_begins(0, offset);
		if (pread(fd, buf, BLOCK, offset) != BLOCK) {
			perror("randread: pread");
			return -1;
		}
		read_ends(0);
		n++;
	}
	return n;
}

/* A read into slot SLOT of BUFS, the slot its completion's user data. */
static void submit_one(struct io_uring *ring, int fd, char *bufs, unsigned slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	off_t offset = random_offset();

	read_begins(slot, offset);
	io_uring_prep_read(sqe, fd, bufs + (size_t)slot * BLOCK, BLOCK, (uint64_t)offset);
	io_uring_sqe_set_data64(sqe, slot);
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
		submit_one(&ring, fd, bufs, i);
	io_uring_submit(&ring);
	while (inflight > 0) {
		struct io_uring_cqe *cqe;
		unsigned slot;

		err = io_uring_wait_cqe(&ring, &cqe);
		if (err < 0 || cqe->res != BLOCK) {
			fprintf(stderr, "randread: read: %s\n", strerror(err < 0 ? -err : cqe->res < 0 ? -cqe->res : EIO));
			n = -1;
			break;
		}
		slot = (unsigned)io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&ring, cqe);
		read_ends(slot);
		inflight--;
		n++;
		if (now_ns() < end_ns) {
			submit_one(&ring, fd, bufs, slot);
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
	pthread_t dog;
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
	run_depth = depth;
	run_end_ns = end;
	atomic_store(&last_done_ns, start);
	if (pthread_create(&dog, NULL, watchdog, NULL) != 0) {
		fprintf(stderr, "randread: no watchdog thread\n");
		return 1;
	}
	n = depth == 1 ? depth1(fd, bufs, end) : deep(fd, bufs, depth, end);
	if (n < 0)
		return 1;
	end = now_ns();
	printf("randread: depth %u reads %ld ms %lld per_s %.0f\n", depth, n,
	       (long long)((end - start) / 1000000), n * 1e9 / (double)(end - start));
	return 0;
}
