/*
 * The payload validator, rule by rule: each test builds a small payload in
 * memory, breaks one thing and expects exactly the reason for it.
 *
 * The builder keeps the image as structures (b.eh, b.ph[], b.nh, b.hdr) and
 * lays them out only in image(), so a test states the fault it makes in
 * plain fields rather than as byte offsets.  The good image:
 *
 *   0x0000  ELF header, program headers
 *   0x1000  text    R X  at IMAGE_BASE           0x100 bytes, entry at +0x10
 *   0x2000  rodata  R    at IMAGE_BASE + 0x2000  0x100 bytes, the note at its start
 *   -       data    RW   at IMAGE_BASE + 0x3000  0x2000 bytes of bss
 *   0x2200  symbols, 0x2300 strings, 0x2400 section headers
 */
#include <check.h>

#include "fake.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf64.h"
#include "validate.h"

#define BASE		STRATA_L1_IMAGE_BASE
#define NOTE_OFF	0x2000
#define SYM_OFF		0x2200
#define STR_OFF		0x2300
#define SH_OFF		0x2400
#define FILE_MAX	0x3000
enum { TEXT, RO, DATA, NOTE };

static struct builder {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[24];
	int nph;
	Elf64_Nhdr nh;
	char name[8];
	unsigned desc_off;		/* the descriptor's offset in the note record */
	struct strata_payload_header hdr;
	int shnum;			/* 0: no section headers */
	Elf64_Shdr sh[3];
	unsigned char file[FILE_MAX];
	size_t len;
} b;

/* What the validator said. */
static struct {
	int n[SR_COUNT];
	char detail[SR_COUNT][256];
	char last[300];			/* the last problem, for failure messages */
	int total;
} got;
static struct strata_image img;

static Elf64_Phdr phdr(uint32_t type, uint32_t flags, uint64_t off, uint64_t va,
    uint64_t filesz, uint64_t memsz)
{
	return (Elf64_Phdr){ type, flags, off, va, va, filesz, memsz, 0x1000 };
}

static void setup(void)
{
	memset(&b, 0, sizeof(b));
	memset(&got, 0, sizeof(got));
	memcpy(b.eh.e_ident, ELFMAG, SELFMAG);
	b.eh.e_ident[EI_CLASS] = ELFCLASS64;
	b.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	b.eh.e_ident[EI_VERSION] = EV_CURRENT;
	b.eh.e_type = ET_EXEC;
	b.eh.e_machine = EM_X86_64;
	b.eh.e_version = EV_CURRENT;
	b.eh.e_entry = BASE + 0x10;
	b.eh.e_phoff = sizeof(Elf64_Ehdr);
	b.eh.e_ehsize = sizeof(Elf64_Ehdr);
	b.eh.e_phentsize = sizeof(Elf64_Phdr);
	b.eh.e_shentsize = sizeof(Elf64_Shdr);
	b.ph[TEXT] = phdr(PT_LOAD, PF_R | PF_X, 0x1000, BASE, 0x100, 0x100);
	b.ph[RO] = phdr(PT_LOAD, PF_R, 0x2000, BASE + 0x2000, 0x100, 0x100);
	b.ph[DATA] = phdr(PT_LOAD, PF_R | PF_W, 0, BASE + 0x3000, 0, 0x2000);
	b.ph[NOTE] = phdr(PT_NOTE, PF_R, NOTE_OFF, BASE + 0x2000, 12 + 8 + 64, 12 + 8 + 64);
	b.ph[NOTE].p_align = 4;
	b.nph = 4;
	b.nh = (Elf64_Nhdr){ STRATA_NOTE_NAMESZ, 64, STRATA_NOTE_PAYLOAD };
	memcpy(b.name, "Strata", 7);
	b.desc_off = 20;
	b.hdr.magic = STRATA_PAYLOAD_MAGIC;
	b.hdr.abi_major = STRATA_ABI_MAJOR;
	b.hdr.abi_minor = STRATA_ABI_MINOR;
	b.hdr.header_size = 64;
	strcpy(b.hdr.name, "unit");
	b.shnum = 3;
	b.sh[1] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = SYM_OFF, .sh_size = 48,
	    .sh_link = 2, .sh_entsize = sizeof(Elf64_Sym) };
	b.sh[2] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = STR_OFF, .sh_size = 16 };
	b.len = SH_OFF + 3 * sizeof(Elf64_Shdr);
}

/* Lays the builder out as a file. */
static void image(void)
{
	unsigned char *f = b.file;

	memset(f, 0, sizeof(b.file));
	b.eh.e_phnum = (Elf64_Half)b.nph;
	b.eh.e_shnum = (Elf64_Half)b.shnum;
	b.eh.e_shoff = b.shnum ? SH_OFF : 0;
	memcpy(f, &b.eh, sizeof(b.eh));
	/* A test may point the table outside the file: then there is none. */
	if (b.eh.e_phoff <= FILE_MAX - sizeof(b.ph))
		memcpy(f + b.eh.e_phoff, b.ph, (size_t)b.nph * sizeof(Elf64_Phdr));
	memset(f + 0x1000, 0xcc, 0x100);
	memcpy(f + NOTE_OFF, &b.nh, sizeof(b.nh));
	memcpy(f + NOTE_OFF + 12, b.name, 8);
	memcpy(f + NOTE_OFF + b.desc_off, &b.hdr, sizeof(b.hdr));
	memcpy(f + STR_OFF, "\0_start\0main\0", 13);
	if (b.shnum)
		memcpy(f + SH_OFF, b.sh, (size_t)b.shnum * sizeof(Elf64_Shdr));
}

static void record(void *ctx, enum strata_reason r, const char *detail)
{
	(void)ctx;
	ck_assert_int_lt(r, SR_COUNT);
	ck_assert_uint_lt(strlen(detail), 200);
	got.n[r]++;
	got.total++;
	snprintf(got.detail[r], sizeof(got.detail[r]), "%s", detail);
	snprintf(got.last, sizeof(got.last), "%s: %s", strata_reason_name(r), detail);
}

/* Validates the built image against ABI major.minor; the problem count. */
static int run_as(uint32_t major, uint32_t minor)
{
	int n;

	image();
	memset(&got, 0, sizeof(got));
	n = strata_validate(b.file, b.len, major, minor, &img, record, NULL);
	ck_assert_int_eq(n, got.total);
	return n;
}

static int run(void)
{
	return run_as(STRATA_ABI_MAJOR, STRATA_ABI_MINOR);
}

/* Exactly one problem, for reason r. */
static void expect_only(enum strata_reason r)
{
	int n = run();

	ck_assert_msg(n == 1 && got.n[r] == 1, "expected only %s, got %d problems, the last %s",
	    strata_reason_name(r), n, got.last);
}

static void expect_detail(enum strata_reason r, const char *part)
{
	ck_assert_msg(strstr(got.detail[r], part) != NULL, "%s detail \"%s\" lacks \"%s\"",
	    strata_reason_name(r), got.detail[r], part);
}

START_TEST(good_image_passes_and_describes_itself)
{
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.entry, BASE + 0x10);
	ck_assert_int_eq(img.nseg, 3);
	ck_assert_uint_eq(img.seg[0].vaddr, BASE);
	ck_assert_uint_eq(img.seg[0].offset, 0x1000);
	ck_assert_uint_eq(img.seg[0].filesz, 0x100);
	ck_assert_uint_eq(img.seg[0].flags, STRATA_SEG_R | STRATA_SEG_X);
	ck_assert_uint_eq(img.seg[1].flags, STRATA_SEG_R);
	ck_assert_uint_eq(img.seg[2].flags, STRATA_SEG_R | STRATA_SEG_W);
	ck_assert_uint_eq(img.seg[2].memsz, 0x2000);
	ck_assert_uint_eq(img.image_end, BASE + 0x5000);
	ck_assert_uint_eq(img.hdr.magic, STRATA_PAYLOAD_MAGIC);
	ck_assert_uint_eq(img.hdr.header_size, 64);
	ck_assert_str_eq(img.hdr.name, "unit");
	ck_assert_uint_eq(img.symtab_off, SYM_OFF);
	ck_assert_uint_eq(img.symtab_size, 48);
	ck_assert_uint_eq(img.strtab_off, STR_OFF);
	ck_assert_uint_eq(img.strtab_size, 16);
}
END_TEST

START_TEST(segments_come_back_sorted_by_address)
{
	Elf64_Phdr t = b.ph[TEXT];

	b.ph[TEXT] = b.ph[DATA];
	b.ph[DATA] = t;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.seg[0].vaddr, BASE);
	ck_assert_uint_eq(img.seg[1].vaddr, BASE + 0x2000);
	ck_assert_uint_eq(img.seg[2].vaddr, BASE + 0x3000);
}
END_TEST

START_TEST(image_end_is_page_rounded)
{
	b.ph[DATA].p_memsz = 0x2001;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.image_end, BASE + 0x6000);
}
END_TEST

START_TEST(short_file_is_truncated)
{
	image();
	ck_assert_int_eq(strata_validate(b.file, 63, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, &img, record, NULL), 1);
	ck_assert_int_eq(got.n[SR_TRUNCATED], 1);
	ck_assert_int_eq(strata_validate(b.file, 0, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, &img, record, NULL), 1);
}
END_TEST

START_TEST(segment_past_end_of_file_is_truncated)
{
	b.ph[RO].p_filesz = b.ph[RO].p_memsz = 0x1000;	/* the file ends at 0x24c0 */
	expect_only(SR_TRUNCATED);
	b.ph[RO].p_filesz = 0x100;
	b.ph[RO].p_offset = UINT64_MAX - 0xfff;	/* offset + filesz wraps */
	b.ph[RO].p_vaddr = BASE + 0x2000;
	ck_assert_int_ge(run(), 1);
	ck_assert_int_eq(got.n[SR_TRUNCATED], 1);
}
END_TEST

START_TEST(phdr_table_past_end_of_file_is_truncated)
{
	b.eh.e_phoff = b.len - 8;
	expect_only(SR_TRUNCATED);
	b.eh.e_phoff = UINT64_MAX - 8;
	expect_only(SR_TRUNCATED);
}
END_TEST

START_TEST(no_magic_is_not_elf)
{
	b.eh.e_ident[EI_MAG1] = 'X';
	expect_only(SR_NOT_ELF);
}
END_TEST

START_TEST(elf32_or_other_machine_is_refused)
{
	b.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_only(SR_NOT_ELF64_X86_64);
	setup();
	b.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_only(SR_NOT_ELF64_X86_64);
	setup();
	b.eh.e_machine = EM_386;
	expect_only(SR_NOT_ELF64_X86_64);
	setup();
	b.eh.e_version = 2;
	expect_only(SR_NOT_ELF64_X86_64);
}
END_TEST

START_TEST(shared_object_is_not_exec)
{
	b.eh.e_type = ET_DYN;
	expect_only(SR_NOT_EXEC);
}
END_TEST

START_TEST(malformed_phdr_table_is_bad_phdrs)
{
	b.eh.e_phentsize = 32;
	expect_only(SR_BAD_PHDRS);
	setup();
	b.nph = 0;
	expect_only(SR_BAD_PHDRS);
}
END_TEST

START_TEST(no_pt_load_is_no_load)
{
	b.ph[TEXT].p_type = b.ph[RO].p_type = b.ph[DATA].p_type = PT_NULL;
	expect_only(SR_NO_LOAD);
}
END_TEST

START_TEST(seventeen_segments_are_too_many)
{
	/* 3 loads and the note, then empty pages up to 17 loads. */
	for (b.nph = 4; b.nph < STRATA_MAX_SEGMENTS + 2; b.nph++)
		b.ph[b.nph] = phdr(PT_LOAD, PF_R, 0, BASE + 0x10000 * (uint64_t)b.nph, 0, 0x1000);
	expect_only(SR_TOO_MANY_SEGMENTS);
	expect_detail(SR_TOO_MANY_SEGMENTS, "17");
	b.nph--;
	ck_assert_int_eq(run(), 0);
	ck_assert_int_eq(img.nseg, STRATA_MAX_SEGMENTS);
}
END_TEST

START_TEST(image_not_at_base_is_wrong_link_address)
{
	for (int i = 0; i < b.nph; i++)
		b.ph[i].p_vaddr += 0x1000;
	b.eh.e_entry += 0x1000;
	expect_only(SR_WRONG_LINK_ADDRESS);
	expect_detail(SR_WRONG_LINK_ADDRESS, "0x100001001000");
}
END_TEST

START_TEST(segment_outside_names_the_region_it_lies_over)
{
	b.ph[DATA].p_vaddr = STRATA_CONSOLE_BASE + 0x10000000;
	ck_assert_int_ge(run(), 1);
	ck_assert_int_eq(got.n[SR_SEGMENT_OUTSIDE], 1);
	expect_detail(SR_SEGMENT_OUTSIDE, "console ring");
	b.ph[DATA].p_vaddr = STRATA_L1_STACK_TOP - 0x4000;
	run();
	expect_detail(SR_SEGMENT_OUTSIDE, "stack");
	b.ph[DATA].p_vaddr = BASE + STRATA_L1_IMAGE_SIZE - 0x1000;
	expect_only(SR_SEGMENT_OUTSIDE);
	b.ph[DATA].p_vaddr = UINT64_MAX - 0xfff;	/* vaddr + memsz wraps */
	ck_assert_int_eq(run(), 1);
	ck_assert_int_eq(got.n[SR_SEGMENT_OUTSIDE], 1);
}
END_TEST

START_TEST(segment_ending_at_the_region_end_is_inside)
{
	b.ph[DATA].p_vaddr = BASE + STRATA_L1_IMAGE_SIZE - b.ph[DATA].p_memsz;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.image_end, BASE + STRATA_L1_IMAGE_SIZE);
}
END_TEST

START_TEST(segments_sharing_a_page_overlap)
{
	b.ph[DATA].p_vaddr = BASE + 0x2000;
	expect_only(SR_SEGMENT_OVERLAP);
	setup();
	b.ph[TEXT].p_memsz = 0x2001;	/* its last page is rodata's first */
	expect_only(SR_SEGMENT_OVERLAP);
	setup();
	b.ph[TEXT].p_memsz = 0x2000;	/* ends exactly where rodata begins */
	ck_assert_int_eq(run(), 0);
}
END_TEST

START_TEST(vaddr_and_offset_disagreeing_in_page_are_misaligned)
{
	b.ph[RO].p_offset += 8;
	expect_only(SR_SEGMENT_MISALIGNED);
}
END_TEST

START_TEST(writable_and_executable_segment_is_refused)
{
	b.ph[TEXT].p_flags |= PF_W;
	expect_only(SR_WRITE_EXEC);
}
END_TEST

START_TEST(filesz_over_memsz_is_refused)
{
	b.ph[RO].p_memsz = 0x80;
	expect_only(SR_FILESZ_GT_MEMSZ);
}
END_TEST

START_TEST(entry_must_be_in_an_executable_segment)
{
	b.eh.e_entry = BASE + 0x2000;
	expect_only(SR_ENTRY_OUTSIDE_TEXT);
	b.eh.e_entry = BASE + 0x100;	/* one past the end of text */
	expect_only(SR_ENTRY_OUTSIDE_TEXT);
	b.eh.e_entry = BASE + 0xff;
	ck_assert_int_eq(run(), 0);
}
END_TEST

START_TEST(missing_note_is_no_note)
{
	b.ph[NOTE].p_type = PT_NULL;
	expect_only(SR_NO_NOTE);
	setup();
	b.nh.n_type = 1;		/* a Strata note, but not the payload header */
	expect_only(SR_NO_NOTE);
	setup();
	b.name[5] = 'A';
	expect_only(SR_NO_NOTE);
}
END_TEST

START_TEST(note_after_another_note_is_found)
{
	/* A 4-byte GNU-style note first, then ours. */
	Elf64_Nhdr other = { 4, 8, 3 };

	b.ph[NOTE].p_offset = NOTE_OFF - 24;
	b.ph[NOTE].p_filesz += 24;
	image();
	memcpy(b.file + NOTE_OFF - 24, &other, sizeof(other));
	memcpy(b.file + NOTE_OFF - 12, "GNU\0abcd", 8);
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(strata_validate(b.file, b.len, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, &img, record, NULL), 0);
	ck_assert_str_eq(img.hdr.name, "unit");
}
END_TEST

START_TEST(short_or_overrunning_note_is_bad_note)
{
	b.nh.n_descsz = 32;
	expect_only(SR_BAD_NOTE);
	expect_detail(SR_BAD_NOTE, "64");
	b.nh.n_descsz = 0x1000;		/* past the end of the PT_NOTE */
	expect_only(SR_BAD_NOTE);
	b.nh.n_descsz = UINT32_MAX;
	expect_only(SR_BAD_NOTE);
}
END_TEST

START_TEST(header_size_outside_its_note_is_bad_note)
{
	b.hdr.header_size = 60;
	expect_only(SR_BAD_NOTE);
	b.hdr.header_size = 65;
	expect_only(SR_BAD_NOTE);
}
END_TEST

START_TEST(longer_header_of_a_newer_minor_is_read_as_v1)
{
	b.nh.n_descsz = 80;
	b.hdr.header_size = 80;
	b.ph[NOTE].p_filesz += 16;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.hdr.header_size, 80);
	ck_assert_str_eq(img.hdr.name, "unit");
}
END_TEST

/* The gABI aligns a note's descriptor on the segment's alignment: +24 when it is 8. */
START_TEST(note_in_an_eight_aligned_segment_is_read_with_eight_byte_padding)
{
	b.ph[NOTE].p_align = 8;
	b.ph[NOTE].p_filesz = b.ph[NOTE].p_memsz = 12 + 8 + 4 + 64;
	b.desc_off = 24;
	ck_assert_msg(run() == 0, "%s", got.last);
	ck_assert_str_eq(img.hdr.name, "unit");
}
END_TEST

/* A toolchain that pads to 8 in a 4-aligned segment: say so, not "magic 0". */
START_TEST(note_padded_to_eight_in_a_four_aligned_segment_names_the_padding)
{
	b.ph[NOTE].p_filesz = b.ph[NOTE].p_memsz = 12 + 8 + 4 + 64;
	b.desc_off = 24;
	expect_only(SR_BAD_NOTE);
	expect_detail(SR_BAD_NOTE, "p_align 4");
}
END_TEST

/* And the other way round: padded to 4 in a segment that says 8. */
START_TEST(note_padded_to_four_in_an_eight_aligned_segment_names_the_padding)
{
	b.ph[NOTE].p_align = 8;
	b.ph[NOTE].p_filesz = b.ph[NOTE].p_memsz = 12 + 8 + 4 + 64;
	expect_only(SR_BAD_NOTE);
	expect_detail(SR_BAD_NOTE, "p_align 8");
}
END_TEST

START_TEST(wrong_header_magic_is_bad_magic)
{
	b.hdr.magic = 0x32505453;
	expect_only(SR_BAD_MAGIC);
}
END_TEST

START_TEST(abi_version_names_both_versions)
{
	char want[80];

	b.hdr.abi_major = 2;
	b.hdr.abi_minor = 0;
	expect_only(SR_ABI_VERSION);
	snprintf(want, sizeof(want), "payload needs ABI 2.0, this kernel implements %u.%u",
	    STRATA_ABI_MAJOR, STRATA_ABI_MINOR);
	ck_assert_str_eq(got.detail[SR_ABI_VERSION], want);
	b.hdr.abi_major = 1;
	b.hdr.abi_minor = 3;
	ck_assert_int_eq(run_as(1, 2), 1);
	expect_detail(SR_ABI_VERSION, "ABI 1.3, this kernel implements 1.2");
	ck_assert_int_eq(run_as(1, 3), 0);
	ck_assert_int_eq(run_as(1, 7), 0);	/* an older minor runs on a newer kernel */
	ck_assert_int_eq(run_as(0, 7), 1);
}
END_TEST

START_TEST(unknown_flags_are_bad_flags)
{
	b.hdr.flags = 4;
	expect_only(SR_BAD_FLAGS);
	expect_detail(SR_BAD_FLAGS, "0x4");
	b.hdr.flags = STRATA_PAYLOAD_EXTSYNC | 0x80000000u;	/* a known bit does not excuse the other */
	expect_only(SR_BAD_FLAGS);
	expect_detail(SR_BAD_FLAGS, "0x80000000");
}
END_TEST

/* ABI 1.4: the external-synchrony flag is known. */
START_TEST(extsync_flag_is_accepted)
{
	b.hdr.flags = STRATA_PAYLOAD_EXTSYNC;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.hdr.flags, STRATA_PAYLOAD_EXTSYNC);
}
END_TEST

START_TEST(stack_bytes_must_be_a_bounded_page_multiple)
{
	uint32_t bad[] = { 0x1000, STRATA_L1_STACK_MIN + 0x800,
	    (uint32_t)STRATA_L1_STACK_MAX + 0x1000, UINT32_MAX };
	uint32_t good[] = { 0, (uint32_t)STRATA_L1_STACK_MIN, (uint32_t)STRATA_L1_STACK_MAX };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b.hdr.stack_bytes = bad[i];
		expect_only(SR_BAD_STACK);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		b.hdr.stack_bytes = good[i];
		ck_assert_int_eq(run(), 0);
	}
}
END_TEST

START_TEST(ring_slot_counts_are_bounded)
{
	b.hdr.console_slots = STRATA_RING_SLOTS_MAX + 1;
	expect_only(SR_BAD_RING);
	expect_detail(SR_BAD_RING, "console_slots");
	b.hdr.console_slots = 2;
	b.hdr.rx_slots = STRATA_RING_SLOTS_MAX + 1;
	expect_only(SR_BAD_RING);
	expect_detail(SR_BAD_RING, "rx_slots");
	b.hdr.rx_slots = STRATA_RING_SLOTS_MAX;
	b.hdr.tx_slots = STRATA_RING_SLOTS_MAX + 1;
	expect_only(SR_BAD_RING);
	expect_detail(SR_BAD_RING, "tx_slots");
}
END_TEST

/* Every doorbell read faults, so a ring of one slot works: each doorbell takes it. */
START_TEST(one_slot_rings_are_accepted)
{
	b.hdr.console_slots = 1;
	b.hdr.tx_slots = 1;
	b.hdr.rx_slots = 1;
	ck_assert_int_eq(run(), 0);
}
END_TEST

START_TEST(unterminated_name_is_cut_not_refused)
{
	memset(b.hdr.name, 'n', sizeof(b.hdr.name));
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(strlen(img.hdr.name), sizeof(img.hdr.name) - 1);
}
END_TEST

START_TEST(every_problem_is_reported)
{
	b.ph[TEXT].p_flags |= PF_W;
	b.ph[RO].p_memsz = 0x80;
	b.ph[DATA].p_vaddr = STRATA_CONSOLE_BASE;
	b.hdr.flags = 2;
	b.hdr.console_slots = STRATA_RING_SLOTS_MAX + 1;
	b.hdr.tx_slots = 1 << 20;
	ck_assert_int_eq(run(), 7);
	ck_assert_int_eq(got.n[SR_WRITE_EXEC], 1);
	ck_assert_int_eq(got.n[SR_FILESZ_GT_MEMSZ], 1);
	ck_assert_int_eq(got.n[SR_SEGMENT_OUTSIDE], 1);
	ck_assert_int_eq(got.n[SR_WRONG_LINK_ADDRESS], 1);
	ck_assert_int_eq(got.n[SR_BAD_FLAGS], 1);
	ck_assert_int_eq(got.n[SR_BAD_RING], 2);
}
END_TEST

START_TEST(malformed_section_headers_are_ignored)
{
	b.sh[1].sh_link = 9;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.symtab_size, 0);
	setup();
	b.sh[2].sh_size = 0x100000;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.symtab_size, 0);
	setup();
	b.eh.e_shentsize = 40;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.symtab_size, 0);
	setup();
	b.shnum = 0;
	ck_assert_int_eq(run(), 0);
	ck_assert_uint_eq(img.strtab_off, 0);
}
END_TEST

START_TEST(reason_names_are_distinct_words)
{
	for (int i = 0; i < SR_COUNT; i++) {
		const char *n = strata_reason_name((enum strata_reason)i);

		ck_assert_str_ne(n, "unknown");
		ck_assert_ptr_null(strchr(n, ' '));
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(n, strata_reason_name((enum strata_reason)j));
	}
	ck_assert_str_eq(strata_reason_name(SR_WRITE_EXEC), "write-exec");
	ck_assert_str_eq(strata_reason_name(SR_COUNT), "unknown");
}
END_TEST

START_TEST(no_report_function_still_counts)
{
	b.ph[TEXT].p_flags |= PF_W;
	image();
	ck_assert_int_eq(strata_validate(b.file, b.len, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, NULL, NULL, NULL), 1);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *t = tcase_create("rules");

	tcase_add_checked_fixture(t, setup, 0);
	tcase_add_test(t, good_image_passes_and_describes_itself);
	tcase_add_test(t, segments_come_back_sorted_by_address);
	tcase_add_test(t, image_end_is_page_rounded);
	tcase_add_test(t, short_file_is_truncated);
	tcase_add_test(t, segment_past_end_of_file_is_truncated);
	tcase_add_test(t, phdr_table_past_end_of_file_is_truncated);
	tcase_add_test(t, no_magic_is_not_elf);
	tcase_add_test(t, elf32_or_other_machine_is_refused);
	tcase_add_test(t, shared_object_is_not_exec);
	tcase_add_test(t, malformed_phdr_table_is_bad_phdrs);
	tcase_add_test(t, no_pt_load_is_no_load);
	tcase_add_test(t, seventeen_segments_are_too_many);
	tcase_add_test(t, image_not_at_base_is_wrong_link_address);
	tcase_add_test(t, segment_outside_names_the_region_it_lies_over);
	tcase_add_test(t, segment_ending_at_the_region_end_is_inside);
	tcase_add_test(t, segments_sharing_a_page_overlap);
	tcase_add_test(t, vaddr_and_offset_disagreeing_in_page_are_misaligned);
	tcase_add_test(t, writable_and_executable_segment_is_refused);
	tcase_add_test(t, filesz_over_memsz_is_refused);
	tcase_add_test(t, entry_must_be_in_an_executable_segment);
	tcase_add_test(t, missing_note_is_no_note);
	tcase_add_test(t, note_after_another_note_is_found);
	tcase_add_test(t, short_or_overrunning_note_is_bad_note);
	tcase_add_test(t, header_size_outside_its_note_is_bad_note);
	tcase_add_test(t, longer_header_of_a_newer_minor_is_read_as_v1);
	tcase_add_test(t, note_in_an_eight_aligned_segment_is_read_with_eight_byte_padding);
	tcase_add_test(t, note_padded_to_eight_in_a_four_aligned_segment_names_the_padding);
	tcase_add_test(t, note_padded_to_four_in_an_eight_aligned_segment_names_the_padding);
	tcase_add_test(t, wrong_header_magic_is_bad_magic);
	tcase_add_test(t, abi_version_names_both_versions);
	tcase_add_test(t, unknown_flags_are_bad_flags);
	tcase_add_test(t, extsync_flag_is_accepted);
	tcase_add_test(t, stack_bytes_must_be_a_bounded_page_multiple);
	tcase_add_test(t, ring_slot_counts_are_bounded);
	tcase_add_test(t, one_slot_rings_are_accepted);
	tcase_add_test(t, unterminated_name_is_cut_not_refused);
	tcase_add_test(t, every_problem_is_reported);
	tcase_add_test(t, malformed_section_headers_are_ignored);
	tcase_add_test(t, reason_names_are_distinct_words);
	tcase_add_test(t, no_report_function_still_counts);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(validate_suite(), false);
}
