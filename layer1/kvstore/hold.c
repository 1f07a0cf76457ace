/*
 * The items replies still send, counted beside the table rather than in
 * the items: a get then writes nothing to the item it answers, so the pages
 * a checkpoint must write for a pass of gets are the connections' and the
 * table header's, not one per item read (under durable=extsync every pass is
 * a checkpoint).  The holds are a short array, scanned: a hold lasts until
 * its reply is sent, so only those in flight are there.
 */
#include "kvstore.h"

/* Every queued reply entry of every connection could hold one. */
#define HOLDS_MAX	((KV_TCP_CONNS + KV_UDP_SLOTS) * OUT_ENTRIES)

struct hold {
	uint32_t ref;
	uint16_t count;		/* replies holding it */
};

static struct hold holds[HOLDS_MAX];
static uint32_t nholds;

static struct hold *find(uint32_t ref)
{
	for (uint32_t i = 0; i < nholds; i++)
		if (holds[i].ref == ref)
			return &holds[i];
	return NULL;
}

void item_hold(struct kv_item *it)
{
	uint32_t ref = kv_ref_of(it);
	struct hold *h = find(ref);

	if (h == NULL) {
		/* Cannot overflow: each hold is one queued entry, at most HOLDS_MAX. */
		h = &holds[nholds++];
		h->ref = ref;
		h->count = 0;
	}
	h->count++;
}

void item_release(struct kv_item *it)
{
	struct hold *h = find(kv_ref_of(it));

	if (h == NULL || --h->count != 0)
		return;
	*h = holds[--nholds];
	/* Only linked items are held, and only table.c unlinks: it left this one to us. */
	if (!it->linked)
		item_free(it);
}

bool item_held(const struct kv_item *it)
{
	return find(kv_ref_of(it)) != NULL;
}

void item_free_unheld(struct kv_item *it)
{
	if (!item_held(it))
		item_free(it);
}
