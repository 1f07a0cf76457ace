/* The whole Strata fault ABI: include this one. */
#ifndef STRATA_ABI_H
#define STRATA_ABI_H

#include "version.h"
#include "layout.h"
#include "disk.h"
#include "ring.h"
#include "net.h"
#include "trap.h"
#include "info.h"
#include "payload.h"
#include "exit.h"

#endif
