/*
 * memcached over UDP on port 11211: each datagram starts with memcached's
 * 8-byte frame header (request id, sequence number, datagram count,
 * reserved, each 16 bits big-endian) and carries one whole request; the
 * reply goes back in as many datagrams as it needs, at most
 * UDP_DATAGRAM_MAX bytes each with the header, numbered 0..count-1 and all
 * carrying the request's id and the count, as memcached does.
 *
 * A request runs through the same protocol code as a TCP connection's
 * (proto.c), on a connection of its own that lives for that one datagram
 * (memcached keeps no state between UDP requests either).  Its replies are
 * queued and released like TCP's (main.c's release), so under
 * durable=sync no datagram leaves before the commit that covers it.
 *
 * Dropped without a reply, as memcached drops them: datagrams shorter than
 * the header or with nothing after it, and requests spread over several
 * datagrams (count other than 1, or sequence other than 0).  A request
 * whose value is cut short by the datagram's end is abandoned unanswered.
 */
#include "kvstore.h"

#include "lwip/pbuf.h"
#include "lwip/udp.h"

#define UDP_HEADER_BYTES	8
/* memcached's UDP_MAX_PAYLOAD_SIZE: a reply datagram, header included. */
#define UDP_DATAGRAM_MAX	1400
#define UDP_CHUNK		(UDP_DATAGRAM_MAX - UDP_HEADER_BYTES)

/* One request being answered. */
struct udp_req {
	bool busy;
	ip_addr_t addr;
	u16_t port;
	uint16_t id;
	uint32_t total;		/* bytes of the reply: set once released */
	uint16_t count;		/* datagrams of the reply: set once released */
	uint16_t seq;		/* the next one to send */
	struct conn c;
};

static struct udp_req reqs[KV_UDP_SLOTS];
static struct udp_pcb *upcb;
uint64_t udp_dropped;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A reply that cannot be sent whole is replaced by memcached's words for it. */
static void reply_too_long(struct conn *c)
{
	conn_out_drop(c);
	conn_printf(c, "SERVER_ERROR out of memory writing get response\r\n");
}

static void req_free(struct udp_req *r)
{
	conn_out_drop(&r->c);
	r->busy = false;
}

/*
 * Sends the reply's datagrams from r->seq on, then frees r; false if lwIP
 * had no pbuf for the next one (the rest goes on a later pass).
 */
static bool req_send(struct udp_req *r)
{
	while (r->seq < r->count) {
		/* Every datagram but the last is full: the reply's size says where we are. */
		uint32_t want = r->total - (uint32_t)r->seq * UDP_CHUNK;
		uint16_t len = (uint16_t)(want < UDP_CHUNK ? want : UDP_CHUNK);
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, UDP_HEADER_BYTES + len, PBUF_RAM);
		uint8_t *d;
		uint32_t got = 0;

		if (p == NULL)
			return false;
		d = p->payload;
		put_be16(d, r->id);
		put_be16(d + 2, r->seq);
		put_be16(d + 4, r->count);
		put_be16(d + 6, 0);
		while (got < len) {
			uint32_t n;
			const char *s = conn_out_peek(&r->c, &n);

			if (n > len - got)
				n = len - got;
			memcpy(d + UDP_HEADER_BYTES + got, s, n);
			conn_out_taken(&r->c, n);
			got += n;
		}
		/*
		 * A datagram lwIP fails to send (no memory for its headers) is
		 * lost as the network may lose any: the client retries.  The
		 * ring itself never refuses: a full one blocks until it drains.
		 */
		udp_sendto(upcb, p, &r->addr, r->port);
		pbuf_free(p);
		r->seq++;
	}
	req_free(r);
	return true;
}

/* Runs the request in buf (n bytes, past the header) on r's connection. */
static void req_run(struct udp_req *r, char *buf, uint32_t n)
{
	struct conn *c = &r->c;
	uint32_t used;

	conn_reset(c);
	used = proto_input(c, buf, n);
	if (c->state == PS_GET || (used < n && c->state != PS_CLOSE)) {
		/* A reply longer than a connection's queue. */
		proto_abandon(c);
		reply_too_long(c);
	} else if (c->state != PS_LINE && c->state != PS_CLOSE) {
		proto_abandon(c);	/* a value or binary body cut short */
	}
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
    u16_t port)
{
	static char buf[65536];
	struct udp_req *r = NULL;
	uint16_t len = p->tot_len;

	(void)arg;
	(void)pcb;
	pbuf_copy_partial(p, buf, len, 0);
	pbuf_free(p);
	if (len <= UDP_HEADER_BYTES || be16((uint8_t *)buf + 2) != 0 ||
	    be16((uint8_t *)buf + 4) != 1) {
		udp_dropped++;
		return;
	}
	for (int i = 0; i < KV_UDP_SLOTS && r == NULL; i++)
		if (!reqs[i].busy)
			r = &reqs[i];
	if (r == NULL) {
		udp_dropped++;	/* every slot waits: the client retries, as UDP's do */
		return;
	}
	r->busy = true;
	ip_addr_copy(r->addr, *addr);
	r->port = port;
	r->id = be16((uint8_t *)buf);
	r->count = 0;
	r->seq = 0;
	req_run(r, buf + UDP_HEADER_BYTES, len - UDP_HEADER_BYTES);
}

bool udp_listen(uint16_t port)
{
	if ((upcb = udp_new()) == NULL || udp_bind(upcb, IP4_ADDR_ANY, port) != ERR_OK)
		return false;
	udp_recv(upcb, on_recv, NULL);
	return true;
}

void udp_release_all(void)
{
	for (int i = 0; i < KV_UDP_SLOTS; i++) {
		struct udp_req *r = &reqs[i];

		if (r->busy && r->count == 0) {
			r->c.out_ready = r->c.out_tail;
			r->total = conn_out_released(&r->c);
			if (r->total > UINT16_MAX * UDP_CHUNK) {
				/* More datagrams than the header's 16-bit count can number. */
				reply_too_long(&r->c);
				r->c.out_ready = r->c.out_tail;
				r->total = conn_out_released(&r->c);
			}
			r->count = (uint16_t)((r->total + UDP_CHUNK - 1) / UDP_CHUNK);
			if (r->count == 0)
				req_free(r);	/* noreply, or quit: nothing to send */
		}
	}
}

bool udp_flush_all(void)
{
	bool more = false;

	for (int i = 0; i < KV_UDP_SLOTS; i++)
		if (reqs[i].busy && reqs[i].count != 0 && !req_send(&reqs[i]))
			more = true;
	return more;
}
