/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sessions (see docs/sessions.md): a task pinned to a CPU runs in user mode
 * on that CPU's shadow root. Header-only: the tool and the selftests both
 * use it.
 *
 * After XPTILAB_IOC_SESSION START, `int $vector` (the session vector) enters
 * a session and returns in rax this CPU's count of session exits; inside a
 * session it changes nothing and returns the same count; it returns -1 when
 * the CPU is not armed for the caller's page tables. Every register but rax
 * is preserved. So a piece of code ran entirely in one session iff an entry
 * right before it and one right after it return the same count.
 */
#ifndef XPTILAB_SESSION_H
#define XPTILAB_SESSION_H

#include <string.h>
#include <sys/ioctl.h>

#include <uapi/xptilab.h>

#include "trigger.h"

/* `int $n` on the session vector; n must be a literal. */
#define SESSION_INT(n) __extension__({ \
	long r_; \
	__asm__ __volatile__("int $" #n : "=a"(r_) : : "memory"); \
	r_; \
})

#define SESSION_NOT_ARMED	(-1L)
#define SESSION_BAD_VECTOR	(-2L)

/*
 * Enter (or stay in) a session through vector vec: the CPU's session exit
 * count, SESSION_NOT_ARMED, or SESSION_BAD_VECTOR (nothing done) for a
 * vector the tool cannot raise.
 */
static inline long session_enter(unsigned int vec)
{
	switch (vec) {
#define SESSION_CASE(n) case n: return SESSION_INT(n);
	TRIGGER_FOR_EACH_VECTOR(SESSION_CASE)
#undef SESSION_CASE
	default:
		return SESSION_BAD_VECTOR;
	}
}

/*
 * XPTILAB_IOC_SESSION op on cpu (the caller must be pinned there); variant
 * for SYNC. *vector (if not NULL) gets the session vector. Returns ioctl()'s
 * result, errno set.
 */
static inline int session_op(int fd, int cpu, unsigned int op,
			     unsigned int variant, unsigned int *vector)
{
	struct xptilab_session s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.cpu = cpu;
	s.op = op;
	s.variant = variant;
	ret = ioctl(fd, XPTILAB_IOC_SESSION, &s);
	if (!ret && vector)
		*vector = s.vector;
	return ret;
}

/* XPTILAB_IOC_SESSION_STATS of cpu; returns ioctl()'s result, errno set. */
static inline int session_stats(int fd, int cpu,
				struct xptilab_session_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->cpu = cpu;
	return ioctl(fd, XPTILAB_IOC_SESSION_STATS, st);
}

/* after - before, field by field, into d (which may be after). */
static inline void session_stats_sub(struct xptilab_session_stats *d,
				     const struct xptilab_session_stats *after,
				     const struct xptilab_session_stats *before)
{
	d->size = after->size;
	d->cpu = after->cpu;
	d->enters = after->enters - before->enters;
	d->exits = after->exits - before->exits;
	d->refused = after->refused - before->refused;
	d->ticks = after->ticks - before->ticks;
	for (int v = 0; v < 256; v++)
		d->exits_by_vector[v] = after->exits_by_vector[v] -
					before->exits_by_vector[v];
	for (int b = 0; b < 64; b++)
		d->duration_log2[b] = after->duration_log2[b] -
				      before->duration_log2[b];
}

/*
 * What an entry on vector vec is, on x86-64 Linux 6.1
 * (arch/x86/include/asm/trapnr.h and irq_vectors.h). In a session,
 * syscall arrives as #UD and sysenter as #GP (the session clears
 * EFER.SCE and SYSENTER_CS); the stubs re-execute them on the task's own
 * tables, so #UD and #GP from user mode usually mean those.
 */
static inline const char *session_vector_name(unsigned int vec)
{
	static const char *const exc[32] = {
		[0] = "divide error (#DE)",
		[1] = "debug (#DB)",
		[2] = "NMI",
		[3] = "breakpoint (#BP)",
		[4] = "overflow (#OF)",
		[5] = "bound range (#BR)",
		[6] = "syscall (#UD)",
		[7] = "device not available (#NM)",
		[8] = "double fault (#DF)",
		[9] = "coprocessor segment overrun",
		[10] = "invalid TSS (#TS)",
		[11] = "segment not present (#NP)",
		[12] = "stack fault (#SS)",
		[13] = "sysenter (#GP)",
		[14] = "page fault (#PF)",
		[15] = "spurious",
		[16] = "x87 FP error (#MF)",
		[17] = "alignment check (#AC)",
		[18] = "machine check (#MC)",
		[19] = "SIMD FP error (#XM)",
		[20] = "virtualization (#VE)",
		[21] = "control protection (#CP)",
		[28] = "hypervisor injection (#HV)",
		[29] = "VMM communication (#VC)",
		[30] = "security (#SX)",
	};

	if (vec < 32)
		return exc[vec] ? exc[vec] : "reserved exception";
	switch (vec) {
	case 0x20: return "IRQ move cleanup";
	case 0x80: return "int $0x80 (ia32 syscall)";
	case 0xec: return "local timer";
	case 0xed: return "Hyper-V stimer0";
	case 0xee: return "Hyper-V reenlightenment";
	case 0xef: return "managed IRQ shutdown";
	case 0xf0: return "posted interrupt (nested)";
	case 0xf1: return "posted interrupt wakeup";
	case 0xf2: return "posted interrupt";
	case 0xf3: return "hypervisor callback";
	case 0xf4: return "deferred error (AMD)";
	case 0xf6: return "IRQ work";
	case 0xf7: return "platform IPI";
	case 0xf8: return "reboot";
	case 0xf9: return "threshold APIC";
	case 0xfa: return "thermal APIC";
	case 0xfb: return "IPI call-function single";
	case 0xfc: return "IPI call-function";
	case 0xfd: return "IPI reschedule";
	case 0xfe: return "APIC error";
	case 0xff: return "spurious APIC";
	}
	if (vec >= 0x30 && vec < 0x40)
		return "device IRQ (ISA range)";
	return vec < 0xec ? "device IRQ" : "system vector";
}

#endif /* XPTILAB_SESSION_H */
