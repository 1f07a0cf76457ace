/* A TCP connection's callbacks set, taken back and closed (strata_tcp.h). */
#include "strata_tcp.h"

void strata_tcp_attach(struct tcp_pcb *pcb, void *arg, const struct strata_tcp_ops *ops)
{
	tcp_arg(pcb, arg);
	tcp_recv(pcb, ops->recv);
	tcp_sent(pcb, ops->sent);
	tcp_err(pcb, ops->err);
	tcp_poll(pcb, ops->poll, ops->poll_ticks);
	tcp_nagle_disable(pcb);
}

void strata_tcp_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

err_t strata_tcp_close(struct tcp_pcb *pcb)
{
	strata_tcp_detach(pcb);
	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	tcp_abort(pcb);
	return ERR_ABRT;
}
