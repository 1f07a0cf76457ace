/*
 * ABI version.
 *
 * A payload names the version it was built against in its header note
 * (payload.h).  Layer 0 runs it when the majors are equal and the payload's
 * minor is not newer than layer 0's: a minor bump only adds (a new trap, a new
 * info-page field in reserved space, a new header flag that defaults off); a
 * major bump is any change to an existing address, layout, vector or rule.
 */
#ifndef STRATA_VERSION_H
#define STRATA_VERSION_H

#include "types.h"

#define STRATA_ABI_MAJOR	STRATA_U32(1)
#define STRATA_ABI_MINOR	STRATA_U32(5)	/* 1.5: the prefetch trap (doc/abi.md, "Versions") */

#endif
