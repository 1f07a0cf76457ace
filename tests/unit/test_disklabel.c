/*
 * The disk label (layer0/disklabel.c): a head is trusted only when its label
 * is whole.  The disk is a fake driver defined here, one MiB of host memory
 * behind blkdev_ops, run through the real drivers/blkdev.c; physical pages
 * are host pages (p2v is the identity), so head_read, label_write and
 * label_data_io run as they do in layer 0.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "defs.h"
#include "blkdev.h"
#include "disklabel.h"
#include "strata/abi.h"
#include "validate.h"

/* The head's MiB of host memory, behind a driver that completes each request when polled. */
static uint8_t disk[STRATA_DISK_HEAD_SIZE];
static struct blkreq *queued;

static void head_submit(struct blkdev *d, struct blkreq *req)
{
	(void)d;
	req->next = queued;
	queued = req;
}

static int head_poll(struct blkdev *d)
{
	int n = 0;

	(void)d;
	for (struct blkreq *req; (req = queued) != 0; n++) {
		queued = req->next;
		for (uint32_t k = 0; req->op != BLK_FLUSH && k < req->nsectors / BLK_SECTORS_PER_PAGE; k++) {
			uint8_t *at = disk + (req->sector + k * BLK_SECTORS_PER_PAGE) * BLK_SECTOR_SIZE;

			if (req->op == BLK_READ)
				memcpy(p2v(req->pages[k]), at, PAGE_SIZE);
			else
				memcpy(at, p2v(req->pages[k]), PAGE_SIZE);
		}
		req->status = BLK_OK;
	}
	return n;
}

static const struct blkdev_ops head_ops = { .submit = head_submit, .poll = head_poll };
static struct blkdev dev = { .name = "disk0", .kind = "fake", .sectors = sizeof(disk) / BLK_SECTOR_SIZE,
    .sector_size = BLK_SECTOR_SIZE, .max_sectors = 1024, .volatile_cache = true, .ops = &head_ops };

uint64_t pmm_alloc(void) { return (uint64_t)(uintptr_t)calloc(1, PAGE_SIZE); }
void pmm_free(uint64_t pa) { free((void *)(uintptr_t)pa); }
void *p2v(uint64_t pa) { return (void *)(uintptr_t)pa; }

#define BASE	STRATA_L1_IMAGE_BASE

/* The label of a payload with text, rodata and data+bss, as an install writes it. */
static void good_label(struct disklabel *l)
{
	memset(l, 0, sizeof(*l));
	l->state = LABEL_READY;
	l->nseg = 3;
	l->seg[0] = (struct label_segment){ BASE, 0x5000, 0x1000, 0x5000, STRATA_SEG_R | STRATA_SEG_X, 0 };
	l->seg[1] = (struct label_segment){ BASE + 0x5000, 0x800, 0x6000, 0x800, STRATA_SEG_R, 0 };
	l->seg[2] = (struct label_segment){ BASE + 0x6010, 0x20000, 0x7010, 0x1100,
	    STRATA_SEG_R | STRATA_SEG_W, 0 };
	l->entry = BASE + 0x40;
	l->image_end = BASE + 0x27000;
	l->data_pages = 2;
	l->hdr = (struct strata_payload_header){ .magic = STRATA_PAYLOAD_MAGIC,
	    .abi_major = STRATA_ABI_MAJOR, .abi_minor = STRATA_ABI_MINOR,
	    .header_size = sizeof(l->hdr), .name = "hello" };
	strcpy(l->cmdline, "one two");
}

/* Makes the checksum right again after a field was changed. */
static void seal(struct disklabel *l)
{
	l->magic = LABEL_MAGIC;
	l->version = LABEL_VERSION;
	l->checksum = crc32c(l, offsetof(struct disklabel, checksum));
}

static enum head parse(const struct disklabel *l, const char **why)
{
	static uint8_t page[PAGE_SIZE];
	struct disklabel out;

	memset(page, 0, sizeof(page));
	memcpy(page, l, sizeof(*l));
	*why = 0;
	return label_parse(page, &out, why);
}

START_TEST(crc32c_matches_the_standard_check_value)
{
	ck_assert_uint_eq(crc32c("123456789", 9), 0xe3069283);
}
END_TEST

START_TEST(a_written_label_reads_back_whole)
{
	struct disklabel l, r;
	const char *why;

	memset(disk, 0, sizeof(disk));
	good_label(&l);
	ck_assert_int_eq(label_write(&dev, &l), 0);
	ck_assert_int_eq(head_read(&dev, &r, &why), HEAD_LABEL);
	ck_assert_mem_eq(&r, &l, sizeof(l));
	ck_assert_str_eq(r.cmdline, "one two");
}
END_TEST

START_TEST(a_zero_head_is_blank)
{
	struct disklabel r;
	const char *why;

	memset(disk, 0, sizeof(disk));
	ck_assert_int_eq(head_read(&dev, &r, &why), HEAD_BLANK);
}
END_TEST

START_TEST(a_byte_past_the_first_page_makes_the_head_foreign)
{
	struct disklabel r;
	const char *why;

	memset(disk, 0, sizeof(disk));
	disk[sizeof(disk) - 1] = 1;
	ck_assert_int_eq(head_read(&dev, &r, &why), HEAD_FOREIGN);
	ck_assert_ptr_nonnull(strstr(why, "not blank"));
}
END_TEST

START_TEST(random_bytes_are_foreign)
{
	uint8_t page[PAGE_SIZE];
	struct disklabel r;
	const char *why;

	srand(7);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)rand();
	ck_assert_int_eq(label_parse(page, &r, &why), HEAD_FOREIGN);
}
END_TEST

START_TEST(any_flipped_bit_makes_the_label_foreign)
{
	struct disklabel l;
	const char *why;

	good_label(&l);
	seal(&l);
	ck_assert_int_eq(parse(&l, &why), HEAD_LABEL);
	/* One bit of every byte the checksum covers, and of the checksum itself. */
	for (size_t i = 0; i < offsetof(struct disklabel, checksum) + 4; i++) {
		struct disklabel f = l;

		((uint8_t *)&f)[i] ^= (uint8_t)(1 << (i % 8));
		ck_assert_msg(parse(&f, &why) == HEAD_FOREIGN, "byte %zu flipped, still whole", i);
	}
}
END_TEST

/* Each way a label's layout can be wrong though its checksum is right. */
static void break_first_segment_base(struct disklabel *l) { l->seg[0].vaddr += PAGE_SIZE; }
static void break_write_exec(struct disklabel *l) { l->seg[2].flags |= STRATA_SEG_X; }
static void break_filesz(struct disklabel *l) { l->seg[1].filesz = l->seg[1].memsz + 1; }
static void break_entry(struct disklabel *l) { l->entry = BASE + 0x5100; }
static void break_image_end(struct disklabel *l) { l->image_end += 8; }
static void break_no_segment(struct disklabel *l) { l->nseg = 0; }
static void break_too_many(struct disklabel *l) { l->nseg = STRATA_MAX_SEGMENTS + 1; }
static void break_overlap(struct disklabel *l) { l->seg[1].vaddr = BASE + 0x4800; }
static void break_outside(struct disklabel *l) { l->seg[2].memsz = STRATA_L1_IMAGE_SIZE; }
static void break_wrap(struct disklabel *l) { l->seg[2].memsz = ~0ULL - 0x1000; }
static void break_data_pages(struct disklabel *l) { l->data_pages = 1; }
static void break_stack(struct disklabel *l) { l->hdr.stack_bytes = 0x1001; }
static void break_name(struct disklabel *l) { memset(l->hdr.name, 'x', sizeof(l->hdr.name)); }
static void break_state(struct disklabel *l) { l->state = 3; }

static void (*const breaks[])(struct disklabel *) = {
	break_first_segment_base, break_write_exec, break_filesz, break_entry, break_image_end,
	break_no_segment, break_too_many, break_overlap, break_outside, break_wrap,
	break_data_pages, break_stack, break_name, break_state,
};

START_TEST(a_bad_layout_under_a_right_checksum_is_foreign)
{
	struct disklabel l;
	const char *why;

	good_label(&l);
	breaks[_i](&l);
	seal(&l);
	ck_assert_int_eq(parse(&l, &why), HEAD_FOREIGN);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(an_unaligned_image_end_is_refused)
{
	struct disklabel l;

	good_label(&l);
	l.image_end = BASE + 0x26010;
	ck_assert_ptr_nonnull(label_check(&l));
	l.image_end = BASE + 0x27000;
	ck_assert_ptr_null(label_check(&l));
}
END_TEST

/* The label layer 0 wrote before ABI 1.2, field by field. */
struct v1 {
	uint64_t magic;
	uint32_t version, nseg;
	uint64_t disk_bytes, l1_disk_limit, payload_hash, payload_bytes, entry, image_end, installs;
	struct strata_payload_header hdr;
	struct label_segment seg[LABEL_MAX_SEGMENTS];
	uint64_t checksum;
};

static void v1_label(struct v1 *o)
{
	struct disklabel l;

	good_label(&l);
	memset(o, 0, sizeof(*o));
	o->magic = LABEL_MAGIC;
	o->version = 1;
	o->nseg = l.nseg;
	o->entry = l.entry;
	o->image_end = l.image_end;
	o->installs = 4;
	o->hdr = l.hdr;
	memcpy(o->seg, l.seg, sizeof(o->seg));
	o->checksum = fnv1a(o, offsetof(struct v1, checksum));
}

START_TEST(a_version_1_label_is_a_strata_disk)
{
	uint8_t page[PAGE_SIZE] = { 0 };
	struct disklabel r;
	struct v1 o;
	const char *why;

	v1_label(&o);
	memcpy(page, &o, sizeof(o));
	ck_assert_int_eq(label_parse(page, &r, &why), HEAD_OLD_LABEL);
	ck_assert_str_eq(r.hdr.name, "hello");
	ck_assert_uint_eq(r.image_end, o.image_end);
	ck_assert_uint_eq(r.installs, 4);
	ck_assert_uint_eq(r.data_pages, 0);
	page[40] ^= 0x10;
	ck_assert_int_eq(label_parse(page, &r, &why), HEAD_FOREIGN);
}
END_TEST

/*
 * The label's segment records hold the validator's segments field by field,
 * in the bytes a label stored when it kept struct strata_segment itself, so
 * the disks written then still read the same.
 */
START_TEST(segments_go_into_the_label_and_back_in_the_old_bytes)
{
	struct strata_segment img[2] = {
		{ BASE, 0x5000, 0x1000, 0x4321, STRATA_SEG_R | STRATA_SEG_X },
		{ BASE + 0x6010, 0x20000, 0x7010, 0x1100, STRATA_SEG_R | STRATA_SEG_W },
	}, back[2];
	struct label_segment ls[2];

	memset(ls, 0xa5, sizeof(ls));
	label_segments_from(ls, img, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(ls[i].reserved, 0);
		ck_assert_mem_eq(&ls[i], &img[i], offsetof(struct strata_segment, flags) + sizeof(img[i].flags));
	}
	memset(back, 0xa5, sizeof(back));
	label_segments_to(back, ls, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(back[i].vaddr, img[i].vaddr);
		ck_assert_uint_eq(back[i].memsz, img[i].memsz);
		ck_assert_uint_eq(back[i].offset, img[i].offset);
		ck_assert_uint_eq(back[i].filesz, img[i].filesz);
		ck_assert_uint_eq(back[i].flags, img[i].flags);
	}
}
END_TEST

START_TEST(the_copy_of_the_writable_pages_goes_after_64_kib)
{
	uint64_t pa = pmm_alloc();

	memset(disk, 0, sizeof(disk));
	memset(p2v(pa), 0xab, PAGE_SIZE);
	ck_assert_int_eq(label_data_io(&dev, true, 2, pa), 0);
	ck_assert_uint_eq(disk[LABEL_DATA_OFFSET + 2 * PAGE_SIZE], 0xab);
	ck_assert_uint_eq(disk[LABEL_DATA_OFFSET + 2 * PAGE_SIZE - 1], 0);
	pmm_free(pa);
}
END_TEST

START_TEST(a_disk_past_the_window_is_used_up_to_its_end)
{
	struct blkdev big = { .name = "disk0", .sectors = (65ULL << 40) / BLK_SECTOR_SIZE,
	    .sector_size = BLK_SECTOR_SIZE };
	struct diskgeom g;

	disk_geometry(&big, &g);
	ck_assert_uint_eq(g.disk_bytes, STRATA_DISK_WINDOW_SIZE);
	ck_assert_uint_eq(g.l1_disk_limit, STRATA_DISK_WINDOW_SIZE - STRATA_JOURNAL_MAX);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("disklabel");
	TCase *tc = tcase_create("disklabel");

	tcase_add_test(tc, crc32c_matches_the_standard_check_value);
	tcase_add_test(tc, a_written_label_reads_back_whole);
	tcase_add_test(tc, a_zero_head_is_blank);
	tcase_add_test(tc, a_byte_past_the_first_page_makes_the_head_foreign);
	tcase_add_test(tc, random_bytes_are_foreign);
	tcase_add_test(tc, any_flipped_bit_makes_the_label_foreign);
	tcase_add_loop_test(tc, a_bad_layout_under_a_right_checksum_is_foreign, 0,
	    (int)(sizeof(breaks) / sizeof(breaks[0])));
	tcase_add_test(tc, an_unaligned_image_end_is_refused);
	tcase_add_test(tc, a_version_1_label_is_a_strata_disk);
	tcase_add_test(tc, segments_go_into_the_label_and_back_in_the_old_bytes);
	tcase_add_test(tc, the_copy_of_the_writable_pages_goes_after_64_kib);
	tcase_add_test(tc, a_disk_past_the_window_is_used_up_to_its_end);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite(), false);
}
