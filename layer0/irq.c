/*
 * Device interrupts: each driver that wants one gets a vector of its own
 * from DEVICE_VECTOR_FIRST..DEVICE_VECTOR_LAST, for good (devices are never
 * detached).  A vector per handler means no handler asks its device whether
 * the interrupt was its own, and no vector is shared.
 *
 * Handlers run on the IRQ stack with interrupts off and must be short: they
 * may run in the middle of any layer-0 code that waits with interrupts on.
 */
#include "defs.h"

#define NVECTORS	(DEVICE_VECTOR_LAST - DEVICE_VECTOR_FIRST + 1)

static struct {
	void (*fn)(void *ctx);
	void *ctx;
} handlers[NVECTORS];

int irq_register(void (*fn)(void *ctx), void *ctx)
{
	for (int i = 0; i < NVECTORS; i++) {
		if (handlers[i].fn == 0) {
			handlers[i].fn = fn;
			handlers[i].ctx = ctx;
			return DEVICE_VECTOR_FIRST + i;
		}
	}
	return -1;
}

bool irq_dispatch(uint64_t vector)
{
	uint64_t i = vector - DEVICE_VECTOR_FIRST;

	if (vector < DEVICE_VECTOR_FIRST || i >= NVECTORS || handlers[i].fn == 0)
		return false;
	handlers[i].fn(handlers[i].ctx);
	return true;
}
