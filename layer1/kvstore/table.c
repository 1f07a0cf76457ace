/*
 * The table: a header, a hash index and the items' storage, laid out in
 * the free area of the disk window and used there in place.  The disk is
 * the table: nothing is serialised, and after a resume every pointer and
 * count is as the checkpoint left it, so there is no recovery pass.
 *
 *   base                 the header (one page)
 *   base + 4 KiB         the index's reserve: 2 * index_cap entries of 8 bytes
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
 * index may grow to one entry per 256 bytes of the area (index_cap) and is
 * full at 7/8 of that.
 *
 * It starts small and doubles when 7/8 full, so that it stays as dense as
 * the items it holds: one sized for the whole area from the start spreads
 * few items over many pages, one page of index read (and dirtied, by a set)
 * per request, however small the store.  An index of n slots lives at n
 * entries into the reserve, so each doubling has a place of its own past
 * the one it copies from: the reserve is twice the largest index, disk
 * space that is never touched until the index grows into it.
 *
 * A fresh start (a new build, or layer 0's `fresh`) keeps a table only
 * when the last run closed it cleanly: a run cut anywhere else may have
 * been halfway through a change, which only a resume finishes.
 */
#include "kvstore.h"

#define KV_MAGIC	0x3130564b41525453ULL	/* "STRAKV01" */
#define KV_VERSION	3	/* 3: the header lost index_at, the item its unused field */
#define TABLE_ALIGN	(4ULL * 1024 * 1024)
#define INDEX_BYTES_PER_ITEM	256
#define INDEX_FIRST	4096	/* slots of a new table's index: 32 KiB */
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

/* Where an index of n slots lives: n entries into the reserve. */
static uint64_t *index_place(uint64_t n)
{
	return (uint64_t *)(kv->base + STRATA_PAGE_SIZE + n * sizeof(uint64_t));
}

/* Makes an index of n slots, empty, the table's index. */
static void index_use(uint64_t n)
{
	index_slots = index_place(n);
	memset(index_slots, 0, n * sizeof(uint64_t));
	kv->index_slots = n;
	kv->index_max = n / 8 * 7;
}

/*
 * Doubles the index, moving every entry to its new place; false when it is
 * at index_cap.  Each entry is put back as a set would put it, at the first
 * empty slot from its home on, which is all a lookup and index_remove()'s
 * shifting rely on.
 */
static bool index_grow(void)
{
	uint64_t *old = index_slots, n = kv->index_slots * 2;

	if (n > kv->index_cap)
		return false;
	index_use(n);
	for (uint64_t i = 0; i < n / 2; i++) {
		uint64_t j = (old[i] >> 32) & (n - 1);

		if (old[i] == 0)
			continue;
		while (index_slots[j] != 0)
			j = (j + 1) & (n - 1);
		index_slots[j] = old[i];
	}
	kv_dirty = true;
	return true;
}

/* Lays out an empty table over [base, end). */
static void table_format(uint64_t base, uint64_t end)
{
	uint64_t cap = pow2_floor((end - base) / INDEX_BYTES_PER_ITEM);

	kv = (struct kv_header *)base;
	memset(kv, 0, sizeof *kv);
	kv->base = base;
	kv->end = end;
	kv->index_cap = cap;
	kv->storage = base + STRATA_PAGE_SIZE + 2 * cap * sizeof(uint64_t);
	kv->slab_next = kv->storage;
	kv->cas_next = 1;
	index_use(cap < INDEX_FIRST ? cap : INDEX_FIRST);
	kv->version = KV_VERSION;
	kv->magic = KV_MAGIC;
}

/* Why the table found at base is laid out anew: its first reason alone. */
static void say_why_not_kept(const struct kv_header *h, uint64_t base, uint64_t end)
{
	if (h->version != KV_VERSION)
		strata_printf("kvstore: the table is of version %u, this build reads %u: starting empty\n",
		    h->version, KV_VERSION);
	else if (h->base != base || h->end != end)
		strata_printf("kvstore: the table moved (a new image or disk size): starting empty\n");
	else
		strata_printf("kvstore: the table was not closed cleanly: starting empty\n");
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
			say_why_not_kept(h, base, end);
		table_format(base, end);
		strata_printf("kvstore: new table: %llu MiB, index of %llu slots, up to %llu\n",
		    (unsigned long long)((end - base) >> 20), (unsigned long long)kv->index_slots,
		    (unsigned long long)kv->index_cap);
	}
	index_slots = index_place(kv->index_slots);
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
	uint64_t i, e = (uint64_t)it->hash << 32 | kv_ref_of(it);

	if (old == NULL && kv->index_used >= kv->index_max && !index_grow())
		return false;
	i = index_pos(it->key, it->klen, it->hash, &found);
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
