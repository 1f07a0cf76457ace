/*
 * kvplain: kvstore's program (layer1/kvplain/program names it) under a
 * header without STRATA_PAYLOAD_EXTSYNC, so frames leave at their doorbell:
 * durable=sync (the default here: the payload commits before it replies)
 * and durable=interval (replies at once, periodic checkpoints).  Its
 * console lines are kvstore's, "kvstore: up ..." included.
 */
#include <strata.h>

STRATA_PAYLOAD_NET("kvplain", 0, 0, 256, 256);
