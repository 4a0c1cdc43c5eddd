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
 * its target is loaded (docs/design.md, "Hardware hazards"). objtool is told to skip this file
 * in Kbuild: it is entry code in the IDT sense, never run at the address
 * objtool would validate for the paths it cares about.
 */
#include <linux/linkage.h>
#include <asm/page_types.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/trapnr.h>
#include "layout.h"

/* A field of the global page (layout.h), RIP-relative from the alias. */
#define GLOBAL(off)	xptilab_entry_start + XPTILAB_AREA_GLOBAL + (off)

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
 * Stubs for the vectors Linux delivers on an IST stack (NMI, #DB, #MC, #DF),
 * XPTILAB_IST_STUB_SIZE bytes apart. Below the hardware frame of an IST
 * stack Linux keeps state that a nested event must find intact: for NMI,
 * the "NMI executing" word and the saved iret frames of first_nmi and
 * repeat_nmi (entry_64.S). So the usual path writes only the one word
 * Linux's NMI entry overwrites first (its "pushq %rdx"), borrows %rcx
 * through a per-CPU, per-vector slot of the data page, and leaves for
 * Linux's handler with every register and every other stack word as the
 * CPU left them.
 *
 * Only with this CPU's shadow root in CR3 does it take the common path
 * below: then the CPU is in code xptilab owns (the cr3 round trip, a
 * trampoline, a session), Linux is not inside its own handler for this
 * vector on this CPU, and the stack below the frame is free.
 */
	.balign PAGE_SIZE
	.globl xptilab_ist_stubs
xptilab_ist_stubs:
	vector = 0
	.rept 32
	.balign XPTILAB_IST_STUB_SIZE
	endbr64
	pushq	%rax
	movl	$__CPUNODE_SEG, %eax
	lsl	%eax, %eax
	andl	$VDSO_CPUNODE_MASK, %eax
	shll	$PAGE_SHIFT, %eax
	addq	GLOBAL(XPTILAB_GLOBAL_PCPU_BASE)(%rip), %rax
	movq	%rcx, XPTILAB_PCPU_IST_RCX + 8 * vector(%rax)
	movq	%cr3, %rcx
	andq	$PAGE_MASK, %rcx
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rax), %rcx
	movq	XPTILAB_PCPU_IST_RCX + 8 * vector(%rax), %rcx
	je	1f
	popq	%rax
	lfence
	jmp	*GLOBAL(XPTILAB_GLOBAL_ORIG + 8 * vector)(%rip)
	int3
1:	popq	%rax
	pushq	$vector
	jmp	xptilab_stub_common
	vector = vector + 1
	.endr

/*
 * Leave a session (pcpu in \p; clobbers rax, rcx, rdx): give the CPU back
 * its syscall and sysenter MSRs, account the session's duration, and put
 * the task's own CR3 back. Idempotent, so that a second caller after an
 * NMI in between does no harm.
 */
.macro LEAVE_SESSION p
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
	movq	XPTILAB_PCPU_SESS_TASK_CR3(\p), %rax
	movq	%rax, %cr3
.Lleft\@:
.endm

/*
 * \dst = the full root for a task whose CR3 is in \src, as Linux's
 * SWITCH_TO_KERNEL_CR3 computes it (PTI user bits cleared, NOFLUSH with
 * PCID), also stored as this CPU's full root (data page in \p).
 */
.macro FULL_ROOT src, dst, p
	movq	XPTILAB_PCPU_KCR3_CLEAR(\p), \dst
	notq	\dst
	andq	\src, \dst
	orq	XPTILAB_PCPU_KCR3_SET(\p), \dst
	movq	\dst, XPTILAB_PCPU_FULL_CR3(\p)
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
	jmp	*-8(%rsp)
	int3
.endm

/*
 * The error code is the word on top of the stack, where the CPU would have
 * pushed it for a #GP: continue into Linux's #GP handler.
 */
.macro GP_FORWARD
	lfence
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
 * Common path of every stub. In the usual case (the shadow root is not in
 * CR3) it continues straight into Linux's own handler for the vector with
 * the stack exactly as the CPU built it: the vector slot is replaced by the
 * handler's address and "ret" jumps there, so no register and no stack
 * byte differs from a direct delivery.
 *
 * With this CPU's shadow root in CR3:
 *  - an external interrupt (vector >= 32) at CPL 0 inside a trampoline is
 *    a race hit: that context runs with the user's GS on the entry stack,
 *    where no Linux handler may run. Switch to the full root, count it,
 *    remember the vector, and return into the trampoline with IF clear;
 *    the trampoline replays it on the way out as if it had arrived from
 *    user mode (its APIC in-service bit stays set until Linux's EOI).
 *    The same interrupt on the full root inside a trampoline is deferred
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
 * Stack here: 0 rsi, 8 rdx, 16 rcx, 24 rax, 32 vector, 40 rip, 48 cs,
 * 56 rflags (one slot later for vectors with an error code).
 */
	.balign 64
xptilab_stub_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	PCPU_PAGE %rsi
	movq	%cr3, %rax
	andq	$PAGE_MASK, %rax
	cmpq	$32, 32(%rsp)
	jb	.Lnot_window
	testb	$3, 48(%rsp)
	jnz	.Lnot_window
	leaq	xptilab_tramp_start(%rip), %rcx
	cmpq	%rcx, 40(%rsp)
	jb	.Lnot_window
	leaq	xptilab_tramp_end(%rip), %rcx
	cmpq	%rcx, 40(%rsp)
	jae	.Lnot_window
	/* An interrupt inside a trampoline: defer it. */
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rax
	jne	2f
	movq	XPTILAB_PCPU_FULL_CR3(%rsi), %rax
	movq	%rax, %cr3
	incq	XPTILAB_PCPU_RACE_HITS(%rsi)
	movq	32(%rsp), %rcx
	incl	XPTILAB_PCPU_RACE_VEC(%rsi, %rcx, 4)
	jmp	3f
2:	incq	XPTILAB_PCPU_DEFERRED(%rsi)
3:	movq	32(%rsp), %rcx
	incq	%rcx
	movq	%rcx, XPTILAB_PCPU_PENDING(%rsi)
	andq	$~X86_EFLAGS_IF, 56(%rsp)
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$8, %rsp
	iretq
	int3

.Lnot_window:
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rax
	jne	.Lforward
	incq	XPTILAB_PCPU_EVENTS(%rsi)
	movq	32(%rsp), %rcx
	incl	XPTILAB_PCPU_VEC_COUNT(%rsi, %rcx, 4)
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	jne	.Lend_session
	movq	XPTILAB_PCPU_FULL_CR3(%rsi), %rax
	movq	%rax, %cr3
	jmp	.Lforward

.Lend_session:
	LEAVE_SESSION %rsi
	movq	32(%rsp), %rcx
	incl	XPTILAB_PCPU_SESS_VEC(%rsi, %rcx, 4)
	cmpq	$X86_TRAP_UD, %rcx
	jne	4f
	testb	$3, 48(%rsp)
	jz	.Lforward
	popq	%rsi			/* #UD (syscall): run it again */
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$8, %rsp
	iretq
4:	cmpq	$X86_TRAP_GP, %rcx
	jne	.Lforward
	testb	$3, 56(%rsp)
	jz	.Lforward
	popq	%rsi			/* #GP (sysenter): run it again */
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$16, %rsp
	iretq
	int3

.Lforward:
	movq	32(%rsp), %rcx
	ORIG_HANDLER %rcx, %rax
	movq	%rax, 32(%rsp)
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
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
 * In a session the task already runs on the shadow root, so a round trip
 * is exactly XPTI's: the entry switch and the exit switch, 2 CR3 writes.
 * With XPTILAB_TRAMP_SWITCH clear there are no CR3 writes at all.
 *
 * The interrupt gate keeps IF=0 until after the entry switch and then does
 * the "sti" the Xen change moved there. The trap gate runs with IF=1 from
 * the start and spins for a configurable window on the shadow root before
 * its entry switch: an interrupt in that window is a race hit. Neither
 * swaps GS; both run on the entry stack, which every root maps.
 *
 * Stack after the prologue: 0 r8, 8 rsi, 16 rdx, 24 rcx, 32 rax, 40 slot,
 * 48 rip, 56 cs, 64 rflags, 72 rsp, 80 ss. The slot holds the task's CR3,
 * or 1 for an entry from a session; when an interrupt is replayed it holds
 * Linux's handler address. %rsi = this CPU's data page, %r8 = mode.
 */
/*
 * Only the task that configured the test vectors (its user root in
 * XPTILAB_PCPU_TOWNER) or a session of it (on the shadow root) is served;
 * clobbers %rax. Any other task gets what "int $N" on a vector without a
 * DPL-3 gate gives: #GP with the IDT vector as error code, RIP on the int
 * instruction (taken as the 2-byte "int imm8"), delivered to Linux's #GP
 * handler with the stack as the CPU builds it (see .Lnot_owner).
 */
.macro OWNER_CHECK p, not_owner
	movq	%cr3, %rax
	andq	$PAGE_MASK, %rax
	cmpq	XPTILAB_PCPU_SHADOW_CR3(\p), %rax
	je	.Lowner\@
	cmpq	XPTILAB_PCPU_TOWNER(\p), %rax
	jne	\not_owner
.Lowner\@:
.endm

.macro TRAMP_PROLOGUE not_owner
	endbr64
	testb	$3, 8(%rsp)		/* from kernel mode: do nothing */
	jz	.Ltramp_kernel
	pushq	$0
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%r8
	PCPU_PAGE %rsi
	OWNER_CHECK %rsi, \not_owner
	incq	XPTILAB_PCPU_ENTRIES(%rsi)
	movq	XPTILAB_PCPU_TMODE(%rsi), %r8
	testq	$XPTILAB_TRAMP_SWITCH, %r8
	jz	.Ltramp_out
	movq	%cr3, %rax
	movq	%rax, %rdx
	andq	$PAGE_MASK, %rdx
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rdx
	jne	.Lfrom_task\@
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	je	.Lfrom_task\@
	movq	$1, 40(%rsp)		/* from a session: already on shadow */
	movq	XPTILAB_PCPU_FULL_CR3(%rsi), %rcx
	jmp	.Lready\@
.Lfrom_task\@:
	movq	%rax, 40(%rsp)
	FULL_ROOT %rax, %rcx, %rsi
	movq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rax
	movq	%rax, %cr3		/* 1: onto the shadow root */
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
2:	movq	XPTILAB_PCPU_FULL_CR3(%rsi), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_ENTRY	/* entry switch */
	nop
	cli
	/* fall through */

.Ltramp_exit:
	cmpq	$1, 40(%rsp)
	jne	.Lexit_task
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	je	.Lexit_gone
	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	jne	.Ltramp_out
	movq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_EXIT	/* exit switch, back in session */
	jmp	.Ltramp_out
.Lexit_gone:				/* an NMI or the like ended the session */
	movq	XPTILAB_PCPU_SESS_TASK_CR3(%rsi), %rax
	movq	%rax, %cr3
	jmp	.Ltramp_out
.Lexit_task:
	movq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rcx
	SWITCH_CR3 XPTILAB_TRAMP_FLUSH_EXIT	/* 3: exit switch */
	movq	40(%rsp), %rax
	movq	%rax, %cr3		/* 4: back to the task's tables */

/*
 * Every way out, with IF=0. A session survives only if no interrupt is
 * waiting and the shadow root is still in CR3; otherwise it ends here, so
 * that Linux never sees a session's MSRs or its shadow root.
 */
.Ltramp_out:
	cli
	cmpq	$0, XPTILAB_PCPU_IN_SESSION(%rsi)
	je	2f
	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	jne	1f
	movq	%cr3, %rax
	andq	$PAGE_MASK, %rax
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%rsi), %rax
	je	.Ltramp_iret
1:	LEAVE_SESSION %rsi
	movq	XPTILAB_PCPU_PENDING(%rsi), %rcx	/* ended by it */
	jrcxz	2f
	incl	XPTILAB_PCPU_SESS_VEC - 4(%rsi, %rcx, 4)
2:	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	jne	.Ltramp_replay
.Ltramp_iret:
	popq	%r8
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
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
	subq	$2, 48(%rsp)
	cmpq	$0, XPTILAB_PCPU_PENDING(%rsi)
	je	1f
	decq	XPTILAB_PCPU_DEFERRED(%rsi)
	jmp	.Ltramp_replay
1:	movq	%rax, 40(%rsp)		/* the error code, in the slot */
	popq	%r8
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	GP_FORWARD

	/* Deliver the deferred interrupt as if it came from user mode now. */
.Ltramp_replay:
	movq	XPTILAB_PCPU_PENDING(%rsi), %rcx
	movq	$0, XPTILAB_PCPU_PENDING(%rsi)
	decq	%rcx
	ORIG_HANDLER %rcx, %rax
	movq	%rax, 40(%rsp)
	popq	%r8
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	FORWARD

/*
 * The session vector: "int $N" from a task that armed a session on this
 * CPU moves it onto the shadow root, as a PV guest runs on Xen's root_pgt.
 * Returns in %rax this CPU's count of session exits (every other register
 * is preserved), or -1 when the CPU is not armed for this task's page
 * tables or the task has an LDT (LDTR, CS or SS: see docs/design.md).
 * From inside a session it changes nothing and returns the count.
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
 */
	.globl xptilab_tramp_session
xptilab_tramp_session:
	endbr64
	testb	$3, 8(%rsp)
	jz	.Ltramp_kernel
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	PCPU_PAGE %r8
	OWNER_CHECK %r8, .Lsession_not_owner
	/* No session with an LDT: iretq on the shadow root cannot read it. */
	testb	$SEGMENT_TI_MASK, 48(%rsp)	/* CS */
	jnz	.Lsession_refuse
	testb	$SEGMENT_TI_MASK, 72(%rsp)	/* SS */
	jnz	.Lsession_refuse
	sldt	%ax
	testw	%ax, %ax
	jnz	.Lsession_refuse
	movq	%cr3, %rax
	movq	%rax, %rdx
	andq	$PAGE_MASK, %rdx
	cmpq	XPTILAB_PCPU_SHADOW_CR3(%r8), %rdx
	je	.Lsession_count
	movq	XPTILAB_PCPU_SESS_PGD(%r8), %rcx
	testq	%rcx, %rcx
	jz	.Lsession_refuse
	cmpq	%rcx, %rdx
	jne	.Lsession_refuse
	movq	%rax, XPTILAB_PCPU_SESS_TASK_CR3(%r8)
	FULL_ROOT %rax, %rcx, %r8
	movq	%rcx, %cr3		/* full root: the pgds are reachable */
	cld
	movq	XPTILAB_PCPU_SESS_PGD_VA(%r8), %rsi
	movq	XPTILAB_PCPU_SHADOW_VA(%r8), %rdi
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
	movq	XPTILAB_PCPU_SHADOW_CR3(%r8), %rax
	movq	%rax, %cr3		/* the task now runs on the shadow root */
.Lsession_count:
	movq	XPTILAB_PCPU_SESS_EXITS(%r8), %rax
	jmp	1f
.Lsession_refuse:
	incq	XPTILAB_PCPU_SESS_REFUSED(%r8)
	movq	$-1, %rax
1:	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	iretq
	int3

.Lsession_not_owner:			/* IF=0 throughout: nothing deferred */
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

/*
 * u64 xptilab_stale_read(u64 shadow_cr3, u64 full_cr3, unsigned long va)
 *
 * The stale experiment (stale.c): with IRQs off, from the module address
 * (cloned in the shadow root), switch to the shadow root, load the word at
 * va (mapped there by the experiment's own top-level entry), switch back
 * to full_cr3 and return the word. Only registers between the CR3 writes.
 */
	.balign 64
	.globl xptilab_stale_read
	.type xptilab_stale_read, @function
xptilab_stale_read:
	endbr64
	movq	%rdi, %cr3
	movq	(%rdx), %rax
	movq	%rsi, %cr3
	ret
	int3
	.size xptilab_stale_read, . - xptilab_stale_read

	.balign PAGE_SIZE
	.globl xptilab_entry_end
xptilab_entry_end:
