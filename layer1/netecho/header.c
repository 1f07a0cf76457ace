/*
 * netecho's payload header, alone in its file: syncecho builds every other
 * file of netecho under a header of its own (layer1/syncecho/header.c).
 */
#include <strata.h>

STRATA_PAYLOAD_NET("netecho", 0, 0, 256, 256);
