/*
 * libFuzzer target for the payload validator (`make fuzz`).  Any input must
 * come back without a sanitizer report, and an input it accepts must really
 * be loadable: layer 0 trusts img without looking again, so each promise of
 * validate.h is checked here and a broken one aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define IMAGE_END	(STRATA_L1_IMAGE_BASE + STRATA_L1_IMAGE_SIZE)
#define PAGE_DOWN(a)	((a) & ~(STRATA_PAGE_SIZE - 1))

static void check(int ok)
{
	if (!ok)
		abort();
}

static void count(void *ctx, enum strata_reason r, const char *detail)
{
	check((unsigned)r < SR_COUNT);
	check(strcmp(strata_reason_name(r), "unknown") != 0);
	check(detail != NULL && strlen(detail) > 0 && strlen(detail) < 256);
	(*(int *)ctx)++;
}

static void segment_check(const struct strata_segment *s, size_t len)
{
	uint64_t end;

	check(s->vaddr >= STRATA_L1_IMAGE_BASE);
	check(!__builtin_add_overflow(s->vaddr, s->memsz, &end) && end <= IMAGE_END);
	check(!__builtin_add_overflow(s->offset, s->filesz, &end) && end <= len);
	check(s->filesz <= s->memsz);
	check((s->flags & (STRATA_SEG_W | STRATA_SEG_X)) != (STRATA_SEG_W | STRATA_SEG_X));
	check(s->vaddr % STRATA_PAGE_SIZE == s->offset % STRATA_PAGE_SIZE);
}

/* Sorted, no page shared, the entry in an executable one, all below image_end. */
static void segments_check(const struct strata_image *img, size_t len)
{
	uint64_t far = 0;
	int entry_ok = 0;

	check(img->nseg >= 1 && img->nseg <= STRATA_MAX_SEGMENTS);
	check(PAGE_DOWN(img->seg[0].vaddr) == STRATA_L1_IMAGE_BASE);
	for (int i = 0; i < img->nseg; i++) {
		const struct strata_segment *s = &img->seg[i];
		uint64_t end = s->vaddr + s->memsz;

		segment_check(s, len);
		check(i == 0 || s->vaddr >= img->seg[i - 1].vaddr);
		if (s->memsz != 0) {
			check(PAGE_DOWN(s->vaddr) >= far);
			far = PAGE_DOWN(end + STRATA_PAGE_SIZE - 1);
		}
		check(end <= img->image_end);
		if ((s->flags & STRATA_SEG_X) && img->entry >= s->vaddr && img->entry < end)
			entry_ok = 1;
	}
	check(entry_ok);
	check(img->image_end % STRATA_PAGE_SIZE == 0 && img->image_end <= IMAGE_END);
}

static void header_check(const struct strata_payload_header *h)
{
	uint32_t sb = h->stack_bytes;

	check(h->magic == STRATA_PAYLOAD_MAGIC);
	check(h->abi_major == STRATA_ABI_MAJOR && h->abi_minor <= STRATA_ABI_MINOR);
	check(h->header_size >= sizeof(*h));
	check((h->flags & ~STRATA_PAYLOAD_FLAGS_KNOWN) == 0);
	check(sb == 0 || (sb >= STRATA_L1_STACK_MIN && sb <= STRATA_L1_STACK_MAX &&
	    sb % STRATA_PAGE_SIZE == 0));
	check(h->console_slots != 1 && h->console_slots <= STRATA_RING_SLOTS_MAX);
	check(h->tx_slots <= STRATA_RING_SLOTS_MAX && h->rx_slots <= STRATA_RING_SLOTS_MAX);
	check(memchr(h->name, '\0', sizeof(h->name)) != NULL);
}

static void table_check(uint64_t off, uint64_t size, size_t len)
{
	uint64_t end;

	check(!__builtin_add_overflow(off, size, &end) && end <= len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct strata_image img;
	int reported = 0, n;

	n = strata_validate(data, len, STRATA_ABI_MAJOR, STRATA_ABI_MINOR, &img, count,
	    &reported);
	check(n == reported);
	if (n != 0)
		return 0;
	segments_check(&img, len);
	header_check(&img.hdr);
	table_check(img.symtab_off, img.symtab_size, len);
	table_check(img.strtab_off, img.strtab_size, len);
	check(img.symtab_size % 24 == 0);
	return 0;
}
