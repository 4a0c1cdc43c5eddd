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
 * The CPU number comes from the limit of the CPUNODE segment (as in the
 * vDSO's getcpu): LSL needs no GS, which still holds the user base on an
 * entry from user mode, and only reads the GDT, which every root maps.
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
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rdx), %rax
	jne	1f
	movq	XPTILAB_PCPU_FULL_CR3(%rdx), %rax
	movq	%rax, %cr3
	incq	XPTILAB_PCPU_EVENTS(%rdx)
	movq	24(%rsp), %rcx
	incq	XPTILAB_PCPU_VEC_COUNT(%rdx, %rcx, 8)
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
