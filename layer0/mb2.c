/*
 * Reading the multiboot2 information GRUB leaves: the memory map, the
 * modules (the payload), the command line and layer 0's own section headers.
 * Everything is copied into struct boot_info, because the pages it lives in
 * become free memory.
 */
#include "defs.h"
#include "elf64.h"

#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_MODULE		3
#define MB2_TAG_MMAP		6
#define MB2_TAG_ELF_SECTIONS	9
#define MB2_MEMORY_AVAILABLE	1

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_module {
	struct mb2_tag tag;
	uint32_t start, end;
	char cmdline[];
};

struct mb2_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
};

struct mb2_elf_sections {
	struct mb2_tag tag;
	uint32_t num, entsize, shndx;
};

#define SHF_ALLOC		0x2

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void add_range(struct range *r, int *n, uint64_t base, uint64_t len)
{
	if (len == 0)
		return;
	if (*n == MAX_RANGES)
		panic("more than %d memory ranges in the multiboot2 information", MAX_RANGES);
	r[*n] = (struct range){ base, len };
	(*n)++;
}

static void parse_mmap(const struct mb2_mmap *m, struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)(m + 1);
	const uint8_t *end = (const uint8_t *)m + m->tag.size;

	for (; p + sizeof(struct mb2_mmap_entry) <= end; p += m->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;

		if (e->type != MB2_MEMORY_AVAILABLE)
			continue;
		add_range(bi->avail, &bi->navail, e->base, e->len);
		bi->ram_bytes += e->len;
	}
}

static void parse_module(const struct mb2_module *m, struct boot_info *bi)
{
	struct module *mod;

	if (bi->nmods == MAX_MODULES) {
		kprintf("strata: more than %d modules; ignoring the rest\n", MAX_MODULES);
		return;
	}
	mod = &bi->mods[bi->nmods++];
	mod->start = m->start;
	mod->end = m->end;
	copy_str(mod->cmdline, sizeof(mod->cmdline), m->cmdline);
	add_range(bi->reserved, &bi->nreserved, m->start, m->end - m->start);
}

/*
 * GRUB loads the sections that are not part of the image (the symbol and
 * string tables) somewhere in free memory and puts their physical address in
 * sh_addr: those pages must not be handed out.
 */
static void parse_sections(const struct mb2_elf_sections *t, uint64_t tag_phys, struct boot_info *bi)
{
	const uint8_t *sh = (const uint8_t *)(t + 1);

	bi->shdr_phys = tag_phys + sizeof(*t);
	bi->shdr_num = t->num;
	bi->shdr_entsize = t->entsize;
	bi->shdr_strndx = t->shndx;
	if (t->entsize < sizeof(Elf64_Shdr))
		return;
	for (uint32_t i = 0; i < t->num; i++) {
		const Elf64_Shdr *s = (const void *)(sh + (uint64_t)i * t->entsize);

		if (!(s->sh_flags & SHF_ALLOC) && s->sh_addr != 0 && s->sh_addr < KERNEL_BASE)
			add_range(bi->reserved, &bi->nreserved, s->sh_addr, s->sh_size);
	}
}

void mb2_parse(uint64_t mbi_phys, struct boot_info *bi)
{
	const uint8_t *mbi = p2v(mbi_phys);
	uint32_t total = *(const uint32_t *)mbi;

	add_range(bi->reserved, &bi->nreserved, mbi_phys, total);
	add_range(bi->reserved, &bi->nreserved, KERNEL_PHYS, v2p(kernel_end) - KERNEL_PHYS);
	for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *tag = (const void *)(mbi + off);

		if (tag->type == MB2_TAG_END)
			break;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			copy_str(bi->cmdline, sizeof(bi->cmdline), (const char *)(tag + 1));
			break;
		case MB2_TAG_MODULE:
			parse_module((const void *)tag, bi);
			break;
		case MB2_TAG_MMAP:
			parse_mmap((const void *)tag, bi);
			break;
		case MB2_TAG_ELF_SECTIONS:
			parse_sections((const void *)tag, mbi_phys + off, bi);
			break;
		}
		off += (tag->size + 7) & ~7U;	/* tags are 8-byte aligned */
	}
}

/*
 * The value of "key=value" in a space-separated command line, up to the next
 * space, or 0 when the key is absent.  A bare "key" has the value "".
 */
const char *cmdline_option(const char *cmdline, const char *key)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0) {
			if (p[klen] == '=')
				return p + klen + 1;
			if (p[klen] == ' ' || p[klen] == '\0')
				return p + klen;
		}
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return 0;
}

/* The decimal value of "key=N", or dflt when key is absent (digits stop at the first other byte). */
uint64_t option_number(const char *cmdline, const char *key, uint64_t dflt)
{
	const char *v = cmdline_option(cmdline, key);
	uint64_t n = 0;

	if (v == 0)
		return dflt;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (uint64_t)(*v - '0');
	return n;
}

/* True when the option's value (as cmdline_option returns it) is exactly word. */
bool option_is(const char *value, const char *word)
{
	size_t n = strlen(word);

	return value != 0 && strncmp(value, word, n) == 0 && (value[n] == ' ' || value[n] == '\0');
}
