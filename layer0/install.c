/*
 * The payload on the disk: whether a module may be installed over what the
 * disk holds (the label's state, its payload's name, layer 1's data after
 * the old image), the install in an order that is safe to cut at any
 * instant, and a boot from the disk, which starts the installed payload
 * afresh.  load.c decides which of the two a boot does.
 */
#include "defs.h"
#include "blkdev.h"
#include "disklabel.h"
#include "layer1.h"
#include "pager.h"
#include "strata/abi.h"

/*
 * Window page va of segment s as the payload starts it: the segment's file
 * bytes from src (src[0] belongs at s->vaddr), zero everywhere else.
 */
static void page_image(uint8_t *dst, uint64_t va, const struct strata_segment *s, const uint8_t *src)
{
	uint64_t lo = va > s->vaddr ? va : s->vaddr;
	uint64_t hi = s->vaddr + s->filesz;

	memset(dst, 0, PAGE_SIZE);
	if (hi > va + PAGE_SIZE)
		hi = va + PAGE_SIZE;
	if (lo < hi)
		memcpy(dst + (lo - va), src + (lo - s->vaddr), hi - lo);
}

static uint8_t *window_page(uint64_t va)
{
	return pager_page_for_write(va - STRATA_DISK_WINDOW_BASE, false);
}

/* Copies one segment of the module into its window pages. */
static void segment_install(const struct strata_segment *s)
{
	for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < PAGE_ROUND_UP(s->vaddr + s->memsz); va += PAGE_SIZE)
		page_image(window_page(va), va, s, l1.file + s->offset);
}

static void label_from_image(struct disklabel *lb, const char *cmdline)
{
	lb->nseg = (uint32_t)l1.img.nseg;
	lb->disk_bytes = l1.geom.disk_bytes;
	lb->l1_disk_limit = l1.geom.l1_disk_limit;
	lb->payload_hash = l1.file_hash;
	lb->payload_bytes = l1.file_bytes;
	lb->entry = l1.img.entry;
	lb->image_end = l1.img.image_end;
	label_segments_from(lb->seg, l1.img.seg, LABEL_MAX_SEGMENTS);
	lb->data_pages = label_data_pages(lb->seg, lb->nseg);
	lb->hdr = l1.img.hdr;
	memset(lb->cmdline, 0, sizeof(lb->cmdline));
	memcpy(lb->cmdline, cmdline, strnlen(cmdline, sizeof(lb->cmdline) - 1));
}

void image_from_label(const struct disklabel *lb)
{
	l1.img.nseg = (int)lb->nseg;
	l1.img.entry = lb->entry;
	l1.img.image_end = lb->image_end;
	l1.img.hdr = lb->hdr;
	label_segments_to(l1.img.seg, lb->seg, LABEL_MAX_SEGMENTS);
}

bool install_forced(const struct boot_info *bi)
{
	return option_is(cmdline_option(bi->cmdline, "install"), "force");
}

/* Whether window pages [lo, hi) of the disk hold a byte that is not zero: 1, 0, or -1 on an I/O error. */
static int disk_holds_data(uint64_t lo, uint64_t hi)
{
	uint64_t pa = page_or_die("disk check");
	int r = 0;

	for (uint64_t off = lo; r == 0 && off < hi; off += PAGE_SIZE) {
		if (blk_rw_sync(l1.dev, BLK_READ, off / BLK_SECTOR_SIZE, BLK_SECTORS_PER_PAGE, &pa) != BLK_OK)
			r = -1;
		else if (!page_is_zero(p2v(pa)))
			r = 1;
	}
	pmm_free(pa);
	return r;
}

/*
 * A new build larger than the one installed takes pages that were the free
 * area: only where layer 1 never wrote (they are all zero) does that lose
 * nothing.
 */
static void overlap_check(const struct boot_info *bi, const struct disklabel *lb)
{
	uint64_t lo = lb->image_end - STRATA_DISK_WINDOW_BASE;
	uint64_t hi = l1.img.image_end - STRATA_DISK_WINDOW_BASE;
	int r;

	if (hi <= lo || install_forced(bi))
		return;
	if (hi > l1.geom.l1_disk_limit)
		hi = l1.geom.l1_disk_limit;	/* disk_check_size reports the rest */
	if ((r = disk_holds_data(lo, hi)) < 0)
		load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	if (r == 0)
		return;
	kprintf("strata: %s: the new build of \"%s\" ends at %#lx, the installed one at %#lx: its image\n"
	    "strata: would overwrite %lu KiB of the free area, which holds layer 1's data.\n"
	    "strata: add install=force to layer 0's command line to install it over that data.\n",
	    l1.dev->name, l1.img.hdr.name, (unsigned long)l1.img.image_end,
	    (unsigned long)lb->image_end, (unsigned long)((hi - lo) >> 10));
	load_stop(STRATA_EXIT_IMAGE_OVERLAP, "the new image would overwrite layer 1's data");
}

/* A disk boot starts .data from the copy in the disk's head, which has room for LABEL_DATA_MAX. */
static void data_size_check(void)
{
	struct label_segment seg[LABEL_MAX_SEGMENTS];
	uint64_t n;

	label_segments_from(seg, l1.img.seg, (uint32_t)l1.img.nseg);
	n = label_data_pages(seg, (uint32_t)l1.img.nseg);
	if (l1.dev == 0 || n * PAGE_SIZE <= LABEL_DATA_MAX)
		return;
	kprintf("strata: the payload is not loadable on a disk: its writable segments' file bytes\n"
	    "strata: fill %lu KiB of pages, and a disk keeps at most %lu KiB of them (doc/abi.md, \"Installing\")\n",
	    (unsigned long)(n * PAGE_SIZE >> 10), (unsigned long)(LABEL_DATA_MAX >> 10));
	load_stop(STRATA_EXIT_BAD_PAYLOAD, "bad payload");
}

/* With a module: may it be installed on what the disk holds? */
void install_check(const struct boot_info *bi, enum head head, const struct disklabel *lb,
    const char *why)
{
	data_size_check();
	if (l1.dev == 0 || head == HEAD_BLANK)
		return;
	if (head == HEAD_FOREIGN && !install_forced(bi)) {
		kprintf("strata: %s is not a Strata disk: %s.\n"
		    "strata: not installing \"%s\" over it: attach a blank disk, or add install=force\n"
		    "strata: to layer 0's command line to overwrite it.\n",
		    l1.dev->name, why, l1.img.hdr.name);
		load_stop(STRATA_EXIT_DISK_FOREIGN, "the disk is not a Strata disk");
	}
	if (head == HEAD_FOREIGN) {
		kprintf("strata: %s is not a Strata disk (%s); overwriting it: install=force\n",
		    l1.dev->name, why);
		return;
	}
	if (strncmp(lb->hdr.name, l1.img.hdr.name, sizeof(lb->hdr.name)) != 0 && !install_forced(bi)) {
		kprintf("strata: %s holds the payload \"%s\"; not overwriting it with \"%s\".\n"
		    "strata: boot without a module to run it, or add install=force to layer 0's command line.\n",
		    l1.dev->name, lb->hdr.name, l1.img.hdr.name);
		load_stop(STRATA_EXIT_DISK_OTHER, "the disk holds another payload");
	}
	overlap_check(bi, lb);
	if (head == HEAD_OLD_LABEL)
		kprintf("strata: %s: its label is of version 1 (an older layer 0); installing writes version %u\n",
		    l1.dev->name, LABEL_VERSION);
	else if (lb->state == LABEL_INSTALLING)
		kprintf("strata: %s: the install of \"%s\" there was cut short; installing again\n",
		    l1.dev->name, lb->hdr.name);
	else if (lb->payload_hash != l1.file_hash)
		kprintf("strata: %s: replacing the installed \"%s\" with a new build of it\n",
		    l1.dev->name, lb->hdr.name);
}

/* Without a module: can the disk's payload start fresh? */
void disk_boot_check(enum head head, const struct disklabel *lb, const char *why)
{
	if (l1.dev == 0 || head == HEAD_BLANK) {
		kprintf("strata: no payload: give GRUB a module2 line with a layer-1 ELF%s\n",
		    l1.dev ? ", or boot a disk that holds one" : "");
		load_stop(STRATA_EXIT_NO_PAYLOAD, "no payload");
	}
	if (head == HEAD_FOREIGN) {
		kprintf("strata: no payload: %s is not a Strata disk (%s)\n", l1.dev->name, why);
		load_stop(STRATA_EXIT_NO_PAYLOAD, "no payload");
	}
	if (head == HEAD_OLD_LABEL) {
		kprintf("strata: %s holds \"%s\" as an older layer 0 installed it (label version 1), without\n"
		    "strata: the copy of its .data a fresh start needs: boot once with its module to install it again\n",
		    l1.dev->name, lb->hdr.name);
		load_stop(STRATA_EXIT_REINSTALL, "the disk's payload must be installed again");
	}
	if (lb->state == LABEL_INSTALLING) {
		kprintf("strata: %s: the install of \"%s\" was cut short, so its image may be half new:\n"
		    "strata: not running it.  Boot with its module to install it again.\n",
		    l1.dev->name, lb->hdr.name);
		load_stop(STRATA_EXIT_REINSTALL, "the disk's payload must be installed again");
	}
}

/* A test of a cut install (layer-0 option installstop=STEP): the machine stops after STEP. */
static void install_stop(const struct boot_info *bi, const char *step)
{
	if (!option_is(cmdline_option(bi->cmdline, "installstop"), step))
		return;
	kprintf("strata: installstop=%s: stopping the install here, as asked\n", step);
	load_stop(STRATA_EXIT_REINSTALL, "install stopped by installstop");
}

/* The copy of the writable pages, in the head: what a boot from the disk starts .data from. */
static void data_copy_write(void)
{
	uint64_t pa = page_or_die("install"), i = 0;

	for (int k = 0; k < l1.img.nseg; k++) {
		const struct strata_segment *s = &l1.img.seg[k];

		if (!(s->flags & STRATA_SEG_W) || s->filesz == 0)
			continue;
		for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < s->vaddr + s->filesz; va += PAGE_SIZE) {
			page_image(p2v(pa), va, s, l1.file + s->offset);
			if (label_data_io(l1.dev, true, i++, pa) < 0)
				load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
		}
	}
	pmm_free(pa);
}

/*
 * Puts the module's segments in the window and, on a disk, makes them
 * durable in an order where every instant is safe: a label that says
 * "installing" (a boot without the module then refuses, a boot with it
 * installs again), then the image and the copy of its writable pages,
 * flushed, then the label that says "ready", flushed.
 */
void payload_install(const struct boot_info *bi, struct disklabel *lb)
{
	const char *cmdline = bi->mods[0].cmdline;
	uint64_t old_end = lb->image_end;	/* 0 unless the disk held a label */

	if (l1.dev != 0) {
		label_from_image(lb, cmdline);
		lb->state = LABEL_INSTALLING;
		lb->installs++;
		if (label_write(l1.dev, lb) != 0)
			load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
		install_stop(bi, "begun");
	}
	for (int i = 0; i < l1.img.nseg; i++)
		segment_install(&l1.img.seg[i]);
	if (l1.dev == 0)
		return;
	/* What a larger build left after a smaller one is free area again, zero as on a new disk. */
	for (uint64_t va = l1.img.image_end; va < old_end; va += PAGE_SIZE)
		memset(window_page(va), 0, PAGE_SIZE);
	data_copy_write();
	if (pager_sync() != 0)
		load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	install_stop(bi, "image");
	lb->state = LABEL_READY;
	if (label_write(l1.dev, lb) != 0)
		load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	kprintf("strata: installed \"%s\" on %s (install %lu)\n", l1.img.hdr.name, l1.dev->name,
	    (unsigned long)lb->installs);
}

/*
 * A boot from the disk is a fresh start of the installed payload: its
 * writable segments as its ELF has them (.data from the copy in the head,
 * .bss zero), while the free area stays as the disk holds it.
 */
void fresh_start(void)
{
	uint64_t pa = page_or_die("fresh start"), i = 0;

	for (int k = 0; k < l1.img.nseg; k++) {
		const struct strata_segment *s = &l1.img.seg[k];
		uint64_t copied = s->filesz == 0 ? 0 : PAGE_ROUND_UP(s->vaddr + s->filesz);

		if (!(s->flags & STRATA_SEG_W))
			continue;
		for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < PAGE_ROUND_UP(s->vaddr + s->memsz); va += PAGE_SIZE) {
			uint8_t *dst = window_page(va);

			if (va >= copied) {
				memset(dst, 0, PAGE_SIZE);
				continue;
			}
			if (label_data_io(l1.dev, false, i++, pa) < 0)
				load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
			memcpy(dst, p2v(pa), PAGE_SIZE);
		}
	}
	pmm_free(pa);
}

/* Every start begins with a zero stack: nothing of a previous run shows below rsp. */
void stack_clear(void)
{
	for (uint64_t va = STRATA_L1_STACK_TOP - l1.stack_bytes; va < STRATA_L1_STACK_TOP; va += PAGE_SIZE)
		memset(window_page(va), 0, PAGE_SIZE);
}
