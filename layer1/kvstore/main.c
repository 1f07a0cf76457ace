/*
 * kvstore: a memcached-compatible key-value store whose table is the disk
 * (table.c), speaking memcached's ASCII (proto.c) and binary (binary.c)
 * protocols on TCP port 11211, and the ASCII one in memcached's UDP frames
 * on UDP port 11211 (udp.c), over lwIP on the NIC rings.
 *
 * The same program runs as two payloads: kvstore, whose header asks for
 * external synchrony (header.c), and kvplain (layer1/kvplain), whose header
 * does not.  Which one it is decides the durability modes it can give.
 *
 * Arguments (any order):
 *   durable=extsync    (kvstore's default and only mode) replies are sent at
 *                      once and layer 0 holds each frame until a checkpoint
 *                      covering the state behind it is durable
 *   durable=sync       (kvplain's default) a command's reply is sent only
 *                      after a commit covering its changes has returned:
 *                      one commit per pass of the main loop, shared by
 *                      every request that pass received, on every
 *                      connection
 *   durable=interval   (kvplain) replies at once; layer 0's periodic
 *                      checkpoints (L0ARGS checkpoint=MS, 1 s by default)
 *                      make changes durable, so a crash may lose the last
 *                      interval
 *   now=SECONDS        the host's unix time, for absolute expiry times
 *   ip=A.B.C.D gw=A.B.C.D mask=A.B.C.D   the address (default: QEMU's
 *                      user network, 10.0.2.15/24 via 10.0.2.2)
 *   exit-after=N       close cleanly and exit 0 after N seconds (tests)
 *
 * Prints "kvstore: up ADDRESS port 11211 durable=MODE" once it answers.
 * Exit codes: 0 after exit-after, 2 for bad arguments, 3 without a NIC,
 * 4 without a disk large enough for the table, 5 for a durability mode
 * the payload's header cannot give (which payload to run instead is said).
 */
#include <strata.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/timeouts.h"

#include "strata_netif.h"
#include "kvstore.h"

#define KV_PORT		11211
/* The longest sleep between two looks at the clock. */
#define WAIT_MAX_NS	(100 * 1000000ULL)
/* Index entries the expiry crawler looks at per pass of the loop. */
#define CRAWL_PER_PASS	64

enum durable { DURABLE_SYNC, DURABLE_INTERVAL, DURABLE_EXTSYNC };
#define DURABLE_MODES	3

struct config {
	ip4_addr_t ip, mask, gw;
	enum durable durable;
	uint64_t now_unix;	/* 0: not given */
	uint64_t exit_after_s;	/* 0: never */
};

static const char *const durable_names[DURABLE_MODES] = { "sync", "interval", "extsync" };

/* True if this payload's header asks layer 0 to hold frames (kvstore, not kvplain). */
static bool header_extsync(void)
{
	return (strata_payload_note.hdr.flags & STRATA_PAYLOAD_EXTSYNC) != 0;
}

static bool parse_durable(const char *s, enum durable *d)
{
	for (int i = 0; i < DURABLE_MODES; i++) {
		if (strcmp(s, durable_names[i]) == 0) {
			*d = (enum durable)i;
			return true;
		}
	}
	return false;
}

/* Reads one of kvstore's own arguments; false if a is none, or malformed. */
static bool own_arg(const char *a, struct config *c)
{
	if (strncmp(a, "durable=", 8) == 0)
		return parse_durable(a + 8, &c->durable);
	if (strncmp(a, "now=", 4) == 0)
		return strata_parse_u64(a + 4, 10, &c->now_unix);
	if (strncmp(a, "exit-after=", 11) == 0)
		return strata_parse_u64(a + 11, 10, &c->exit_after_s);
	return false;
}

/* Fills c from argv; false (after saying why) on a bad argument. */
static bool parse_args(int argc, char **argv, struct config *c)
{
	strata_netif_qemu_addr(&c->ip, &c->mask, &c->gw);
	c->durable = header_extsync() ? DURABLE_EXTSYNC : DURABLE_SYNC;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int addr = strata_netif_addr_arg(a, &c->ip, &c->mask, &c->gw);

		if (addr < 0 || (addr == 0 && !own_arg(a, c))) {
			strata_printf("kvstore: bad argument: %s (durable=extsync|sync|interval now=S "
			    "exit-after=S ip= gw= mask=)\n", a);
			return false;
		}
	}
	return true;
}

/*
 * False, after saying why and what to run instead, if the payload's header
 * cannot give mode: with the header's flag layer 0 holds every frame until
 * a checkpoint, so replies cannot leave at once (interval) and a commit
 * before each would be paid twice (sync); without it nothing holds them,
 * so extsync would send replies whose state a crash can take back.
 */
static bool mode_fits_header(enum durable mode)
{
	const char *name = strata_payload_note.hdr.name;

	if (header_extsync() && mode != DURABLE_EXTSYNC) {
		strata_printf("kvstore: durable=%s needs a payload header without "
		    "STRATA_PAYLOAD_EXTSYNC, and %s's holds every reply until a checkpoint: "
		    "run kvplain for durable=%s\n", durable_names[mode], name, durable_names[mode]);
		return false;
	}
	if (!header_extsync() && mode == DURABLE_EXTSYNC) {
		strata_printf("kvstore: durable=extsync needs the payload header's "
		    "STRATA_PAYLOAD_EXTSYNC, which %s's lacks: run kvstore for durable=extsync\n",
		    name);
		return false;
	}
	return true;
}

/*
 * Lets the replies of this pass go.  Under durable=sync, a pass that
 * changed the table first commits; if the commit fails, the replies wait
 * and the next pass tries again.  Under durable=extsync they go at once,
 * and layer 0 holds the frames until a checkpoint covers them.
 */
static void release(enum durable mode)
{
	if (mode == DURABLE_SYNC && kv_dirty) {
		if (strata_commit() != 0)
			return;
		kv_dirty = false;
	}
	conn_release_all();
	udp_release_all();
}

int main(int argc, char **argv)
{
	static struct config cfg;
	const struct strata_info *info = strata_info();
	struct netif *netif;
	uint64_t end = 0, resumes = info->resumes;
	char ip[IP4ADDR_STRLEN_MAX];

	if (!parse_args(argc, argv, &cfg))
		return 2;
	if (!mode_fits_header(cfg.durable))
		return 5;
	slab_init();
	if (!table_open(cfg.now_unix))
		return 4;
	lwip_init();
	if ((netif = strata_netif_add(&cfg.ip, &cfg.mask, &cfg.gw)) == NULL) {
		strata_puts("kvstore: no NIC rings granted (does the machine have a NIC?)");
		return 3;
	}
	if (!conn_listen(KV_PORT)) {
		strata_puts("kvstore: cannot listen on TCP port 11211");
		return 3;
	}
	if (!udp_listen(KV_PORT)) {
		strata_puts("kvstore: cannot listen on UDP port 11211");
		return 3;
	}
	ip4addr_ntoa_r(netif_ip4_addr(netif), ip, sizeof ip);
	strata_printf("kvstore: up %s port %u durable=%s\n", ip, KV_PORT,
	    durable_names[cfg.durable]);
	if (cfg.exit_after_s != 0)
		end = strata_now_ns() + cfg.exit_after_s * 1000000000ULL;
	for (;;) {
		bool more;

		if (info->resumes != resumes) {
			/* A resume: every peer of the checkpoint's connections is gone. */
			resumes = info->resumes;
			conn_abort_all();
			strata_printf("kvstore: resumed (%llu), %llu items\n",
			    (unsigned long long)resumes, (unsigned long long)kv->curr_items);
		}
		strata_netif_input(netif);
		sys_check_timeouts();
		conn_feed_all();
		release(cfg.durable);
		more = conn_flush_all();
		more |= udp_flush_all();
		table_crawl(CRAWL_PER_PASS);
		if (end != 0 && strata_now_ns() >= end)
			break;
		if (more)
			strata_tx_flush();
		else
			strata_netif_wait(netif, WAIT_MAX_NS);
	}
	conn_abort_all();
	table_close();
	strata_tx_flush();
	strata_printf("kvstore: exit after %llus, %llu items\n",
	    (unsigned long long)cfg.exit_after_s, (unsigned long long)kv->curr_items);
	return 0;
}
