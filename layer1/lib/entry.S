/*
 * The payload's ELF entry point.  Layer 0 jumps here with rsp at the stack
 * top, 16-byte aligned with nothing pushed, and rdi = the info page, which
 * passes straight through as strata_start's argument.
 */
	.section .text.start, "ax"
	.globl _start
	.type _start, @function
_start:
	/*
	 * Keep the registers as layer 0 left them (strata_entry_regs, in
	 * runtime.h's ENTRY_* order) so the conformance payload can check the
	 * ABI's entry state.  Only stores: nothing else depends on them.
	 */
	movq %rax, strata_entry_regs+0(%rip)
	movq %rbx, strata_entry_regs+8(%rip)
	movq %rcx, strata_entry_regs+16(%rip)
	movq %rdx, strata_entry_regs+24(%rip)
	movq %rsi, strata_entry_regs+32(%rip)
	movq %rdi, strata_entry_regs+40(%rip)
	movq %rbp, strata_entry_regs+48(%rip)
	movq %rsp, strata_entry_regs+56(%rip)
	movq %r8, strata_entry_regs+64(%rip)
	movq %r9, strata_entry_regs+72(%rip)
	movq %r10, strata_entry_regs+80(%rip)
	movq %r11, strata_entry_regs+88(%rip)
	movq %r12, strata_entry_regs+96(%rip)
	movq %r13, strata_entry_regs+104(%rip)
	movq %r14, strata_entry_regs+112(%rip)
	movq %r15, strata_entry_regs+120(%rip)
	/* pushfq leaves rsp as it found it; rax was saved above. */
	pushfq
	popq %rax
	movq %rax, strata_entry_regs+128(%rip)
	/* rbp = 0 ends the frame-pointer chain that layer 0's backtraces walk. */
	xorl %ebp, %ebp
	/* The ABI promises alignment; enforcing it costs one instruction. */
	andq $-16, %rsp
	call strata_start
	/* strata_start never returns; if it did, fault loudly here. */
	ud2
	.size _start, . - _start

	.section .bss
	.balign 8
	.globl strata_entry_regs
	.type strata_entry_regs, @object
strata_entry_regs:
	.zero 8 * 17
	.size strata_entry_regs, . - strata_entry_regs

	.section .note.GNU-stack, "", @progbits
