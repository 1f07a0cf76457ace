/*
 * Faults layer 0 raises in itself on purpose, to prove that each ends in a
 * report and an exit code, never a silent reset (layer-0 command line
 * selftest=NAME; tests/integration/cases.sh runs them).  The device tests
 * break a device and let the boot go on, so that the first wait on it, in
 * whichever path, must end in a DEVICE report rather than hang; or lose the
 * device's notifications, so that a wait must notify it again and go on.
 */
#include "defs.h"
#include "blkdev.h"
#include "netdev.h"

/* In assembly: a C division by zero is undefined, and the compiler may drop it. */
static void divide(void)
{
	__asm__ volatile("xor %%ecx, %%ecx; mov $1, %%eax; xor %%edx, %%edx; div %%ecx"
	    ::: "rax", "rcx", "rdx");
}

static void page_fault(void)
{
	/* In layer 0's half, between the direct map and the MMIO area: never mapped. */
	(void)*(volatile uint64_t *)(DIRECT_BASE + 0x7f0000000000ULL);
}

/* Deep enough to run off any layer-0 stack into its guard page. */
static int overflow(int depth)
{
	volatile char frame[512];

	frame[0] = (char)depth;
	if (depth < 1000000)	/* never reached: the guard page stops it first */
		return overflow(depth + 1) + frame[0];
	return frame[0];
}

/* A divide error whose gate is not present: #NP while delivering #DE is a #DF. */
static void double_fault(void)
{
	cpu_break_gate(0);
	divide();
}

/* The first disk or NIC, which self-test `test` needs. */
static struct blkdev *first_disk(const char *test)
{
	if (blkdev_get(0) == 0)
		panic("self-test %s: no disk", test);
	return blkdev_get(0);
}

static struct netdev *first_nic(const char *test)
{
	if (netdev_get(0) == 0)
		panic("self-test %s: no NIC", test);
	return netdev_get(0);
}

/*
 * The device tests, if name is one: a malformed chain makes the device ask
 * for a reset; a deaf one loses its notifications until a wait notifies it
 * again.  The boot goes on to its first wait.
 */
static bool device_test(const char *name)
{
	if (option_is(name, "disk-needs-reset"))
		virtio_blk_break(first_disk("disk-needs-reset"));
	else if (option_is(name, "net-needs-reset"))
		virtio_net_break(first_nic("net-needs-reset"));
	else if (option_is(name, "disk-deaf"))
		virtio_blk_deafen(first_disk("disk-deaf"));
	else if (option_is(name, "net-deaf"))
		virtio_net_deafen(first_nic("net-deaf"));
	else
		return false;
	return true;
}

void selftest_run(const char *name)
{
	kprintf("strata: self-test %s\n", name);
	if (device_test(name))
		return;
	if (option_is(name, "divide"))
		divide();
	else if (option_is(name, "l0-pagefault"))
		page_fault();
	else if (option_is(name, "l0-stack-overflow"))
		overflow(0);
	else if (option_is(name, "double-fault"))
		double_fault();
	else
		panic("unknown self-test (divide, l0-pagefault, l0-stack-overflow, double-fault, "
		    "disk-needs-reset, net-needs-reset, disk-deaf, net-deaf)");
	panic("self-test did not fault");
}
