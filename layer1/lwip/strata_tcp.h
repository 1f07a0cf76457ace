/*
 * What every TCP server on lwIP's raw API does with a connection's pcb, once
 * here rather than in each payload: hand it a set of callbacks, take them
 * back, close it.
 */
#ifndef STRATA_TCP_H
#define STRATA_TCP_H

#include "lwip/tcp.h"

/* A server's callbacks for one connection (lwIP's own types). */
struct strata_tcp_ops {
	tcp_recv_fn recv;
	tcp_sent_fn sent;
	tcp_err_fn err;
	tcp_poll_fn poll;
	u8_t poll_ticks;	/* poll's interval, in lwIP's half-second ticks */
};

/* Gives pcb its callbacks and arg, with Nagle off (replies go at once). */
void strata_tcp_attach(struct tcp_pcb *pcb, void *arg, const struct strata_tcp_ops *ops);

/* Takes every callback and the arg back: lwIP calls nothing of ours for pcb again. */
void strata_tcp_detach(struct tcp_pcb *pcb);

/*
 * Detaches and closes pcb; aborts it when a graceful close cannot be
 * queued, and then returns ERR_ABRT, which a calling callback must return
 * to lwIP.
 */
err_t strata_tcp_close(struct tcp_pcb *pcb);

#endif
