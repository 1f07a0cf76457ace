; The empty kernel of the boot benchmark: a multiboot2 image that GRUB loads
; exactly as it loads layer 0, and that prints one line and powers off at once.
; The time to its line is the floor that boot_to_layer1_ms is compared with.
bits 32
section .text
align 8
mb2_header:
	dd 0xe85250d6			; multiboot2 magic
	dd 0				; architecture: i386
	dd mb2_end - mb2_header
	dd -(0xe85250d6 + 0 + (mb2_end - mb2_header))
	dw 0, 0				; end tag
	dd 8
mb2_end:

global _start
_start:
	mov esi, message
.next:
	lodsb
	test al, al
	jz .done
	mov ah, al
.wait:
	mov dx, 0x3fd			; COM1 line status: transmitter empty?
	in al, dx
	test al, 0x20
	jz .wait
	mov al, ah
	mov dx, 0x3f8
	out dx, al
	jmp .next
.done:
	mov dx, 0xf4			; isa-debug-exit
	xor eax, eax
	out dx, eax
.halt:
	hlt
	jmp .halt

; GRUB leaves the cursor after a bare CR: start a line of our own.
message: db 13, 10, "floor: first byte", 13, 10, 0
