/* kvstore's parts, one heading per file. */
#ifndef KVSTORE_H
#define KVSTORE_H

#include <strata.h>

/* memcached's default limits: keys of 250 bytes, values of 1 MiB. */
#define KV_KEY_MAX	250
#define KV_VALUE_MAX	(1024 * 1024)

/* What `version` and `stats` say: the memcached whose protocol this follows. */
#define KV_VERSION_STRING	"1.6.18-strata"

/* What a reference counts in: items start on this boundary. */
#define KV_REF_UNIT	64

/* memcached's storage commands, for store_item. */
enum kv_store_cmd {
	KV_SET,
	KV_ADD,
	KV_REPLACE,
	KV_APPEND,
	KV_PREPEND,
	KV_CAS,
};

/* Their results, as memcached words them. */
enum kv_store_result {
	KV_STORED,
	KV_NOT_STORED,
	KV_EXISTS,
	KV_NOT_FOUND,
	KV_NO_MEMORY,
};

/*
 * One stored item, in the table's storage: the header, the key, then the
 * value (without memcached's trailing CRLF, which replies add).
 */
struct kv_item {
	uint32_t hash;
	uint32_t vlen;
	uint32_t flags;
	uint8_t klen;
	uint8_t cls;		/* its slab class */
	uint8_t linked;		/* in the index; freed when unlinked and no reply holds it */
	uint8_t pad[9];
	uint64_t cas;
	uint64_t expire_ns;	/* on strata_now_ns(); 0: never */
	uint64_t stored_ns;	/* when stored: flush_all removes what is older */
	char key[];
};

static inline char *kv_value(struct kv_item *it)
{
	return it->key + it->klen;
}

/* Connections at once: TCP ones (conn.c), and UDP requests answered at once (udp.c). */
#define KV_TCP_CONNS	128
#define KV_UDP_SLOTS	16

/* ---- slab.c ------------------------------------------------------------- */

/* The number of slab classes, and the class of an item of this size (-1: none). */
#define KV_CLASSES	64
int slab_class_of(uint32_t klen, uint32_t vlen);

/* Computes the class sizes; once, before anything else here. */
void slab_init(void);

/*
 * A chunk of class cls, from its free list, its current slab, or a new slab
 * taken from the free area; 0 when none is left.
 */
uint32_t slab_alloc(int cls);

/* Gives a chunk back to its class's free list. */
void slab_free(uint32_t ref, int cls);

/* The chunk size of a class, for stats. */
uint32_t slab_chunk_size(int cls);

/* ---- table.c ------------------------------------------------------------ */

/*
 * The table's header, the first page of the table area: everything that
 * says where things are and what they count.  It lives on the disk like the
 * rest and is never copied or serialised.
 */
struct kv_header {
	uint64_t magic;
	uint32_t version;
	uint32_t clean;		/* 1: closed by an orderly exit, 0: running or cut */
	uint64_t base;		/* this header's address, the layout's anchor */
	uint64_t end;		/* first address after the area */
	uint64_t index_slots;	/* a power of two, which also says where it lives */
	uint64_t index_used;
	uint64_t index_max;	/* index_used may not pass this (7/8 full) */
	uint64_t index_cap;	/* the most slots it may grow to */
	uint64_t storage;	/* where slabs start */
	uint64_t slab_next;	/* where the next slab starts */
	uint64_t cas_next;
	uint64_t flush_ns;	/* items stored at or before it are gone; 0: none */
	int64_t unix_offset_s;	/* unix seconds = clock seconds + this */
	uint32_t free_head[KV_CLASSES];	/* each class's free list */
	uint32_t carve_next[KV_CLASSES];	/* the class's slab being cut */
	uint32_t carve_end[KV_CLASSES];
	uint64_t class_chunks[KV_CLASSES];	/* chunks each class holds */
	uint64_t curr_items, total_items, bytes;
	uint64_t cmd_get, cmd_set, cmd_touch, get_hits, get_misses, get_expired, get_flushed;
	uint64_t delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cas_hits, cas_misses, cas_badval, touch_hits, touch_misses;
	uint64_t expired_unfetched, reclaimed, cmd_flush, outofmemory;
};

extern struct kv_header *kv;

/*
 * Finds the table at its place in the free area, or lays out an empty one
 * there when the disk holds none or one not closed cleanly.  now_unix: the
 * host's clock in seconds (0: unknown, keep what the table knows).  False,
 * after saying why, when the machine has no disk or too small a one.
 */
bool table_open(uint64_t now_unix);

/* Marks the table closed by an orderly exit. */
void table_close(void);

static inline struct kv_item *kv_item_at(uint32_t ref)
{
	return (struct kv_item *)(kv->base + (uint64_t)ref * KV_REF_UNIT);
}

static inline uint32_t kv_ref_of(const struct kv_item *it)
{
	return (uint32_t)(((uint64_t)it - kv->base) / KV_REF_UNIT);
}

uint32_t kv_hash(const char *key, uint32_t klen);

/* The live item of that key, or NULL; reclaims it if expired or flushed. */
struct kv_item *table_find(const char *key, uint32_t klen);

/* Puts `it` in the index, replacing old (NULL if none).  False if full. */
bool table_link(struct kv_item *it, struct kv_item *old);

/* Takes `it` out of the index; its chunk is freed once no reply holds it. */
void table_unlink(struct kv_item *it);

/* A new, unlinked item with room for the value; NULL when out of space. */
struct kv_item *item_alloc(const char *key, uint32_t klen, uint32_t vlen);

/* Frees an item no one links or holds. */
void item_free(struct kv_item *it);

/* ---- hold.c ------------------------------------------------------------- */

/* A reply holds or lets go of an item's value while it sends it. */
void item_hold(struct kv_item *it);
void item_release(struct kv_item *it);

/* True if a reply holds it. */
bool item_held(const struct kv_item *it);

/* Frees an unlinked item now, or item_release() does when its last hold is let go. */
void item_free_unheld(struct kv_item *it);

/* Looks at n more index slots, reclaiming expired and flushed items. */
void table_crawl(unsigned n);

/* True if `it` must be treated as gone at time now. */
bool item_dead(const struct kv_item *it, uint64_t now);

/* ---- store.c ------------------------------------------------------------ */

/* Set by every change to the table; main.c commits and clears it. */
extern bool kv_dirty;

/*
 * memcached's expiry time: 0 never, up to 30 days relative seconds, beyond
 * that unix seconds, negative already past.  As a clock deadline (0: never).
 */
uint64_t expiry_ns(int64_t exptime);

/* The unix time now, in seconds, as the table keeps it. */
uint64_t unix_now(void);

/*
 * Stores it (value filled) by cmd.  A cas_in other than 0 makes any command
 * conditional on the item's cas (KV_CAS is set with one).  Frees it unless
 * stored; *cas_out (if not NULL) is the stored item's cas.
 */
enum kv_store_result store_item(enum kv_store_cmd cmd, struct kv_item *it, uint64_t cas_in,
    uint64_t *cas_out);

/* The live item of key, counting a get hit or miss. */
struct kv_item *store_get(const char *key, uint32_t klen);

/* Sets a live item's expiry (touch, gat); false if not found. */
struct kv_item *store_touch(const char *key, uint32_t klen, uint64_t expire_ns);

/* delete: true if it was there. */
bool store_delete(const char *key, uint32_t klen);

/* incr/decr results. */
enum kv_arith_result {
	KV_ARITH_OK,
	KV_ARITH_NOT_FOUND,
	KV_ARITH_NON_NUMERIC,
	KV_ARITH_NO_MEMORY,
};
enum kv_arith_result store_arith(const char *key, uint32_t klen, bool incr, uint64_t delta,
    uint64_t *result, uint64_t *cas_out);

/* One statistic of `stats`: memcached's name and its value. */
struct kv_stat {
	const char *name;
	uint64_t value;
};
#define KV_STATS_MAX	40

/* Fills s with the statistics stats reports; returns how many. */
unsigned store_stats(struct kv_stat *s);

/* stats reset: the counters from 0. */
void store_stats_reset(void);

/* flush_all: everything stored until deadline (now if 0) goes. */
void store_flush(uint64_t deadline_ns);

/* ---- proto.c ------------------------------------------------------------ */

struct conn;

/*
 * Consumes what it can of buf (n bytes) for connection c: command lines,
 * values, and their replies queued on c.  A command line wholly in buf is
 * run where it lies, and changed there.  Returns the bytes consumed; fewer
 * than n when c's output is full (call again once it drained) or closing.
 */
uint32_t proto_input(struct conn *c, char *buf, uint32_t n);

/* Continues what proto_input had to stop (a long get); false if still blocked. */
bool proto_resume(struct conn *c);

/* Drops what a vanished connection left half done. */
void proto_abandon(struct conn *c);

/* Reads the next n bytes of input into nothing (a refused value). */
void proto_swallow(struct conn *c, uint32_t n);

/*
 * Reads the value of it from the input straight into it, then end more bytes
 * (the ASCII CRLF: 2; binary: 0), then stores it by cmd and cas.
 */
void proto_read_value(struct conn *c, struct kv_item *it, enum kv_store_cmd cmd, uint64_t cas,
    uint32_t end);

/* ---- binary.c ----------------------------------------------------------- */

/* memcached's binary protocol: a request starts with this byte. */
#define BIN_REQUEST_MAGIC	0x80
#define BIN_HEADER_BYTES	24

/*
 * Takes request bytes in PS_BIN: the header, then the extras and key (and
 * the body, for a request without a value); runs the request once they are
 * in, or starts reading its value.  Returns the bytes taken.
 */
uint32_t binary_input(struct conn *c, const char *buf, uint32_t n);

/* A binary storage request's value is in: store it and answer. */
void binary_value_done(struct conn *c);

/* ---- conn.c ------------------------------------------------------------- */

/* The protocol's state of one connection (proto.c's), inside struct conn. */
#define LINE_MAX_BYTES	8192
#define OUT_ENTRIES	128	/* a power of two: out_head and out_tail wrap */
#define OUT_BYTES	16384

enum proto_state {
	PS_LINE,	/* reading a command line */
	PS_VALUE,	/* reading a storage command's value into its item */
	PS_SWALLOW,	/* discarding a refused value */
	PS_GET,		/* a get line waits for room to go on */
	PS_GETKEYS,	/* reading more keys of a get line longer than the buffer */
	PS_BIN,		/* reading a binary request's header and body */
	PS_CLOSE,	/* quit or a fatal error: close once sent */
};

/* One queued reply piece: bytes from obuf, then the item's value if ref (and CRLF if crlf). */
struct out_entry {
	uint32_t off, len;
	uint32_t ref;
	bool crlf;
};

struct conn {
	struct tcp_pcb *pcb;
	struct pbuf *in;		/* received, not consumed yet */
	uint16_t in_off;		/* bytes of in's first pbuf consumed */
	bool live;
	enum proto_state state;
	uint32_t line_len;
	char *text;			/* the line being run: line, or where it lies in the input */
	/* PS_VALUE and PS_SWALLOW */
	uint32_t value_ref;		/* the new item, its value being filled */
	uint32_t value_got, value_need;	/* bytes of value + its end */
	uint32_t value_end;		/* 2 for the ASCII protocol's CRLF, 0 for binary */
	char crlf[2];
	enum kv_store_cmd value_cmd;
	uint64_t value_cas;
	bool noreply;
	/* PS_BIN: bytes of the request to gather in line; and its header */
	uint32_t bin_need;
	uint8_t bin_op;
	uint32_t bin_opaque;
	uint64_t bin_cas;
	/* PS_GET: the rest of the line's keys from get_pos */
	uint32_t get_pos;
	bool get_cas, get_touch;
	bool get_more;			/* the line goes on past line_len */
	uint32_t get_tail;		/* bytes of an unfinished key after it */
	uint64_t get_expire_ns;
	/* output */
	/*
	 * Counters that wrap, compared only for equality: entry i is at
	 * out[i % OUT_ENTRIES] (a power of two), and out_head <= out_ready <=
	 * out_tail in the order they were queued.
	 */
	uint32_t out_head, out_tail;
	uint32_t out_ready;		/* entries before this one may be sent (durable) */
	uint32_t out_sent;		/* bytes of the head entry sent */
	uint32_t olen;
	/*
	 * The buffers last: a new connection clears what comes before them.
	 * A connection starts on a page, and a short request touches only
	 * that one: its fields, out[] and the start of obuf[] (its line is run
	 * in the input, proto.c): one page a connection for a checkpoint to
	 * write.
	 */
	struct out_entry out[OUT_ENTRIES];
	char obuf[OUT_BYTES];
	char line[LINE_MAX_BYTES];
} __attribute__((aligned(4096)));

/* Room a request may need for its reply (binary stats is the longest). */
#define REQUEST_REPLY_ROOM	4096

/* Room for one more reply of up to text bytes, and one entry. */
bool conn_room(struct conn *c, uint32_t text);

/* Queues a text reply (printf style). */
__attribute__((format(printf, 2, 3)))
void conn_printf(struct conn *c, const char *fmt, ...);

/* Queues text, then the value of it and CRLF (a get hit); holds it until sent. */
__attribute__((format(printf, 3, 4)))
void conn_value(struct conn *c, struct kv_item *it, const char *fmt, ...);

/* Queues n bytes as they are, then the value of it if it is not NULL (binary). */
void conn_bytes(struct conn *c, const void *bytes, uint32_t n, struct kv_item *it);

/*
 * The released reply bytes at the head of c's queue, as many as lie in a
 * row (*n), or NULL when none are released; entries wholly taken are let go.
 */
const char *conn_out_peek(struct conn *c, uint32_t *n);

/* n bytes of what conn_out_peek gave were sent. */
void conn_out_taken(struct conn *c, uint32_t n);

/* The released bytes not sent yet. */
uint32_t conn_out_released(struct conn *c);

/* Drops every queued reply, sent or not, letting go of the items they hold. */
void conn_out_drop(struct conn *c);

/* Makes c a new connection's: nothing queued, waiting for a command line (TCP and UDP). */
void conn_reset(struct conn *c);

/* Starts the TCP listener on port. */
bool conn_listen(uint16_t port);

/* Every reply queued so far may go: its changes are durable. */
void conn_release_all(void);

/*
 * Sends what may go; true if a connection holds input it now has room to
 * take (call conn_feed_all again before sleeping).
 */
bool conn_flush_all(void);

/* Feeds held input to every connection that has room for its replies. */
void conn_feed_all(void);

/* Drops every connection: at exit, and after a resume, whose peers are gone. */
void conn_abort_all(void);

/* ---- udp.c ------------------------------------------------------------- */

/* Starts answering memcached's UDP frames on port. */
bool udp_listen(uint16_t port);

/* Every UDP reply queued so far may go (as conn_release_all). */
void udp_release_all(void);

/* Sends released UDP replies; true if some wait for lwIP memory. */
bool udp_flush_all(void);

/* Datagrams dropped: runts, multi-datagram requests, all slots busy. */
extern uint64_t udp_dropped;

/* Connections now and since boot, for stats. */
extern uint32_t conn_count;
extern uint64_t conn_total;

#endif
