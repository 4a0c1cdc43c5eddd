/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xptilab's entry text: one page-aligned section, .xptilab.entry.text.
 *
 * The section is used in two ways, and every instruction in it obeys the
 * rules of both:
 *
 *  - It is aliased (read-only, executable) at the start of the xptilab
 *    area in the cpu_entry_area slot, where the private IDTs point. Under
 *    PTI an interrupt from user mode is delivered on the user page tables,
 *    which map that slot but not the module. The stubs therefore run from
 *    the alias only and reach their data RIP-relative from
 *    xptilab_entry_start, at the fixed offsets of layout.h.
 *
 *  - It is cloned, page by page at its module address, into every shadow
 *    root, so the cr3 round trip below really executes on the shadow root.
 *
 * So: no rel32 call or jump out of the section (no return or retpoline
 * thunks: a plain "ret; int3"), no stack use while a shadow root may be in
 * CR3, no memory the shadow root lacks. objtool is told to skip this file
 * in Kbuild: it is entry code in the IDT sense, never run at the address
 * objtool would validate for the paths it cares about.
 */
#include <linux/linkage.h>
#include <asm/page_types.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include "layout.h"

	.section .xptilab.entry.text, "ax"
	.balign PAGE_SIZE
	.globl xptilab_entry_start
xptilab_entry_start:

/*
 * One stub per vector, XPTILAB_STUB_SIZE bytes apart: push the vector
 * number and go to the common path. The CPU frame (and error code, for the
 * vectors that have one) is below it and is never touched.
 */
	vector = 0
	.rept 256
	.balign XPTILAB_STUB_SIZE
	endbr64
	pushq	$vector
	jmp	xptilab_stub_common
	vector = vector + 1
	.endr

/*
 * Common path. If this CPU's shadow root is in CR3, switch to the full root
 * before anything else can run, and count the event per CPU and vector.
 * Then continue into Linux's own handler for the vector with the stack
 * exactly as the CPU built it: the vector slot is replaced by the handler's
 * address and "ret" jumps there, so no register and no stack byte differs
 * from a direct delivery.
 *
 * An external interrupt (vector >= 32) that arrives at CPL 0 inside a
 * trampoline below is different: that context runs with the user's GS and
 * on the entry stack, where no Linux handler may run. If the shadow root is
 * in CR3 it is a race hit: switch to the full root and count it. Either way
 * remember the vector, return into the trampoline with IF clear, and let
 * the trampoline replay the interrupt on its way out, as if it had arrived
 * from user mode (its APIC in-service bit stays set until Linux's handler
 * sends the EOI).
 *
 * The CPU number comes from the limit of the CPUNODE segment (as in the
 * vDSO's getcpu): LSL needs no GS, which still holds the user base on an
 * entry from user mode, and only reads the GDT, which every root maps.
 *
 * Stack while here: 0 rdx, 8 rcx, 16 rax, 24 vector, 32 rip, 40 cs,
 * 48 rflags (for vectors without an error code).
 */
	.balign 64
xptilab_stub_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	movq	%cr3, %rax
	andq	$PAGE_MASK, %rax
	movl	$__CPUNODE_SEG, %ecx
	lsl	%ecx, %ecx
	andl	$VDSO_CPUNODE_MASK, %ecx
	shll	$PAGE_SHIFT, %ecx
	leaq	xptilab_entry_start + XPTILAB_AREA_PCPU(%rip), %rdx
	addq	%rcx, %rdx
	cmpq	$32, 24(%rsp)
	jb	.Lnot_window
	testb	$3, 40(%rsp)
	jnz	.Lnot_window
	leaq	xptilab_tramp_start(%rip), %rcx
	cmpq	%rcx, 32(%rsp)
	jb	.Lnot_window
	leaq	xptilab_tramp_end(%rip), %rcx
	cmpq	%rcx, 32(%rsp)
	jae	.Lnot_window
	/* An interrupt inside a trampoline: defer it. */
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rdx), %rax
	jne	2f
	movq	XPTILAB_PCPU_FULL_CR3(%rdx), %rax
	movq	%rax, %cr3
	incq	XPTILAB_PCPU_RACE_HITS(%rdx)
	movq	24(%rsp), %rcx
	incl	XPTILAB_PCPU_RACE_VEC(%rdx, %rcx, 4)
	jmp	3f
2:	incq	XPTILAB_PCPU_DEFERRED(%rdx)
3:	movq	24(%rsp), %rcx
	incq	%rcx
	movq	%rcx, XPTILAB_PCPU_PENDING(%rdx)
	andq	$~X86_EFLAGS_IF, 48(%rsp)
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$8, %rsp
	iretq
	int3

.Lnot_window:
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rdx), %rax
	jne	1f
	movq	XPTILAB_PCPU_FULL_CR3(%rdx), %rax
	movq	%rax, %cr3
	incq	XPTILAB_PCPU_EVENTS(%rdx)
	movq	24(%rsp), %rcx
	incl	XPTILAB_PCPU_VEC_COUNT(%rdx, %rcx, 4)
1:
	movq	24(%rsp), %rcx
	leaq	xptilab_entry_start + XPTILAB_AREA_GLOBAL(%rip), %rdx
	movq	XPTILAB_GLOBAL_ORIG(%rdx, %rcx, 8), %rax
	movq	%rax, 24(%rsp)
	popq	%rdx
	popq	%rcx
	popq	%rax
	ret
	int3

/*
 * The test-vector trampolines: DPL 3 gates that user mode reaches with
 * "int $N". Each emulates one XPTI entry from a guest on the restricted
 * root, with this CPU's shadow root standing in for that root:
 *
 *   task CR3 -> shadow          (1: the "guest" is on the restricted root)
 *   shadow   -> full            (2: the entry switch) [+ global flush]
 *   ... body with IF=1 ...
 *   full     -> shadow          (3: the exit switch, global flush)
 *   shadow   -> task CR3        (4: back to the task's own tables)
 *
 * so a round trip holds 4 CR3 writes; with XPTILAB_TRAMP_SWITCH clear it
 * holds none. The interrupt gate keeps IF=0 until after the entry switch
 * and then does the "sti" the Xen change moved there. The trap gate runs
 * with IF=1 from the start and spins for a configurable window on the
 * shadow root before its entry switch: an interrupt in that window is a
 * race hit. Neither swaps GS; both run on the entry stack, which every root
 * maps.
 *
 * Stack after the prologue: 0 rsi, 8 rdx, 16 rcx, 24 rax, 32 slot,
 * 40 rip, 48 cs, 56 rflags, 64 rsp, 72 ss. The slot carries the task's CR3
 * and, when an interrupt must be replayed, Linux's handler address.
 */
.macro TRAMP_PROLOGUE
	endbr64
	testb	$3, 8(%rsp)		/* from kernel mode: do nothing */
	jz	.Ltramp_kernel
	pushq	$0
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	movl	$__CPUNODE_SEG, %ecx
	lsl	%ecx, %ecx
	andl	$VDSO_CPUNODE_MASK, %ecx
	shll	$PAGE_SHIFT, %ecx
	leaq	xptilab_entry_start + XPTILAB_AREA_PCPU(%rip), %rdx
	addq	%rcx, %rdx
	incq	XPTILAB_PCPU_ENTRIES(%rdx)
	movq	XPTILAB_PCPU_TMODE(%rdx), %rsi
	testq	$XPTILAB_TRAMP_SWITCH, %rsi
	jz	.Ltramp_out
	/* rcx = the full root: the task's CR3 without its PTI user bits */
	movq	%cr3, %rax
	movq	%rax, 32(%rsp)
	movq	XPTILAB_PCPU_KCR3_CLEAR(%rdx), %rcx
	notq	%rcx
	andq	%rax, %rcx
	orq	XPTILAB_PCPU_KCR3_SET(%rdx), %rcx
	movq	%rcx, XPTILAB_PCPU_FULL_CR3(%rdx)
	movq	XPTILAB_PCPU_SHADOW_CR3(%rdx), %rax
	movq	%rax, %cr3		/* 1: onto the shadow root */
.endm

/* Write %rcx to CR3; toggle CR4.PGE around it when \flag is in %rsi. */
.macro SWITCH_CR3 flag
	testq	$\flag, %rsi
	jz	.Lnoflush\@
	movq	%cr4, %rax
	andq	$~X86_CR4_PGE, %rax
	movq	%rax, %cr4
	movq	%rcx, %cr3
	orq	$X86_CR4_PGE, %rax
	movq	%rax, %cr4
	jmp	.Ldone\@
.Lnoflush\@:
	movq	%rcx, %cr3
.Ldone\@:
.endm

	.balign 64
	.globl xptilab_tramp_start
xptilab_tramp_start:

	.globl xptilab_tramp_gate
xptilab_tramp_gate:
	TRAMP_PROLOGUE
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_ENTRY	/* 2: entry switch, IF=0 */
	sti				/* the sti moved after the switch */
	nop
	cli
	jmp	.Ltramp_exit

	.globl xptilab_tramp_trap
xptilab_tramp_trap:
	TRAMP_PROLOGUE
	movq	XPTILAB_PCPU_TWINDOW(%rdx), %rax
1:	testq	%rax, %rax		/* the window: IF=1 on the shadow root */
	jz	2f
	decq	%rax
	jmp	1b
2:	movq	XPTILAB_PCPU_FULL_CR3(%rdx), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_ENTRY	/* 2: entry switch */
	nop
	cli
	/* fall through */

.Ltramp_exit:
	movq	XPTILAB_PCPU_SHADOW_CR3(%rdx), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_EXIT	/* 3: exit switch */
	movq	32(%rsp), %rax
	movq	%rax, %cr3		/* 4: back to the task's tables */
.Ltramp_out:
	cli
	movq	XPTILAB_PCPU_PENDING(%rdx), %rcx
	testq	%rcx, %rcx
	jnz	.Ltramp_replay
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$8, %rsp
	iretq
	int3

	/* Deliver the deferred interrupt as if it came from user mode now. */
.Ltramp_replay:
	movq	$0, XPTILAB_PCPU_PENDING(%rdx)
	decq	%rcx
	leaq	xptilab_entry_start + XPTILAB_AREA_GLOBAL(%rip), %rax
	movq	XPTILAB_GLOBAL_ORIG(%rax, %rcx, 8), %rax
	movq	%rax, 32(%rsp)
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	ret
	int3

.Ltramp_kernel:
	iretq
	int3

	.globl xptilab_tramp_end
xptilab_tramp_end:

/*
 * u64 xptilab_cr3_roundtrip(const struct xptilab_loop *l)
 *
 * One timed full -> shadow -> full round trip, called with IRQs off from
 * the module address (the clone, once CR3 holds the shadow root). Returns
 * the TSC delta between two serialized reads (LFENCE; RDTSC; LFENCE).
 * Between the CR3 writes only registers are used, plus one load from the
 * per-CPU data clone (l->probe) to prove data is reachable there.
 * With XPTILAB_LOOP_SWITCH clear the same sequence runs without the CR3
 * writes: that is the timer overhead measured in the same run.
 */
	.balign 64
	.globl xptilab_cr3_roundtrip
	.type xptilab_cr3_roundtrip, @function
xptilab_cr3_roundtrip:
	endbr64
	pushq	%rbx
	movq	XPTILAB_LOOP_SHADOW(%rdi), %r8
	movq	XPTILAB_LOOP_FULL(%rdi), %r9
	movq	XPTILAB_LOOP_CR4_NOPGE(%rdi), %r10
	movq	XPTILAB_LOOP_CR4(%rdi), %r11
	movq	XPTILAB_LOOP_MODE(%rdi), %rsi
	movq	XPTILAB_LOOP_PROBE(%rdi), %rdi
	lfence
	rdtsc
	lfence
	shlq	$32, %rdx
	orq	%rax, %rdx
	movq	%rdx, %rbx
	testq	$XPTILAB_LOOP_SWITCH, %rsi
	jz	3f
	testq	$XPTILAB_LOOP_FLUSH_IN, %rsi
	jz	1f
	movq	%r10, %cr4		/* PGE off: flushes global entries too */
	movq	%r8, %cr3
	movq	%r11, %cr4
	jmp	2f
1:	movq	%r8, %cr3
2:	/* on the shadow root */
	movq	(%rdi), %rax
	testq	$XPTILAB_LOOP_FLUSH_OUT, %rsi
	jz	4f
	movq	%r10, %cr4
	movq	%r9, %cr3
	movq	%r11, %cr4
	jmp	3f
4:	movq	%r9, %cr3
3:	/* on the full root */
	lfence
	rdtsc
	lfence
	shlq	$32, %rdx
	orq	%rdx, %rax
	subq	%rbx, %rax
	popq	%rbx
	ret
	int3
	.size xptilab_cr3_roundtrip, . - xptilab_cr3_roundtrip

	.balign PAGE_SIZE
	.globl xptilab_entry_end
xptilab_entry_end:
