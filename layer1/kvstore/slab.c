/*
 * Storage allocation: slab classes, as memcached does it, chosen over a
 * log because a log needs a cleaner that moves live items, which would
 * rewrite index entries and dirty pages behind every request; slabs reuse
 * a freed chunk in place at once, with no copying and no pass over the data.
 *
 * Class sizes grow by 1.25 from 64 bytes up to the largest item (header,
 * a 250-byte key and a 1 MiB value), each a multiple of KV_REF_UNIT so every
 * chunk has a 32-bit reference.  A class gets slabs of 1 MiB (or one chunk,
 * if larger) from the free area, one after the other, and cuts them into
 * chunks as it needs them; a chunk freed (deleted, expired, overwritten)
 * goes on its class's free list, threaded through the chunks themselves,
 * and is the next one handed out.  A slab never changes class: memory a
 * class once took stays its own (memcached's "calcification"; its slab
 * mover is not done here).
 *
 * Every list head and cutting point lives in the table's header on the
 * disk, so after a resume they are as the checkpoint left them.
 */
#include "kvstore.h"

#define SLAB_BYTES	(1024 * 1024)
#define GROWTH_NUM	5
#define GROWTH_DEN	4

static uint32_t class_size[KV_CLASSES];
static int nclasses;

static uint32_t round_unit(uint64_t n)
{
	return (uint32_t)((n + KV_REF_UNIT - 1) / KV_REF_UNIT * KV_REF_UNIT);
}

void slab_init(void)
{
	uint32_t largest = round_unit(sizeof(struct kv_item) + KV_KEY_MAX + KV_VALUE_MAX);
	uint64_t size = KV_REF_UNIT;

	for (nclasses = 0; nclasses < KV_CLASSES - 1 && size < largest; nclasses++) {
		class_size[nclasses] = (uint32_t)size;
		size = round_unit(size * GROWTH_NUM / GROWTH_DEN);
	}
	class_size[nclasses++] = largest;
}

int slab_class_of(uint32_t klen, uint32_t vlen)
{
	uint64_t need = sizeof(struct kv_item) + (uint64_t)klen + vlen;

	for (int i = 0; i < nclasses; i++)
		if (need <= class_size[i])
			return i;
	return -1;
}

uint32_t slab_chunk_size(int cls)
{
	return class_size[cls];
}

/* Gives class cls a new slab to cut; false when the free area is used up. */
static bool slab_grow(int cls)
{
	uint64_t size = class_size[cls];
	uint64_t bytes = size > SLAB_BYTES ? size : SLAB_BYTES - SLAB_BYTES % size;

	if (kv->slab_next + bytes > kv->end)
		return false;
	kv->carve_next[cls] = kv_ref_of((struct kv_item *)kv->slab_next);
	kv->carve_end[cls] = kv->carve_next[cls] + (uint32_t)(bytes / KV_REF_UNIT);
	kv->class_chunks[cls] += bytes / size;
	kv->slab_next += bytes;
	return true;
}

uint32_t slab_alloc(int cls)
{
	uint32_t ref = kv->free_head[cls];

	if (ref != 0) {
		kv->free_head[cls] = *(uint32_t *)kv_item_at(ref);
		return ref;
	}
	if (kv->carve_next[cls] == kv->carve_end[cls] && !slab_grow(cls))
		return 0;
	ref = kv->carve_next[cls];
	kv->carve_next[cls] += class_size[cls] / KV_REF_UNIT;
	return ref;
}

void slab_free(uint32_t ref, int cls)
{
	*(uint32_t *)kv_item_at(ref) = kv->free_head[cls];
	kv->free_head[cls] = ref;
}
