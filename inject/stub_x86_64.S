/*
 * stub_x86_64.S - the loader thread's start routine, copied byte for byte
 * into a page of the target (so it must be position-independent: only
 * relative jumps and loads through %rbx). `attach` starts it with
 * pthread_create(&tid, NULL, stub, block); it does
 *     h = dlopen(block.path, block.flags);   on failure: result = -1000
 *     f = dlsym(h, block.name);              on failure: result = -1001
 *     result = f(block.options);
 * copies dlerror()'s text into the block on failure, then sets done = 1
 * (x86 keeps stores in order, so done is seen after result and the text).
 * The byte at tl_stub_trap is an int3: remote calls return to it.
 * These bytes are data to threadlens itself, never executed by it.
 */
#include "stub_layout.h"

    .section .rodata
    .globl tl_stub_begin, tl_stub_end, tl_stub_trap, tl_stub_entry
    .hidden tl_stub_begin, tl_stub_end, tl_stub_trap, tl_stub_entry
tl_stub_begin:
tl_stub_trap:
    int3
    .p2align 4, 0xcc
tl_stub_entry:
    push %rbx                       /* callee-saved; also aligns the stack to 16 */
    mov %rdi, %rbx                  /* the block */
    lea TL_BLK_PATH(%rbx), %rdi
    mov TL_BLK_FLAGS(%rbx), %esi
    call *TL_BLK_DLOPEN(%rbx)
    test %rax, %rax
    jz .Lopen_failed
    mov %rax, %rdi
    lea TL_BLK_NAME(%rbx), %rsi
    call *TL_BLK_DLSYM(%rbx)
    test %rax, %rax
    jz .Lsym_failed
    lea TL_BLK_OPTIONS(%rbx), %rdi
    call *%rax
    mov %rax, TL_BLK_RESULT(%rbx)
    jmp .Ldone
.Lopen_failed:
    movq $TL_STUB_EDLOPEN, TL_BLK_RESULT(%rbx)
    jmp .Lerror_text
.Lsym_failed:
    movq $TL_STUB_EDLSYM, TL_BLK_RESULT(%rbx)
.Lerror_text:
    mov TL_BLK_DLERROR(%rbx), %rax
    test %rax, %rax
    jz .Ldone
    call *%rax
    test %rax, %rax
    jz .Ldone
    lea TL_BLK_ERRTEXT(%rbx), %rdi
    mov $(TL_BLK_ERRTEXT_MAX - 1), %ecx
.Lcopy:
    movb (%rax), %dl
    movb %dl, (%rdi)
    test %dl, %dl
    jz .Ldone
    inc %rax
    inc %rdi
    dec %ecx
    jnz .Lcopy
    movb $0, (%rdi)
.Ldone:
    movq $1, TL_BLK_DONE(%rbx)
    xor %eax, %eax
    pop %rbx
    ret
tl_stub_end:

    .section .note.GNU-stack, "", @progbits
