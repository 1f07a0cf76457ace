/*
 * The lwIP glue: TCP connections on port 11211, their input fed to the
 * protocol (proto.c) and their replies sent back.
 *
 * Replies are queued on the connection and leave only once released:
 * main.c releases every queued reply after the commit that covers the
 * changes made while they were produced (durable=sync), or at once
 * (durable=interval).  Nothing else may send them, the sent and poll
 * callbacks included, so no reply reaches a client before its data is on
 * the disk.
 *
 * Flow control is TCP's own: input is consumed (and the window opened by
 * tcp_recved) only while the reply queue has room, so a client that sends
 * commands faster than it reads replies is slowed down, and a value in a
 * reply is copied into lwIP's send buffer only as fast as that drains.
 */
#include "kvstore.h"

#include "lwip/tcp.h"
#include "strata_tcp.h"

/* tcp_poll's interval, in lwIP's half-second ticks: retries after ERR_MEM. */
#define POLL_TICKS	2

static struct conn conns[KV_TCP_CONNS];
uint32_t conn_count;
uint64_t conn_total;

static struct out_entry *out_at(struct conn *c, uint32_t i)
{
	return &c->out[i % OUT_ENTRIES];
}

bool conn_room(struct conn *c, uint32_t text)
{
	if (c->out_head == c->out_tail)
		c->olen = 0;
	return c->out_tail - c->out_head + 2 <= OUT_ENTRIES && c->olen + text <= OUT_BYTES;
}

/*
 * Appends n bytes already in obuf at olen as an entry of their own, or to
 * the tail entry when that one is bytes alone, unreleased and just before.
 */
static void queue_tail(struct conn *c, uint32_t n, struct kv_item *it, bool crlf)
{
	struct out_entry *last = out_at(c, c->out_tail - 1);

	if (it == NULL && c->out_tail != c->out_head && c->out_tail != c->out_ready &&
	    last->ref == 0 && last->off + last->len == c->olen) {
		last->len += n;
	} else {
		struct out_entry *e = out_at(c, c->out_tail++);

		e->off = c->olen;
		e->len = n;
		e->ref = 0;
		e->crlf = crlf;
		if (it != NULL) {
			item_hold(it);
			e->ref = kv_ref_of(it);
		}
	}
	c->olen += n;
}

/* Formats text into obuf and queues it, then the value of it and CRLF if it is not NULL. */
static void queue_text(struct conn *c, const char *fmt, va_list ap, struct kv_item *it)
{
	int n = strata_vsnprintf(c->obuf + c->olen, OUT_BYTES - c->olen, fmt, ap);

	if (n < 0 || (uint32_t)n >= OUT_BYTES - c->olen)
		n = 0;		/* conn_room was not asked: a bug, not a client's doing */
	queue_tail(c, (uint32_t)n, it, true);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue_text(c, fmt, ap, NULL);
	va_end(ap);
}

void conn_value(struct conn *c, struct kv_item *it, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue_text(c, fmt, ap, it);
	va_end(ap);
}

void conn_bytes(struct conn *c, const void *bytes, uint32_t n, struct kv_item *it)
{
	if (n > OUT_BYTES - c->olen)
		n = 0;		/* as queue_text */
	memcpy(c->obuf + c->olen, bytes, n);
	queue_tail(c, n, it, false);
}

/* The bytes of entry e from offset `from`: a pointer and how many in a row. */
static const char *entry_bytes(struct conn *c, struct out_entry *e, uint32_t from, uint32_t *n)
{
	struct kv_item *it;

	if (from < e->len) {
		*n = e->len - from;
		return c->obuf + e->off + from;
	}
	it = kv_item_at(e->ref);
	from -= e->len;
	if (from < it->vlen) {
		*n = it->vlen - from;
		return kv_value(it) + from;
	}
	*n = 2 - (from - it->vlen);
	return "\r\n" + (from - it->vlen);
}

static uint32_t entry_size(struct out_entry *e)
{
	return e->len + (e->ref != 0 ? kv_item_at(e->ref)->vlen + (e->crlf ? 2 : 0) : 0);
}

static void entry_done(struct conn *c)
{
	struct out_entry *e = out_at(c, c->out_head++);

	if (e->ref != 0)
		item_release(kv_item_at(e->ref));
	c->out_sent = 0;
}

const char *conn_out_peek(struct conn *c, uint32_t *n)
{
	while (c->out_head != c->out_ready) {
		struct out_entry *e = out_at(c, c->out_head);

		if (c->out_sent < entry_size(e))
			return entry_bytes(c, e, c->out_sent, n);
		entry_done(c);
	}
	*n = 0;
	return NULL;
}

void conn_out_taken(struct conn *c, uint32_t n)
{
	c->out_sent += n;
}

uint32_t conn_out_released(struct conn *c)
{
	uint32_t total = 0;

	for (uint32_t i = c->out_head; i != c->out_ready; i++)
		total += entry_size(out_at(c, i));
	return total - c->out_sent;
}

void conn_out_drop(struct conn *c)
{
	while (c->out_head != c->out_tail)
		entry_done(c);
	c->out_ready = c->out_tail;
	c->out_sent = 0;
}

/* Copies released replies into lwIP's send buffer while it has room. */
static void conn_send(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;
	const char *p;
	uint32_t n;

	while ((p = conn_out_peek(c, &n)) != NULL) {
		if (n > tcp_sndbuf(pcb))
			n = tcp_sndbuf(pcb);
		if (n > 0xffff)
			n = 0xffff;
		if (n == 0 || tcp_write(pcb, p, (u16_t)n,
		    TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) != ERR_OK)
			break;		/* full, or out of segments: sent or poll retries */
		conn_out_taken(c, n);
	}
	tcp_output(pcb);
}

void conn_reset(struct conn *c)
{
	/* Not the buffers: see struct conn. */
	memset(c, 0, offsetof(struct conn, out));
	c->state = PS_LINE;
}

/* Lets go of everything c holds; its pcb is gone or going. */
static void conn_free(struct conn *c)
{
	conn_out_drop(c);
	proto_abandon(c);
	if (c->in != NULL)
		pbuf_free(c->in);
	c->in = NULL;
	c->live = false;
	conn_count--;
}

/* Closes c; ERR_ABRT (which a callback must return) if it had to abort. */
static err_t conn_close(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	conn_free(c);
	return strata_tcp_close(pcb);
}

/* Feeds held input to the protocol while it takes it. */
static void conn_feed(struct conn *c)
{
	if (c->state == PS_GET && !proto_resume(c))
		return;
	while (c->in != NULL) {
		struct pbuf *q = c->in;
		uint32_t avail = q->len - c->in_off;
		uint32_t used = proto_input(c, (char *)q->payload + c->in_off, avail);

		tcp_recved(c->pcb, (u16_t)used);
		c->in_off += (u16_t)used;
		if (used < avail)
			return;
		c->in = q->next;
		if (c->in != NULL)
			pbuf_ref(c->in);
		pbuf_free(q);
		c->in_off = 0;
	}
}

/* True when c is done: closing, and every reply sent. */
static bool conn_finished(struct conn *c)
{
	return c->state == PS_CLOSE && c->out_head == c->out_tail;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	(void)pcb;
	if (err != ERR_OK || c == NULL) {
		if (p != NULL)
			pbuf_free(p);
		return err;
	}
	if (p == NULL)
		return conn_close(c);	/* the peer closed: unanswered requests go too */
	if (c->in == NULL)
		c->in = p;
	else
		pbuf_cat(c->in, p);
	conn_feed(c);
	conn_send(c);
	if (conn_finished(c))
		return conn_close(c);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	(void)pcb;
	(void)len;
	conn_send(c);
	if (conn_finished(c))
		return conn_close(c);
	return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	return on_sent(arg, pcb, 0);
}

/* The pcb is gone already (reset, or lwIP gave up): only our state is left. */
static void on_err(void *arg, err_t err)
{
	(void)err;
	if (arg != NULL)
		conn_free(arg);
}

static const struct strata_tcp_ops conn_ops = {
	.recv = on_recv,
	.sent = on_sent,
	.err = on_err,
	.poll = on_poll,
	.poll_ticks = POLL_TICKS,
};

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = NULL;

	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	for (int i = 0; i < KV_TCP_CONNS && c == NULL; i++)
		if (!conns[i].live)
			c = &conns[i];
	if (c == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	conn_reset(c);
	c->pcb = pcb;
	c->live = true;
	conn_count++;
	conn_total++;
	strata_tcp_attach(pcb, c, &conn_ops);
	return ERR_OK;
}

bool conn_listen(uint16_t port)
{
	struct tcp_pcb *t = tcp_new();

	if (t == NULL || tcp_bind(t, IP4_ADDR_ANY, port) != ERR_OK)
		return false;
	if ((t = tcp_listen_with_backlog(t, KV_TCP_CONNS)) == NULL)
		return false;
	tcp_accept(t, on_accept);
	return true;
}

void conn_release_all(void)
{
	/*
	 * Written only where it changes: a store to a connection's page, even
	 * of the value it holds, makes the page one more for the next
	 * checkpoint to write (it was all 128 of them, every pass).
	 */
	for (int i = 0; i < KV_TCP_CONNS; i++)
		if (conns[i].live && conns[i].out_ready != conns[i].out_tail)
			conns[i].out_ready = conns[i].out_tail;
}

bool conn_flush_all(void)
{
	bool more = false;

	for (int i = 0; i < KV_TCP_CONNS; i++) {
		struct conn *c = &conns[i];

		if (!c->live)
			continue;
		conn_send(c);
		if (conn_finished(c)) {
			conn_close(c);
			continue;
		}
		if ((c->in != NULL || c->state == PS_GET) && conn_room(c, REQUEST_REPLY_ROOM))
			more = true;
	}
	return more;
}

void conn_feed_all(void)
{
	for (int i = 0; i < KV_TCP_CONNS; i++)
		if (conns[i].live)
			conn_feed(&conns[i]);
}

void conn_abort_all(void)
{
	for (int i = 0; i < KV_TCP_CONNS; i++) {
		struct conn *c = &conns[i];

		if (c->live) {
			struct tcp_pcb *pcb = c->pcb;

			strata_tcp_detach(pcb);
			conn_free(c);
			tcp_abort(pcb);
		}
	}
}
