/*
 * The stage profile of profile.h: the totals and their report.
 */
#include "defs.h"
#include "profile.h"

bool prof_on;
struct prof_total prof[PROF_N];

static const char *const names[PROF_N] = {
	[PROF_FAULT] = "fault", [PROF_REAP] = "reap", [PROF_WAIT] = "wait",
	[PROF_READ] = "read", [PROF_EVICT] = "evict", [PROF_STEAL] = "steal",
	[PROF_ALLOC] = "alloc", [PROF_RECYCLE] = "recycle", [PROF_COMPACT] = "compact", [PROF_MAP] = "map", [PROF_ISSUE] = "issue", [PROF_SUBMIT] = "submit",
	[PROF_IRQ] = "irq", [PROF_RA_IDLE] = "raidle", [PROF_AROUND] = "around", [PROF_PREFETCH] = "pftrap",
	[PROF_PF_SUBMIT] = "pfsubmi", [PROF_PF_WAIT] = "pfwait", [PROF_TX] = "tx", [PROF_TX_BATCH] = "txbatch", [PROF_TX_WAIT] = "txwait",
	[PROF_TX_RUN] = "txrun", [PROF_TX_FLUSH] = "txflush", [PROF_TX_KICK] = "txkick", [PROF_TX_NOTIFY] = "txnotif",
	[PROF_TX_POLL] = "txpoll", [PROF_TX_GIVE] = "txgive",
	[PROF_RX_WAIT] = "rxwait", [PROF_RX_IDLE] = "rxidle", [PROF_RX_WAKE] = "rxwake", [PROF_RX_TURN] = "rxturn",
	[PROF_TX_HELD] = "txheld", [PROF_CP_DEFER] = "cpdefer", [PROF_CP_PAUSE] = "cppause", [PROF_CP_CLEAN] = "cpclean",
	[PROF_J_WRITE] = "jwrite", [PROF_J_SEAL] = "jseal",
	[PROF_J_POSTSEAL] = "jpostse", [PROF_J_ORDER] = "jorder", [PROF_J_FLUSH] = "jflush",
};

/* ns for TSC ticks: mult is 32.32, the product wider than 64 bits. */
static uint64_t ns_of(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * timer_tsc_ns_mult()) >> 32);
}

void profile_print(void)
{
	if (!prof_on)
		return;
	for (int s = 0; s < PROF_N; s++) {
		uint64_t ns = ns_of(prof[s].ticks);

		if (prof[s].calls == 0)
			continue;
		kprintf("strata: profile: %-7s %8lu calls %9lu us %7lu ns each, %7lu least\n", names[s],
		    (unsigned long)prof[s].calls, (unsigned long)(ns / 1000),
		    (unsigned long)(ns / prof[s].calls), (unsigned long)ns_of(prof[s].least));
	}
}
