; Layer 0's entry from GRUB (multiboot2): 32-bit protected mode, paging off.
; Builds boot page tables (identity and direct map of the first 4 GiB, the
; kernel image at KERNEL_BASE), switches to long mode and calls kmain in the
; higher half with the multiboot2 information's physical address.

%define KERNEL_BASE	0xffffffff80000000
%define MB2_MAGIC	0xe85250d6
%define MB2_ARCH_I386	0
%define PG_P		1
%define PG_W		2
%define PG_PS		0x80

section .multiboot
align 8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; end tag
	dw 0, 0
	dd 8
mb2_header_end:

section .boot
bits 32
global start32
start32:
	cli
	mov esi, eax			; multiboot2 magic
	mov edi, ebx			; multiboot2 information (physical)
	mov esp, boot_stack_top - KERNEL_BASE

	; Long mode or nothing.
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz no_long_mode

	call build_boot_tables

	mov eax, cr4
	or eax, 1 << 5			; PAE
	mov cr4, eax
	mov eax, boot_pml4 - KERNEL_BASE
	mov cr3, eax
	mov ecx, 0xc0000080		; EFER
	rdmsr
	or eax, (1 << 8) | (1 << 11)	; LME, NXE
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1 ; PG, WP, PE
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:start64

; The boot tables: PML4[0] and PML4[256] (the direct map) share one PDPT that
; maps 0..4 GiB with 2 MiB pages; PML4[511] maps the top 2 GiB onto 0..1 GiB.
build_boot_tables:
	push edi
	mov edi, boot_tables_start - KERNEL_BASE
	mov ecx, (boot_tables_end - boot_tables_start) / 4
	xor eax, eax
	rep stosd

	mov eax, boot_pdpt_low - KERNEL_BASE + (PG_P | PG_W)
	mov [boot_pml4 - KERNEL_BASE], eax
	mov [boot_pml4 - KERNEL_BASE + 256 * 8], eax
	mov eax, boot_pdpt_high - KERNEL_BASE + (PG_P | PG_W)
	mov [boot_pml4 - KERNEL_BASE + 511 * 8], eax

	; PDPT_low[i] -> PD i, i = 0..3; PDPT_high[510] -> PD 0.
	mov eax, boot_pd - KERNEL_BASE + (PG_P | PG_W)
	mov edi, boot_pdpt_low - KERNEL_BASE
	mov ecx, 4
.pdpt:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .pdpt
	mov eax, boot_pd - KERNEL_BASE + (PG_P | PG_W)
	mov [boot_pdpt_high - KERNEL_BASE + 510 * 8], eax

	; 2048 PD entries: 2 MiB pages over 0..4 GiB.
	mov edi, boot_pd - KERNEL_BASE
	xor ecx, ecx
.pd:
	mov eax, ecx
	shl eax, 21
	or eax, PG_P | PG_W | PG_PS
	mov [edi + ecx * 8], eax
	mov eax, ecx
	shr eax, 11
	mov [edi + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 2048
	jb .pd
	pop edi
	ret

no_long_mode:
	mov esi, no_long_mode_msg
	mov dx, 0x3f8
.putc:
	lodsb
	test al, al
	jz .halt
	out dx, al
	jmp .putc
.halt:
	hlt
	jmp .halt

no_long_mode_msg:
	db "strata: this CPU has no long mode; layer 0 needs x86-64", 13, 10, 0

align 8
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff		; 0x08: 64-bit code
	dq 0x00cf92000000ffff		; 0x10: data
boot_gdt_ptr:
	dw boot_gdt_ptr - boot_gdt - 1
	dd boot_gdt

bits 64
start64:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor ax, ax
	mov fs, ax
	mov gs, ax
	; Now into the higher half, on the boot stack.
	mov rsp, boot_stack_top
	xor ebp, ebp
	mov edi, edi			; kmain(mbi_phys, magic)
	mov esi, esi
	extern kmain
	mov rax, kmain
	call rax
.hang:
	cli
	hlt
	jmp .hang

section .text
; stack_switch(top, fn): continues on a new stack by calling fn there; never returns.
global stack_switch
stack_switch:
	mov rsp, rdi
	xor ebp, ebp
	call rsi
	ud2

section .bss
align 4096
boot_tables_start:
boot_pml4:	resb 4096
boot_pdpt_low:	resb 4096
boot_pdpt_high:	resb 4096
boot_pd:	resb 4 * 4096
boot_tables_end:
boot_stack:	resb 16384
boot_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
