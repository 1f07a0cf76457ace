/*
 * The table: a header, a hash index and the items' storage, laid out in
 * the free area of the disk window and used there in place.  The disk is
 * the table: nothing is serialised, and after a resume every pointer and
 * count is as the checkpoint left it, so there is no recovery pass.
 *
 *   base                 the header (one page)
 *   base + 4 KiB         the index: index_slots entries of 8 bytes
 *   storage              slabs (slab.c), up to the journal
 *
 * base is the free area's start rounded up to 4 MiB, so a new build whose
 * image grows a little still finds the table where it was.
 *
 * The index is open addressing with linear probing: an entry is the key's
 * 32-bit hash above the item's 32-bit reference (0: empty).  A lookup reads
 * index entries, which sit together on a few pages, and touches an item
 * only when its hash matches: one or two pages of the window per request
 * however large the store.  Deletion shifts the following entries back
 * (no tombstones), so a probe always ends at the first empty entry.  The
 * index is sized for items of 256 bytes on average and is full at 7/8.
 *
 * A fresh start (a new build, or layer 0's `fresh`) keeps a table only
 * when the last run closed it cleanly: a run cut anywhere else may have
 * been halfway through a change, which only a resume finishes.
 */
#include "kvstore.h"

#define KV_MAGIC	0x3130564b41525453ULL	/* "STRAKV01" */
#define KV_VERSION	1
#define TABLE_ALIGN	(4ULL * 1024 * 1024)
#define INDEX_BYTES_PER_ITEM	256
/* References are 32 bits of KV_REF_UNIT: the most storage they reach. */
#define TABLE_MAX	((uint64_t)UINT32_MAX * KV_REF_UNIT)

struct kv_header *kv;

static uint64_t *index_slots;
static uint64_t crawl_pos;

uint32_t kv_hash(const char *key, uint32_t klen)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (uint32_t i = 0; i < klen; i++)
		h = (h ^ (uint8_t)key[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static uint64_t pow2_floor(uint64_t n)
{
	uint64_t p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

/* Lays out an empty table over [base, end). */
static void table_format(uint64_t base, uint64_t end)
{
	uint64_t slots = pow2_floor((end - base) / INDEX_BYTES_PER_ITEM);

	kv = (struct kv_header *)base;
	memset(kv, 0, sizeof *kv);
	kv->base = base;
	kv->end = end;
	kv->index_slots = slots;
	kv->index_max = slots / 8 * 7;
	kv->storage = base + STRATA_PAGE_SIZE + slots * sizeof(uint64_t);
	kv->slab_next = kv->storage;
	kv->cas_next = 1;
	memset((void *)(base + STRATA_PAGE_SIZE), 0, slots * sizeof(uint64_t));
	kv->version = KV_VERSION;
	kv->magic = KV_MAGIC;
}

bool table_open(uint64_t now_unix)
{
	const struct strata_info *info = strata_info();
	uint64_t base = (info->image_end + TABLE_ALIGN - 1) & ~(TABLE_ALIGN - 1);
	uint64_t end = STRATA_DISK_WINDOW_BASE + info->l1_disk_limit;
	struct kv_header *h = (struct kv_header *)base;

	if (info->l1_disk_limit == 0 || end < base + 2 * TABLE_ALIGN) {
		strata_printf("kvstore: no disk, or too small a one: the table needs %llu MiB past the image\n",
		    (unsigned long long)(2 * TABLE_ALIGN >> 20));
		return false;
	}
	if (end - base > TABLE_MAX)
		end = base + TABLE_MAX;
	if (h->magic == KV_MAGIC && h->version == KV_VERSION && h->base == base &&
	    h->end == end && h->clean) {
		kv = h;
		strata_printf("kvstore: table kept: %llu items\n", (unsigned long long)kv->curr_items);
	} else {
		if (h->magic == KV_MAGIC)
			strata_printf("kvstore: the table was not closed cleanly or moved: starting empty\n");
		table_format(base, end);
		strata_printf("kvstore: new table: %llu MiB, index of %llu slots\n",
		    (unsigned long long)((end - base) >> 20), (unsigned long long)kv->index_slots);
	}
	index_slots = (uint64_t *)(base + STRATA_PAGE_SIZE);
	if (now_unix != 0)
		kv->unix_offset_s = (int64_t)now_unix - (int64_t)(strata_now_ns() / 1000000000);
	kv->clean = 0;
	return true;
}

void table_close(void)
{
	kv->clean = 1;
}

bool item_dead(const struct kv_item *it, uint64_t now)
{
	if (it->expire_ns != 0 && it->expire_ns <= now)
		return true;
	return kv->flush_ns != 0 && kv->flush_ns <= now && it->stored_ns <= kv->flush_ns;
}

/* The index position of `it`, or of the key's empty entry when absent. */
static uint64_t index_pos(const char *key, uint32_t klen, uint32_t hash, bool *found)
{
	uint64_t mask = kv->index_slots - 1;

	for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
		uint64_t e = index_slots[i];
		struct kv_item *it;

		*found = false;
		if (e == 0)
			return i;
		if ((uint32_t)(e >> 32) != hash)
			continue;
		it = kv_item_at((uint32_t)e);
		if (it->klen == klen && memcmp(it->key, key, klen) == 0) {
			*found = true;
			return i;
		}
	}
}

/* Removes entry i, shifting back the entries of its probe run behind it. */
static void index_remove(uint64_t i)
{
	uint64_t mask = kv->index_slots - 1;
	uint64_t j = i;

	for (;;) {
		uint64_t e, home;

		j = (j + 1) & mask;
		e = index_slots[j];
		if (e == 0)
			break;
		home = (e >> 32) & mask;
		/* e may move to i only if i lies on its probe path, home..j. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			index_slots[i] = e;
			i = j;
		}
	}
	index_slots[i] = 0;
	kv->index_used--;
}

void item_free(struct kv_item *it)
{
	slab_free(kv_ref_of(it), it->cls);
}

/* Unlinks the item at index entry i. */
static void unlink_at(uint64_t i, struct kv_item *it)
{
	index_remove(i);
	it->linked = 0;
	kv->curr_items--;
	kv->bytes -= it->vlen;
	item_free_unheld(it);
	kv_dirty = true;
}

struct kv_item *table_find(const char *key, uint32_t klen)
{
	bool found;
	uint64_t i = index_pos(key, klen, kv_hash(key, klen), &found);
	struct kv_item *it;

	if (!found)
		return NULL;
	it = kv_item_at((uint32_t)index_slots[i]);
	if (!item_dead(it, strata_now_ns()))
		return it;
	unlink_at(i, it);
	kv->reclaimed++;
	return NULL;
}

bool table_link(struct kv_item *it, struct kv_item *old)
{
	bool found;
	uint64_t i = index_pos(it->key, it->klen, it->hash, &found);
	uint64_t e = (uint64_t)it->hash << 32 | kv_ref_of(it);

	if (old == NULL && kv->index_used >= kv->index_max)
		return false;
	it->linked = 1;
	it->cas = kv->cas_next++;
	it->stored_ns = strata_now_ns();
	kv->curr_items++;
	kv->total_items++;
	kv->bytes += it->vlen;
	/* One 8-byte store puts the new item in place of the old. */
	index_slots[i] = e;
	if (old != NULL) {
		old->linked = 0;
		kv->curr_items--;
		kv->bytes -= old->vlen;
		item_free_unheld(old);
	} else {
		kv->index_used++;
	}
	kv_dirty = true;
	return true;
}

void table_unlink(struct kv_item *it)
{
	bool found;
	uint64_t i = index_pos(it->key, it->klen, it->hash, &found);

	if (found)
		unlink_at(i, it);
}

struct kv_item *item_alloc(const char *key, uint32_t klen, uint32_t vlen)
{
	int cls = slab_class_of(klen, vlen);
	uint32_t ref;
	struct kv_item *it;

	if (cls < 0 || (ref = slab_alloc(cls)) == 0) {
		kv->outofmemory++;
		return NULL;
	}
	it = kv_item_at(ref);
	it->hash = kv_hash(key, klen);
	it->vlen = vlen;
	it->flags = 0;
	it->unused = 0;
	it->klen = (uint8_t)klen;
	it->cls = (uint8_t)cls;
	it->linked = 0;
	it->expire_ns = 0;
	memcpy(it->key, key, klen);
	return it;
}

void table_crawl(unsigned n)
{
	uint64_t now = strata_now_ns();

	while (n-- > 0) {
		uint64_t i = crawl_pos++ & (kv->index_slots - 1);
		uint64_t e = index_slots[i];
		struct kv_item *it;

		if (e == 0)
			continue;
		it = kv_item_at((uint32_t)e);
		if (item_dead(it, now)) {
			unlink_at(i, it);
			kv->reclaimed++;
			/* The entry behind may have shifted into i: look again. */
			crawl_pos--;
		}
	}
}
