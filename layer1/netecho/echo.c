/*
 * The echo service on port 7.  UDP sends each datagram back in its own
 * pbuf.  TCP queues what arrived, writes as much as the send buffer takes,
 * and opens the receive window (tcp_recved) only for bytes already queued
 * for sending: a client that sends faster than it reads is slowed by TCP
 * itself, and no byte is ever dropped or held without bound.
 */
#include <strata.h>

#include "lwip/mem.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "strata_tcp.h"
#include "netecho.h"

#define ECHO_PORT	7
/* tcp_poll's interval, in lwIP's half-second ticks: retries after ERR_MEM. */
#define POLL_TICKS	2

/* One TCP connection. */
struct conn {
	struct tcp_pcb *pcb;
	struct pbuf *pending;	/* received, not yet queued for sending */
	u16_t offset;		/* bytes of pending's first pbuf already queued */
	bool closing;		/* the peer closed: close once pending is sent */
};

static void udp_echo(void *arg, struct udp_pcb *pcb, struct pbuf *p,
    const ip_addr_t *addr, u16_t port)
{
	(void)arg;
	udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}

static void conn_free(struct conn *c)
{
	if (c->pending != NULL)
		pbuf_free(c->pending);
	mem_free(c);
}

/*
 * Ends the connection; an abort when a graceful close cannot be queued, and
 * then ERR_ABRT, which the callback must return to lwIP.
 */
static err_t conn_close(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	conn_free(c);
	return strata_tcp_close(pcb);
}

/* Drops pending's first pbuf, keeping the rest of the chain. */
static void pending_pop(struct conn *c)
{
	struct pbuf *first = c->pending;

	c->pending = first->next;
	if (c->pending != NULL)
		pbuf_ref(c->pending);
	pbuf_free(first);
	c->offset = 0;
}

/*
 * Queues as much of pending as the send buffer and queue take, and opens
 * the receive window by as much; closes once the peer has closed and all
 * is queued.  Returns what the calling callback must return.
 */
static err_t conn_send(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	while (c->pending != NULL) {
		struct pbuf *q = c->pending;
		u16_t n = q->len - c->offset;
		u8_t flags = TCP_WRITE_FLAG_COPY;

		if (n > tcp_sndbuf(pcb))
			n = tcp_sndbuf(pcb);
		if (n == 0 && q->len != 0)
			break;
		if (q->next != NULL || n < q->len - c->offset)
			flags |= TCP_WRITE_FLAG_MORE;
		if (n > 0 && tcp_write(pcb, (u8_t *)q->payload + c->offset, n, flags) != ERR_OK)
			break;		/* out of segments or heap: poll or sent retries */
		tcp_recved(pcb, n);
		c->offset += n;
		if (c->offset == q->len)
			pending_pop(c);
	}
	tcp_output(pcb);
	if (c->closing && c->pending == NULL)
		return conn_close(c);
	return ERR_OK;
}

static err_t tcp_echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	(void)pcb;
	if (err != ERR_OK) {
		if (p != NULL)
			pbuf_free(p);
		return err;
	}
	if (p == NULL)
		c->closing = true;
	else if (c->pending == NULL)
		c->pending = p;
	else
		pbuf_cat(c->pending, p);
	return conn_send(c);
}

static err_t tcp_echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	return conn_send(arg);
}

static err_t tcp_echo_poll(void *arg, struct tcp_pcb *pcb)
{
	(void)pcb;
	return conn_send(arg);
}

/* The pcb is gone already (reset, or lwIP gave up): only our state is left. */
static void tcp_echo_err(void *arg, err_t err)
{
	(void)err;
	if (arg != NULL)
		conn_free(arg);
}

static const struct strata_tcp_ops echo_ops = {
	.recv = tcp_echo_recv,
	.sent = tcp_echo_sent,
	.err = tcp_echo_err,
	.poll = tcp_echo_poll,
	.poll_ticks = POLL_TICKS,
};

static err_t tcp_echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c;

	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	if ((c = mem_calloc(1, sizeof *c)) == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pcb = pcb;
	strata_tcp_attach(pcb, c, &echo_ops);
	return ERR_OK;
}

void echo_start(void)
{
	struct udp_pcb *u = udp_new();
	struct tcp_pcb *t = tcp_new();

	LWIP_ASSERT("echo: no pcb", u != NULL && t != NULL);
	udp_bind(u, IP4_ADDR_ANY, ECHO_PORT);
	udp_recv(u, udp_echo, NULL);
	tcp_bind(t, IP4_ADDR_ANY, ECHO_PORT);
	t = tcp_listen(t);
	tcp_accept(t, tcp_echo_accept);
}
