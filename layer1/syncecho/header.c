/*
 * syncecho: netecho's program (layer1/syncecho/program names it: the echo
 * on port 7, the counter on port 8) under a header with
 * STRATA_PAYLOAD_EXTSYNC.  With a disk, every reply leaves the machine only
 * once a checkpoint holding the state that produced it is durable; the
 * program has no durability code of its own (doc/abi.md, "External
 * synchrony").  Without a disk it behaves as netecho.  Its console lines
 * are netecho's, "netecho: up ..." included.
 */
#include <strata.h>

STRATA_PAYLOAD_FLAGS("syncecho", 0, 0, 256, 256, STRATA_PAYLOAD_EXTSYNC);
