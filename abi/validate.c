/*
 * The payload validator (validate.h): the loadability rules of
 * abi/strata/payload.h, checked once here for layer 0, abicheck, the unit
 * tests and the fuzzer alike.
 *
 * The file is untrusted.  Every read is of bytes already shown to lie in
 * [file, file + len), every sum of offsets and sizes is overflow-checked, and
 * headers are copied into locals with memcpy because nothing promises they
 * are aligned.  It must build freestanding for layer 0, so it uses only the
 * compiler's memcpy/memset/memcmp and formats its own numbers.
 *
 * It reports every problem it can see rather than the first: a user fixing
 * a payload wants the whole list at once.  It stops early only where what
 * follows could not be read meaningfully (not ELF64, no program headers).
 */
#include <stdarg.h>
#include <stdbool.h>

#include "elf64.h"
#include "validate.h"

#define PAGE		STRATA_PAGE_SIZE
#define PAGE_DOWN(a)	((a) & ~(PAGE - 1))
#define V1_SIZE		((uint64_t)sizeof(struct strata_payload_header))
#define IMAGE_END	(STRATA_L1_IMAGE_BASE + STRATA_L1_IMAGE_SIZE)

struct check {
	const unsigned char *file;
	uint64_t len;
	strata_reason_fn report;
	void *ctx;
	int problems;
};

/* ---- details --------------------------------------------------------- */

struct out {
	char *buf;
	size_t size, n;
};

static void put(struct out *o, char ch)
{
	if (o->n + 1 < o->size)
		o->buf[o->n++] = ch;
}

static void put_num(struct out *o, uint64_t v, unsigned base)
{
	char d[20];
	int i = 0;

	do {
		d[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	while (i > 0)
		put(o, d[--i]);
}

/*
 * A formatter just big enough for details, since layer 0 has no snprintf:
 * %s a string, %u decimal, %x 0x-prefixed hex.  Every number is passed as
 * a uint64_t, so the call sites cast.
 */
static void vformat(char *buf, size_t size, const char *f, va_list ap)
{
	struct out o = { buf, size, 0 };
	const char *s;

	for (; *f != '\0'; f++) {
		if (*f != '%' || f[1] == '\0') {
			put(&o, *f);
			continue;
		}
		switch (*++f) {
		case 's':
			for (s = va_arg(ap, const char *); *s != '\0'; s++)
				put(&o, *s);
			break;
		case 'u':
			put_num(&o, va_arg(ap, uint64_t), 10);
			break;
		case 'x':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, va_arg(ap, uint64_t), 16);
			break;
		default:
			put(&o, *f);
			break;
		}
	}
	buf[o.n] = '\0';
}

static void problem(struct check *c, enum strata_reason r, const char *f, ...)
{
	char detail[192];
	va_list ap;

	va_start(ap, f);
	vformat(detail, sizeof(detail), f, ap);
	va_end(ap);
	c->problems++;
	if (c->report != NULL)
		c->report(c->ctx, r, detail);
}

/* ---- arithmetic ------------------------------------------------------ */

/* Whether [off, off + size) lies in the file; false on overflow too. */
static bool in_file(const struct check *c, uint64_t off, uint64_t size)
{
	uint64_t end;

	return !__builtin_add_overflow(off, size, &end) && end <= c->len;
}

/* Rounds a up to a page; false if that passes 2^64. */
static bool page_up(uint64_t a, uint64_t *r)
{
	if (__builtin_add_overflow(a, PAGE - 1, r))
		return false;
	*r = PAGE_DOWN(*r);
	return true;
}

/* a rounded up to align, a power of two; a is at most a segment size. */
static uint64_t align_up(uint64_t a, uint64_t align)
{
	return (a + align - 1) & ~(align - 1);
}

/* ---- the ELF header -------------------------------------------------- */

/* Checks the identification; false when the rest cannot be read as ELF64. */
static bool ehdr_check(struct check *c, Elf64_Ehdr *eh)
{
	const unsigned char *id;
	bool ok = true;

	if (c->len < sizeof(*eh)) {
		problem(c, SR_TRUNCATED, "%u bytes, shorter than the %u-byte ELF header",
		    c->len, (uint64_t)sizeof(*eh));
		return false;
	}
	__builtin_memcpy(eh, c->file, sizeof(*eh));
	id = eh->e_ident;
	if (__builtin_memcmp(id, ELFMAG, SELFMAG) != 0) {
		problem(c, SR_NOT_ELF, "no ELF magic (the file starts %x %x %x %x)",
		    (uint64_t)id[0], (uint64_t)id[1], (uint64_t)id[2], (uint64_t)id[3]);
		return false;
	}
	if (id[EI_CLASS] != ELFCLASS64) {
		problem(c, SR_NOT_ELF64_X86_64, "ELF class %u, not 2 (64-bit)",
		    (uint64_t)id[EI_CLASS]);
		ok = false;
	}
	if (id[EI_DATA] != ELFDATA2LSB) {
		problem(c, SR_NOT_ELF64_X86_64, "ELF data encoding %u, not 1 (little-endian)",
		    (uint64_t)id[EI_DATA]);
		ok = false;
	}
	if (!ok)
		return false;
	/* The layout is ELF64 from here: a wrong machine still reads cleanly. */
	if (eh->e_machine != EM_X86_64)
		problem(c, SR_NOT_ELF64_X86_64, "machine %u, not 62 (x86-64)",
		    (uint64_t)eh->e_machine);
	if (id[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		problem(c, SR_NOT_ELF64_X86_64, "ELF version %u/%u, not 1",
		    (uint64_t)id[EI_VERSION], (uint64_t)eh->e_version);
	if (eh->e_type != ET_EXEC)
		problem(c, SR_NOT_EXEC, "ELF type %u, not 2 (ET_EXEC): link with -static, no -pie",
		    (uint64_t)eh->e_type);
	return true;
}

/* Checks the program header table's shape; false when it cannot be read. */
static bool phdrs_check(struct check *c, const Elf64_Ehdr *eh)
{
	uint64_t size;

	if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
		problem(c, SR_BAD_PHDRS, "program header size %u, not 56",
		    (uint64_t)eh->e_phentsize);
		return false;
	}
	if (eh->e_phnum == 0) {
		problem(c, SR_BAD_PHDRS, "no program headers");
		return false;
	}
	if (__builtin_mul_overflow((uint64_t)eh->e_phnum, (uint64_t)sizeof(Elf64_Phdr), &size) ||
	    !in_file(c, eh->e_phoff, size)) {
		problem(c, SR_TRUNCATED,
		    "the program header table (%u entries at %x) runs past the end of the file (%u bytes)",
		    (uint64_t)eh->e_phnum, eh->e_phoff, c->len);
		return false;
	}
	return true;
}

static void phdr_read(const struct check *c, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	__builtin_memcpy(ph, c->file + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* ---- loadable segments ----------------------------------------------- */

/* The regions a stray segment may land on, named for the report. */
static const struct region {
	uint64_t base, size;
	const char *name;
} regions[] = {
	{ STRATA_NULL_GUARD_BASE, STRATA_NULL_GUARD_SIZE, "the null guard" },
	{ STRATA_INFO_BASE, STRATA_REGION_ALIGN, "the info page" },
	{ STRATA_CONSOLE_BASE, STRATA_CONSOLE_REGION_SIZE, "the console ring" },
	{ STRATA_NIC_TX_BASE, STRATA_NIC_TX_REGION_SIZE, "the NIC TX ring" },
	{ STRATA_NIC_RX_BASE, STRATA_NIC_RX_REGION_SIZE, "the NIC RX ring" },
	{ STRATA_L0_RESERVED_BASE, STRATA_L0_RESERVED_SIZE, "layer 0's reserved region" },
	{ STRATA_DISK_WINDOW_BASE, STRATA_DISK_HEAD_SIZE, "layer 0's disk head" },
	{ STRATA_DISK_WINDOW_BASE + STRATA_DISK_HEAD_SIZE,
	    STRATA_L1_STACK_TOP - STRATA_DISK_WINDOW_BASE - STRATA_DISK_HEAD_SIZE,
	    "the layer-1 stack" },
	{ IMAGE_END, STRATA_DISK_WINDOW_BASE + STRATA_DISK_WINDOW_SIZE - IMAGE_END,
	    "the disk window past the image" },
	{ STRATA_L1_VA_LIMIT, 0 - STRATA_L1_VA_LIMIT, "the upper half (layer 0's)" },
};

/* The first named region [lo, hi) touches, or "unassigned space". */
static const char *region_name(uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		const struct region *r = &regions[i];

		/* Written without r->base + r->size, which wraps for the last. */
		if (lo >= r->base ? lo - r->base < r->size : hi > r->base)
			return r->name;
	}
	return "unassigned space";
}

/* Names where the part of [lo, hi) outside the image region lies. */
static const char *outside_name(uint64_t lo, uint64_t hi)
{
	if (lo < STRATA_L1_IMAGE_BASE)
		return region_name(lo, hi < STRATA_L1_IMAGE_BASE ? hi : STRATA_L1_IMAGE_BASE);
	return region_name(lo > IMAGE_END ? lo : IMAGE_END, hi);
}

/* The rules each PT_LOAD obeys on its own. */
static void load_check(struct check *c, unsigned i, const Elf64_Phdr *ph)
{
	uint64_t end;

	if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end))
		problem(c, SR_SEGMENT_OUTSIDE, "segment %u at %x, %x bytes, wraps the address space",
		    (uint64_t)i, ph->p_vaddr, ph->p_memsz);
	else if (ph->p_vaddr < STRATA_L1_IMAGE_BASE || end > IMAGE_END)
		problem(c, SR_SEGMENT_OUTSIDE,
		    "segment %u [%x, %x) lies over %s, outside the image region [%x, %x)",
		    (uint64_t)i, ph->p_vaddr, end, outside_name(ph->p_vaddr, end),
		    (uint64_t)STRATA_L1_IMAGE_BASE, (uint64_t)IMAGE_END);
	if (ph->p_vaddr % PAGE != ph->p_offset % PAGE)
		problem(c, SR_SEGMENT_MISALIGNED,
		    "segment %u: address %x and file offset %x differ within the page",
		    (uint64_t)i, ph->p_vaddr, ph->p_offset);
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		problem(c, SR_WRITE_EXEC, "segment %u at %x is both writable and executable",
		    (uint64_t)i, ph->p_vaddr);
	if (ph->p_filesz > ph->p_memsz)
		problem(c, SR_FILESZ_GT_MEMSZ, "segment %u: file size %x exceeds memory size %x",
		    (uint64_t)i, ph->p_filesz, ph->p_memsz);
	if (!in_file(c, ph->p_offset, ph->p_filesz))
		problem(c, SR_TRUNCATED,
		    "segment %u: file bytes [%x, +%x) run past the end of the file (%u bytes)",
		    (uint64_t)i, ph->p_offset, ph->p_filesz, c->len);
}

static uint32_t seg_flags(uint32_t pf)
{
	return ((pf & PF_R) ? STRATA_SEG_R : 0) | ((pf & PF_W) ? STRATA_SEG_W : 0) |
	    ((pf & PF_X) ? STRATA_SEG_X : 0);
}

/* Sorts the kept segments by address, carrying their header indices along. */
static void segs_sort(struct strata_image *img, unsigned *idx)
{
	for (int i = 1; i < img->nseg; i++) {
		struct strata_segment s = img->seg[i];
		unsigned x = idx[i];
		int j = i;

		for (; j > 0 && img->seg[j - 1].vaddr > s.vaddr; j--) {
			img->seg[j] = img->seg[j - 1];
			idx[j] = idx[j - 1];
		}
		img->seg[j] = s;
		idx[j] = x;
	}
}

/*
 * Two segments may not share a page: each page gets one set of permissions,
 * and layer 0 gives each segment its own pages.  Segments are sorted, so a
 * clash is a start below the furthest page end seen so far.
 */
static void overlap_check(struct check *c, struct strata_image *img, const unsigned *idx)
{
	uint64_t far = 0, end;
	unsigned owner = 0;
	bool any = false;

	for (int i = 0; i < img->nseg; i++) {
		const struct strata_segment *s = &img->seg[i];

		if (__builtin_add_overflow(s->vaddr, s->memsz, &end) || !page_up(end, &end))
			continue;	/* reported as outside */
		if (end <= PAGE_DOWN(s->vaddr))
			continue;	/* empty: occupies no page */
		if (any && PAGE_DOWN(s->vaddr) < far)
			problem(c, SR_SEGMENT_OVERLAP, "segments %u and %u share the page %x",
			    (uint64_t)owner, (uint64_t)idx[i], (uint64_t)PAGE_DOWN(s->vaddr));
		if (!any || end > far) {
			far = end;
			owner = idx[i];
		}
		any = true;
	}
}

/* All PT_LOAD rules, the entry point and the segment list of img. */
static void loads_check(struct check *c, const Elf64_Ehdr *eh, struct strata_image *img)
{
	unsigned idx[STRATA_MAX_SEGMENTS];
	uint64_t lowest = UINT64_MAX, end, top = 0;
	unsigned nload = 0, lowest_seg = 0;
	bool entry_ok = false;
	int entry_seg = -1;
	Elf64_Phdr ph;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		phdr_read(c, eh, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		nload++;
		load_check(c, i, &ph);
		if (ph.p_vaddr < lowest) {
			lowest = ph.p_vaddr;
			lowest_seg = i;
		}
		if (!__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &end)) {
			if (end > top)
				top = end;
			if (eh->e_entry >= ph.p_vaddr && eh->e_entry < end) {
				entry_seg = (int)i;
				entry_ok |= (ph.p_flags & PF_X) != 0;
			}
		}
		if (img->nseg < STRATA_MAX_SEGMENTS) {
			idx[img->nseg] = i;
			img->seg[img->nseg++] = (struct strata_segment){ ph.p_vaddr, ph.p_memsz,
			    ph.p_offset, ph.p_filesz, seg_flags(ph.p_flags) };
		}
	}
	if (nload == 0) {
		problem(c, SR_NO_LOAD, "no PT_LOAD segment: nothing to load");
		return;
	}
	if (nload > STRATA_MAX_SEGMENTS)
		problem(c, SR_TOO_MANY_SEGMENTS, "%u PT_LOAD segments, at most %u",
		    (uint64_t)nload, (uint64_t)STRATA_MAX_SEGMENTS);
	if (PAGE_DOWN(lowest) != STRATA_L1_IMAGE_BASE)
		problem(c, SR_WRONG_LINK_ADDRESS,
		    "the lowest segment, %u, starts at %x; payloads are linked at %x (layer1/payload.ld)",
		    (uint64_t)lowest_seg, lowest, (uint64_t)STRATA_L1_IMAGE_BASE);
	segs_sort(img, idx);
	overlap_check(c, img, idx);
	if (!entry_ok && entry_seg >= 0)
		problem(c, SR_ENTRY_OUTSIDE_TEXT, "entry %x is in segment %u, which is not executable",
		    eh->e_entry, (uint64_t)entry_seg);
	else if (!entry_ok)
		problem(c, SR_ENTRY_OUTSIDE_TEXT, "entry %x is in no loadable segment", eh->e_entry);
	img->entry = eh->e_entry;
	if (!page_up(top, &img->image_end))
		img->image_end = 0;
}

/* ---- the payload note ------------------------------------------------- */

struct note {
	uint64_t desc;		/* file offset of the descriptor */
	uint32_t descsz;
	unsigned seg;		/* program header index, for reports */
	int count;		/* distinct payload notes seen */
	bool unreadable;	/* a note segment or record already reported */
};

static bool note_is_ours(const struct check *c, uint64_t name, const Elf64_Nhdr *nh)
{
	return nh->n_namesz == STRATA_NOTE_NAMESZ && nh->n_type == STRATA_NOTE_PAYLOAD &&
	    __builtin_memcmp(c->file + name, STRATA_NOTE_NAME, STRATA_NOTE_NAMESZ) == 0;
}

/* Does the payload magic start at segment offset off, with a whole header there? */
static bool magic_at(const struct check *c, const Elf64_Phdr *ph, uint64_t off)
{
	uint32_t magic;

	if (off > ph->p_filesz || ph->p_filesz - off < V1_SIZE)
		return false;
	__builtin_memcpy(&magic, c->file + ph->p_offset + off, sizeof(magic));
	return magic == STRATA_PAYLOAD_MAGIC;
}

/*
 * Our note laid out with the other alignment than its segment's p_align
 * (a toolchain that pads to 8 in a 4-aligned segment, or the reverse)
 * reads as garbage: a header magic of 0, the padding, or a record past the
 * segment.  When the magic is missing where the segment's alignment puts
 * it and present where the other one does, say that instead.
 */
static bool note_misaligned(struct check *c, unsigned i, const Elf64_Phdr *ph, uint64_t name,
    uint64_t align)
{
	uint64_t other = align == 8 ? 4 : 8;

	if (magic_at(c, ph, align_up(name + STRATA_NOTE_NAMESZ, align)) ||
	    !magic_at(c, ph, align_up(name + STRATA_NOTE_NAMESZ, other)))
		return false;
	problem(c, SR_BAD_NOTE,
	    "the payload note in segment %u is padded to %u bytes but the segment has p_align %u: "
	    "the descriptor follows the name at the segment's alignment",
	    (uint64_t)i, other, align);
	return true;
}

/*
 * Walks the note records of one PT_NOTE segment, which lies in the file.
 * As the gABI says, the descriptor and the next record start on the
 * segment's alignment: 4 bytes, or 8 in segments whose p_align says so
 * (with the 7-byte name, the descriptor is then at +20 or +24).
 */
static void notes_scan(struct check *c, unsigned i, const Elf64_Phdr *ph, struct note *n)
{
	uint64_t align = ph->p_align == 8 ? 8 : 4;
	uint64_t pos = 0, size = ph->p_filesz;
	uint64_t name, desc, end;
	bool ours;
	Elf64_Nhdr nh;

	while (pos <= size && size - pos >= sizeof(nh)) {
		__builtin_memcpy(&nh, c->file + ph->p_offset + pos, sizeof(nh));
		/* Offsets within the segment; name, desc and end may pass it. */
		name = pos + sizeof(nh);
		ours = name + STRATA_NOTE_NAMESZ <= size && note_is_ours(c, ph->p_offset + name, &nh);
		if (ours && note_misaligned(c, i, ph, name, align)) {
			n->unreadable = true;
			return;
		}
		if (__builtin_add_overflow(name, (uint64_t)nh.n_namesz, &desc) ||
		    (desc = align_up(desc, align)) < name ||
		    __builtin_add_overflow(desc, (uint64_t)nh.n_descsz, &end) || end > size) {
			if (ours) {
				problem(c, SR_BAD_NOTE,
				    "the payload note at %x (%u bytes) runs past the end of segment %u",
				    ph->p_offset + pos, (uint64_t)nh.n_descsz, (uint64_t)i);
				n->unreadable = true;
			}
			return;
		}
		desc += ph->p_offset;
		if (ours && !(n->count > 0 && n->desc == desc)) {
			if (n->count++ == 0) {
				n->desc = desc;
				n->descsz = nh.n_descsz;
				n->seg = i;
			} else {
				problem(c, SR_BAD_NOTE,
				    "a second payload note at %x in segment %u: a payload has one",
				    ph->p_offset + pos, (uint64_t)i);
			}
		}
		pos = align_up(end, align);
	}
}

static void stack_check(struct check *c, uint32_t b)
{
	if (b == 0)
		return;
	if (b < STRATA_L1_STACK_MIN || b > STRATA_L1_STACK_MAX || b % PAGE != 0)
		problem(c, SR_BAD_STACK,
		    "stack_bytes %x: 0 (default) or a multiple of %x in [%x, %x]",
		    (uint64_t)b, (uint64_t)PAGE, (uint64_t)STRATA_L1_STACK_MIN,
		    (uint64_t)STRATA_L1_STACK_MAX);
}

/* Any count up to the maximum works, one slot too: its every doorbell takes it. */
static void ring_check(struct check *c, const char *field, uint32_t n)
{
	if (n > STRATA_RING_SLOTS_MAX)
		problem(c, SR_BAD_RING, "%s %u: at most %u", field, (uint64_t)n,
		    (uint64_t)STRATA_RING_SLOTS_MAX);
}

/* The header's own rules; hdr is zero-extended to the v1 size. */
static void header_check(struct check *c, const struct strata_payload_header *h,
    uint32_t descsz, uint32_t kmaj, uint32_t kmin)
{
	if (h->magic != STRATA_PAYLOAD_MAGIC) {
		/* The magic names the layout: without it the fields mean nothing. */
		problem(c, SR_BAD_MAGIC, "header magic %x, not %x (\"STP1\")",
		    (uint64_t)h->magic, (uint64_t)STRATA_PAYLOAD_MAGIC);
		return;
	}
	if (h->abi_major != kmaj || h->abi_minor > kmin) {
		problem(c, SR_ABI_VERSION, "payload needs ABI %u.%u, this kernel implements %u.%u",
		    (uint64_t)h->abi_major, (uint64_t)h->abi_minor, (uint64_t)kmaj, (uint64_t)kmin);
		/* Another major may lay the header out differently. */
		if (h->abi_major != kmaj)
			return;
	}
	if (h->header_size < V1_SIZE || h->header_size > descsz)
		problem(c, SR_BAD_NOTE, "header_size %u: at least %u (v1) and at most the note's %u",
		    (uint64_t)h->header_size, V1_SIZE, (uint64_t)descsz);
	if (h->flags & ~STRATA_PAYLOAD_FLAGS_KNOWN)
		problem(c, SR_BAD_FLAGS, "unknown header flags %x",
		    (uint64_t)(h->flags & ~STRATA_PAYLOAD_FLAGS_KNOWN));
	stack_check(c, h->stack_bytes);
	ring_check(c, "console_slots", h->console_slots);
	ring_check(c, "tx_slots", h->tx_slots);
	ring_check(c, "rx_slots", h->rx_slots);
}

/* Finds the payload note, checks it and copies it to img->hdr. */
static void note_check(struct check *c, const Elf64_Ehdr *eh, uint32_t kmaj, uint32_t kmin,
    struct strata_image *img)
{
	struct note n = { 0, 0, 0, 0, false };
	Elf64_Phdr ph;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		phdr_read(c, eh, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if (!in_file(c, ph.p_offset, ph.p_filesz)) {
			problem(c, SR_TRUNCATED,
			    "note segment %u [%x, +%x) runs past the end of the file (%u bytes)",
			    (uint64_t)i, ph.p_offset, ph.p_filesz, c->len);
			n.unreadable = true;
			continue;
		}
		notes_scan(c, i, &ph, &n);
	}
	if (n.count == 0 && n.unreadable)
		return;		/* "no note" would only repeat what was said */
	if (n.count == 0) {
		problem(c, SR_NO_NOTE, "no \"Strata\" payload note: declare STRATA_PAYLOAD(...)");
		return;
	}
	if (n.descsz < V1_SIZE) {
		problem(c, SR_BAD_NOTE, "the payload note in segment %u has %u bytes, v1 needs %u",
		    (uint64_t)n.seg, (uint64_t)n.descsz, V1_SIZE);
		return;
	}
	/* Newer minors may append fields; v1 reads its own 64 bytes. */
	__builtin_memcpy(&img->hdr, c->file + n.desc, V1_SIZE);
	header_check(c, &img->hdr, n.descsz, kmaj, kmin);
	/* The name is only for reports: cut it short rather than refuse it. */
	img->hdr.name[sizeof(img->hdr.name) - 1] = '\0';
}

/* ---- symbols ---------------------------------------------------------- */

static bool shdr_read(const struct check *c, const Elf64_Ehdr *eh, unsigned i, Elf64_Shdr *sh)
{
	if (i >= eh->e_shnum)
		return false;
	__builtin_memcpy(sh, c->file + eh->e_shoff + (uint64_t)i * sizeof(*sh), sizeof(*sh));
	return in_file(c, sh->sh_offset, sh->sh_size);
}

/*
 * The symbol table, for naming addresses in fault reports.  Section headers
 * are optional (strip may drop them), so a malformed one is ignored, not
 * reported.
 */
static void symbols_find(const struct check *c, const Elf64_Ehdr *eh, struct strata_image *img)
{
	Elf64_Shdr sym, str;
	uint64_t size;

	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
	    __builtin_mul_overflow((uint64_t)eh->e_shnum, (uint64_t)sizeof(Elf64_Shdr), &size) ||
	    !in_file(c, eh->e_shoff, size))
		return;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (!shdr_read(c, eh, i, &sym) || sym.sh_type != SHT_SYMTAB ||
		    sym.sh_entsize != sizeof(Elf64_Sym))
			continue;
		if (!shdr_read(c, eh, sym.sh_link, &str) || str.sh_type != SHT_STRTAB)
			continue;
		img->symtab_off = sym.sh_offset;
		img->symtab_size = sym.sh_size - sym.sh_size % sizeof(Elf64_Sym);
		img->strtab_off = str.sh_offset;
		img->strtab_size = str.sh_size;
		return;
	}
}

/* ---- the interface ---------------------------------------------------- */

int strata_validate(const void *file, size_t len, uint32_t kernel_major,
    uint32_t kernel_minor, struct strata_image *img, strata_reason_fn report, void *ctx)
{
	struct check c = { file, len, report, ctx, 0 };
	struct strata_image scratch;
	Elf64_Ehdr eh;

	if (img == NULL)
		img = &scratch;
	__builtin_memset(img, 0, sizeof(*img));
	if (!ehdr_check(&c, &eh) || !phdrs_check(&c, &eh))
		return c.problems;
	loads_check(&c, &eh, img);
	note_check(&c, &eh, kernel_major, kernel_minor, img);
	symbols_find(&c, &eh, img);
	return c.problems;
}

static const char *const reason_names[SR_COUNT] = {
	[SR_TRUNCATED] = "truncated",
	[SR_NOT_ELF] = "not-elf",
	[SR_NOT_ELF64_X86_64] = "not-elf64-x86-64",
	[SR_NOT_EXEC] = "not-exec",
	[SR_BAD_PHDRS] = "bad-phdrs",
	[SR_NO_LOAD] = "no-load",
	[SR_TOO_MANY_SEGMENTS] = "too-many-segments",
	[SR_WRONG_LINK_ADDRESS] = "wrong-link-address",
	[SR_SEGMENT_OUTSIDE] = "segment-outside",
	[SR_SEGMENT_OVERLAP] = "segment-overlap",
	[SR_SEGMENT_MISALIGNED] = "segment-misaligned",
	[SR_WRITE_EXEC] = "write-exec",
	[SR_FILESZ_GT_MEMSZ] = "filesz-gt-memsz",
	[SR_ENTRY_OUTSIDE_TEXT] = "entry-outside-text",
	[SR_NO_NOTE] = "no-note",
	[SR_BAD_NOTE] = "bad-note",
	[SR_BAD_MAGIC] = "bad-magic",
	[SR_ABI_VERSION] = "abi-version",
	[SR_BAD_FLAGS] = "bad-flags",
	[SR_BAD_STACK] = "bad-stack",
	[SR_BAD_RING] = "bad-ring",
};

const char *strata_reason_name(enum strata_reason r)
{
	if ((unsigned)r >= SR_COUNT || reason_names[r] == NULL)
		return "unknown";
	return reason_names[r];
}
