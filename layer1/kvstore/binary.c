/*
 * memcached's binary protocol, on the same connections as the ASCII one
 * (a request's first byte, 0x80, tells them apart, as memcached does).
 *
 * A request is a 24-byte header, extras, a key and a value.  The header,
 * extras and key are gathered in the connection's line buffer; a storage
 * request's value is read straight into its new item like an ASCII one,
 * any other request's body is gathered whole (a few bytes).  Every number
 * is big-endian.  The quiet forms (GETQ, SETQ, ...) answer only misses and
 * errors (GETQ only hits), and the opaque field comes back as it was.
 */
#include "kvstore.h"

#define BIN_RESPONSE_MAGIC	0x81
/* memcached refuses an expiry of all ones on incr/decr of a missing key. */
#define NO_AUTO_CREATE		0xffffffffu

enum bin_op {
	OP_GET = 0x00, OP_SET = 0x01, OP_ADD = 0x02, OP_REPLACE = 0x03, OP_DELETE = 0x04,
	OP_INCR = 0x05, OP_DECR = 0x06, OP_QUIT = 0x07, OP_FLUSH = 0x08, OP_GETQ = 0x09,
	OP_NOOP = 0x0a, OP_VERSION = 0x0b, OP_GETK = 0x0c, OP_GETKQ = 0x0d, OP_APPEND = 0x0e,
	OP_PREPEND = 0x0f, OP_STAT = 0x10, OP_SETQ = 0x11, OP_PREPENDQ = 0x1a,
	OP_VERBOSITY = 0x1b, OP_TOUCH = 0x1c, OP_GAT = 0x1d, OP_GATQ = 0x1e,
	OP_GATK = 0x23, OP_GATKQ = 0x24,
};

enum bin_status {
	ST_OK = 0x00,
	ST_KEY_ENOENT = 0x01,
	ST_KEY_EEXISTS = 0x02,
	ST_E2BIG = 0x03,
	ST_EINVAL = 0x04,
	ST_NOT_STORED = 0x05,
	ST_DELTA_BADVAL = 0x06,
	ST_UNKNOWN_COMMAND = 0x81,
	ST_ENOMEM = 0x82,
};

/* One request, as gathered in c->line. */
struct request {
	uint8_t op;		/* the quiet form's plain opcode */
	bool quiet;
	uint32_t extlen, keylen, bodylen;
	const uint8_t *ext;
	const char *key;
};

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The plain opcode of a quiet one, and whether it was quiet. */
static uint8_t plain_op(uint8_t op, bool *quiet)
{
	static const uint8_t plain[] = {	/* OP_SETQ .. OP_PREPENDQ */
		OP_SET, OP_ADD, OP_REPLACE, OP_DELETE, OP_INCR, OP_DECR, OP_QUIT, OP_FLUSH,
		OP_APPEND, OP_PREPEND,
	};

	*quiet = true;
	if (op >= OP_SETQ && op <= OP_PREPENDQ)
		return plain[op - OP_SETQ];
	switch (op) {
	case OP_GETQ: return OP_GET;
	case OP_GETKQ: return OP_GETK;
	case OP_GATQ: return OP_GAT;
	case OP_GATKQ: return OP_GATK;
	}
	*quiet = false;
	return op;
}

/*
 * Queues a response: header, extras, key, then body bytes or the value of it
 * (it not NULL).  The opcode is the request's own, quiet or not.
 */
static void respond(struct conn *c, enum bin_status st, const void *ext, uint32_t extlen,
    const char *key, uint32_t keylen, const void *body, uint32_t bodylen,
    struct kv_item *it, uint64_t cas)
{
	uint8_t h[BIN_HEADER_BYTES + 4 + KV_KEY_MAX];
	uint32_t vlen = it != NULL ? it->vlen : bodylen;

	memset(h, 0, BIN_HEADER_BYTES);
	h[0] = BIN_RESPONSE_MAGIC;
	h[1] = c->bin_op;
	put_be(h + 2, keylen, 2);
	h[4] = (uint8_t)extlen;
	put_be(h + 6, st, 2);
	put_be(h + 8, extlen + keylen + vlen, 4);
	memcpy(h + 12, &c->bin_opaque, 4);
	put_be(h + 16, cas, 8);
	memcpy(h + BIN_HEADER_BYTES, ext, extlen);
	memcpy(h + BIN_HEADER_BYTES + extlen, key, keylen);
	conn_bytes(c, h, BIN_HEADER_BYTES + extlen + keylen, it);
	if (it == NULL && bodylen > 0)
		conn_bytes(c, body, bodylen, NULL);
}

/* A response with a status alone: a bare OK, or an error with memcached's words for it. */
static void status(struct conn *c, enum bin_status st)
{
	static const char *const words[] = {
		[ST_OK] = "",
		[ST_KEY_ENOENT] = "Not found",
		[ST_KEY_EEXISTS] = "Data exists for key.",
		[ST_E2BIG] = "Too large.",
		[ST_EINVAL] = "Invalid arguments",
		[ST_NOT_STORED] = "Not stored.",
		[ST_DELTA_BADVAL] = "Non-numeric server-side value for incr or decr",
		[ST_UNKNOWN_COMMAND] = "Unknown command",
		[ST_ENOMEM] = "Out of memory",
	};
	const char *w = words[st];

	respond(c, st, NULL, 0, NULL, 0, w, (uint32_t)strlen(w), NULL, 0);
}

/* get, getk, gat, gatk and their quiet forms. */
static void bin_get(struct conn *c, const struct request *r)
{
	bool with_key = r->op == OP_GETK || r->op == OP_GATK;
	bool touch = r->op == OP_GAT || r->op == OP_GATK;
	struct kv_item *it;
	uint8_t flags[4];

	if (r->keylen == 0 || r->extlen != (touch ? 4u : 0u)) {
		status(c, ST_EINVAL);
		return;
	}
	if (touch)
		it = store_touch(r->key, r->keylen, expiry_ns((int64_t)be32(r->ext)));
	else
		it = store_get(r->key, r->keylen);
	if (it == NULL) {
		if (!r->quiet)
			respond(c, ST_KEY_ENOENT, NULL, 0, r->key, with_key ? r->keylen : 0,
			    "Not found", 9, NULL, 0);
		return;
	}
	put_be(flags, it->flags, 4);
	respond(c, ST_OK, flags, 4, r->key, with_key ? r->keylen : 0, NULL, 0, it, it->cas);
}

/* set, add, replace, append, prepend: starts reading the value. */
static void bin_store(struct conn *c, const struct request *r)
{
	bool concat = r->op == OP_APPEND || r->op == OP_PREPEND;
	uint32_t vlen = r->bodylen - r->extlen - r->keylen;
	static const enum kv_store_cmd cmds[] = {
		[OP_SET] = KV_SET, [OP_ADD] = KV_ADD, [OP_REPLACE] = KV_REPLACE,
		[OP_APPEND] = KV_APPEND, [OP_PREPEND] = KV_PREPEND,
	};
	struct kv_item *it;

	if (r->keylen == 0 || r->extlen != (concat ? 0u : 8u)) {
		status(c, ST_EINVAL);
		proto_swallow(c, vlen);
		return;
	}
	if (vlen > KV_VALUE_MAX) {
		status(c, ST_E2BIG);
		proto_swallow(c, vlen);
		return;
	}
	if ((it = item_alloc(r->key, r->keylen, vlen)) == NULL) {
		status(c, ST_ENOMEM);
		proto_swallow(c, vlen);
		return;
	}
	if (!concat) {
		it->flags = be32(r->ext);
		it->expire_ns = expiry_ns((int64_t)be32(r->ext + 4));
	}
	proto_read_value(c, it, cmds[r->op], c->bin_cas, 0);
	if (vlen == 0)
		binary_value_done(c);	/* no input byte would finish it */
}

void binary_value_done(struct conn *c)
{
	struct kv_item *it = kv_item_at(c->value_ref);
	bool quiet;
	uint8_t op = plain_op(c->bin_op, &quiet);
	uint64_t cas = 0;
	enum kv_store_result r;
	enum bin_status st = ST_OK;

	c->state = PS_LINE;
	c->value_ref = 0;
	r = store_item(c->value_cmd, it, c->value_cas, &cas);
	if (r == KV_EXISTS || (r == KV_NOT_STORED && op == OP_ADD))
		st = ST_KEY_EEXISTS;
	else if (r == KV_NOT_FOUND || (r == KV_NOT_STORED && op == OP_REPLACE))
		st = ST_KEY_ENOENT;
	else if (r == KV_NOT_STORED)
		st = ST_NOT_STORED;
	else if (r == KV_NO_MEMORY)
		st = ST_ENOMEM;
	if (st != ST_OK)
		status(c, st);
	else if (!quiet)
		respond(c, ST_OK, NULL, 0, NULL, 0, NULL, 0, NULL, cas);
}

/* A missing counter created with its initial value, as memcached does. */
static enum kv_arith_result arith_create(const struct request *r, uint64_t initial,
    uint64_t *cas)
{
	char digits[24];
	uint32_t n = (uint32_t)strata_snprintf(digits, sizeof digits, "%llu",
	    (unsigned long long)initial);
	struct kv_item *it = item_alloc(r->key, r->keylen, n);

	if (it == NULL)
		return KV_ARITH_NO_MEMORY;
	memcpy(kv_value(it), digits, n);
	it->expire_ns = expiry_ns((int64_t)be32(r->ext + 16));
	return store_item(KV_ADD, it, 0, cas) == KV_STORED ? KV_ARITH_OK : KV_ARITH_NO_MEMORY;
}

/* incr and decr: extras are delta, initial and expiry. */
static void bin_arith(struct conn *c, const struct request *r)
{
	uint64_t v, cas = 0;
	uint8_t body[8];
	enum kv_arith_result a;

	if (r->keylen == 0 || r->extlen != 20) {
		status(c, ST_EINVAL);
		return;
	}
	a = store_arith(r->key, r->keylen, r->op == OP_INCR, be64(r->ext), &v, &cas);
	if (a == KV_ARITH_NOT_FOUND && be32(r->ext + 16) != NO_AUTO_CREATE) {
		v = be64(r->ext + 8);
		a = arith_create(r, v, &cas);
	}
	switch (a) {
	case KV_ARITH_OK:
		put_be(body, v, 8);
		if (!r->quiet)
			respond(c, ST_OK, NULL, 0, NULL, 0, body, 8, NULL, cas);
		break;
	case KV_ARITH_NOT_FOUND:
		status(c, ST_KEY_ENOENT);
		break;
	case KV_ARITH_NON_NUMERIC:
		status(c, ST_DELTA_BADVAL);
		break;
	case KV_ARITH_NO_MEMORY:
		status(c, ST_ENOMEM);
		break;
	}
}

/* stat: one response a statistic, then an empty one. */
static void bin_stat(struct conn *c, const struct request *r)
{
	struct kv_stat st[KV_STATS_MAX];
	unsigned n;
	char v[24];

	if (r->keylen == 5 && memcmp(r->key, "reset", 5) == 0) {
		store_stats_reset();
		status(c, ST_OK);
		return;
	}
	if (r->keylen != 0) {
		status(c, ST_KEY_ENOENT);
		return;
	}
	n = store_stats(st);
	for (unsigned i = 0; i < n; i++) {
		uint32_t vn = (uint32_t)strata_snprintf(v, sizeof v, "%llu",
		    (unsigned long long)st[i].value);

		respond(c, ST_OK, NULL, 0, st[i].name, (uint32_t)strlen(st[i].name), v, vn, NULL, 0);
	}
	status(c, ST_OK);
}

/* Every request but the storage ones, its body all in c->line. */
static void bin_other(struct conn *c, const struct request *r)
{
	switch (r->op) {
	case OP_GET: case OP_GETK: case OP_GAT: case OP_GATK:
		bin_get(c, r);
		break;
	case OP_DELETE:
		if (r->keylen == 0 || r->extlen != 0)
			status(c, ST_EINVAL);
		else if (!store_delete(r->key, r->keylen))
			status(c, ST_KEY_ENOENT);
		else if (!r->quiet)
			status(c, ST_OK);
		break;
	case OP_INCR: case OP_DECR:
		bin_arith(c, r);
		break;
	case OP_TOUCH:
		if (r->keylen == 0 || r->extlen != 4)
			status(c, ST_EINVAL);
		else if (store_touch(r->key, r->keylen, expiry_ns((int64_t)be32(r->ext))) == NULL)
			status(c, ST_KEY_ENOENT);
		else
			status(c, ST_OK);
		break;
	case OP_FLUSH:
		store_flush(r->extlen == 4 && be32(r->ext) != 0 ? expiry_ns((int64_t)be32(r->ext)) : 0);
		if (!r->quiet)
			status(c, ST_OK);
		break;
	case OP_QUIT:
		if (!r->quiet)
			status(c, ST_OK);
		c->state = PS_CLOSE;
		break;
	case OP_NOOP: case OP_VERBOSITY:
		status(c, ST_OK);
		break;
	case OP_VERSION:
		respond(c, ST_OK, NULL, 0, NULL, 0, KV_VERSION_STRING,
		    sizeof KV_VERSION_STRING - 1, NULL, 0);
		break;
	case OP_STAT:
		bin_stat(c, r);
		break;
	default:
		status(c, ST_UNKNOWN_COMMAND);
		break;
	}
}

static bool is_store(uint8_t op)
{
	return op == OP_SET || op == OP_ADD || op == OP_REPLACE || op == OP_APPEND ||
	    op == OP_PREPEND;
}

/* The header is in: how much more to gather, or a refusal. */
static void header_done(struct conn *c, struct request *r)
{
	const uint8_t *h = (const uint8_t *)c->line;
	uint32_t prefix = r->extlen + r->keylen;

	c->bin_op = h[1];
	memcpy(&c->bin_opaque, h + 12, 4);
	c->bin_cas = be64(h + 16);
	if (h[0] != BIN_REQUEST_MAGIC || prefix > r->bodylen || r->keylen > KV_KEY_MAX) {
		status(c, ST_EINVAL);
		c->state = PS_CLOSE;	/* the stream cannot be trusted past this */
		return;
	}
	if (!is_store(r->op) && r->bodylen > LINE_MAX_BYTES - BIN_HEADER_BYTES) {
		status(c, ST_E2BIG);
		proto_swallow(c, r->bodylen);
		return;
	}
	c->bin_need = BIN_HEADER_BYTES + (is_store(r->op) ? prefix : r->bodylen);
}

uint32_t binary_input(struct conn *c, const char *buf, uint32_t n)
{
	uint32_t take = c->bin_need - c->line_len;
	const uint8_t *h = (const uint8_t *)c->line;
	struct request r;

	if (take > n)
		take = n;
	memcpy(c->line + c->line_len, buf, take);
	c->line_len += take;
	if (c->line_len < c->bin_need)
		return take;
	r.op = plain_op(h[1], &r.quiet);
	r.keylen = be16(h + 2);
	r.extlen = h[4];
	r.bodylen = be32(h + 8);
	r.ext = h + BIN_HEADER_BYTES;
	r.key = c->line + BIN_HEADER_BYTES + r.extlen;
	if (c->line_len == BIN_HEADER_BYTES) {
		header_done(c, &r);
		if (c->state != PS_BIN)
			c->line_len = 0;	/* refused: closing, or skipping the body */
		if (c->state != PS_BIN || c->line_len < c->bin_need)
			return take;
	}
	c->line_len = 0;
	c->state = PS_LINE;
	if (is_store(r.op))
		bin_store(c, &r);
	else
		bin_other(c, &r);
	return take;
}
