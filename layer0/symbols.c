/*
 * Names for addresses in fault reports: layer 0's own symbol table (its ELF
 * sections, which GRUB hands over) and the payload's (from its file).  Both
 * tables are only read, and every index is checked: a report must never fault.
 */
#include "defs.h"
#include "elf64.h"

static struct symtab layer0_syms, layer1_syms;

/* GRUB gives loaded sections their virtual address, the others a physical one. */
static const void *section_data(const Elf64_Shdr *s)
{
	if (s->sh_addr >= KERNEL_BASE)
		return (const void *)s->sh_addr;
	return p2v(s->sh_addr);
}

void sym_init_layer0(const struct boot_info *bi)
{
	const uint8_t *sh = p2v(bi->shdr_phys);

	if (bi->shdr_phys == 0 || bi->shdr_entsize < sizeof(Elf64_Shdr))
		return;
	for (uint32_t i = 0; i < bi->shdr_num; i++) {
		const Elf64_Shdr *s = (const void *)(sh + (uint64_t)i * bi->shdr_entsize);
		const Elf64_Shdr *str;

		if (s->sh_type != SHT_SYMTAB || s->sh_link >= bi->shdr_num || s->sh_addr == 0)
			continue;
		str = (const void *)(sh + (uint64_t)s->sh_link * bi->shdr_entsize);
		if (str->sh_addr == 0)
			continue;
		layer0_syms = (struct symtab){ section_data(s), s->sh_size / sizeof(Elf64_Sym),
		    section_data(str), str->sh_size };
		return;
	}
}

void sym_set_layer1(const struct symtab *st)
{
	layer1_syms = *st;
}

/* The function or object symbol that holds addr, or the closest one below it. */
static const char *lookup(const struct symtab *t, uint64_t addr, uint64_t *offset)
{
	const Elf64_Sym *syms = t->syms;
	const Elf64_Sym *best = 0;

	for (uint64_t i = 0; i < t->nsyms; i++) {
		const Elf64_Sym *s = &syms[i];
		int type = ELF64_ST_TYPE(s->st_info);

		if ((type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) ||
		    s->st_shndx == SHN_UNDEF || s->st_value > addr || s->st_name >= t->strsz)
			continue;
		if (s->st_size != 0 && addr - s->st_value >= s->st_size)
			continue;
		if (best == 0 || s->st_value > best->st_value ||
		    (s->st_value == best->st_value && type == STT_FUNC))
			best = s;
	}
	if (best == 0 || t->strs[best->st_name] == '\0' ||
	    strnlen(t->strs + best->st_name, t->strsz - best->st_name) == t->strsz - best->st_name)
		return 0;	/* no name, or one that runs off the table */
	*offset = addr - best->st_value;
	return t->strs + best->st_name;
}

const char *sym_lookup(uint64_t addr, uint64_t *offset)
{
	const struct symtab *t = addr >= KERNEL_BASE ? &layer0_syms : &layer1_syms;

	if (t->syms == 0)
		return 0;
	return lookup(t, addr, offset);
}
