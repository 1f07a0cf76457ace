/*
 * The console ring (abi/strata/ring.h) and the payload's end.  Every slot a
 * doorbell takes goes to the serial port at once, so the console never holds
 * one; the statistics it kept are printed with the rest when layer 1 exits.
 */
#include "defs.h"
#include "layer1.h"
#include "nic.h"
#include "pager.h"
#include "profile.h"
#include "strata/abi.h"

/* The console's take: print the slot, done with it at once. */
static int console_take(struct ring *r, uint32_t i, const struct strata_slot *s)
{
	(void)r;
	(void)i;
	serial_write((const char *)s->data, s->len);
	return RING_TAKE_DONE;
}

static void console_map(struct ring *r, uint64_t va, uint64_t pa, bool writable)
{
	(void)r;
	l1_map(va, pa, PTE_NX | (writable ? PTE_W : 0));
}

/* The console never holds a slot, so there is never anything to wait for. */
static void console_wait(struct ring *r)
{
	(void)r;
	hlt();
}

/* Layer 1 sends on the console: used means written, the data page's dirty bit. */
static bool console_used(struct ring *r, uint32_t i)
{
	pte_t *e = vm_walk(kernel_root, STRATA_SLOT_ADDR(r->base, i), false);

	return e != 0 && vm_leaf_dirty(e);
}

static const struct ring_ops console_ops = {
	.take = console_take,
	.map = console_map,
	.wait = console_wait,
	.used = console_used,
};

void console_load(uint32_t nslots)
{
	for (uint32_t i = 0; i < nslots; i++) {
		l1.console.slot[i].pa = page_or_die("console ring");
		l1.console.slot[i].page = p2v(l1.console.slot[i].pa);
	}
	ring_init(&l1.console, "console", STRATA_CONSOLE_BASE, nslots, page_or_die("doorbell"),
	    &console_ops, 0);
}

void l1_exit(uint32_t code)
{
	pager_print_stats();
	nic_print_stats();
	profile_print();
	kprintf("strata: console: %lu slots in %lu doorbells\n",
	    (unsigned long)l1.console.taken, (unsigned long)l1.console.doorbells);
	kprintf("strata: layer 1 exited with code %u\n", code);
	kprintf("strata: exit %u (payload exit)\n", code);
	machine_exit(code);
}
