/*
 * memcached's commands on the table: what set, add, replace, append,
 * prepend, cas, incr, decr, touch, delete and flush_all do, with
 * memcached's rules for expiry times and counters.  Every change sets
 * kv_dirty, which main.c turns into a commit before any reply leaves.
 */
#include "kvstore.h"

#define NS_PER_S		1000000000ULL
/* memcached: an expiry time up to this many seconds is relative. */
#define REL_EXPTIME_MAX		(60 * 60 * 24 * 30)
/* The longest decimal form of a 64-bit counter. */
#define COUNTER_DIGITS		20

bool kv_dirty;

uint64_t unix_now(void)
{
	return (uint64_t)((int64_t)(strata_now_ns() / NS_PER_S) + kv->unix_offset_s);
}

uint64_t expiry_ns(int64_t exptime)
{
	uint64_t now = strata_now_ns();

	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return 1;		/* already past: any clock reading is later */
	if (exptime <= REL_EXPTIME_MAX)
		return now + (uint64_t)exptime * NS_PER_S;
	if ((uint64_t)exptime <= unix_now())
		return 1;
	return now + ((uint64_t)exptime - unix_now()) * NS_PER_S;
}

/* A new item holding a's value then b's, with old's flags and expiry. */
static struct kv_item *concat(struct kv_item *old, struct kv_item *a, struct kv_item *b)
{
	struct kv_item *it;

	if ((uint64_t)a->vlen + b->vlen > KV_VALUE_MAX)
		return NULL;
	if ((it = item_alloc(old->key, old->klen, a->vlen + b->vlen)) == NULL)
		return NULL;
	memcpy(kv_value(it), kv_value(a), a->vlen);
	memcpy(kv_value(it) + a->vlen, kv_value(b), b->vlen);
	it->flags = old->flags;
	it->expire_ns = old->expire_ns;
	return it;
}

/* Decides whether cmd stores over old (NULL: none); KV_STORED if it may. */
static enum kv_store_result may_store(enum kv_store_cmd cmd, struct kv_item *old, uint64_t cas_in)
{
	if (cmd == KV_CAS || (cas_in != 0 && cmd != KV_ADD)) {
		if (old == NULL) {
			kv->cas_misses++;
			return KV_NOT_FOUND;
		}
		if (old->cas != cas_in) {
			kv->cas_badval++;
			return KV_EXISTS;
		}
		kv->cas_hits++;
		return KV_STORED;
	}
	switch (cmd) {
	case KV_ADD:
		return old == NULL ? KV_STORED : KV_NOT_STORED;
	case KV_REPLACE:
	case KV_APPEND:
	case KV_PREPEND:
		return old != NULL ? KV_STORED : KV_NOT_STORED;
	case KV_SET:
	case KV_CAS:
		break;
	}
	return KV_STORED;
}

enum kv_store_result store_item(enum kv_store_cmd cmd, struct kv_item *it, uint64_t cas_in,
    uint64_t *cas_out)
{
	struct kv_item *old = table_find(it->key, it->klen);
	enum kv_store_result r = may_store(cmd, old, cas_in);
	struct kv_item *joined = NULL;

	kv->cmd_set++;
	if (r == KV_STORED && (cmd == KV_APPEND || cmd == KV_PREPEND)) {
		joined = cmd == KV_APPEND ? concat(old, old, it) : concat(old, it, old);
		item_free(it);
		if (joined == NULL)
			return KV_NO_MEMORY;
		it = joined;
	}
	if (r == KV_STORED && !table_link(it, old))
		r = KV_NO_MEMORY;
	if (r != KV_STORED)
		item_free(it);
	else if (cas_out != NULL)
		*cas_out = it->cas;
	return r;
}

struct kv_item *store_get(const char *key, uint32_t klen)
{
	struct kv_item *it = table_find(key, klen);

	kv->cmd_get++;
	if (it != NULL)
		kv->get_hits++;
	else
		kv->get_misses++;
	return it;
}

struct kv_item *store_touch(const char *key, uint32_t klen, uint64_t expire_ns)
{
	struct kv_item *it = table_find(key, klen);

	kv->cmd_touch++;
	if (it == NULL) {
		kv->touch_misses++;
		return NULL;
	}
	kv->touch_hits++;
	it->expire_ns = expire_ns;
	kv_dirty = true;
	return it;
}

bool store_delete(const char *key, uint32_t klen)
{
	struct kv_item *it = table_find(key, klen);

	if (it == NULL) {
		kv->delete_misses++;
		return false;
	}
	kv->delete_hits++;
	table_unlink(it);
	return true;
}

/*
 * memcached's reading of a counter: leading blanks, then digits up to the
 * end or a blank (its own padding); false for anything else or an overflow.
 */
static bool counter_value(const struct kv_item *it, uint64_t *out)
{
	const char *p = it->key + it->klen, *end = p + it->vlen;
	uint64_t v = 0;
	bool digits = false;

	while (p < end && *p == ' ')
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		digits = true;
	}
	while (p < end && *p == ' ')
		p++;
	*out = v;
	return digits && p == end;
}

enum kv_arith_result store_arith(const char *key, uint32_t klen, bool incr, uint64_t delta,
    uint64_t *result, uint64_t *cas_out)
{
	struct kv_item *it = table_find(key, klen), *fresh;
	char digits[COUNTER_DIGITS + 1];
	uint64_t v;
	uint32_t n;

	if (it == NULL) {
		if (incr)
			kv->incr_misses++;
		else
			kv->decr_misses++;
		return KV_ARITH_NOT_FOUND;
	}
	if (!counter_value(it, &v))
		return KV_ARITH_NON_NUMERIC;
	if (incr)
		kv->incr_hits++;
	else
		kv->decr_hits++;
	v = incr ? v + delta : (delta > v ? 0 : v - delta);	/* incr wraps, decr stops at 0 */
	*result = v;
	n = (uint32_t)strata_snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	if (n <= it->vlen && !item_held(it)) {
		/* In place, blank-padded to the old length, as memcached does. */
		memset(kv_value(it), ' ', it->vlen);
		memcpy(kv_value(it), digits, n);
		it->cas = kv->cas_next++;
		*cas_out = it->cas;
		kv_dirty = true;
		return KV_ARITH_OK;
	}
	if ((fresh = item_alloc(key, klen, n)) == NULL)
		return KV_ARITH_NO_MEMORY;
	memcpy(kv_value(fresh), digits, n);
	fresh->flags = it->flags;
	fresh->expire_ns = it->expire_ns;
	if (!table_link(fresh, it)) {
		item_free(fresh);
		return KV_ARITH_NO_MEMORY;
	}
	*cas_out = fresh->cas;
	return KV_ARITH_OK;
}

void store_flush(uint64_t deadline_ns)
{
	kv->cmd_flush++;
	kv->flush_ns = deadline_ns != 0 ? deadline_ns : strata_now_ns();
	kv_dirty = true;
}

unsigned store_stats(struct kv_stat *s)
{
	const struct strata_info *info = strata_info();
	const struct kv_stat all[] = {
		{ "pid", 1 },
		{ "uptime", strata_now_ns() / NS_PER_S },
		{ "time", unix_now() },
		{ "pointer_size", 64 },
		{ "curr_connections", conn_count },
		{ "total_connections", conn_total },
		{ "cmd_get", kv->cmd_get },
		{ "cmd_set", kv->cmd_set },
		{ "cmd_flush", kv->cmd_flush },
		{ "cmd_touch", kv->cmd_touch },
		{ "get_hits", kv->get_hits },
		{ "get_misses", kv->get_misses },
		{ "delete_misses", kv->delete_misses },
		{ "delete_hits", kv->delete_hits },
		{ "incr_misses", kv->incr_misses },
		{ "incr_hits", kv->incr_hits },
		{ "decr_misses", kv->decr_misses },
		{ "decr_hits", kv->decr_hits },
		{ "cas_misses", kv->cas_misses },
		{ "cas_hits", kv->cas_hits },
		{ "cas_badval", kv->cas_badval },
		{ "touch_hits", kv->touch_hits },
		{ "touch_misses", kv->touch_misses },
		{ "limit_maxbytes", kv->end - kv->storage },
		{ "bytes", kv->bytes },
		{ "curr_items", kv->curr_items },
		{ "total_items", kv->total_items },
		{ "reclaimed", kv->reclaimed },
		{ "outofmemory", kv->outofmemory },
		{ "resumes", info->resumes },
		{ "checkpoint_seq", info->checkpoint_seq },
	};
	_Static_assert(sizeof all / sizeof all[0] <= KV_STATS_MAX, "KV_STATS_MAX too small");

	memcpy(s, all, sizeof all);
	return sizeof all / sizeof all[0];
}

void store_stats_reset(void)
{
	kv->cmd_get = kv->cmd_set = kv->cmd_touch = kv->cmd_flush = 0;
	kv->get_hits = kv->get_misses = kv->delete_hits = kv->delete_misses = 0;
	kv->incr_hits = kv->incr_misses = kv->decr_hits = kv->decr_misses = 0;
	kv->cas_hits = kv->cas_misses = kv->cas_badval = 0;
	kv->touch_hits = kv->touch_misses = kv->reclaimed = kv->outofmemory = 0;
	kv_dirty = true;
}
