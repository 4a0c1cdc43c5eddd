/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xptilab user/kernel ABI: the one header shared by the module, the
 * xptilab tool and the selftests.
 *
 * Every ioctl argument starts with a __u32 'size' that the caller sets to
 * sizeof() the structure it was built with; the module refuses any other
 * size with EINVAL, and any non-zero reserved field with EINVAL, so that
 * fields can be added later without silent misinterpretation.
 */
#ifndef _UAPI_XPTILAB_H
#define _UAPI_XPTILAB_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define XPTILAB_ABI_VERSION	5
#define XPTILAB_DEVICE		"/dev/xptilab"
#define XPTILAB_IOC_MAGIC	0xb9

/* CPU and kernel facts, bits of xptilab_info.features */
#define XPTILAB_FEAT_PTI	(1ULL << 0)	/* kernel runs with PTI (KPTI) */
#define XPTILAB_FEAT_PCID	(1ULL << 1)	/* CPU has PCID, kernel uses it */
#define XPTILAB_FEAT_INVPCID	(1ULL << 2)
#define XPTILAB_FEAT_PGE	(1ULL << 3)	/* global pages (CR4.PGE) */
#define XPTILAB_FEAT_SMEP	(1ULL << 4)
#define XPTILAB_FEAT_SMAP	(1ULL << 5)
#define XPTILAB_FEAT_UMIP	(1ULL << 6)
#define XPTILAB_FEAT_LA57	(1ULL << 7)	/* 5-level paging in use */
#define XPTILAB_FEAT_HYPERVISOR	(1ULL << 8)	/* running as a guest */
#define XPTILAB_FEAT_IA32_EMU	(1ULL << 9)	/* int $0x80 available */
/*
 * PCID as the figures depend on it (docs/design.md): CR4.PCIDE, set when
 * Linux uses PCID; CPUID.1:ECX.PCID, set even when the kernel was booted
 * with nopcid (the Xen 2018 configuration, CR4.PCIDE=0, on PCID hardware).
 * XPTILAB_FEAT_PCID_KNOWN says the module reports these two bits.
 */
#define XPTILAB_FEAT_PCIDE	(1ULL << 10)	/* CR4.PCIDE: PCID in use */
#define XPTILAB_FEAT_PCID_CPUID	(1ULL << 11)	/* the CPU has PCID */
#define XPTILAB_FEAT_PCID_KNOWN	(1ULL << 12)	/* bits 10 and 11 are valid */

#define XPTILAB_RELEASE_LEN	72
#define XPTILAB_MODEL_LEN	64

struct xptilab_info {
	__u32 size;		/* in: sizeof(struct xptilab_info) */
	__u32 abi_version;	/* out: XPTILAB_ABI_VERSION */
	__u32 cpus_online;	/* out */
	__u32 cpus_possible;	/* out */
	__u32 paging_levels;	/* out: 4 or 5 */
	__u32 clone_global;	/* out: module parameter clone_global */
	__u64 features;		/* out: XPTILAB_FEAT_* */
	char kernel_release[XPTILAB_RELEASE_LEN];	/* out: uname -r */
	char cpu_model[XPTILAB_MODEL_LEN];		/* out: CPUID brand */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_INFO	_IOWR(XPTILAB_IOC_MAGIC, 0x00, struct xptilab_info)

/*
 * The cr3 experiment: on one CPU with interrupts off, timed
 * full -> shadow -> full round trips whose code executes on the shadow
 * root in between. Samples are raw TSC deltas between serialized reads;
 * 'overhead' holds the same timed sequence without the CR3 writes, taken
 * interleaved in the same run, for the caller to report and subtract.
 * A sample disturbed by an NMI (or any entry taken on the shadow root) is
 * discarded, counted in 'dropped', and taken again, up to a bound.
 */
enum xptilab_cr3_variant {
	XPTILAB_CR3_PLAIN = 0,		/* two CR3 writes, no flush */
	XPTILAB_CR3_NONGLOBAL = 1,	/* non-global clones, flush globals on full->shadow */
	XPTILAB_CR3_GLOBAL = 2,		/* global clones, flush globals both ways */
	XPTILAB_CR3_PCID = 3,		/* PCID + NOFLUSH both ways */
	XPTILAB_CR3_NR_VARIANTS
};

#define XPTILAB_MAX_ITERATIONS	1000000
#define XPTILAB_MAX_TOUCH_PAGES	4096

struct xptilab_cr3_run {
	__u32 size;		/* in: sizeof(struct xptilab_cr3_run) */
	__u32 cpu;		/* in: online CPU to run on */
	__u32 variant;		/* in: enum xptilab_cr3_variant */
	__u32 iterations;	/* in: samples wanted, 1..XPTILAB_MAX_ITERATIONS */
	__u32 touch_pages;	/* in: kernel pages re-touched after each trip */
	__u32 flags;		/* in: zero */
	__u64 samples;		/* in: user __u64[iterations], round trips */
	__u64 overhead;		/* in: user __u64[iterations], timer overhead */
	__u64 touch_samples;	/* in: user __u64[iterations], or 0 if no touch */
	__u32 n;		/* out: samples written */
	__u32 dropped;		/* out: disturbed samples discarded */
	__u32 cr3_writes;	/* out: CR3 writes per round trip */
	__u32 global_flushes;	/* out: CR4.PGE toggles per round trip */
	__u64 shadow_events;	/* out: entries taken on the shadow root */
	__u64 tsc_khz;		/* out: TSC frequency, for converting to time */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_RUN_CR3	_IOWR(XPTILAB_IOC_MAGIC, 0x01, struct xptilab_cr3_run)

/*
 * Trampolines. The module owns two DPL-3 test vectors: an interrupt gate
 * and a trap gate, reached from user mode with "int $N". What they do on a
 * CPU is set here, for both at once:
 *   GATE        nothing but the gate and iretq (0 CR3 writes);
 *   XPTI        task CR3 -> shadow -> full -> shadow -> task CR3 (4 CR3
 *               writes), non-global clones, global flush on the exit switch
 *               only: Xen after 9d1d31ad94;
 *   XPTI_GLOBAL the same with global clones and a global flush on both
 *               switches: Xen before it.
 *   LINUX_INT80 GATE, and the CPU's vector 0x80 is Linux's own gate, not
 *               xptilab's stub: "int $0x80" there costs what it costs
 *               without xptilab, the baseline of the stub's tax on every
 *               entry. Every other mode, and closing the configuring
 *               descriptor, puts the stub back. Sessions are refused
 *               (EBUSY) on that CPU, and one armed there is disarmed: a
 *               session's "int $0x80" would reach Linux on the shadow
 *               root. EOPNOTSUPP without IA32 emulation.
 * The trap gate also spins for 'window' iterations with IF=1 on the shadow
 * root before its entry switch.
 */
enum xptilab_entry_mode {
	XPTILAB_ENTRY_GATE = 0,
	XPTILAB_ENTRY_XPTI = 1,
	XPTILAB_ENTRY_XPTI_GLOBAL = 2,
	XPTILAB_ENTRY_LINUX_INT80 = 3,
	XPTILAB_ENTRY_NR_MODES
};

#define XPTILAB_MAX_WINDOW	10000000

struct xptilab_entry_config {
	__u32 size;		/* in: sizeof(struct xptilab_entry_config) */
	__u32 cpu;		/* in: online CPU */
	__u32 mode;		/* in: enum xptilab_entry_mode */
	__u32 window;		/* in: trap-gate window, 0..XPTILAB_MAX_WINDOW */
	__u32 vector_gate;	/* out: interrupt-gate test vector */
	__u32 vector_trap;	/* out: trap-gate test vector */
	__u32 cr3_writes;	/* out: CR3 writes per round trip in this mode */
	__u32 global_flushes;	/* out: CR4.PGE toggles per round trip */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_ENTRY_CONFIG _IOWR(XPTILAB_IOC_MAGIC, 0x02, struct xptilab_entry_config)

/*
 * IPIs after a top-level page-table update (the ipi experiment). From the
 * calling task, which must be pinned to from_cpu, send IPIs to a set of
 * target CPUs and wait for all of them, 'iterations' times. Handlers:
 *   EMPTY            nothing: the IPI round trip itself;
 *   SYNC             re-copy the caller's top-level user entries into the
 *                    target's shadow root (Xen's FLUSH_ROOT_PGTBL "sync");
 *   FLUSH            SYNC, then a global flush by toggling CR4.PGE
 *                    (FLUSH_ROOT_PGTBL | FLUSH_TLB_GLOBAL, after the change);
 *   FLUSH_NONGLOBAL  SYNC, then a CR3 reload (global entries survive);
 *   INVPCID          SYNC, then INVPCID all-contexts (EOPNOTSUPP without).
 * After SYNC/FLUSH* the shadow roots mirror the caller's user half until
 * the next such run or until the descriptor is closed.
 */
enum xptilab_ipi_variant {
	XPTILAB_IPI_EMPTY = 0,
	XPTILAB_IPI_SYNC = 1,
	XPTILAB_IPI_FLUSH = 2,
	XPTILAB_IPI_FLUSH_NONGLOBAL = 3,
	XPTILAB_IPI_INVPCID = 4,
	XPTILAB_IPI_NR_VARIANTS
};

#define XPTILAB_MAX_IPI_ITERATIONS	100000
#define XPTILAB_MAX_CPU_BITS		1024

struct xptilab_ipi_run {
	__u32 size;		/* in: sizeof(struct xptilab_ipi_run) */
	__u32 from_cpu;		/* in: the caller's CPU (pin first) */
	__u32 variant;		/* in: enum xptilab_ipi_variant */
	__u32 iterations;	/* in: 1..XPTILAB_MAX_IPI_ITERATIONS */
	__u64 targets;		/* in: user __u64 bitmap of target CPUs */
	__u32 target_bits;	/* in: bits in that bitmap, 1..XPTILAB_MAX_CPU_BITS */
	__u32 ntargets;		/* out: number of targets */
	__u64 latency;		/* in: user __u64[iterations]: send -> all done */
	/* in: user __u64[iterations * ntargets]: the handler times of
	 * target k (the k-th set bit) at [k * iterations + i]
	 */
	__u64 handler;
	__u64 tsc_khz;		/* out */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_RUN_IPI	_IOWR(XPTILAB_IOC_MAGIC, 0x05, struct xptilab_ipi_run)

/* Per-CPU counters; monotonic while the module is loaded. */
struct xptilab_counters {
	__u32 size;		/* in: sizeof(struct xptilab_counters) */
	__u32 cpu;		/* in: possible CPU */
	__u64 entries;		/* test-vector entries from user mode */
	__u64 race_hits;	/* interrupts at CPL 0 with the shadow root in CR3 */
	__u64 deferred;		/* interrupts in a trampoline on the full root */
	__u64 shadow_events;	/* any entry taken with the shadow root in CR3 */
	__u64 ipi_handled[8];	/* IPI handlers run here, by xptilab_ipi_variant */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_COUNTERS	_IOWR(XPTILAB_IOC_MAGIC, 0x03, struct xptilab_counters)

/*
 * IPI storm: from 'from_cpu', send Linux call-function IPIs to 'target_cpu'
 * back to back (each waited for) for 'duration_ms'.
 */
#define XPTILAB_MAX_STORM_MS	60000

struct xptilab_storm {
	__u32 size;		/* in: sizeof(struct xptilab_storm) */
	__u32 from_cpu;		/* in: online CPU sending */
	__u32 target_cpu;	/* in: online CPU receiving, != from_cpu */
	__u32 duration_ms;	/* in: 1..XPTILAB_MAX_STORM_MS */
	__u64 ipis;		/* out: IPIs sent and completed */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_STORM	_IOWR(XPTILAB_IOC_MAGIC, 0x04, struct xptilab_storm)

/*
 * Sessions: a task pinned to a CPU runs in user mode on that CPU's shadow
 * root, as a PV guest runs on Xen's root_pgt. START arms the caller's CPU
 * for the caller's page tables (the caller must be pinned there) and
 * returns the session vector; "int $vector" then enters the session and
 * returns in rax the CPU's count of session exits (-1 if not armed). Test
 * vector entries keep the session; every other entry ends it before Linux
 * runs. STOP disarms the caller's CPU. SYNC refreshes every CPU's shadow
 * root from the caller's top-level user entries with the SYNC or FLUSH IPI
 * of the ipi experiment ('variant'). Sessions end when the descriptor that
 * started them is closed, and another process cannot start sessions
 * meanwhile (EBUSY).
 */
enum xptilab_session_op {
	XPTILAB_SESSION_START = 0,
	XPTILAB_SESSION_STOP = 1,
	XPTILAB_SESSION_SYNC = 2,
	XPTILAB_SESSION_NR_OPS
};

struct xptilab_session {
	__u32 size;		/* in: sizeof(struct xptilab_session) */
	__u32 cpu;		/* in: the caller's CPU (pin first) */
	__u32 op;		/* in: enum xptilab_session_op */
	__u32 variant;		/* in: SYNC: XPTILAB_IPI_SYNC or _FLUSH, else 0 */
	__u32 vector;		/* out: the session vector */
	__u32 pad;		/* in: zero */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_SESSION	_IOWR(XPTILAB_IOC_MAGIC, 0x06, struct xptilab_session)

/* How sessions ended on a CPU; monotonic while the module is loaded. */
struct xptilab_session_stats {
	__u32 size;		/* in: sizeof(struct xptilab_session_stats) */
	__u32 cpu;		/* in: possible CPU */
	__u64 enters;		/* sessions entered */
	__u64 exits;		/* sessions ended */
	__u64 refused;		/* session vector used while not armed */
	__u64 ticks;		/* TSC ticks spent in sessions */
	__u32 exits_by_vector[256];	/* the entry that ended each session */
	__u32 duration_log2[64];	/* sessions by floor(log2(ticks)) */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_SESSION_STATS _IOWR(XPTILAB_IOC_MAGIC, 0x07, struct xptilab_session_stats)

/*
 * The NMI delivery check: 'cpu' spins in kernel mode, with interrupts off
 * and %eax held at 'eax', while the caller (on another CPU) sends it
 * 'nmis' NMIs one at a time, each waited for up to 'timeout_ms'.
 * 'delivered' counts those Linux's NMI code handed to xptilab's NMI
 * handler; every one must arrive, whatever %eax holds (an IST stub that
 * wrote below the NMI frame made Linux drop NMIs that hit %eax == 1).
 * ETIMEDOUT when 'cpu' did not start spinning within 2 s. A wait shorter
 * than delivery takes (milliseconds for an emulator on a busy host) counts
 * an NMI as lost, and the next one may merge with it while it is pending,
 * which the module then logs as NMIs that did not reach Linux: nmi_test
 * waits 500 ms.
 */
#define XPTILAB_MAX_NMIS	10000
#define XPTILAB_MAX_NMI_WAIT_MS	1000

struct xptilab_nmi_check {
	__u32 size;		/* in: sizeof(struct xptilab_nmi_check) */
	__u32 cpu;		/* in: online CPU that spins, not the caller's */
	__u32 eax;		/* in: value of %eax while it spins */
	__u32 nmis;		/* in: 1..XPTILAB_MAX_NMIS */
	__u32 timeout_ms;	/* in: wait per NMI, 1..XPTILAB_MAX_NMI_WAIT_MS */
	__u32 delivered;	/* out: NMIs that reached Linux's handlers */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_NMI_CHECK	_IOWR(XPTILAB_IOC_MAGIC, 0x08, struct xptilab_nmi_check)

/*
 * The stale-translation experiment (docs/stale.md). On target_cpu, running
 * on the caller's page tables (the full root), xptilab maps a test address
 * through a top-level entry of its own and fills the TLB with it, through
 * the full root or through the target's shadow root (a copy of that entry);
 * from_cpu then changes the top-level entry so the address maps another
 * page with another marker (the L4 update), sends the IPI variant (an
 * enum xptilab_ipi_variant, whose SYNC re-copies the entry into the
 * shadow root, or XPTILAB_STALE_NO_IPI), and the target reads the address
 * in three states: still on the full root with no CR3 write since
 * (XPTILAB_STALE_SAME), after a CR3 write to its shadow root
 * (XPTILAB_STALE_SHADOW), after the switch back to the full root
 * (XPTILAB_STALE_FULL). A read of the old marker is stale. 'global' makes
 * the test leaf and the clones global. The calling task must be pinned to
 * from_cpu. Trials disturbed by an NMI, an entry on the shadow root or a
 * foreign CR3 switch are discarded and counted.
 */
#define XPTILAB_STALE_NO_IPI	XPTILAB_IPI_NR_VARIANTS	/* positive control */
#define XPTILAB_STALE_NR_VARIANTS (XPTILAB_IPI_NR_VARIANTS + 1)

enum xptilab_stale_fill {
	XPTILAB_STALE_FILL_FULL = 0,	/* read on the full root */
	XPTILAB_STALE_FILL_SHADOW = 1,	/* read on the shadow root */
	XPTILAB_STALE_NR_FILLS
};

enum xptilab_stale_state {
	XPTILAB_STALE_SAME = 0,
	XPTILAB_STALE_SHADOW = 1,
	XPTILAB_STALE_FULL = 2,
	XPTILAB_STALE_NR_STATES
};

#define XPTILAB_MAX_STALE_TRIALS	10000

struct xptilab_stale_run {
	__u32 size;		/* in: sizeof(struct xptilab_stale_run) */
	__u32 from_cpu;		/* in: the caller's CPU (pin first) */
	__u32 target_cpu;	/* in: online CPU, != from_cpu */
	__u32 variant;		/* in: xptilab_ipi_variant or XPTILAB_STALE_NO_IPI */
	__u32 global;		/* in: 0 or 1: test leaf and clones global */
	__u32 fill;		/* in: enum xptilab_stale_fill */
	__u32 trials;		/* in: 1..XPTILAB_MAX_STALE_TRIALS */
	__u32 done;		/* out: undisturbed trials */
	__u32 disturbed;	/* out: trials discarded */
	__u32 fill_errors;	/* out: the fill read did not see the old marker */
	__u32 stale[XPTILAB_STALE_NR_STATES];	/* out: reads of the old marker */
	__u32 fresh[XPTILAB_STALE_NR_STATES];	/* out: reads of the new marker */
	__u32 other[XPTILAB_STALE_NR_STATES];	/* out: reads of anything else */
	__u32 pad;		/* in: zero */
	__u64 reserved[4];	/* in: zero */
};

#define XPTILAB_IOC_RUN_STALE	_IOWR(XPTILAB_IOC_MAGIC, 0x09, struct xptilab_stale_run)

#endif /* _UAPI_XPTILAB_H */
