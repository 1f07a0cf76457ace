/*
 * mkbad GOOD.elf OUTDIR: writes the bad-payload corpus, one ELF per rule of
 * abi/validate.c, each a good payload with a few bytes patched.
 *
 * Every file is named REASON.elf or REASON.VARIANT.elf after the reason
 * abicheck must give for it (tests/abi/badcheck.sh checks that), and mkbad
 * itself refuses to write a file the validator does not reject for that
 * reason.  The corpus is kept in tests/abi/bad/ and also seeds the fuzzer.
 * To regenerate it (a host little-endian like the payloads):
 *
 *	make build/layer1/hello.elf
 *	strip -o build/hello-stripped.elf build/layer1/hello.elf
 *	gcc -std=c11 -O1 -Wall -Wextra -Werror -Iabi tests/abi/mkbad.c \
 *	    abi/validate.c -o build/mkbad
 *	rm -rf tests/abi/bad && mkdir tests/abi/bad &&
 *	    build/mkbad build/hello-stripped.elf tests/abi/bad
 *
 * The stripped payload keeps each file near 13 KiB, most of it the page
 * padding the link address rules require.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf64.h"
#include "validate.h"

#define ROOM	8192	/* spare bytes after a copy, for appended tables */

struct file {
	unsigned char *buf;
	size_t len;
};

/* Where the parts of the good payload are, found once. */
static struct layout {
	int text, ro, data, note;	/* program header indices */
	size_t hdr;			/* file offset of the payload header */
} L;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkbad: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

/* ---- reading and patching --------------------------------------------- */

static Elf64_Ehdr ehdr(const struct file *f)
{
	Elf64_Ehdr eh;

	memcpy(&eh, f->buf, sizeof(eh));
	return eh;
}

static void ehdr_put(struct file *f, const Elf64_Ehdr *eh)
{
	memcpy(f->buf, eh, sizeof(*eh));
}

static Elf64_Phdr phdr(const struct file *f, int i)
{
	Elf64_Ehdr eh = ehdr(f);
	Elf64_Phdr ph;

	memcpy(&ph, f->buf + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
	return ph;
}

static void phdr_put(struct file *f, int i, const Elf64_Phdr *ph)
{
	Elf64_Ehdr eh = ehdr(f);

	memcpy(f->buf + eh.e_phoff + (size_t)i * sizeof(*ph), ph, sizeof(*ph));
}

static struct strata_payload_header hdr(const struct file *f)
{
	struct strata_payload_header h;

	memcpy(&h, f->buf + L.hdr, sizeof(h));
	return h;
}

static void hdr_put(struct file *f, const struct strata_payload_header *h)
{
	memcpy(f->buf + L.hdr, h, sizeof(*h));
}

/* The note record header just before the payload header. */
static size_t nhdr_off(void)
{
	return L.hdr - 8 - sizeof(Elf64_Nhdr);
}

/* ---- the good payload -------------------------------------------------- */

static struct file slurp(const char *path)
{
	struct file f = { NULL, 0 };
	FILE *fp = fopen(path, "rb");
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0)
		die("cannot read %s", path);
	f.len = (size_t)n;
	if ((f.buf = calloc(1, f.len + ROOM)) == NULL)
		die("out of memory reading %s", path);
	if (fread(f.buf, 1, f.len, fp) != f.len)
		die("cannot read %s", path);
	fclose(fp);
	return f;
}

/* Finds the segments and the note the mutations patch. */
static void layout_find(const struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);
	Elf64_Nhdr nh;

	L.text = L.ro = L.data = L.note = -1;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr(f, i);

		if (ph.p_type == PT_NOTE)
			L.note = i;
		else if (ph.p_type != PT_LOAD)
			continue;
		else if (ph.p_flags & PF_X)
			L.text = i;
		else if (ph.p_flags & PF_W)
			L.data = i;
		else
			L.ro = i;
	}
	if (L.text < 0 || L.ro < 0 || L.data < 0 || L.note < 0)
		die("%s", "the good payload needs text, rodata, data and note segments");
	/* STRATA_PAYLOAD puts its note first in the segment: check, not assume. */
	memcpy(&nh, f->buf + phdr(f, L.note).p_offset, sizeof(nh));
	if (nh.n_namesz != 7 || nh.n_type != STRATA_NOTE_PAYLOAD)
		die("%s", "the first note is not the payload note");
	L.hdr = phdr(f, L.note).p_offset + sizeof(nh) + 8;
}

/* ---- the mutations, one rule each -------------------------------------- */

static void truncated(struct file *f)
{
	f->len = phdr(f, L.text).p_offset + 16;
}

static void truncated_header(struct file *f)
{
	f->len = 40;
}

static void truncated_phdrs(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_phoff = f->len - 100;
	ehdr_put(f, &eh);
}

static void not_elf(struct file *f)
{
	memcpy(f->buf, "#!/bin/sh\n", 10);
}

static void not_elf64_x86_64(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_machine = EM_386;
	ehdr_put(f, &eh);
}

static void not_elf64_class32(struct file *f)
{
	f->buf[EI_CLASS] = ELFCLASS32;
}

static void not_exec(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_type = ET_DYN;
	ehdr_put(f, &eh);
}

static void bad_phdrs(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_phentsize = 32;
	ehdr_put(f, &eh);
}

static void bad_phdrs_none(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_phnum = 0;
	ehdr_put(f, &eh);
}

static void no_load(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr(f, i);

		if (ph.p_type == PT_LOAD) {
			ph.p_type = PT_NULL;
			phdr_put(f, i, &ph);
		}
	}
}

/* 17 PT_LOADs: a new table at the end of the file, the extra ones empty pages. */
static void too_many_segments(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);
	size_t at = (f->len + 7) & ~(size_t)7;
	Elf64_Phdr ph;
	int n = eh.e_phnum;

	memcpy(f->buf + at, f->buf + eh.e_phoff, (size_t)n * sizeof(ph));
	eh.e_phoff = at;
	ph = phdr(f, L.data);
	for (; n < STRATA_MAX_SEGMENTS + 2; n++) {
		ph.p_vaddr += 0x10000;
		ph.p_paddr = ph.p_vaddr;
		ph.p_memsz = 0x1000;
		memcpy(f->buf + at + (size_t)n * sizeof(ph), &ph, sizeof(ph));
	}
	eh.e_phnum = (Elf64_Half)n;
	ehdr_put(f, &eh);
	f->len = at + (size_t)n * sizeof(ph);
}

/* Linked where a hosted program would be: 0x400000, in the null guard. */
static void wrong_link_address(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr(f, i);

		ph.p_vaddr = ph.p_vaddr - STRATA_L1_IMAGE_BASE + 0x400000;
		ph.p_paddr = ph.p_vaddr;
		phdr_put(f, i, &ph);
	}
	eh.e_entry = eh.e_entry - STRATA_L1_IMAGE_BASE + 0x400000;
	ehdr_put(f, &eh);
}

static void move_data(struct file *f, uint64_t va)
{
	Elf64_Phdr ph = phdr(f, L.data);

	ph.p_vaddr = ph.p_paddr = va;
	phdr_put(f, L.data, &ph);
}

static void segment_outside(struct file *f)
{
	move_data(f, STRATA_CONSOLE_BASE);
}

static void segment_outside_stack(struct file *f)
{
	move_data(f, STRATA_L1_STACK_TOP - 0x10000);
}

static void segment_outside_end(struct file *f)
{
	move_data(f, STRATA_L1_IMAGE_BASE + STRATA_L1_IMAGE_SIZE - 0x1000);
}

static void segment_overlap(struct file *f)
{
	move_data(f, phdr(f, L.ro).p_vaddr);
}

static void segment_misaligned(struct file *f)
{
	Elf64_Phdr ph = phdr(f, L.ro);

	ph.p_offset += 0x10;
	phdr_put(f, L.ro, &ph);
}

static void write_exec(struct file *f)
{
	Elf64_Phdr ph = phdr(f, L.text);

	ph.p_flags |= PF_W;
	phdr_put(f, L.text, &ph);
}

static void filesz_gt_memsz(struct file *f)
{
	Elf64_Phdr ph = phdr(f, L.ro);

	ph.p_memsz = ph.p_filesz - 0x10;
	phdr_put(f, L.ro, &ph);
}

static void entry_outside_text(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_entry = phdr(f, L.ro).p_vaddr;
	ehdr_put(f, &eh);
}

static void entry_nowhere(struct file *f)
{
	Elf64_Ehdr eh = ehdr(f);

	eh.e_entry = 0;
	ehdr_put(f, &eh);
}

static void no_note(struct file *f)
{
	Elf64_Phdr ph = phdr(f, L.note);

	ph.p_type = PT_NULL;
	phdr_put(f, L.note, &ph);
}

static void no_note_name(struct file *f)
{
	memcpy(f->buf + nhdr_off() + sizeof(Elf64_Nhdr), "Strat\0", 7);
}

static void note_descsz(struct file *f, uint32_t descsz)
{
	Elf64_Nhdr nh;

	memcpy(&nh, f->buf + nhdr_off(), sizeof(nh));
	nh.n_descsz = descsz;
	memcpy(f->buf + nhdr_off(), &nh, sizeof(nh));
}

static void bad_note(struct file *f)
{
	note_descsz(f, 32);
}

static void bad_note_past_segment(struct file *f)
{
	note_descsz(f, 0x1000);
}

static void bad_note_header_size(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.header_size = 200;
	hdr_put(f, &h);
}

/* A note padded to 4 in a segment that says 8: the descriptor would be at +24. */
static void bad_note_p_align(struct file *f)
{
	Elf64_Phdr ph = phdr(f, L.note);

	ph.p_align = 8;
	phdr_put(f, L.note, &ph);
}

static void bad_magic(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.magic = 0x32505453;	/* "STP2" */
	hdr_put(f, &h);
}

static void abi_version(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.abi_major = 2;
	h.abi_minor = 0;
	hdr_put(f, &h);
}

static void abi_version_minor(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.abi_minor = STRATA_ABI_MINOR + 1;
	hdr_put(f, &h);
}

/* Bit 0 is STRATA_PAYLOAD_EXTSYNC (ABI 1.4): the unknown bit 31 beside it is refused alone. */
static void bad_flags(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.flags = 0x80000000 | STRATA_PAYLOAD_EXTSYNC;
	hdr_put(f, &h);
}

static void bad_stack(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.stack_bytes = STRATA_L1_STACK_MIN + 0x100;
	hdr_put(f, &h);
}

static void bad_stack_small(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.stack_bytes = 0x1000;
	hdr_put(f, &h);
}

static void bad_ring(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.console_slots = STRATA_RING_SLOTS_MAX + 1;
	hdr_put(f, &h);
}

static void bad_ring_tx(struct file *f)
{
	struct strata_payload_header h = hdr(f);

	h.tx_slots = STRATA_RING_SLOTS_MAX + 1;
	hdr_put(f, &h);
}

static const struct mutation {
	const char *name;		/* REASON[.VARIANT] */
	enum strata_reason reason;
	void (*apply)(struct file *);
} mutations[] = {
	{ "truncated", SR_TRUNCATED, truncated },
	{ "truncated.header", SR_TRUNCATED, truncated_header },
	{ "truncated.phdrs", SR_TRUNCATED, truncated_phdrs },
	{ "not-elf", SR_NOT_ELF, not_elf },
	{ "not-elf64-x86-64", SR_NOT_ELF64_X86_64, not_elf64_x86_64 },
	{ "not-elf64-x86-64.class32", SR_NOT_ELF64_X86_64, not_elf64_class32 },
	{ "not-exec", SR_NOT_EXEC, not_exec },
	{ "bad-phdrs", SR_BAD_PHDRS, bad_phdrs },
	{ "bad-phdrs.none", SR_BAD_PHDRS, bad_phdrs_none },
	{ "no-load", SR_NO_LOAD, no_load },
	{ "too-many-segments", SR_TOO_MANY_SEGMENTS, too_many_segments },
	{ "wrong-link-address", SR_WRONG_LINK_ADDRESS, wrong_link_address },
	{ "segment-outside", SR_SEGMENT_OUTSIDE, segment_outside },
	{ "segment-outside.stack", SR_SEGMENT_OUTSIDE, segment_outside_stack },
	{ "segment-outside.end", SR_SEGMENT_OUTSIDE, segment_outside_end },
	{ "segment-overlap", SR_SEGMENT_OVERLAP, segment_overlap },
	{ "segment-misaligned", SR_SEGMENT_MISALIGNED, segment_misaligned },
	{ "write-exec", SR_WRITE_EXEC, write_exec },
	{ "filesz-gt-memsz", SR_FILESZ_GT_MEMSZ, filesz_gt_memsz },
	{ "entry-outside-text", SR_ENTRY_OUTSIDE_TEXT, entry_outside_text },
	{ "entry-outside-text.nowhere", SR_ENTRY_OUTSIDE_TEXT, entry_nowhere },
	{ "no-note", SR_NO_NOTE, no_note },
	{ "no-note.name", SR_NO_NOTE, no_note_name },
	{ "bad-note", SR_BAD_NOTE, bad_note },
	{ "bad-note.past-segment", SR_BAD_NOTE, bad_note_past_segment },
	{ "bad-note.header-size", SR_BAD_NOTE, bad_note_header_size },
	{ "bad-note.p-align", SR_BAD_NOTE, bad_note_p_align },
	{ "bad-magic", SR_BAD_MAGIC, bad_magic },
	{ "abi-version", SR_ABI_VERSION, abi_version },
	{ "abi-version.minor", SR_ABI_VERSION, abi_version_minor },
	{ "bad-flags", SR_BAD_FLAGS, bad_flags },
	{ "bad-stack", SR_BAD_STACK, bad_stack },
	{ "bad-stack.small", SR_BAD_STACK, bad_stack_small },
	{ "bad-ring", SR_BAD_RING, bad_ring },
	{ "bad-ring.tx", SR_BAD_RING, bad_ring_tx },
};

/* ---- writing and checking ---------------------------------------------- */

struct seen {
	const char *name;
	unsigned mask;
};

static void note_reason(void *ctx, enum strata_reason r, const char *detail)
{
	struct seen *s = ctx;

	s->mask |= 1U << r;
	printf("  %s.elf: %s: %s\n", s->name, strata_reason_name(r), detail);
}

static void write_file(const char *dir, const char *name, const struct file *f)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.elf", dir, name);
	if ((fp = fopen(path, "wb")) == NULL || fwrite(f->buf, 1, f->len, fp) != f->len ||
	    fclose(fp) != 0)
		die("cannot write %s", path);
}

int main(int argc, char **argv)
{
	struct file good, f;
	struct seen s = { "good", 0 };
	int bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: mkbad GOOD.elf OUTDIR\n");
		return 2;
	}
	good = slurp(argv[1]);
	if (strata_validate(good.buf, good.len, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, NULL,
	    note_reason, &s) != 0)
		die("%s is not a good payload to start from", argv[1]);
	layout_find(&good);
	if ((f.buf = malloc(good.len + ROOM)) == NULL)
		die("%s", "out of memory");
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const struct mutation *m = &mutations[i];

		memcpy(f.buf, good.buf, good.len + ROOM);
		f.len = good.len;
		m->apply(&f);
		s = (struct seen){ m->name, 0 };
		printf("%s.elf\n", m->name);
		strata_validate(f.buf, f.len, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, NULL,
		    note_reason, &s);
		if (!(s.mask & (1U << m->reason))) {
			fprintf(stderr, "mkbad: %s.elf does not give %s: not written\n",
			    m->name, strata_reason_name(m->reason));
			bad = 1;
			continue;
		}
		write_file(argv[2], m->name, &f);
	}
	free(f.buf);
	free(good.buf);
	return bad;
}
