/*
 * Layer 0's own half of the address space (the upper canonical half).
 * Layer 1's half is abi/strata/layout.h.
 *
 *   0xffff_8000_0000_0000  direct map: physical address P at DIRECT_BASE + P
 *   0xffff_fc00_0000_0000  layer-0 tables sized at boot (the page cache's)
 *   0xffff_fd00_0000_0000  device MMIO (LAPIC, PCI BARs), uncached
 *   0xffff_fe00_0000_0000  layer-0 stacks, each with an unmapped guard page below
 *   0xffff_ffff_8000_0000  layer 0's image (linked here, loaded at KERNEL_PHYS)
 */
#ifndef MEMLAYOUT_H
#define MEMLAYOUT_H

#define DIRECT_BASE	0xffff800000000000
#define AREA_BASE	0xfffffc0000000000
#define MMIO_BASE	0xfffffd0000000000
#define STACKS_BASE	0xfffffe0000000000
#define KERNEL_BASE	0xffffffff80000000
#define KERNEL_PHYS	0x0000000000200000

/* Layer-0 stack size (kernel stack and each IST stack); a guard page below each. */
#define L0_STACK_SIZE	0x4000

/* The boot page tables direct-map this much; vm_init maps the rest of RAM. */
#define BOOT_DIRECT_MAP	0x100000000

#endif
