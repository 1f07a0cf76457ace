; The 256 interrupt entry stubs.  Each pushes a zero error code where the CPU
; pushes none, then its vector, then whether an int instruction raised it,
; and joins trap_common, which saves the general registers as struct
; trapframe (defs.h) and calls trap().
;
; A vector whose CPU exception pushes an error code may also be raised by an
; int instruction, which pushes none.  The CPU aligns RSP to 16 before it
; pushes the frame's five words (six with an error code), so on entry RSP is
; 8 modulo 16 without an error code and 0 with one: the stub knows which
; before anything reads the frame.  Other stubs push 0 there and trap()
; works it out (trap.c).

section .text

%macro STUB 1
stub_%1:
%if %1 = 8 || %1 = 10 || %1 = 11 || %1 = 12 || %1 = 13 || %1 = 14 || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
	test rsp, 8
	jz %%cpu
	push 0			; an int instruction: no error code
	push %1
	push 1
	jmp trap_common
%%cpu:
	push %1			; the CPU pushed an error code
	push 0
	jmp trap_common
%else
	push 0
	push %1
	push 0
	jmp trap_common
%endif
%endmacro

%assign v 0
%rep 256
	STUB v
%assign v v + 1
%endrep

extern trap
trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	sub rsp, 8			; 8 words above the aligned base, 15 here: align the call
	call trap
	add rsp, 8
trap_return:
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 24			; by_int, vector, error code
	iretq

; trap_resume(tf): back into the frame tf (a resumed checkpoint's), through
; the same pops and iretq as every trap's return.
global trap_resume
trap_resume:
	mov rsp, rdi
	jmp trap_return

section .rodata
global trap_stubs
trap_stubs:
%assign v 0
%rep 256
	dq stub_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
