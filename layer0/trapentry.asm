; The 256 interrupt entry stubs.  Each pushes a zero error code where the CPU
; pushes none, then its vector, and joins trap_common, which saves the general
; registers as struct trapframe (defs.h) and calls trap().

section .text

%macro STUB 1
stub_%1:
%if %1 = 8 || %1 = 10 || %1 = 11 || %1 = 12 || %1 = 13 || %1 = 14 || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
	; the CPU pushed an error code
%else
	push 0
%endif
	push %1
	jmp trap_common
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
	call trap
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
	add rsp, 16			; vector, error code
	iretq

section .rodata
global trap_stubs
trap_stubs:
%assign v 0
%rep 256
	dq stub_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
