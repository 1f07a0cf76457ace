/*
 * mkcrash: builds the disk a power cut could leave, from the log QEMU's
 * blklogwrites driver kept of a run (the dm-log-writes format) and the image
 * as it was before the run.
 *
 *   mkcrash LOG                       prints "entries E writes W flushes F"
 *   mkcrash LOG seals                 prints "K SEAL HEAD" for each cut K =
 *                                     0..F + 1: the newest checkpoint seal
 *                                     and record head logged before flush K
 *                                     (0: none; K = F + 1: in the whole log)
 *   mkcrash LOG flushes               prints "K END" for each flush K = 1..F:
 *                                     the byte of the log its entry ends at,
 *                                     the log's size once it was logged
 *   mkcrash LOG BASE OUT K            OUT = BASE + every write logged before
 *                                     flush K (K = 0: none; K > F: all)
 *   mkcrash LOG BASE OUT K SEED       the same, plus a random subset, sector
 *                                     by sector, of the writes logged between
 *                                     flush K and flush K + 1
 *
 * The second form is a cut right after a flush completed with nothing more
 * reaching the disk; the third is the CrashMonkey model of a volatile write
 * cache: what was written since the last flush may or may not be on the
 * disk, in any subset, and a multi-sector write may be torn.
 *
 * The log, as QEMU 7.2 writes it (checked in ../shared/notes/blklogwrites.md):
 * little-endian, in the log's sector size; sector 0 holds {u64 magic, u64
 * version, u64 nr_entries, u32 sectorsize}; then each entry is one header
 * sector {u64 sector, u64 nr_sectors, u64 flags, u64 data_len} followed, for
 * a write, by its nr_sectors sectors of data.  An entry is logged when its
 * operation completed, so the log's order is completion order.
 *
 * A record's head and its seal (layer0/journal.h, format 2) are 4 KiB
 * journal blocks that start with JOURNAL_HEAD_MAGIC or JOURNAL_SEAL_MAGIC,
 * the record's sequence number and its predecessor's (prev).  A seal logged
 * before flush K is whole in every crash image of cut K, and so are the seals
 * before it (a seal goes out only after the one before it completed): its
 * checkpoint is durable there, and a boot of it must resume that one or a
 * newer one.  A head of record s logged before flush K + 1 says more: layer 1
 * ran on after commit s - 1 returned, and so may have seen it return before a
 * cut between flushes K and K + 1.  That reading holds while each commit
 * waits for its record (journal_commit), the journal in a run of counter
 * numbers its records 1, 2, ... after a fresh start, and no write failed:
 * a failure makes the numbers skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define LOG_MAGIC	0x6a736677736872ULL
#define FLAG_FLUSH	(1u << 0)
#define FLAG_DISCARD	(1u << 2)
#define FLAG_MARK	(1u << 3)

struct entry {
	uint64_t sector, nr_sectors, flags, data_len;
};

static const uint8_t *log_base;
static size_t log_bytes;
static uint32_t ss;		/* the log's sector size */

static void die(const char *what)
{
	fprintf(stderr, "mkcrash: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static void log_open(const char *path, uint64_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint64_t magic, version;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	log_bytes = (size_t)st.st_size;
	if (log_bytes < 32)
		die("the log is shorter than its superblock");
	log_base = mmap(0, log_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	if (log_base == MAP_FAILED)
		die("mmap");
	close(fd);
	memcpy(&magic, log_base, 8);
	memcpy(&version, log_base + 8, 8);
	memcpy(n, log_base + 16, 8);
	memcpy(&ss, log_base + 24, 4);
	errno = 0;
	if (magic != LOG_MAGIC || version != 1 || ss < 512 || ss % 512 != 0)
		die("not a dm-log-writes log of version 1");
}

static int is_write(const struct entry *e)
{
	return (e->flags & (FLAG_FLUSH | FLAG_DISCARD | FLAG_MARK)) == 0;
}

/* Entry i's header and data, walking from the previous one; 0 past the log's end. */
static const uint8_t *entry_next(uint64_t *off, struct entry *e)
{
	const uint8_t *data;

	if (*off + ss > log_bytes)
		return 0;
	memcpy(e, log_base + *off, sizeof(*e));
	data = log_base + *off + ss;
	*off += ss + (is_write(e) ? e->nr_sectors * ss : 0);
	errno = 0;
	if (*off > log_bytes)
		die("an entry runs past the end of the log");
	return data;
}

static void count(uint64_t n)
{
	uint64_t off = ss, writes = 0, flushes = 0;
	struct entry e;

	for (uint64_t i = 0; i < n && entry_next(&off, &e); i++) {
		writes += is_write(&e);
		flushes += (e.flags & FLAG_FLUSH) != 0;
	}
	printf("entries %llu writes %llu flushes %llu\n", (unsigned long long)n,
	    (unsigned long long)writes, (unsigned long long)flushes);
}

/* The newest sequence number of a block of this magic in a write, or 0 if it holds none. */
static uint64_t newest_tagged(const struct entry *e, const uint8_t *data, uint64_t magic)
{
	uint64_t bytes = e->nr_sectors * ss, seq = 0, m, s;

	for (uint64_t at = 0; at + 16 <= bytes; at += ss) {
		if ((e->sector * ss + at) % JOURNAL_BLOCK != 0)
			continue;
		memcpy(&m, data + at, 8);
		memcpy(&s, data + at + 8, 8);
		if (m == magic && s > seq)
			seq = s;
	}
	return seq;
}

static void seals(uint64_t n)
{
	uint64_t off = ss, flushes = 0, seal = 0, head = 0, s;
	struct entry e;
	const uint8_t *data;

	printf("0 0 0\n");
	for (uint64_t i = 0; i < n && (data = entry_next(&off, &e)) != 0; i++) {
		if (e.flags & FLAG_FLUSH) {
			printf("%llu %llu %llu\n", (unsigned long long)++flushes, (unsigned long long)seal,
			    (unsigned long long)head);
			continue;
		}
		if (!is_write(&e))
			continue;
		if ((s = newest_tagged(&e, data, JOURNAL_SEAL_MAGIC)) > seal)
			seal = s;
		if ((s = newest_tagged(&e, data, JOURNAL_HEAD_MAGIC)) > head)
			head = s;
	}
	printf("%llu %llu %llu\n", (unsigned long long)flushes + 1, (unsigned long long)seal,
	    (unsigned long long)head);
}

static void flush_ends(uint64_t n)
{
	uint64_t off = ss, flushes = 0;
	struct entry e;

	for (uint64_t i = 0; i < n && entry_next(&off, &e) != 0; i++)
		if (e.flags & FLAG_FLUSH)
			printf("%llu %llu\n", (unsigned long long)++flushes, (unsigned long long)off);
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out;
	struct stat st;
	loff_t done = 0;

	if (in < 0 || fstat(in, &st) < 0)
		die(from);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || ftruncate(out, st.st_size) < 0)
		die(to);
	/* Holes stay holes: copy only the data extents. */
	for (;;) {
		loff_t data = lseek(in, done, SEEK_DATA), hole, at;

		if (data < 0)
			break;
		hole = lseek(in, data, SEEK_HOLE);
		at = data;
		while (at < hole)
			if (copy_file_range(in, &at, out, &(loff_t){ at }, (size_t)(hole - at), 0) <= 0)
				die("copying the base image");
		done = hole;
	}
	close(in);
	close(out);
}

/* A small PRNG: the same seed gives the same subset on every host. */
static uint64_t rnd_state;

static unsigned rnd_bit(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state >> 32) & 1;
}

static void build(uint64_t n, const char *base, const char *out, uint64_t k, int subset)
{
	uint64_t off = ss, flushes = 0;
	struct entry e;
	const uint8_t *data;
	int fd;

	copy_file(base, out);
	fd = open(out, O_WRONLY);
	if (fd < 0)
		die(out);
	for (uint64_t i = 0; i < n && (data = entry_next(&off, &e)) != 0; i++) {
		if (e.flags & FLAG_FLUSH) {
			if (++flushes > k)
				break;
			continue;
		}
		if (!is_write(&e))
			continue;
		for (uint64_t s = 0; s < e.nr_sectors; s++) {
			if (flushes == k && (!subset || !rnd_bit()))
				continue;
			if (pwrite(fd, data + s * ss, ss, (off_t)((e.sector + s) * ss)) != (ssize_t)ss)
				die("writing the crash image");
		}
	}
	if (close(fd) < 0)
		die(out);
}

int main(int argc, char **argv)
{
	uint64_t n;

	if (argc != 2 && argc != 5 && argc != 6 &&
	    !(argc == 3 && (strcmp(argv[2], "seals") == 0 || strcmp(argv[2], "flushes") == 0))) {
		fprintf(stderr, "usage: mkcrash LOG [seals | flushes | BASE OUT FLUSH [SEED]]\n");
		return 2;
	}
	log_open(argv[1], &n);
	if (argc == 2) {
		count(n);
		return 0;
	}
	if (argc == 3 && strcmp(argv[2], "flushes") == 0)
		flush_ends(n);
	else if (argc == 3)
		seals(n);
	if (argc == 3)
		return 0;
	rnd_state = argc == 6 ? strtoull(argv[5], 0, 0) * 0x9e3779b97f4a7c15ULL | 1 : 1;
	build(n, argv[2], argv[3], strtoull(argv[4], 0, 0), argc == 6);
	return 0;
}
