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
 * CR3, no memory the shadow root lacks.
 *
 * Transfers into Linux's handlers are "lfence; jmp *mem", never "ret":
 * they run before Linux's own entry mitigations (UNTRAIN_RET, IBRS), so a
 * return prediction user mode trained must not be consumed here (Retbleed,
 * SRSO, ITS); the lfence keeps the indirect jump from being steered before
 * its target is loaded (docs/design.md, "Hardware hazards").
 *
 * objtool checks this file like any other (6.12 checks the whole linked
 * module, whatever Kbuild says about entry.o), so the code is annotated
 * for it: each IDT entry point carries an "undefined" unwind hint (objtool
 * follows the code from there; an unwinder stops there), each plain "ret"
 * is ANNOTATE_UNRET_SAFE, each "lfence; jmp *mem" ANNOTATE_RETPOLINE_SAFE,
 * addresses taken only to compare or to size are ANNOTATE_NOENDBR, and
 * page alignment pads with int3, not the "jmp over nops" gas emits for long
 * alignments (objtool cannot find that jump's destination, the section's
 * end, and then writes no .return_sites for the whole module: every return
 * thunk stays unpatched).
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/nospec-branch.h>
#include <asm/page_types.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/trapnr.h>
#include "compat.h"
#include "layout.h"

/* A field of the global page (layout.h), RIP-relative from the alias. */
#define GLOBAL(off)	xptilab_entry_start + XPTILAB_AREA_GLOBAL + (off)
/* A field of the private page through the window: shadow roots only. */
#define WIN(off)	xptilab_entry_start + XPTILAB_AREA_WINDOW + (off)

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
	XPTILAB_UNWIND_HINT_ENTRY
	endbr64
	pushq	$vector
	jmp	xptilab_stub_common
	vector = vector + 1
	.endr

/*
 * Stubs for the vectors Linux delivers on an IST stack (NMI, #DB, #MC, #DF),
 * XPTILAB_IST_STUB_SIZE bytes apart. Below the hardware frame of an IST
 * stack Linux keeps state that a nested event must find intact: for NMI,
 * the "NMI executing" word and the saved iret frames of first_nmi and
 * repeat_nmi (entry_64.S). So the usual path touches no stack and no
 * register: it reads the window's mark (zero everywhere but on a shadow
 * root) and leaves for Linux's handler with everything as the CPU left it.
 *
 * Only on a shadow root does it take the common path below: then the CPU
 * is in code xptilab owns (the cr3 round trip, a trampoline, a session),
 * Linux is not inside its own handler for this vector on this CPU, and the
 * stack below the frame is free.
 */
	.balign PAGE_SIZE, 0xcc
	.globl xptilab_ist_stubs
xptilab_ist_stubs:
	vector = 0
	.rept XPTILAB_IST_VECTORS
	.balign XPTILAB_IST_STUB_SIZE
	XPTILAB_UNWIND_HINT_ENTRY
	endbr64
	cmpq	$0, WIN(XPTILAB_PRIV_MARK)(%rip)
	jne	1f
	lfence
	ANNOTATE_RETPOLINE_SAFE
	jmp	*GLOBAL(XPTILAB_GLOBAL_ORIG + 8 * vector)(%rip)
	int3
1:	pushq	$vector
	jmp	xptilab_stub_common
	vector = vector + 1
	.endr

/*
 * The registers the common path and the trampolines save below the CPU
 * frame (the trampolines add %r8 below them), and their restore.
 */
.macro PUSH_SCRATCH
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
.endm

.macro POP_SCRATCH
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
.endm

/*
 * Leave a session (public page in \p, private in \q; clobbers rax, rcx,
 * rdx): give the CPU back its syscall and sysenter MSRs, account the
 * session's duration, and put the task's own CR3 back. Idempotent, so
 * that a second caller after an NMI in between does no harm.
 */
.macro LEAVE_SESSION p, q
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(\p)
	je	.Lleft\@
	movq	$0, XPTILAB_PCPU_IN_SESSION(\p)
	movl	$MSR_EFER, %ecx
	movl	XPTILAB_PCPU_SAVED_EFER(\p), %eax
	movl	XPTILAB_PCPU_SAVED_EFER+4(\p), %edx
	wrmsr
	movl	$MSR_IA32_SYSENTER_CS, %ecx
	movl	XPTILAB_PCPU_SAVED_SYSCS(\p), %eax
	movl	XPTILAB_PCPU_SAVED_SYSCS+4(\p), %edx
	wrmsr
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	subq	XPTILAB_PCPU_SESS_TSC(\p), %rax
	addq	%rax, XPTILAB_PCPU_SESS_TICKS(\p)
	bsrq	%rax, %rcx
	jnz	.Lbucket\@
	xorl	%ecx, %ecx
.Lbucket\@:
	incl	XPTILAB_PCPU_SESS_HIST(\p, %rcx, 4)
	incq	XPTILAB_PCPU_SESS_EXITS(\p)
	movq	XPTILAB_PRIV_SESS_TASK_CR3(\q), %rax
	movq	%rax, %cr3
.Lleft\@:
.endm

/*
 * \dst = the full root for a task whose CR3 is in \src, as Linux's
 * SWITCH_TO_KERNEL_CR3 computes it (PTI user bits cleared, NOFLUSH with
 * PCID), from the masks in the public page \p.
 */
.macro FULL_ROOT src, dst, p
	movq	XPTILAB_PCPU_KCR3_CLEAR(\p), \dst
	notq	\dst
	andq	\src, \dst
	orq	XPTILAB_PCPU_KCR3_SET(\p), \dst
.endm

/*
 * From user mode on the task's own tables, \q = this CPU's private page:
 * a per-CPU pointer read through the kernel's GS base. Under PTI the
 * task's tables are the user copy, which maps no kernel data, so first
 * onto the full root (\full, computed by FULL_ROOT), as Linux's entry does.
 */
.macro PRIV_FROM_USER full, q, p
	cmpq	$0, XPTILAB_PCPU_KCR3_CLEAR(\p)
	je	.Lmapped\@
	movq	\full, %cr3
.Lmapped\@:
	swapgs
	movq	%gs:xptilab_priv_ptr, \q
	swapgs
.endm

/*
 * Continue into Linux's handler, whose address is in the word on top of
 * the stack, with the stack exactly as the CPU built it: drop the word
 * first, then jump through it (nothing can overwrite it in between: IF is
 * clear and NMI, #MC and #DB use IST stacks).
 */
.macro FORWARD
	leaq	8(%rsp), %rsp
	lfence
	ANNOTATE_RETPOLINE_SAFE
	jmp	*-8(%rsp)
	int3
.endm

/*
 * The error code is the word on top of the stack, where the CPU would have
 * pushed it for a #GP: continue into Linux's #GP handler.
 */
.macro GP_FORWARD
	lfence
	ANNOTATE_RETPOLINE_SAFE
	jmp	*GLOBAL(XPTILAB_GLOBAL_ORIG + 8 * X86_TRAP_GP)(%rip)
	int3
.endm

/* \reg = Linux's own handler for the vector in \vec. */
.macro ORIG_HANDLER vec, reg
	leaq	GLOBAL(0)(%rip), \reg
	movq	XPTILAB_GLOBAL_ORIG(\reg, \vec, 8), \reg
.endm

/* \reg = this CPU's xptilab data page; clobbers %rcx. */
.macro PCPU_PAGE reg
	movl	$__CPUNODE_SEG, %ecx
	lsl	%ecx, %ecx
	andl	$VDSO_CPUNODE_MASK, %ecx
	shll	$PAGE_SHIFT, %ecx
	leaq	xptilab_entry_start + XPTILAB_AREA_PCPU(%rip), \reg
	addq	%rcx, \reg
.endm

/*
 * Common path of every stub. In the usual case (not on a shadow root) it
 * continues straight into Linux's own handler for the vector with the
 * stack exactly as the CPU built it: the vector slot is replaced by the
 * handler's address and the stub jumps there, so no register and no stack
 * byte differs from a direct delivery.
 *
 * On a shadow root (the window's mark is set; %rdi = the private page):
 *  - an external interrupt (vector >= 32) at CPL 0 inside a trampoline is
 *    a race hit: that context runs with the user's GS on the entry stack,
 *    where no Linux handler may run. Switch to the full root, count it,
 *    remember the vector, and return into the trampoline with IF clear;
 *    the trampoline replays it on the way out as if it had arrived from
 *    user mode (its APIC in-service bit stays set until Linux's EOI).
 *    The same interrupt inside a trampoline on any other root is deferred
 *    the same way, without being a race.
 *  - in a session, any other entry ends the session before Linux runs:
 *    syscall and sysenter arrive here as #UD or #GP (see the session
 *    trampoline) and are re-executed on the task's own tables by returning
 *    to the faulting instruction; everything else continues into Linux.
 *  - otherwise (the cr3 experiment, a trampoline) switch to the full root
 *    first and count the event.
 *
 * The CPU number comes from the limit of the CPUNODE segment (as in the
 * vDSO's getcpu): LSL needs no GS, which still holds the user base on an
 * entry from user mode, and only reads the GDT, which every root maps.
 *
 * Stack here: 0 rdi, 8 rsi, 16 rdx, 24 rcx, 32 rax, 40 vector, 48 rip,
 * 56 cs, 64 rflags (one slot later for vectors with an error code).
 */
	.balign 64
xptilab_stub_common:
	ANNOTATE_NOENDBR
	PUSH_SCRATCH
	PCPU_PAGE %rsi
	xorl	%edi, %edi
	cmpq	$0, WIN(XPTILAB_PRIV_MARK)(%rip)
	je	1f
	movq	WIN(XPTILAB_PRIV_SELF)(%rip), %rdi
1:	cmpq	$32, 40(%rsp)
	jb	.Lnot_window
	testb	$3, 56(%rsp)
	jnz	.Lnot_window
	leaq	xptilab_tramp_start(%rip), %rcx
	cmpq	%rcx, 48(%rsp)
	jb	.Lnot_window
	leaq	xptilab_tramp_end(%rip), %rcx
	cmpq	%rcx, 48(%rsp)
	jae	.Lnot_window
	/* An interrupt inside a trampoline: defer it. */
	testq	%rdi, %rdi
	jz	2f
	movq	XPTILAB_PRIV_FULL_CR3(%rdi), %rax
	movq	%rax, %cr3
	incq	XPTILAB_PCPU_RACE_HITS(%rsi)
	movq	40(%rsp), %rcx
	incl	XPTILAB_PCPU_RACE_VEC(%rsi, %rcx, 4)
	jmp	3f
2:	incq	XPTILAB_PCPU_DEFERRED(%rsi)
3:	movq	40(%rsp), %rcx
	incq	%rcx
	movq	%rcx, XPTILAB_PCPU_PENDING(%rsi)
	andq	$~X86_EFLAGS_IF, 64(%rsp)
	POP_SCRATCH
	addq	$8, %rsp
	iretq
	int3

.Lnot_window:
	testq	%rdi, %rdi
	jz	.Lforward
	incq	XPTILAB_PCPU_EVENTS(%rsi)
	movq	40(%rsp), %rcx
	incl	XPTILAB_PCPU_VEC_COUNT(%rsi, %rcx, 4)
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	jne	.Lend_session
	movq	XPTILAB_PRIV_FULL_CR3(%rdi), %rax
	movq	%rax, %cr3
	jmp	.Lforward

.Lend_session:
	LEAVE_SESSION %rsi, %rdi
	movq	40(%rsp), %rcx
	incl	XPTILAB_PCPU_SESS_VEC(%rsi, %rcx, 4)
	cmpq	$X86_TRAP_UD, %rcx
	jne	4f
	testb	$3, 56(%rsp)
	jz	.Lforward
	POP_SCRATCH			/* #UD (syscall): run it again */
	addq	$8, %rsp
	iretq
4:	cmpq	$X86_TRAP_GP, %rcx
	jne	.Lforward
	testb	$3, 64(%rsp)
	jz	.Lforward
	POP_SCRATCH			/* #GP (sysenter): run it again */
	addq	$16, %rsp
	iretq
	int3

.Lforward:
	movq	40(%rsp), %rcx
	ORIG_HANDLER %rcx, %rax
	movq	%rax, 40(%rsp)
	POP_SCRATCH
	/*
	 * The word below the handler slot held the interrupted %rax; on the
	 * NMI stack that is Linux's "NMI executing" word, which is 0 whenever
	 * no NMI is being handled: leave it so, or an NMI that interrupted
	 * code with %eax == 1 would be taken as nested and dropped.
	 */
	movq	$0, -8(%rsp)
	FORWARD

/*
 * The test-vector trampolines: DPL 3 gates that user mode reaches with
 * "int $N". Each emulates one XPTI entry from a guest on the restricted
 * root. Outside a session, this CPU's shadow root stands in for that root:
 *
 *   task CR3 -> shadow          (1: the "guest" is on the restricted root)
 *   shadow   -> full            (2: the entry switch) [+ global flush]
 *   ... body ...
 *   full     -> shadow          (3: the exit switch, global flush)
 *   shadow   -> task CR3        (4: back to the task's own tables)
 *
 * Under PTI the task's own tables are the user copy, which maps none of
 * the private page that holds the shadow root's CR3: the trampoline first
 * goes to the full root as Linux's entry would (0), so there are 5 CR3
 * writes. In a session the task already runs on the shadow root, so a
 * round trip is exactly XPTI's: the entry switch and the exit switch, 2
 * CR3 writes. With XPTILAB_TRAMP_SWITCH clear there are no CR3 writes.
 *
 * The interrupt gate keeps IF=0 until after the entry switch and then does
 * the "sti" the Xen change moved there. The trap gate runs with IF=1 from
 * the start and spins for a configurable window on the shadow root before
 * its entry switch: an interrupt in that window is a race hit. Both run on
 * the entry stack, which every root maps, with the user's GS (a swapgs
 * pair reads the private page's pointer).
 *
 * Only the task that configured the test vectors (its user root in
 * XPTILAB_PCPU_TOWNER) or a session of it (on the shadow root) is served.
 * Any other task gets what "int $N" on a vector without a DPL-3 gate gives:
 * #GP with the IDT vector as error code, RIP on the int instruction (taken
 * as the 2-byte "int imm8"), delivered to Linux's #GP handler with the
 * stack the CPU builds (.Lnot_owner), and no counter moves.
 *
 * Stack after the prologue: 0 r8, 8 rdi, 16 rsi, 24 rdx, 32 rcx, 40 rax,
 * 48 slot, 56 rip, 64 cs, 72 rflags, 80 rsp, 88 ss. The slot holds the
 * task's CR3, or 1 for an entry from a session; when an interrupt is
 * replayed it holds Linux's handler address. %rsi = this CPU's public
 * page, %rdi = its private page (set once a CR3 switch is due), %r8 = mode.
 */
.macro TRAMP_PROLOGUE not_owner
	XPTILAB_UNWIND_HINT_ENTRY
	endbr64
	testb	$3, 8(%rsp)		/* from kernel mode: do nothing */
	jz	.Ltramp_kernel
	pushq	$0
	PUSH_SCRATCH
	pushq	%r8
	PCPU_PAGE %rsi
	/*
	 * In one load (the trap gate runs with IF=1, and a race hit may move
	 * it to the full root at any instruction): the private page through
	 * the window on a shadow root, 0 from the zero page elsewhere.
	 */
	movq	WIN(XPTILAB_PRIV_SELF)(%rip), %rdi
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	jne	.Lfrom_session\@
	movq	%cr3, %rax		/* the task's own tables */
	movq	%rax, %rdx
	andq	$PAGE_MASK, %rdx
	cmpq	XPTILAB_PCPU_TOWNER(%rsi), %rdx
	jne	\not_owner
	incq	XPTILAB_PCPU_ENTRIES(%rsi)
	movq	XPTILAB_PCPU_TMODE(%rsi), %r8
	testq	$XPTILAB_TRAMP_SWITCH, %r8
	jz	.Ltramp_out
	movq	%rax, 48(%rsp)
	FULL_ROOT %rax, %rcx, %rsi
	PRIV_FROM_USER %rcx, %rdi, %rsi	/* 0 (PTI): onto the full root */
	movq	%rcx, XPTILAB_PRIV_FULL_CR3(%rdi)
	movq	XPTILAB_PRIV_SHADOW_CR3(%rdi), %rax
	movq	%rax, %cr3		/* 1: onto the shadow root */
	jmp	.Lready\@
.Lfrom_session\@:			/* the owner's session */
	testq	%rdi, %rdi
	jnz	1f
	swapgs				/* a race hit took it to the full root */
	movq	%gs:xptilab_priv_ptr, %rdi
	swapgs
1:	incq	XPTILAB_PCPU_ENTRIES(%rsi)
	movq	XPTILAB_PCPU_TMODE(%rsi), %r8
	testq	$XPTILAB_TRAMP_SWITCH, %r8
	jz	.Ltramp_out
	movq	$1, 48(%rsp)
	movq	XPTILAB_PRIV_FULL_CR3(%rdi), %rcx
.Lready\@:
.endm

/* Write %rcx to CR3; toggle CR4.PGE around it when \flag is in %r8. */
.macro SWITCH_CR3 flag
	testq	$\flag, %r8
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
	TRAMP_PROLOGUE .Lnot_owner_gate
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_ENTRY	/* entry switch, IF=0 */
	sti				/* the sti moved after the switch */
	nop
	cli
	jmp	.Ltramp_exit

	.globl xptilab_tramp_trap
xptilab_tramp_trap:
	TRAMP_PROLOGUE .Lnot_owner_trap
	movq	XPTILAB_PCPU_TWINDOW(%rsi), %rax
1:	testq	%rax, %rax		/* the window: IF=1 on the shadow root */
	jz	2f
	decq	%rax
	jmp	1b
2:	movq	XPTILAB_PRIV_FULL_CR3(%rdi), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_ENTRY	/* entry switch */
	nop
	cli
	/* fall through */

.Ltramp_exit:
	cmpq	$1, 48(%rsp)
	jne	.Lexit_task
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	je	.Lexit_gone
	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	jne	.Ltramp_out
	movq	XPTILAB_PRIV_SHADOW_CR3(%rdi), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_EXIT	/* exit switch, back in session */
	jmp	.Ltramp_out
.Lexit_gone:				/* an NMI or the like ended the session */
	movq	XPTILAB_PRIV_SESS_TASK_CR3(%rdi), %rax
	movq	%rax, %cr3
	jmp	.Ltramp_out
.Lexit_task:
	movq	XPTILAB_PRIV_SHADOW_CR3(%rdi), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_EXIT	/* 3: exit switch */
	movq	48(%rsp), %rax
	movq	%rax, %cr3		/* 4: back to the task's tables */

/*
 * Every way out, with IF=0. A session survives only if no interrupt is
 * waiting and the shadow root is still in CR3; otherwise it ends here, so
 * that Linux never sees a session's MSRs or its shadow root. (In a session
 * %rdi is always set: the entry came through .Lfrom_session.)
 */
.Ltramp_out:
	cli
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	je	2f
	testq	%rdi, %rdi
	jz	2f
	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	jne	1f
	movq	%cr3, %rax
	andq	$PAGE_MASK, %rax
	cmpq	XPTILAB_PRIV_SHADOW_CR3(%rdi), %rax
	je	.Ltramp_iret
1:	LEAVE_SESSION %rsi, %rdi
	movq	XPTILAB_PCPU_PENDING(%rsi), %rcx	/* ended by it */
	jrcxz	2f
	incl	XPTILAB_PCPU_SESS_VEC - 4(%rsi, %rcx, 4)
2:	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	jne	.Ltramp_replay
.Ltramp_iret:
	popq	%r8
	POP_SCRATCH
	addq	$8, %rsp
	iretq
	int3

	/*
	 * Not the owner: #GP as without xptilab. An interrupt the trap gate
	 * deferred before the check (IF=1 there) is delivered first, with RIP
	 * on the int instruction so that it faults when the task resumes; it
	 * was no owner's entry, so it is not counted as deferred either.
	 */
.Lnot_owner_gate:
	movq	GLOBAL(XPTILAB_GLOBAL_GP_GATE)(%rip), %rax
	jmp	.Lnot_owner
.Lnot_owner_trap:
	movq	GLOBAL(XPTILAB_GLOBAL_GP_TRAP)(%rip), %rax
.Lnot_owner:
	cli
	subq	$2, 56(%rsp)
	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	je	1f
	decq	XPTILAB_PCPU_DEFERRED(%rsi)
	jmp	.Ltramp_replay
1:	movq	%rax, 48(%rsp)		/* the error code, in the slot */
	popq	%r8
	POP_SCRATCH
	GP_FORWARD

	/* Deliver the deferred interrupt as if it came from user mode now. */
.Ltramp_replay:
	movq	XPTILAB_PCPU_PENDING(%rsi), %rcx
	movq	$0, XPTILAB_PCPU_PENDING(%rsi)
	decq	%rcx
	ORIG_HANDLER %rcx, %rax
	movq	%rax, 48(%rsp)
	popq	%r8
	POP_SCRATCH
	FORWARD

/*
 * The session vector: "int $N" from a task that armed a session on this
 * CPU moves it onto the shadow root, as a PV guest runs on Xen's root_pgt.
 * Returns in %rax this CPU's count of session exits (every other register
 * is preserved), or -1 when the CPU is not armed for this task's page
 * tables or the task has an LDT (LDTR, CS or SS: see docs/design.md).
 * From inside a session it changes nothing and returns the count. A task
 * other than the owner gets the #GP of a vector without a user gate.
 *
 * On the way in: syscall must not reach Linux's entry code on a shadow
 * root, so EFER.SCE is cleared (syscall raises #UD) and so is SYSENTER_CS
 * (sysenter raises #GP); the stubs end the session on those faults and
 * re-execute the instruction on the task's own tables. On the full root,
 * the task's current top-level user entries are copied into the shadow
 * root (Xen copies a guest's L4 the same way), so a session never starts
 * on a stale mirror. The last CR3 write is followed only by pops and
 * iretq: an NMI there ends the session in the stub and iretq then returns
 * on the task's own tables, a consistent state either way.
 *
 * Stack: 0 r9, 8 r8, 16 rdi, 24 rsi, 32 rdx, 40 rcx, 48 rip, 56 cs,
 * 64 rflags, 72 rsp, 80 ss. %r8 = public page, %r9 = private page.
 */
	.globl xptilab_tramp_session
xptilab_tramp_session:
	XPTILAB_UNWIND_HINT_ENTRY
	endbr64
	testb	$3, 8(%rsp)
	jz	.Ltramp_kernel
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	PCPU_PAGE %r8
	cmpq	$0, WIN(XPTILAB_PRIV_MARK)(%rip)
	jne	.Lsession_count		/* in a session already */
	movq	%cr3, %rax
	movq	%rax, %rdx
	andq	$PAGE_MASK, %rdx
	cmpq	XPTILAB_PCPU_TOWNER(%r8), %rdx
	jne	.Lsession_not_owner
	/* No session with an LDT: iretq on the shadow root cannot read it. */
	testb	$SEGMENT_TI_MASK, 56(%rsp)	/* CS */
	jnz	.Lsession_refuse
	testb	$SEGMENT_TI_MASK, 80(%rsp)	/* SS */
	jnz	.Lsession_refuse
	sldt	%cx
	testw	%cx, %cx
	jnz	.Lsession_refuse
	movq	XPTILAB_PCPU_SESS_PGD(%r8), %rcx
	testq	%rcx, %rcx
	jz	.Lsession_refuse
	cmpq	%rcx, %rdx
	jne	.Lsession_refuse
	FULL_ROOT %rax, %rcx, %r8
	PRIV_FROM_USER %rcx, %r9, %r8	/* PTI: the full root maps the pgds */
	movq	%rax, XPTILAB_PRIV_SESS_TASK_CR3(%r9)
	movq	%rcx, XPTILAB_PRIV_FULL_CR3(%r9)
	cld
	movq	XPTILAB_PRIV_SESS_PGD_VA(%r9), %rsi
	movq	XPTILAB_PRIV_SHADOW_VA(%r9), %rdi
	movl	$XPTILAB_USER_PGDS, %ecx
	rep movsq
	movl	$MSR_EFER, %ecx
	rdmsr
	movl	%eax, XPTILAB_PCPU_SAVED_EFER(%r8)
	movl	%edx, XPTILAB_PCPU_SAVED_EFER+4(%r8)
	andl	$~EFER_SCE, %eax
	wrmsr
	movl	$MSR_IA32_SYSENTER_CS, %ecx
	rdmsr
	movl	%eax, XPTILAB_PCPU_SAVED_SYSCS(%r8)
	movl	%edx, XPTILAB_PCPU_SAVED_SYSCS+4(%r8)
	xorl	%eax, %eax
	xorl	%edx, %edx
	wrmsr
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, XPTILAB_PCPU_SESS_TSC(%r8)
	incq	XPTILAB_PCPU_SESS_ENTERS(%r8)
	movq	$1, XPTILAB_PCPU_IN_SESSION(%r8)
	movq	XPTILAB_PRIV_SHADOW_CR3(%r9), %rax
	movq	%rax, %cr3		/* the task now runs on the shadow root */
.Lsession_count:
	movq	XPTILAB_PCPU_SESS_EXITS(%r8), %rax
	jmp	1f
.Lsession_refuse:
	incq	XPTILAB_PCPU_SESS_REFUSED(%r8)
	movq	$-1, %rax
1:	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	iretq
	int3

.Lsession_not_owner:			/* IF=0 throughout: nothing deferred */
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	subq	$2, (%rsp)
	pushq	GLOBAL(XPTILAB_GLOBAL_GP_SESSION)(%rip)
	GP_FORWARD

.Ltramp_kernel:
	iretq
	int3

	.globl xptilab_tramp_end
xptilab_tramp_end:
	ANNOTATE_NOENDBR

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
	ANNOTATE_UNRET_SAFE
	ret
	int3
	.size xptilab_cr3_roundtrip, . - xptilab_cr3_roundtrip

/*
 * u64 xptilab_stale_read(u64 shadow_cr3, u64 full_cr3, unsigned long va)
 *
 * The stale experiment (stale.c): with IRQs off, from the module address
 * (cloned in the shadow root), switch to the shadow root, load the word at
 * va (mapped there by the experiment's own top-level entry), switch back
 * to full_cr3 and return the word. Only registers between the CR3 writes.
 */
	.balign 64, 0xcc
	.globl xptilab_stale_read
	.type xptilab_stale_read, @function
xptilab_stale_read:
	endbr64
	movq	%rdi, %cr3
	movq	(%rdx), %rax
	movq	%rsi, %cr3
	ANNOTATE_UNRET_SAFE
	ret
	int3
	.size xptilab_stale_read, . - xptilab_stale_read

	.balign PAGE_SIZE, 0xcc
	.globl xptilab_entry_end
xptilab_entry_end:
