/*
 * kvstore's payload header, alone in its file: it asks for external
 * synchrony (STRATA_PAYLOAD_EXTSYNC), so layer 0 holds every frame kvstore
 * sends until a checkpoint covering the state behind it is durable, which
 * is durable=extsync, the default.  layer1/kvplain builds every other file
 * of kvstore under a plain header, for durable=sync and durable=interval.
 */
#include <strata.h>

STRATA_PAYLOAD_FLAGS("kvstore", 0, 0, 256, 256, STRATA_PAYLOAD_EXTSYNC);
