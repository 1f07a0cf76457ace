/*
 * memcached's ASCII protocol: command lines split into words, each
 * command's arguments checked as memcached 1.6 checks them, and its exact
 * replies, errors included (ERROR for an unknown command or a wrong number
 * of words, CLIENT_ERROR for bad arguments or data, SERVER_ERROR when the
 * store cannot take it).  Errors are sent even under noreply, as memcached
 * does.
 *
 * A storage command's value is read straight into the new item's place in
 * the table, never staged; a get line's keys are answered one at a time
 * while the reply queue has room, and the rest wait (PS_GET).
 */
#include "kvstore.h"

#define MAX_WORDS	8
/* A VALUE line: the word, a key, flags, length, cas, blanks and CRLF. */
#define VALUE_LINE_ROOM	(KV_KEY_MAX + 64)

struct words {
	char *w[MAX_WORDS];
	uint32_t len[MAX_WORDS];
	int n;			/* MAX_WORDS means at least that many */
};

/* Splits line at blanks, NUL-terminating each word in place. */
static void split(char *line, uint32_t n, struct words *ws)
{
	uint32_t i = 0;

	ws->n = 0;
	while (i < n && ws->n < MAX_WORDS) {
		while (i < n && line[i] == ' ')
			i++;
		if (i == n)
			break;
		ws->w[ws->n] = line + i;
		while (i < n && line[i] != ' ')
			i++;
		ws->len[ws->n] = (uint32_t)(line + i - ws->w[ws->n]);
		line[i++] = '\0';
		ws->n++;
	}
}

/* A decimal number, digits only, of at most max. */
static bool number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* An expiry time: a decimal number, possibly negative. */
static bool exptime(const char *s, int64_t *out)
{
	uint64_t v;
	bool neg = *s == '-';

	if (!number(s + neg, INT64_MAX, &v))
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool is_noreply(struct words *ws, int i)
{
	return ws->n > i && strcmp(ws->w[i], "noreply") == 0;
}

/* A reply, unless the command said noreply. */
__attribute__((format(printf, 2, 3)))
static void reply(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char text[64];

	if (c->noreply)
		return;
	va_start(ap, fmt);
	strata_vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	conn_printf(c, "%s", text);
}

static void error(struct conn *c)
{
	conn_printf(c, "ERROR\r\n");
}

static void client_error(struct conn *c, const char *what)
{
	conn_printf(c, "CLIENT_ERROR %s\r\n", what);
}

void proto_swallow(struct conn *c, uint32_t n)
{
	c->value_got = 0;
	c->value_need = n;
	c->state = n > 0 ? PS_SWALLOW : PS_LINE;
}

void proto_read_value(struct conn *c, struct kv_item *it, enum kv_store_cmd cmd, uint64_t cas,
    uint32_t end)
{
	c->value_ref = kv_ref_of(it);
	c->value_cmd = cmd;
	c->value_cas = cas;
	c->value_got = 0;
	c->value_end = end;
	c->value_need = it->vlen + end;
	c->state = PS_VALUE;
}

/* set/add/replace/append/prepend KEY FLAGS EXPTIME BYTES [noreply], and cas KEY ... CAS. */
static void cmd_store(struct conn *c, struct words *ws, enum kv_store_cmd cmd)
{
	int nargs = cmd == KV_CAS ? 6 : 5;
	uint64_t flags, vlen, cas = 0;
	int64_t exp;
	struct kv_item *it;

	if (ws->n != nargs && !(ws->n == nargs + 1)) {
		error(c);
		return;
	}
	c->noreply = is_noreply(ws, nargs);
	if (ws->len[1] > KV_KEY_MAX || !number(ws->w[2], UINT32_MAX, &flags) ||
	    !exptime(ws->w[3], &exp) || !number(ws->w[4], INT32_MAX, &vlen) ||
	    (cmd == KV_CAS && !number(ws->w[5], UINT64_MAX, &cas))) {
		client_error(c, "bad command line format");
		return;
	}
	if (vlen > KV_VALUE_MAX) {
		conn_printf(c, "SERVER_ERROR object too large for cache\r\n");
		proto_swallow(c, (uint32_t)vlen + 2);
		return;
	}
	if ((it = item_alloc(ws->w[1], ws->len[1], (uint32_t)vlen)) == NULL) {
		conn_printf(c, "SERVER_ERROR out of memory storing object\r\n");
		proto_swallow(c, (uint32_t)vlen + 2);
		return;
	}
	it->flags = (uint32_t)flags;
	it->expire_ns = expiry_ns(exp);
	proto_read_value(c, it, cmd, cas, 2);
}

/* The value and its CRLF are in: store it and say how it went. */
static void value_done(struct conn *c)
{
	struct kv_item *it = kv_item_at(c->value_ref);
	static const char *const words[] = {
		[KV_STORED] = "STORED",
		[KV_NOT_STORED] = "NOT_STORED",
		[KV_EXISTS] = "EXISTS",
		[KV_NOT_FOUND] = "NOT_FOUND",
	};
	enum kv_store_result r;

	c->state = PS_LINE;
	c->value_ref = 0;
	if (c->crlf[0] != '\r' || c->crlf[1] != '\n') {
		item_free(it);
		client_error(c, "bad data chunk");
		return;
	}
	r = store_item(c->value_cmd, it, c->value_cas, NULL);
	if (r == KV_NO_MEMORY)
		conn_printf(c, "SERVER_ERROR out of memory storing object\r\n");
	else
		reply(c, "%s\r\n", words[r]);
}

/* Answers the get line's keys from get_pos while there is room. */
static bool get_continue(struct conn *c)
{
	for (;;) {
		uint32_t p = c->get_pos, q;
		struct kv_item *it;

		while (p < c->line_len && c->text[p] == ' ')
			p++;
		if (p == c->line_len && c->get_more) {
			/* The line goes on: its unfinished last key leads the next part. */
			memmove(c->line, c->line + c->line_len + 1, c->get_tail);
			c->line_len = c->get_tail;
			c->state = PS_GETKEYS;
			return true;
		}
		if (p == c->line_len) {
			if (!conn_room(c, 8))
				return false;
			conn_printf(c, "END\r\n");
			c->state = PS_LINE;
			return true;
		}
		for (q = p; q < c->line_len && c->text[q] != ' '; q++)
			;
		if (q - p > KV_KEY_MAX) {
			client_error(c, "bad command line format");
			/* Mid-way through a line longer than the buffer, the rest is no command. */
			c->state = c->get_more ? PS_CLOSE : PS_LINE;
			return true;
		}
		if (!conn_room(c, VALUE_LINE_ROOM))
			return false;
		c->get_pos = q;
		if (c->get_touch)
			it = store_touch(c->text + p, q - p, c->get_expire_ns);
		else
			it = store_get(c->text + p, q - p);
		if (it == NULL)
			continue;
		if (c->get_cas)
			conn_value(c, it, "VALUE %.*s %u %u %llu\r\n", (int)(q - p), c->text + p,
			    it->flags, it->vlen, (unsigned long long)it->cas);
		else
			conn_value(c, it, "VALUE %.*s %u %u\r\n", (int)(q - p), c->text + p,
			    it->flags, it->vlen);
	}
}

/*
 * get/gets KEY..., gat/gats EXPTIME KEY...: there may be more keys than
 * MAX_WORDS, so they are walked on the line itself, from offset rest.
 */
static void cmd_get(struct conn *c, struct words *ws, uint32_t rest, bool cas, bool touch)
{
	int64_t exp;

	if (ws->n < (touch ? 3 : 2)) {
		error(c);
		return;
	}
	if (touch && !exptime(ws->w[1], &exp)) {
		client_error(c, "invalid exptime argument");
		return;
	}
	c->get_cas = cas;
	c->get_touch = touch;
	c->get_expire_ns = touch ? expiry_ns(exp) : 0;
	c->get_pos = rest;
	c->state = PS_GET;
	get_continue(c);
}

static void cmd_delete(struct conn *c, struct words *ws)
{
	bool zero = ws->n > 2 && strcmp(ws->w[2], "0") == 0;

	if (ws->n < 2 || ws->n > 4) {
		error(c);
		return;
	}
	c->noreply = ws->n > 2 && is_noreply(ws, ws->n - 1);
	if ((ws->n == 3 && !zero && !c->noreply) || (ws->n == 4 && !(zero && c->noreply))) {
		client_error(c, "bad command line format.  Usage: delete <key> [noreply]");
		return;
	}
	if (ws->len[1] > KV_KEY_MAX) {
		client_error(c, "bad command line format");
		return;
	}
	reply(c, store_delete(ws->w[1], ws->len[1]) ? "DELETED\r\n" : "NOT_FOUND\r\n");
}

/*
 * The shape of incr, decr and touch: KEY ARG [noreply].  False after the
 * error reply if the line has another shape or the key is too long.
 */
static bool key_and_one(struct conn *c, struct words *ws)
{
	if (ws->n != 3 && ws->n != 4) {
		error(c);
		return false;
	}
	c->noreply = is_noreply(ws, 3);
	if (ws->len[1] > KV_KEY_MAX) {
		client_error(c, "bad command line format");
		return false;
	}
	return true;
}

static void cmd_arith(struct conn *c, struct words *ws, bool incr)
{
	uint64_t delta, v, cas;

	if (!key_and_one(c, ws))
		return;
	if (!number(ws->w[2], UINT64_MAX, &delta)) {
		client_error(c, "invalid numeric delta argument");
		return;
	}
	switch (store_arith(ws->w[1], ws->len[1], incr, delta, &v, &cas)) {
	case KV_ARITH_OK:
		reply(c, "%llu\r\n", (unsigned long long)v);
		break;
	case KV_ARITH_NOT_FOUND:
		reply(c, "NOT_FOUND\r\n");
		break;
	case KV_ARITH_NON_NUMERIC:
		client_error(c, "cannot increment or decrement non-numeric value");
		break;
	case KV_ARITH_NO_MEMORY:
		conn_printf(c, "SERVER_ERROR out of memory\r\n");
		break;
	}
}

static void cmd_touch(struct conn *c, struct words *ws)
{
	int64_t exp;

	if (!key_and_one(c, ws))
		return;
	if (!exptime(ws->w[2], &exp)) {
		client_error(c, "invalid exptime argument");
		return;
	}
	reply(c, store_touch(ws->w[1], ws->len[1], expiry_ns(exp)) ? "TOUCHED\r\n" : "NOT_FOUND\r\n");
}

static void cmd_flush(struct conn *c, struct words *ws)
{
	int64_t exp = 0;
	int args;

	c->noreply = is_noreply(ws, ws->n - 1) && ws->n > 1;
	args = ws->n - 1 - c->noreply;
	if (args > 1) {
		error(c);
		return;
	}
	if (args == 1 && !exptime(ws->w[1], &exp)) {
		client_error(c, "invalid exptime argument");
		return;
	}
	store_flush(exp > 0 ? expiry_ns(exp) : 0);
	reply(c, "OK\r\n");
}

/*
 * verbosity LEVEL [noreply]: checked and ignored (there is no log to tune).
 * As memcached 1.6 does, noreply silences even the complaint about LEVEL.
 */
static void cmd_verbosity(struct conn *c, struct words *ws)
{
	uint64_t level;

	if (ws->n != 2 && ws->n != 3) {
		error(c);
		return;
	}
	c->noreply = is_noreply(ws, ws->n - 1);
	if (!number(ws->w[1], UINT32_MAX, &level))
		reply(c, "CLIENT_ERROR bad command line format\r\n");
	else
		reply(c, "OK\r\n");
}

/* stats, or stats reset: memcached's general statistics that apply here. */
static void cmd_stats(struct conn *c, struct words *ws)
{
	struct kv_stat st[KV_STATS_MAX];
	unsigned n;

	if (ws->n == 2 && strcmp(ws->w[1], "reset") == 0) {
		store_stats_reset();
		conn_printf(c, "RESET\r\n");
		return;
	}
	if (ws->n != 1) {
		error(c);
		return;
	}
	n = store_stats(st);
	conn_printf(c, "STAT version " KV_VERSION_STRING "\r\n");
	for (unsigned i = 0; i < n; i++)
		conn_printf(c, "STAT %s %llu\r\n", st[i].name, (unsigned long long)st[i].value);
	conn_printf(c, "END\r\n");
}

/* One command line, without its line end. */
static void command(struct conn *c)
{
	struct words ws;
	uint32_t n = c->line_len;
	const char *w;

	c->noreply = false;
	/* get's keys are walked on the raw line: find where they start first. */
	split(c->text, n, &ws);
	if (ws.n == 0) {
		error(c);
		return;
	}
	w = ws.w[0];
	if (strcmp(w, "get") == 0 || strcmp(w, "gets") == 0 ||
	    strcmp(w, "gat") == 0 || strcmp(w, "gats") == 0) {
		bool touch = w[1] == 'a', cas = w[ws.len[0] - 1] == 's';
		uint32_t rest = (uint32_t)(ws.w[touch ? 1 : 0] - c->text) + ws.len[touch ? 1 : 0];

		/*
		 * The keys start past the NUL that ends the word before them;
		 * split cut them at the words it took: mend that part.
		 */
		if (rest < n)
			rest++;
		for (uint32_t i = rest; i < n; i++)
			if (c->text[i] == '\0')
				c->text[i] = ' ';
		cmd_get(c, &ws, rest, cas, touch);
	} else if (strcmp(w, "set") == 0) {
		cmd_store(c, &ws, KV_SET);
	} else if (strcmp(w, "add") == 0) {
		cmd_store(c, &ws, KV_ADD);
	} else if (strcmp(w, "replace") == 0) {
		cmd_store(c, &ws, KV_REPLACE);
	} else if (strcmp(w, "append") == 0) {
		cmd_store(c, &ws, KV_APPEND);
	} else if (strcmp(w, "prepend") == 0) {
		cmd_store(c, &ws, KV_PREPEND);
	} else if (strcmp(w, "cas") == 0) {
		cmd_store(c, &ws, KV_CAS);
	} else if (strcmp(w, "delete") == 0) {
		cmd_delete(c, &ws);
	} else if (strcmp(w, "incr") == 0 || strcmp(w, "decr") == 0) {
		cmd_arith(c, &ws, w[0] == 'i');
	} else if (strcmp(w, "touch") == 0) {
		cmd_touch(c, &ws);
	} else if (strcmp(w, "flush_all") == 0) {
		cmd_flush(c, &ws);
	} else if (strcmp(w, "version") == 0) {
		conn_printf(c, "VERSION " KV_VERSION_STRING "\r\n");	/* whatever follows */
	} else if (strcmp(w, "verbosity") == 0) {
		cmd_verbosity(c, &ws);
	} else if (strcmp(w, "stats") == 0) {
		cmd_stats(c, &ws);
	} else if (strcmp(w, "quit") == 0) {
		c->state = PS_CLOSE;				/* whatever follows */
	} else {
		error(c);
	}
}

/* Takes value bytes (PS_VALUE, PS_SWALLOW); returns how many. */
static uint32_t value_input(struct conn *c, const char *buf, uint32_t n)
{
	uint32_t take = c->value_need - c->value_got;
	uint32_t vlen = c->value_need - c->value_end;

	if (take > n)
		take = n;
	for (uint32_t i = 0; c->state == PS_VALUE && i < take; ) {
		uint32_t at = c->value_got + i;

		if (at < vlen) {
			uint32_t k = take - i < vlen - at ? take - i : vlen - at;

			memcpy(kv_value(kv_item_at(c->value_ref)) + at, buf + i, k);
			i += k;
		} else {
			c->crlf[at - vlen] = buf[i++];
		}
	}
	c->value_got += take;
	if (c->value_got == c->value_need) {
		if (c->state != PS_VALUE)
			c->state = PS_LINE;
		else if (c->value_end == 0)
			binary_value_done(c);
		else
			value_done(c);
	}
	return take;
}

/* True if the line in c starts with a get, gets, gat or gats word. */
static bool is_get_line(const struct conn *c)
{
	static const char *const words[] = { "get ", "gets ", "gat ", "gats " };

	for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
		if (c->line_len >= strlen(words[i]) &&
		    memcmp(c->line, words[i], strlen(words[i])) == 0)
			return true;
	return false;
}

/*
 * The line buffer is full without a line end.  A get line may be longer
 * than the buffer (libmemcached's mget sends all its keys on one line, as
 * memcached takes them): its whole keys are answered now, without END, and
 * the unfinished last one is kept to lead the next part.  False for any
 * other line, or a get line whose one key fills the buffer.
 */
static bool get_line_part(struct conn *c)
{
	uint32_t cut = c->line_len;

	if (c->state != PS_GETKEYS && !is_get_line(c))
		return false;
	while (cut > 0 && c->line[cut - 1] != ' ')
		cut--;
	if (cut <= 1)
		return false;
	cut--;					/* the blank before the unfinished key */
	c->get_tail = c->line_len - cut - 1;
	c->get_more = true;
	c->line_len = cut;
	if (c->state == PS_GETKEYS) {
		c->get_pos = 0;
		c->state = PS_GET;
		get_continue(c);
		return true;
	}
	command(c);
	/* A get refused outright (gat's bad exptime): the rest of the line is no command. */
	if (c->state == PS_LINE)
		c->state = PS_CLOSE;
	return true;
}

/*
 * A whole command line at the start of the input (take bytes, its \n
 * included): run where it lies, so that a short request never touches the
 * connection's line buffer, a page more for the next checkpoint.  Only a
 * get that must wait for room copies its line there.
 */
static uint32_t line_in_place(struct conn *c, char *buf, uint32_t take)
{
	c->text = buf;
	c->line_len = take - 1;
	if (c->line_len > 0 && buf[c->line_len - 1] == '\r')
		c->line_len--;
	c->get_more = false;
	command(c);
	if (c->state == PS_GET) {
		memcpy(c->line, buf, c->line_len);
		c->text = c->line;
	} else {
		c->line_len = 0;
	}
	return take;
}

/* Takes command-line bytes; runs the command when its line is whole. */
static uint32_t line_input(struct conn *c, char *buf, uint32_t n)
{
	const char *nl = memchr(buf, '\n', n);
	uint32_t take = nl != NULL ? (uint32_t)(nl - buf) + 1 : n;

	if (nl != NULL && c->state == PS_LINE && c->line_len == 0 && take <= LINE_MAX_BYTES)
		return line_in_place(c, buf, take);
	c->text = c->line;
	if (c->line_len + take > LINE_MAX_BYTES) {
		take = LINE_MAX_BYTES - c->line_len;
		memcpy(c->line + c->line_len, buf, take);
		c->line_len += take;
		if (get_line_part(c))
			return take;
		client_error(c, "line too long");
		c->state = PS_CLOSE;
		return n;
	}
	memcpy(c->line + c->line_len, buf, take);
	c->line_len += take;
	if (nl == NULL)
		return take;
	c->line_len--;				/* the \n */
	if (c->line_len > 0 && c->line[c->line_len - 1] == '\r')
		c->line_len--;
	c->get_more = false;
	if (c->state == PS_GETKEYS) {
		c->get_pos = 0;
		c->state = PS_GET;
		get_continue(c);
	} else {
		command(c);
	}
	if (c->state != PS_GET && c->state != PS_GETKEYS)
		c->line_len = 0;
	return take;
}

uint32_t proto_input(struct conn *c, char *buf, uint32_t n)
{
	uint32_t used = 0;

	while (used < n) {
		switch (c->state) {
		case PS_CLOSE:
			return n;
		case PS_GET:
			if (!proto_resume(c))
				return used;
			break;
		case PS_VALUE:
		case PS_SWALLOW:
			/* The last byte finishes the command: its reply needs room. */
			if (c->value_need - c->value_got <= n - used && !conn_room(c, REQUEST_REPLY_ROOM))
				return used;
			used += value_input(c, buf + used, n - used);
			break;
		case PS_LINE:
			if (!conn_room(c, REQUEST_REPLY_ROOM))
				return used;
			if (c->line_len == 0 && (uint8_t)buf[used] == BIN_REQUEST_MAGIC) {
				c->state = PS_BIN;
				c->bin_need = BIN_HEADER_BYTES;
				break;
			}
			used += line_input(c, buf + used, n - used);
			break;
		case PS_GETKEYS:
			if (!conn_room(c, REQUEST_REPLY_ROOM))
				return used;
			used += line_input(c, buf + used, n - used);
			break;
		case PS_BIN:
			if (c->line_len == 0 && !conn_room(c, REQUEST_REPLY_ROOM))
				return used;
			used += binary_input(c, buf + used, n - used);
			break;
		}
	}
	return used;
}

bool proto_resume(struct conn *c)
{
	if (c->state != PS_GET)
		return true;
	if (!get_continue(c))
		return false;
	if (c->state == PS_LINE)
		c->line_len = 0;
	return true;
}

void proto_abandon(struct conn *c)
{
	if (c->state == PS_VALUE && c->value_ref != 0)
		item_free(kv_item_at(c->value_ref));
	c->value_ref = 0;
	c->state = PS_CLOSE;
}
