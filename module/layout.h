/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xptilab area: a small window of our own mappings inside the
 * cpu_entry_area slot, past everything Linux maps there. Linux shares that
 * slot's lower tables between the kernel page tables and, under PTI, every
 * process's user page tables, and a shadow root copies the slot entry too.
 * So what we map here is visible on every root a CPU can be on when an
 * interrupt arrives: that is where the private IDTs and the entry stubs
 * must live.
 *
 * The stubs find their data with RIP-relative addressing from the start of
 * the aliased text, so the offsets below are fixed, shared by C and asm.
 */
#ifndef XPTILAB_LAYOUT_H
#define XPTILAB_LAYOUT_H

#define XPTILAB_MAX_CPUS	1024

/* Offsets from the area's base address. */
#define XPTILAB_AREA_TEXT	0x000000	/* alias of .xptilab.entry.text, RX */
#define XPTILAB_TEXT_MAX	0x010000	/* at most 16 pages of it */
#define XPTILAB_AREA_GLOBAL	0x010000	/* one page: original handlers, RO */
#define XPTILAB_AREA_PCPU	0x100000	/* per-CPU data pages, RW NX */
#define XPTILAB_AREA_IDT	0x500000	/* per-CPU IDT pages, RO NX */
#define XPTILAB_AREA_SIZE	0x900000

/* Top-level entries of the user half: the lower half of the address space. */
#define XPTILAB_USER_PGDS	256

/* Stubs: one per vector, 16 bytes apart, at the start of the text. */
#define XPTILAB_STUB_SIZE	16
/* IST-safe stubs for vectors 0-31, on the next page (entry.S). */
#define XPTILAB_IST_STUB_SIZE	128
#define XPTILAB_IST_VECTORS	32

/* struct xptilab_pcpu (one page per CPU) field offsets */
#define XPTILAB_PCPU_SHADOW_CR3	0	/* shadow root as CR3 (__sme_pa, no PCID) */
#define XPTILAB_PCPU_FULL_CR3	8	/* CR3 to restore when found on shadow */
#define XPTILAB_PCPU_EVENTS	16	/* entries taken while on the shadow root */
#define XPTILAB_PCPU_CANARY	24	/* read on the shadow root by the cr3 loop */
#define XPTILAB_PCPU_TMODE	32	/* trampoline mode, XPTILAB_TRAMP_* */
#define XPTILAB_PCPU_TWINDOW	40	/* trap-gate window length (spins) */
#define XPTILAB_PCPU_KCR3_CLEAR	48	/* bits cleared from a user CR3 (PTI) */
#define XPTILAB_PCPU_KCR3_SET	56	/* bits set in the kernel CR3 (NOFLUSH) */
#define XPTILAB_PCPU_PENDING	64	/* vector + 1 of a deferred interrupt */
#define XPTILAB_PCPU_RACE_HITS	72	/* IRQs at CPL 0 on the shadow root */
#define XPTILAB_PCPU_DEFERRED	80	/* IRQs in a trampoline on the full root */
#define XPTILAB_PCPU_ENTRIES	88	/* test-vector entries from user mode */
#define XPTILAB_PCPU_IN_SESSION	96	/* 1 while a task runs on the shadow root */
#define XPTILAB_PCPU_SESS_TASK_CR3 104	/* the session task's own CR3 */
#define XPTILAB_PCPU_SESS_PGD	112	/* armed: task user pgd as CR3 (__sme_pa) */
#define XPTILAB_PCPU_SESS_TSC	120	/* TSC at session entry */
#define XPTILAB_PCPU_VEC_COUNT	128	/* u32[256]: shadow-root entries by vector */
#define XPTILAB_PCPU_RACE_VEC	1152	/* u32[256]: race hits by vector */
#define XPTILAB_PCPU_SAVED_EFER	2176	/* EFER outside sessions */
#define XPTILAB_PCPU_SAVED_SYSCS 2184	/* SYSENTER_CS outside sessions */
#define XPTILAB_PCPU_SESS_ENTERS 2192
#define XPTILAB_PCPU_SESS_EXITS	2200
#define XPTILAB_PCPU_SESS_TICKS	2208	/* total TSC ticks spent in sessions */
#define XPTILAB_PCPU_SESS_REFUSED 2216	/* session vector used while not armed */
#define XPTILAB_PCPU_SESS_PGD_VA 2224	/* kernel VA of the task's user pgd */
#define XPTILAB_PCPU_SHADOW_VA	2232	/* kernel VA of this CPU's shadow root */
#define XPTILAB_PCPU_SESS_VEC	2240	/* u32[256]: session exits by vector */
#define XPTILAB_PCPU_SESS_HIST	3264	/* u32[64]: durations, log2 buckets */
#define XPTILAB_PCPU_IPI_HANDLED 3520	/* u64[8], C only: IPI handlers run */
#define XPTILAB_PCPU_IST_RCX	3584	/* u64[32]: %rcx while an IST stub runs */
/* user root (CR3 page) of the task the test vectors serve; 0: none */
#define XPTILAB_PCPU_TOWNER	3840

/* Trampoline modes (struct xptilab_pcpu.tmode) */
#define XPTILAB_TRAMP_SWITCH	1	/* shadow -> full ... full -> shadow */
#define XPTILAB_TRAMP_FLUSH_EXIT 2	/* global flush on full -> shadow */
#define XPTILAB_TRAMP_FLUSH_ENTRY 4	/* global flush on shadow -> full */

/* struct xptilab_global field offsets */
#define XPTILAB_GLOBAL_ORIG	0	/* u64[256]: Linux's handler per vector */
#define XPTILAB_GLOBAL_PCPU_BASE 2048	/* area address of CPU 0's data page */
#define XPTILAB_GLOBAL_GP_GATE	2056	/* #GP error code of "int $vector_gate" */
#define XPTILAB_GLOBAL_GP_TRAP	2064	/* ... of vector_trap */
#define XPTILAB_GLOBAL_GP_SESSION 2072	/* ... of vector_session */

/* Flags of struct xptilab_loop.mode for the cr3 round trip. */
#define XPTILAB_LOOP_FLUSH_IN	1	/* toggle CR4.PGE around full -> shadow */
#define XPTILAB_LOOP_FLUSH_OUT	2	/* toggle CR4.PGE around shadow -> full */
#define XPTILAB_LOOP_SWITCH	4	/* do the CR3 writes at all */

/* struct xptilab_loop field offsets */
#define XPTILAB_LOOP_SHADOW	0
#define XPTILAB_LOOP_FULL	8
#define XPTILAB_LOOP_CR4_NOPGE	16
#define XPTILAB_LOOP_CR4	24
#define XPTILAB_LOOP_MODE	32
#define XPTILAB_LOOP_PROBE	40

#ifndef __ASSEMBLY__
#include <linux/types.h>

struct xptilab_pcpu {
	u64 shadow_cr3;
	u64 full_cr3;
	u64 events;
	u64 canary;
	u64 tmode;
	u64 twindow;
	u64 kcr3_clear;
	u64 kcr3_set;
	u64 pending;
	u64 race_hits;
	u64 deferred;
	u64 entries;
	u64 in_session;
	u64 sess_task_cr3;
	u64 sess_pgd;
	u64 sess_tsc;
	u32 vec_count[256];
	u32 race_vec[256];
	u64 saved_efer;
	u64 saved_syscs;
	u64 sess_enters;
	u64 sess_exits;
	u64 sess_ticks;
	u64 sess_refused;
	u64 sess_pgd_va;
	u64 shadow_va;
	u32 sess_vec[256];
	u32 sess_hist[64];
	u64 ipi_handled[8];	/* C only: IPI handlers run, by variant */
	u64 ist_rcx[XPTILAB_IST_VECTORS];
	u64 towner;
};

struct xptilab_global {
	u64 orig[256];
	u64 pcpu_base;
	u64 gp_gate;
	u64 gp_trap;
	u64 gp_session;
};

struct xptilab_loop {
	u64 shadow_cr3;
	u64 full_cr3;
	u64 cr4_nopge;
	u64 cr4;
	u64 mode;
	u64 probe;
};

#define XPTILAB_OFF(type, field, off)					\
	BUILD_BUG_ON(offsetof(struct type, field) != (off))

/* Every offset the assembly uses, and the sizes the area relies on. */
#define XPTILAB_LAYOUT_CHECKS()						\
	do {								\
		XPTILAB_OFF(xptilab_pcpu, shadow_cr3, XPTILAB_PCPU_SHADOW_CR3); \
		XPTILAB_OFF(xptilab_pcpu, full_cr3, XPTILAB_PCPU_FULL_CR3); \
		XPTILAB_OFF(xptilab_pcpu, events, XPTILAB_PCPU_EVENTS);	\
		XPTILAB_OFF(xptilab_pcpu, canary, XPTILAB_PCPU_CANARY);	\
		XPTILAB_OFF(xptilab_pcpu, tmode, XPTILAB_PCPU_TMODE);	\
		XPTILAB_OFF(xptilab_pcpu, twindow, XPTILAB_PCPU_TWINDOW); \
		XPTILAB_OFF(xptilab_pcpu, kcr3_clear, XPTILAB_PCPU_KCR3_CLEAR); \
		XPTILAB_OFF(xptilab_pcpu, kcr3_set, XPTILAB_PCPU_KCR3_SET); \
		XPTILAB_OFF(xptilab_pcpu, pending, XPTILAB_PCPU_PENDING); \
		XPTILAB_OFF(xptilab_pcpu, race_hits, XPTILAB_PCPU_RACE_HITS); \
		XPTILAB_OFF(xptilab_pcpu, deferred, XPTILAB_PCPU_DEFERRED); \
		XPTILAB_OFF(xptilab_pcpu, entries, XPTILAB_PCPU_ENTRIES); \
		XPTILAB_OFF(xptilab_pcpu, in_session, XPTILAB_PCPU_IN_SESSION); \
		XPTILAB_OFF(xptilab_pcpu, sess_task_cr3,			\
			    XPTILAB_PCPU_SESS_TASK_CR3);			\
		XPTILAB_OFF(xptilab_pcpu, sess_pgd, XPTILAB_PCPU_SESS_PGD); \
		XPTILAB_OFF(xptilab_pcpu, sess_tsc, XPTILAB_PCPU_SESS_TSC); \
		XPTILAB_OFF(xptilab_pcpu, vec_count, XPTILAB_PCPU_VEC_COUNT); \
		XPTILAB_OFF(xptilab_pcpu, race_vec, XPTILAB_PCPU_RACE_VEC); \
		XPTILAB_OFF(xptilab_pcpu, saved_efer, XPTILAB_PCPU_SAVED_EFER); \
		XPTILAB_OFF(xptilab_pcpu, saved_syscs,			\
			    XPTILAB_PCPU_SAVED_SYSCS);			\
		XPTILAB_OFF(xptilab_pcpu, sess_enters,			\
			    XPTILAB_PCPU_SESS_ENTERS);			\
		XPTILAB_OFF(xptilab_pcpu, sess_exits, XPTILAB_PCPU_SESS_EXITS); \
		XPTILAB_OFF(xptilab_pcpu, sess_ticks, XPTILAB_PCPU_SESS_TICKS); \
		XPTILAB_OFF(xptilab_pcpu, sess_refused,			\
			    XPTILAB_PCPU_SESS_REFUSED);			\
		XPTILAB_OFF(xptilab_pcpu, sess_pgd_va,			\
			    XPTILAB_PCPU_SESS_PGD_VA);			\
		XPTILAB_OFF(xptilab_pcpu, shadow_va, XPTILAB_PCPU_SHADOW_VA); \
		XPTILAB_OFF(xptilab_pcpu, sess_vec, XPTILAB_PCPU_SESS_VEC); \
		XPTILAB_OFF(xptilab_pcpu, sess_hist, XPTILAB_PCPU_SESS_HIST); \
		XPTILAB_OFF(xptilab_pcpu, ipi_handled,			\
			    XPTILAB_PCPU_IPI_HANDLED);			\
		XPTILAB_OFF(xptilab_pcpu, ist_rcx, XPTILAB_PCPU_IST_RCX); \
		XPTILAB_OFF(xptilab_pcpu, towner, XPTILAB_PCPU_TOWNER);	\
		BUILD_BUG_ON(sizeof(struct xptilab_pcpu) > PAGE_SIZE);	\
		XPTILAB_OFF(xptilab_global, orig, XPTILAB_GLOBAL_ORIG);	\
		XPTILAB_OFF(xptilab_global, pcpu_base,			\
			    XPTILAB_GLOBAL_PCPU_BASE);			\
		XPTILAB_OFF(xptilab_global, gp_gate, XPTILAB_GLOBAL_GP_GATE); \
		XPTILAB_OFF(xptilab_global, gp_trap, XPTILAB_GLOBAL_GP_TRAP); \
		XPTILAB_OFF(xptilab_global, gp_session,			\
			    XPTILAB_GLOBAL_GP_SESSION);			\
		BUILD_BUG_ON(sizeof(struct xptilab_global) > PAGE_SIZE); \
		XPTILAB_OFF(xptilab_loop, shadow_cr3, XPTILAB_LOOP_SHADOW); \
		XPTILAB_OFF(xptilab_loop, full_cr3, XPTILAB_LOOP_FULL);	\
		XPTILAB_OFF(xptilab_loop, cr4_nopge, XPTILAB_LOOP_CR4_NOPGE); \
		XPTILAB_OFF(xptilab_loop, cr4, XPTILAB_LOOP_CR4);	\
		XPTILAB_OFF(xptilab_loop, mode, XPTILAB_LOOP_MODE);	\
		XPTILAB_OFF(xptilab_loop, probe, XPTILAB_LOOP_PROBE);	\
		BUILD_BUG_ON(PTRS_PER_PGD != 2 * XPTILAB_USER_PGDS);	\
		BUILD_BUG_ON(256 * XPTILAB_STUB_SIZE != PAGE_SIZE);	\
		BUILD_BUG_ON(XPTILAB_IST_VECTORS * XPTILAB_IST_STUB_SIZE !=	\
			     PAGE_SIZE);				\
		BUILD_BUG_ON(XPTILAB_AREA_PCPU +				\
			     XPTILAB_MAX_CPUS * PAGE_SIZE > XPTILAB_AREA_IDT); \
		BUILD_BUG_ON(XPTILAB_AREA_IDT +				\
			     XPTILAB_MAX_CPUS * PAGE_SIZE > XPTILAB_AREA_SIZE); \
	} while (0)

#endif /* __ASSEMBLY__ */
#endif /* XPTILAB_LAYOUT_H */
