/*
 * The payload's ELF entry point.  Layer 0 jumps here with rsp at the stack
 * top, 16-byte aligned with nothing pushed, and rdi = the info page, which
 * passes straight through as strata_start's argument.
 */
	.section .text.start, "ax"
	.globl _start
	.type _start, @function
_start:
	/* rbp = 0 ends the frame-pointer chain that layer 0's backtraces walk. */
	xorl %ebp, %ebp
	/* The ABI promises alignment; enforcing it costs one instruction. */
	andq $-16, %rsp
	call strata_start
	/* strata_start never returns; if it did, fault loudly here. */
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
