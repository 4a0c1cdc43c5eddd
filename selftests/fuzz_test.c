// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer for /dev/xptilab. For XPTILAB_FUZZ_SECONDS (default 10;
 * `make stress` uses 60) it issues:
 *  - the real commands with well-formed arguments, then with 1-4 fields
 *    mutated (sizes, CPUs huge or offline, unknown variants/modes/ops,
 *    huge and "negative" counts, reserved and output fields set, bad
 *    buffer pointers) or with random bytes;
 *  - the xptilab magic with other numbers, sizes and directions, other
 *    magics, random command words;
 * with the argument itself valid, NULL, a kernel address, non-canonical,
 * unmapped, PROT_NONE, read-only, unaligned or straddling into a guard page;
 * pinned to the CPU the argument names, to another one, or not pinned;
 * session starts (and entries into them) included, the descriptor closed
 * and reopened regularly; one CPU taken offline for the middle fifth of the
 * run; and a child without CAP_SYS_ADMIN now and then (EPERM).
 *
 * Every call must succeed or fail with an errno include/uapi/xptilab.h
 * documents (EINVAL EFAULT ENOTTY EPERM EOPNOTSUPP EBUSY EINTR ENOMEM, and
 * ETIMEDOUT from NMI_CHECK).
 * Long-running requests are bounded: a storm lasts at most 50 ms, a cr3 run
 * takes at most 4096 samples (64 nearly always), an ipi run at most 512
 * IPIs unless it is sure to be refused before it starts, an NMI check at
 * most 2 NMIs (each waited for 0.5-1 s, as nmi_test does), a stale run at
 * most 4 trials.
 * At the end: counts per outcome (KTAP diagnostics), the audit is "ok",
 * the counters are sane, the module holds as many pages as before, and the
 * kernel log since the start is clean. XPTILAB_SEED=N replays a run.
 */
#include <linux/capability.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "shadow_helpers.h"
#include "trigger.h"
#include "robust_helpers.h"

#define FUZZ_DEFAULT_SECONDS	10
#define ARENA_SIZE		(1UL << 20)
#define REOPEN_EVERY		300	/* calls between descriptor reopens */
#define SLOW_CALL_S		20.0	/* a call this long is a hang */
#define STORM_MAX_MS		50
/*
 * NMI checks: few NMIs, each waited for as long as nmi_test waits (500 ms
 * and up). A shorter wait is valid, but then the next NMI may be sent while
 * the last is still pending under a busy emulator, the CPU merges the two,
 * and the module rightly reports an NMI that never reached Linux.
 */
#define NMI_MAX			2
#define NMI_WAIT_MIN_MS		500
#define STALE_MAX_TRIALS	4

/* ---- memory the arguments point into ---- */

struct mem {
	long page;
	char *region;		/* guard0 | arena | guard1 | ro | guard2 */
	size_t region_size;
	char *arena;
	char *guard1;
	char *ro;
	char *hole;		/* an unmapped page between two PROT_NONE ones */
};

static int mem_init(struct mem *m)
{
	char *h;

	m->page = sysconf(_SC_PAGESIZE);
	m->region_size = ARENA_SIZE + 4 * m->page;
	m->region = mmap(NULL, m->region_size, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->region == MAP_FAILED)
		return -1;
	m->arena = m->region + m->page;
	m->guard1 = m->arena + ARENA_SIZE;
	m->ro = m->guard1 + m->page;
	if (mprotect(m->arena, ARENA_SIZE, PROT_READ | PROT_WRITE) ||
	    mprotect(m->ro, m->page, PROT_READ))
		return -1;
	h = mmap(NULL, 3 * m->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED || munmap(h + m->page, m->page))
		return -1;
	m->hole = h + m->page;
	return 0;
}

/*
 * A pointer the kernel may write through without harm: into our region,
 * into the hole, or one no user mapping can have (low, beyond the user
 * half, non-canonical).
 */
static bool ptr_safe(const struct mem *m, uint64_t v)
{
	return v < 0x10000 || v >= 0x00007ffffffff000ULL ||
	       (v >= (uint64_t)m->region &&
		v < (uint64_t)m->region + m->region_size) ||
	       (v >= (uint64_t)m->hole && v < (uint64_t)m->hole + m->page);
}

enum ptr_class {
	P_VALID, P_UNALIGNED, P_NULL, P_KERNEL, P_NONCANON, P_HOLE, P_NONE,
	P_STRADDLE, P_RO, P_LOW, P_NCLASS
};

static const uint64_t kernel_addrs[] = {
	0xffff888000000000ULL, 0xffffffff81000000ULL, 0xfffffe0000000000ULL,
	0xffffffffff600000ULL, 0xfffffffffffff000ULL, 0xfffffffffffffff8ULL,
	0x00007ffffffff000ULL, 0x00007ffffffffff8ULL,
};

/* A buffer pointer for `need` bytes of the given class. */
static uint64_t ptr_of(const struct mem *m, uint64_t *rng, enum ptr_class c,
		       size_t need)
{
	uint64_t p;
	size_t room;

	switch (c) {
	case P_VALID:
	case P_UNALIGNED:
		if (need >= ARENA_SIZE)
			return (uint64_t)m->arena;
		room = ARENA_SIZE - need;
		p = (uint64_t)m->arena + (rng_below(rng, room + 1) & ~7UL);
		if (c == P_UNALIGNED)
			p += 1 + rng_below(rng, 7);
		return p;
	case P_NULL:
		return 0;
	case P_KERNEL:
		return kernel_addrs[rng_below(rng, sizeof(kernel_addrs) /
						   sizeof(kernel_addrs[0]))];
	case P_NONCANON:
		return 0x0000800000000000ULL << rng_below(rng, 16);
	case P_HOLE:
		return (uint64_t)m->hole + (rng_below(rng, m->page) & ~7UL);
	case P_NONE:
		return (uint64_t)m->guard1 + (rng_below(rng, m->page) & ~7UL);
	case P_STRADDLE:
		/* the first bytes readable, the rest in the guard page */
		return (uint64_t)m->guard1 - 1 -
		       rng_below(rng, need > 1 ? need - 1 : 1);
	case P_RO:
		return (uint64_t)m->ro + (rng_below(rng, m->page / 2) & ~7UL);
	default:
		return rng_below(rng, 0x10000);
	}
}

/* ---- the commands and their fields ---- */

enum fkind {
	F_SIZE,		/* the leading size */
	F_CPU,		/* a CPU number */
	F_ENUM,		/* variant, mode, op: limit is the number of values */
	F_COUNT,	/* iterations etc: limit is the maximum */
	F_PTR,		/* a user pointer (u64) */
	F_ZERO,		/* reserved or output: must be zero on input */
	F_IGNORED,	/* output the module overwrites */
	F_END
};

struct field {
	enum fkind kind;
	unsigned short off;
	unsigned short width;	/* 4, 8, or bytes of an array */
	uint32_t limit;
};

#define FLD(type, member, kind, limit) \
	{ kind, offsetof(type, member), sizeof(((type *)0)->member), limit }

enum cmd_id {
	C_INFO, C_CR3, C_ENTRY, C_COUNTERS, C_STORM, C_IPI, C_SESSION,
	C_STATS, C_NMI, C_STALE, C_NR, C_OTHER = C_NR, C_KINDS
};

static const char *const cmd_names[C_KINDS] = {
	"INFO", "RUN_CR3", "ENTRY_CONFIG", "COUNTERS", "STORM", "RUN_IPI",
	"SESSION", "SESSION_STATS", "NMI_CHECK", "RUN_STALE", "other",
};

static const unsigned long cmd_nums[C_NR] = {
	XPTILAB_IOC_INFO, XPTILAB_IOC_RUN_CR3, XPTILAB_IOC_ENTRY_CONFIG,
	XPTILAB_IOC_COUNTERS, XPTILAB_IOC_STORM, XPTILAB_IOC_RUN_IPI,
	XPTILAB_IOC_SESSION, XPTILAB_IOC_SESSION_STATS, XPTILAB_IOC_NMI_CHECK,
	XPTILAB_IOC_RUN_STALE,
};

static const size_t cmd_sizes[C_NR] = {
	sizeof(struct xptilab_info), sizeof(struct xptilab_cr3_run),
	sizeof(struct xptilab_entry_config), sizeof(struct xptilab_counters),
	sizeof(struct xptilab_storm), sizeof(struct xptilab_ipi_run),
	sizeof(struct xptilab_session), sizeof(struct xptilab_session_stats),
	sizeof(struct xptilab_nmi_check), sizeof(struct xptilab_stale_run),
};

static const struct field fields[C_NR][16] = {
	[C_INFO] = {
		FLD(struct xptilab_info, size, F_SIZE, 0),
		FLD(struct xptilab_info, abi_version, F_IGNORED, 0),
		FLD(struct xptilab_info, cpus_online, F_IGNORED, 0),
		FLD(struct xptilab_info, features, F_IGNORED, 0),
		FLD(struct xptilab_info, kernel_release, F_IGNORED, 0),
		FLD(struct xptilab_info, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_CR3] = {
		FLD(struct xptilab_cr3_run, size, F_SIZE, 0),
		FLD(struct xptilab_cr3_run, cpu, F_CPU, 0),
		FLD(struct xptilab_cr3_run, variant, F_ENUM, XPTILAB_CR3_NR_VARIANTS),
		FLD(struct xptilab_cr3_run, iterations, F_COUNT, XPTILAB_MAX_ITERATIONS),
		FLD(struct xptilab_cr3_run, touch_pages, F_COUNT, XPTILAB_MAX_TOUCH_PAGES),
		FLD(struct xptilab_cr3_run, flags, F_ZERO, 0),
		FLD(struct xptilab_cr3_run, samples, F_PTR, 0),
		FLD(struct xptilab_cr3_run, overhead, F_PTR, 0),
		FLD(struct xptilab_cr3_run, touch_samples, F_PTR, 0),
		FLD(struct xptilab_cr3_run, n, F_ZERO, 0),
		FLD(struct xptilab_cr3_run, dropped, F_ZERO, 0),
		FLD(struct xptilab_cr3_run, global_flushes, F_ZERO, 0),
		FLD(struct xptilab_cr3_run, shadow_events, F_ZERO, 0),
		FLD(struct xptilab_cr3_run, tsc_khz, F_ZERO, 0),
		FLD(struct xptilab_cr3_run, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_ENTRY] = {
		FLD(struct xptilab_entry_config, size, F_SIZE, 0),
		FLD(struct xptilab_entry_config, cpu, F_CPU, 0),
		FLD(struct xptilab_entry_config, mode, F_ENUM, XPTILAB_ENTRY_NR_MODES),
		FLD(struct xptilab_entry_config, window, F_COUNT, XPTILAB_MAX_WINDOW),
		FLD(struct xptilab_entry_config, vector_gate, F_ZERO, 0),
		FLD(struct xptilab_entry_config, cr3_writes, F_ZERO, 0),
		FLD(struct xptilab_entry_config, global_flushes, F_ZERO, 0),
		FLD(struct xptilab_entry_config, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_COUNTERS] = {
		FLD(struct xptilab_counters, size, F_SIZE, 0),
		FLD(struct xptilab_counters, cpu, F_CPU, 0),
		FLD(struct xptilab_counters, entries, F_IGNORED, 0),
		FLD(struct xptilab_counters, ipi_handled, F_IGNORED, 0),
		FLD(struct xptilab_counters, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_STORM] = {
		FLD(struct xptilab_storm, size, F_SIZE, 0),
		FLD(struct xptilab_storm, from_cpu, F_CPU, 0),
		FLD(struct xptilab_storm, target_cpu, F_CPU, 0),
		FLD(struct xptilab_storm, duration_ms, F_COUNT, XPTILAB_MAX_STORM_MS),
		FLD(struct xptilab_storm, ipis, F_ZERO, 0),
		FLD(struct xptilab_storm, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_IPI] = {
		FLD(struct xptilab_ipi_run, size, F_SIZE, 0),
		FLD(struct xptilab_ipi_run, from_cpu, F_CPU, 0),
		FLD(struct xptilab_ipi_run, variant, F_ENUM, XPTILAB_IPI_NR_VARIANTS),
		FLD(struct xptilab_ipi_run, iterations, F_COUNT, XPTILAB_MAX_IPI_ITERATIONS),
		FLD(struct xptilab_ipi_run, targets, F_PTR, 0),
		FLD(struct xptilab_ipi_run, target_bits, F_COUNT, XPTILAB_MAX_CPU_BITS),
		FLD(struct xptilab_ipi_run, ntargets, F_ZERO, 0),
		FLD(struct xptilab_ipi_run, latency, F_PTR, 0),
		FLD(struct xptilab_ipi_run, handler, F_PTR, 0),
		FLD(struct xptilab_ipi_run, tsc_khz, F_ZERO, 0),
		FLD(struct xptilab_ipi_run, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_SESSION] = {
		FLD(struct xptilab_session, size, F_SIZE, 0),
		FLD(struct xptilab_session, cpu, F_CPU, 0),
		FLD(struct xptilab_session, op, F_ENUM, XPTILAB_SESSION_NR_OPS),
		FLD(struct xptilab_session, variant, F_ENUM, XPTILAB_IPI_NR_VARIANTS),
		FLD(struct xptilab_session, vector, F_ZERO, 0),
		FLD(struct xptilab_session, pad, F_ZERO, 0),
		FLD(struct xptilab_session, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_STATS] = {
		FLD(struct xptilab_session_stats, size, F_SIZE, 0),
		FLD(struct xptilab_session_stats, cpu, F_CPU, 0),
		FLD(struct xptilab_session_stats, enters, F_IGNORED, 0),
		FLD(struct xptilab_session_stats, exits_by_vector, F_IGNORED, 0),
		FLD(struct xptilab_session_stats, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_NMI] = {
		FLD(struct xptilab_nmi_check, size, F_SIZE, 0),
		FLD(struct xptilab_nmi_check, cpu, F_CPU, 0),
		/* any %eax is valid: left as generated */
		FLD(struct xptilab_nmi_check, eax, F_IGNORED, 0),
		FLD(struct xptilab_nmi_check, nmis, F_COUNT, XPTILAB_MAX_NMIS),
		FLD(struct xptilab_nmi_check, timeout_ms, F_COUNT, XPTILAB_MAX_NMI_WAIT_MS),
		FLD(struct xptilab_nmi_check, delivered, F_ZERO, 0),
		FLD(struct xptilab_nmi_check, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
	[C_STALE] = {
		FLD(struct xptilab_stale_run, size, F_SIZE, 0),
		FLD(struct xptilab_stale_run, from_cpu, F_CPU, 0),
		FLD(struct xptilab_stale_run, target_cpu, F_CPU, 0),
		FLD(struct xptilab_stale_run, variant, F_ENUM, XPTILAB_STALE_NR_VARIANTS),
		FLD(struct xptilab_stale_run, global, F_ENUM, 2),
		FLD(struct xptilab_stale_run, fill, F_ENUM, XPTILAB_STALE_NR_FILLS),
		FLD(struct xptilab_stale_run, trials, F_COUNT, XPTILAB_MAX_STALE_TRIALS),
		FLD(struct xptilab_stale_run, done, F_ZERO, 0),
		FLD(struct xptilab_stale_run, disturbed, F_ZERO, 0),
		FLD(struct xptilab_stale_run, fill_errors, F_ZERO, 0),
		FLD(struct xptilab_stale_run, stale, F_ZERO, 0),
		FLD(struct xptilab_stale_run, fresh, F_ZERO, 0),
		FLD(struct xptilab_stale_run, other, F_ZERO, 0),
		FLD(struct xptilab_stale_run, pad, F_ZERO, 0),
		FLD(struct xptilab_stale_run, reserved, F_ZERO, 0),
		{ F_END, 0, 0, 0 },
	},
};

/* ---- outcomes ---- */

static const int documented[] = {
	0, EINVAL, EFAULT, ENOTTY, EPERM, EOPNOTSUPP, EBUSY, EINTR, ENOMEM,
	ETIMEDOUT,
};
#define NOUT (sizeof(documented) / sizeof(documented[0]))
#define OUT_BAD NOUT		/* anything else */

static const char *const out_names[NOUT + 1] = {
	"ok", "EINVAL", "EFAULT", "ENOTTY", "EPERM", "EOPNOTSUPP", "EBUSY",
	"EINTR", "ENOMEM", "ETIMEDOUT", "UNDOCUMENTED",
};

struct fuzz {
	struct mem m;
	uint64_t rng;
	int fd;
	int ncpus;		/* possible */
	bool online[MAX_TEST_CPUS];
	int offline_cpu;	/* taken offline mid-run, or -1 */
	int pinned;		/* CPU pinned to, or -1 */
	int vec_gate, vec_trap, vec_session;
	bool big_window;	/* some CPU may have a window too long to enter */

	unsigned long long calls, outcome[C_KINDS][NOUT + 1];
	unsigned long long by_ptr[P_NCLASS], mutated, random_bytes, exact;
	unsigned long long others, sessions, session_ints, entries, reopens;
	unsigned long long faulted;	/* test-vector ints not served */
	unsigned long long eperm_probes, audits, hotplugs, succeeded;
	double slowest;
	char slowest_what[160];
	int bad_reported;
	char bad[10][200];
};

static int out_index(int err)
{
	for (size_t i = 0; i < NOUT; i++)
		if (documented[i] == err)
			return i;
	return OUT_BAD;
}

static int online_pick(struct fuzz *f)
{
	int c, tries = 0;

	do {
		c = rng_below(&f->rng, f->ncpus);
	} while (!f->online[c] && ++tries < 64);
	return f->online[c] ? c : 0;
}

static uint32_t cpu_value(struct fuzz *f)
{
	static const uint32_t odd[] = {
		1023, 1024, 1025, 4096, 0x7fffffff, 0x80000000, 0xffffffff,
		0xfffffffe, 64, 256,
	};

	switch (rng_below(&f->rng, 6)) {
	case 0:
		return online_pick(f);
	case 1:
		return f->offline_cpu >= 0 && !f->online[f->offline_cpu] ?
		       (uint32_t)f->offline_cpu : (uint32_t)f->ncpus;
	case 2:
		return f->ncpus + rng_below(&f->rng, 4);
	case 3:
		return (uint32_t)rng_next(&f->rng);
	default:
		return odd[rng_below(&f->rng, sizeof(odd) / sizeof(odd[0]))];
	}
}

static uint64_t interesting(struct fuzz *f, const struct field *fl,
			    uint32_t cmd_size)
{
	uint64_t r = rng_next(&f->rng);

	switch (fl->kind) {
	case F_SIZE: {
		const uint32_t v[] = {
			0, 4, cmd_size - 1, cmd_size + 1, cmd_size + 8,
			cmd_size * 2, 0xffffffff, 0x80000000, 8, 4096,
			sizeof(struct xptilab_info), sizeof(struct xptilab_storm),
			sizeof(struct xptilab_session_stats), (uint32_t)r,
		};
		return v[rng_below(&f->rng, sizeof(v) / sizeof(v[0]))];
	}
	case F_CPU:
		return cpu_value(f);
	case F_ENUM:
	case F_COUNT: {
		const uint32_t v[] = {
			0, 1, fl->limit, fl->limit + 1, fl->limit - 1,
			0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff,
			(uint32_t)r, (uint32_t)r & 0xff, fl->limit * 2,
		};
		return v[rng_below(&f->rng, sizeof(v) / sizeof(v[0]))];
	}
	default: {
		const uint64_t v[] = { 1, 1ULL << 63, ~0ULL, r, 0x80 };
		return v[rng_below(&f->rng, sizeof(v) / sizeof(v[0]))];
	}
	}
}

static void set_field(uint8_t *buf, const struct field *fl, uint64_t v)
{
	if (fl->width == 4) {
		uint32_t x = v;

		memcpy(buf + fl->off, &x, 4);
	} else if (fl->width == 8) {
		memcpy(buf + fl->off, &v, 8);
	} else {
		/* an array: one random 8-byte word of it */
		size_t n = fl->width / 8, i = (v >> 7) % (n ? n : 1);

		memcpy(buf + fl->off + i * 8, &v, 8);
	}
}

static uint64_t get_u64(const uint8_t *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, 8);
	return v;
}

static uint32_t get_u32(const uint8_t *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, buf + off, 4);
	return v;
}

static void put_u32(uint8_t *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, 4);
}

static void put_u64(uint8_t *buf, size_t off, uint64_t v)
{
	memcpy(buf + off, &v, 8);
}

/* A bitmap of the online CPUs other than from, in the arena. */
static uint64_t targets_of(struct fuzz *f, int from, uint32_t *bits,
			   int *ntargets)
{
	uint64_t *map = (uint64_t *)ptr_of(&f->m, &f->rng, P_VALID, 16 * 8);

	memset(map, 0, 16 * 8);
	*ntargets = 0;
	for (int c = 0; c < f->ncpus; c++)
		if (f->online[c] && c != from) {
			map[c / 64] |= 1ULL << (c % 64);
			(*ntargets)++;
		}
	*bits = rng_below(&f->rng, 2) ? (uint32_t)f->ncpus :
		64 * (1 + rng_below(&f->rng, 16));
	if (*bits > XPTILAB_MAX_CPU_BITS)
		*bits = XPTILAB_MAX_CPU_BITS;
	return (uint64_t)map;
}

/* cr3 samples: 1..64 nearly always, up to 4096 now and then */
static uint32_t small_count(struct fuzz *f)
{
	uint32_t r = rng_below(&f->rng, 100);

	if (r < 90)
		return 1 + rng_below(&f->rng, 64);
	if (r < 99)
		return 65 + rng_below(&f->rng, 448);
	return 513 + rng_below(&f->rng, 3584);
}

/* A well-formed argument for command id, for the calling context. */
static void gen_valid(struct fuzz *f, int id, uint8_t *buf, int cpu)
{
	uint32_t it;

	memset(buf, 0, 4096);
	put_u32(buf, 0, cmd_sizes[id]);
	switch (id) {
	case C_CR3: {
		struct xptilab_cr3_run *r = (void *)buf;

		r->cpu = cpu;
		r->variant = rng_below(&f->rng, XPTILAB_CR3_NR_VARIANTS);
		it = r->iterations = small_count(f);
		r->samples = ptr_of(&f->m, &f->rng, P_VALID, it * 8);
		r->overhead = ptr_of(&f->m, &f->rng, P_VALID, it * 8);
		if (!rng_below(&f->rng, 4)) {
			r->touch_pages = 1 + rng_below(&f->rng, 16);
			r->touch_samples = ptr_of(&f->m, &f->rng, P_VALID, it * 8);
		}
		break;
	}
	case C_ENTRY: {
		struct xptilab_entry_config *c = (void *)buf;

		c->cpu = cpu;
		c->mode = rng_below(&f->rng, XPTILAB_ENTRY_NR_MODES);
		c->window = rng_below(&f->rng, 2) ? 0 : rng_below(&f->rng, 5000);
		break;
	}
	case C_COUNTERS:
		((struct xptilab_counters *)buf)->cpu = cpu;
		break;
	case C_STATS:
		((struct xptilab_session_stats *)buf)->cpu = cpu;
		break;
	case C_STORM: {
		struct xptilab_storm *s = (void *)buf;

		s->from_cpu = cpu;
		s->target_cpu = online_pick(f);
		s->duration_ms = 1 + rng_below(&f->rng, 20);
		break;
	}
	case C_IPI: {
		struct xptilab_ipi_run *r = (void *)buf;
		int n;

		r->from_cpu = cpu;
		r->variant = rng_below(&f->rng, XPTILAB_IPI_NR_VARIANTS);
		it = r->iterations = 1 + rng_below(&f->rng, 16);
		r->targets = targets_of(f, cpu, &r->target_bits, &n);
		r->latency = ptr_of(&f->m, &f->rng, P_VALID, it * 8);
		r->handler = ptr_of(&f->m, &f->rng, P_VALID,
				    it * 8 * (n ? n : 1));
		break;
	}
	case C_SESSION: {
		struct xptilab_session *s = (void *)buf;
		uint32_t r = rng_below(&f->rng, 10);

		s->cpu = cpu;
		s->op = r < 4 ? XPTILAB_SESSION_START :
			r < 7 ? XPTILAB_SESSION_STOP : XPTILAB_SESSION_SYNC;
		if (s->op == XPTILAB_SESSION_SYNC)
			s->variant = rng_below(&f->rng, 2) ? XPTILAB_IPI_SYNC :
							     XPTILAB_IPI_FLUSH;
		break;
	}
	case C_NMI: {
		struct xptilab_nmi_check *n = (void *)buf;

		n->cpu = online_pick(f);	/* refused when it is the caller's */
		n->eax = rng_below(&f->rng, 2) ? 1 : (uint32_t)rng_next(&f->rng);
		n->nmis = 1 + rng_below(&f->rng, NMI_MAX);
		n->timeout_ms = NMI_WAIT_MIN_MS +
				rng_below(&f->rng, XPTILAB_MAX_NMI_WAIT_MS - NMI_WAIT_MIN_MS + 1);
		break;
	}
	case C_STALE: {
		struct xptilab_stale_run *r = (void *)buf;

		r->from_cpu = cpu;
		r->target_cpu = online_pick(f);
		r->variant = rng_below(&f->rng, XPTILAB_STALE_NR_VARIANTS);
		r->global = rng_below(&f->rng, 2);
		r->fill = rng_below(&f->rng, XPTILAB_STALE_NR_FILLS);
		r->trials = 1 + rng_below(&f->rng, STALE_MAX_TRIALS);
		break;
	}
	default:
		break;
	}
}

/*
 * Keep what the module would legitimately run for long bounded, whatever
 * the mutations did, and keep every pointer the kernel may write through
 * inside our own region (or unusable).
 */
static void sanitize(struct fuzz *f, int id, uint8_t *buf)
{
	const struct field *fl;
	uint32_t it;

	for (fl = fields[id]; fl->kind != F_END; fl++)
		if (fl->kind == F_PTR && !ptr_safe(&f->m, get_u64(buf, fl->off)))
			put_u64(buf, fl->off,
				ptr_of(&f->m, &f->rng, P_VALID, 4096));
	switch (id) {
	case C_STORM: {
		struct xptilab_storm *s = (void *)buf;

		if (s->duration_ms >= 1 && s->duration_ms <= XPTILAB_MAX_STORM_MS)
			s->duration_ms = 1 + s->duration_ms % STORM_MAX_MS;
		break;
	}
	case C_CR3: {
		struct xptilab_cr3_run *r = (void *)buf;

		it = r->iterations;
		/* without buffers the run is refused before it starts */
		if (it > 4096 && it <= XPTILAB_MAX_ITERATIONS &&
		    r->samples && r->overhead)
			r->iterations = it = small_count(f);
		if (it >= 1 && it <= 4096 && r->touch_pages &&
		    r->touch_pages <= XPTILAB_MAX_TOUCH_PAGES &&
		    (uint64_t)it * r->touch_pages > 65536)
			r->touch_pages = 65536 / it;
		break;
	}
	case C_IPI: {
		struct xptilab_ipi_run *r = (void *)buf;

		/* only a caller pinned elsewhere is sure to be refused first */
		if (r->iterations > 32 &&
		    r->iterations <= XPTILAB_MAX_IPI_ITERATIONS &&
		    !(f->pinned >= 0 && (uint32_t)f->pinned != r->from_cpu))
			r->iterations = rng_below(&f->rng, 30) ?
					1 + r->iterations % 32 :
					1 + r->iterations % 512;
		break;
	}
	case C_ENTRY: {
		struct xptilab_entry_config *c = (void *)buf;

		if (c->window > 1000000 && c->window <= XPTILAB_MAX_WINDOW)
			f->big_window = true;
		break;
	}
	case C_NMI: {
		struct xptilab_nmi_check *n = (void *)buf;

		/*
		 * A valid request holds a CPU with interrupts off: few NMIs,
		 * each with a wait long enough to arrive in (NMI_WAIT_MIN_MS).
		 */
		if (n->nmis >= 1 && n->nmis <= XPTILAB_MAX_NMIS)
			n->nmis = 1 + n->nmis % NMI_MAX;
		if (n->timeout_ms >= 1 && n->timeout_ms < NMI_WAIT_MIN_MS)
			n->timeout_ms = NMI_WAIT_MIN_MS;
		break;
	}
	case C_STALE: {
		struct xptilab_stale_run *r = (void *)buf;

		if (r->trials >= 1 && r->trials <= XPTILAB_MAX_STALE_TRIALS)
			r->trials = 1 + r->trials % STALE_MAX_TRIALS;
		break;
	}
	default:
		break;
	}
}

/* A command word that is not one of ours (or ours with a twist). */
static unsigned long other_cmd(struct fuzz *f)
{
	/* magics the VFS acts on itself (FIOCLEX, FIFREEZE, FICLONE, ...) */
	static const unsigned char avoid[] = { 0x00, 'T', 'X', 'f', 0x94, 0x12 };
	int id = rng_below(&f->rng, C_NR);
	unsigned int nr = _IOC_NR(cmd_nums[id]), dir = _IOC_DIR(cmd_nums[id]);
	unsigned int size = cmd_sizes[id], magic = XPTILAB_IOC_MAGIC;
	unsigned long cmd;

	switch (rng_below(&f->rng, 6)) {
	case 0:		/* another direction */
		dir = (dir + 1 + rng_below(&f->rng, 3)) & 3;
		break;
	case 1:		/* another size */
		do {
			size = rng_below(&f->rng, 2) ? rng_below(&f->rng, 2048) :
			       cmd_sizes[rng_below(&f->rng, C_NR)];
		} while (size == cmd_sizes[id]);
		break;
	case 2:		/* our magic, another number */
		nr = C_NR + rng_below(&f->rng, 256 - C_NR);
		dir = rng_below(&f->rng, 4);
		size = rng_below(&f->rng, 1 << 14);
		break;
	case 3:		/* another magic */
		do {
			magic = rng_below(&f->rng, 256);
		} while (magic == XPTILAB_IOC_MAGIC);
		break;
	default:	/* random words */
		cmd = (uint32_t)rng_next(&f->rng);
		if (rng_below(&f->rng, 2))
			cmd |= (unsigned long)rng_next(&f->rng) << 32;
		magic = _IOC_TYPE(cmd);
		for (size_t i = 0; i < sizeof(avoid); i++)
			if (magic == avoid[i])
				cmd ^= 0x8000;	/* the magic's top bit */
		for (int k = 0; k < C_NR; k++)
			if ((uint32_t)cmd == (uint32_t)cmd_nums[k])
				cmd ^= 1;
		return cmd;
	}
	for (size_t i = 0; i < sizeof(avoid); i++)
		if (magic == avoid[i])
			magic ^= 0x80;
	cmd = _IOC(dir, magic, nr, size & _IOC_SIZEMASK);
	for (int k = 0; k < C_NR; k++)
		if (cmd == cmd_nums[k])
			cmd ^= _IOC(0, 0, 0x80, 0);
	return cmd;
}

/* Put the argument where the class says; returns the ioctl's pointer. */
static uint64_t place_arg(struct fuzz *f, const uint8_t *buf, size_t size,
			  enum ptr_class c)
{
	uint64_t p;

	switch (c) {
	case P_VALID:
	case P_UNALIGNED:
		p = ptr_of(&f->m, &f->rng, c, size + 8);
		memcpy((void *)p, buf, size);
		return p;
	case P_STRADDLE:
		/* at least the size readable, the rest beyond the arena */
		p = (uint64_t)f->m.guard1 - 4 -
		    rng_below(&f->rng, size > 8 ? size - 8 : 1);
		memcpy((void *)p, buf, (uint64_t)f->m.guard1 - p);
		return p;
	case P_RO:
		if (size > (size_t)f->m.page)
			size = f->m.page;
		if (mprotect(f->m.ro, f->m.page, PROT_READ | PROT_WRITE))
			return 0;
		memcpy(f->m.ro, buf, size);
		mprotect(f->m.ro, f->m.page, PROT_READ);
		return (uint64_t)f->m.ro;
	default:
		return ptr_of(&f->m, &f->rng, c, size);
	}
}

static void record_bad(struct fuzz *f, const char *what)
{
	if (f->bad_reported < 10)
		snprintf(f->bad[f->bad_reported], sizeof(f->bad[0]), "%s", what);
	f->bad_reported++;
}

/* In a child without CAP_SYS_ADMIN: open and ioctl are refused (EPERM). */
static void eperm_probe(struct fuzz *f, int fd)
{
	struct xptilab_info info;
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct h = {
			_LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		int fd2;

		if (syscall(SYS_capget, &h, d))
			_exit(CHILD_SETUP_FAILED);
		d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
		if (syscall(SYS_capset, &h, d))
			_exit(CHILD_SETUP_FAILED);
		if (get_info(fd, &info) != -1 || errno != EPERM)
			_exit(1);
		fd2 = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd2 >= 0 || errno != EPERM)
			_exit(2);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return;
	f->eperm_probes++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		f->outcome[C_INFO][out_index(EPERM)]++;
		f->calls++;
	} else if (!(WIFEXITED(status) &&
		     WEXITSTATUS(status) == CHILD_SETUP_FAILED)) {
		char what[120];

		snprintf(what, sizeof(what),
			 "without CAP_SYS_ADMIN: not EPERM (child status %#x)",
			 status);
		record_bad(f, what);
	}
}

/* After a successful START, sometimes enter the session. */
static void session_play(struct fuzz *f)
{
	long r;

	if (f->vec_session < 0 || rng_below(&f->rng, 3))
		return;
	r = served_session_int(f->vec_session);
	if (r == VECTOR_FAULTED) {
		f->faulted++;
		return;
	}
	f->session_ints++;
	if (r >= 0 && f->vec_gate >= 0) {
		/* test-vector entries keep the session */
		for (int i = 0; i < 3; i++)
			f->entries += served_trigger(f->vec_gate);
	}
	/* the next system call ends it (syscall raises #UD in a session) */
}

static void one_call(struct fuzz *f)
{
	static uint8_t buf[8192];
	size_t argsize;
	unsigned long cmd;
	enum ptr_class pc;
	int id, kind, err, o, cpu;
	uint64_t arg;
	double t0, dt;
	uint32_t r;
	long ret;

	/* pinning: to the CPU the argument names, to another, or none */
	r = rng_below(&f->rng, 10);
	if (r < 4) {
		unpin();
		f->pinned = -1;
	} else {
		int c = online_pick(f);

		f->pinned = pin_to(c) ? -1 : c;
	}
	cpu = f->pinned >= 0 && r < 8 ? f->pinned : online_pick(f);

	/* the command and its argument */
	r = rng_below(&f->rng, 100);
	if (r < 80) {
		const struct field *fl;
		int nf = 0;

		id = kind = rng_below(&f->rng, C_NR);
		cmd = cmd_nums[id];
		argsize = cmd_sizes[id];
		gen_valid(f, id, buf, cpu);
		for (fl = fields[id]; fl->kind != F_END; fl++)
			nf++;
		r = rng_below(&f->rng, 100);
		if (r < 40) {
			f->exact++;
		} else if (r < 90) {
			int muts = r < 75 ? 1 : 2 + rng_below(&f->rng, 3);

			for (int i = 0; i < muts; i++) {
				fl = &fields[id][rng_below(&f->rng, nf)];
				if (fl->kind == F_PTR)
					set_field(buf, fl, ptr_of(&f->m, &f->rng,
						  rng_below(&f->rng, P_NCLASS), 4096));
				else
					set_field(buf, fl, interesting(f, fl, argsize));
			}
			f->mutated++;
		} else {
			for (size_t i = 0; i < argsize; i += 8) {
				uint64_t x = rng_next(&f->rng);

				memcpy(buf + i, &x, argsize - i < 8 ? argsize - i : 8);
			}
			if (rng_below(&f->rng, 2))
				put_u32(buf, 0, argsize);
			f->random_bytes++;
		}
		sanitize(f, id, buf);
	} else {
		kind = C_OTHER;
		cmd = other_cmd(f);
		argsize = 4096;
		for (size_t i = 0; i < argsize; i += 8)
			put_u64(buf, i, rng_next(&f->rng));
		put_u32(buf, 0, rng_below(&f->rng, 2) ? _IOC_SIZE(cmd) :
			(uint32_t)rng_next(&f->rng));
		f->others++;
	}

	/* where the argument lives */
	r = rng_below(&f->rng, 100);
	pc = r < 70 ? P_VALID :
	     (enum ptr_class)(1 + rng_below(&f->rng, P_NCLASS - 1));
	f->by_ptr[pc]++;
	arg = place_arg(f, buf, argsize, pc);

	t0 = mono_s();
	ret = ioctl(f->fd, cmd, (unsigned long)arg);
	err = ret < 0 ? errno : 0;
	dt = mono_s() - t0;
	f->calls++;
	o = out_index(err);
	f->outcome[kind][o]++;
	if (o == (int)OUT_BAD) {
		char what[200];

		snprintf(what, sizeof(what),
			 "%s cmd %#lx arg %#llx (class %d): ret %ld errno %d (%s)",
			 cmd_names[kind], cmd, (unsigned long long)arg, pc, ret,
			 err, strerror(err));
		record_bad(f, what);
	}
	if (dt > f->slowest) {
		f->slowest = dt;
		snprintf(f->slowest_what, sizeof(f->slowest_what),
			 "%s cmd %#lx: %.3f s, %s", cmd_names[kind], cmd, dt,
			 out_names[o]);
	}
	if (!err)
		f->succeeded++;
	if (!err && kind == C_SESSION &&
	    get_u32(buf, offsetof(struct xptilab_session, op)) ==
	    XPTILAB_SESSION_START) {
		f->sessions++;
		session_play(f);
	}
	/* now and then an entry through the test vectors */
	if (!rng_below(&f->rng, 20) && f->vec_gate >= 0) {
		/* served only while this descriptor configured them last */
		if (served_trigger(f->vec_gate))
			f->entries++;
		else
			f->faulted++;
		if (!f->big_window && f->vec_trap >= 0) {
			if (served_trigger(f->vec_trap))
				f->entries++;
			else
				f->faulted++;
		}
	}
}

static void reset_entry_config(int fd, int ncpus)
{
	bool online[MAX_TEST_CPUS];

	online_cpus(online);
	for (int c = 0; c < ncpus; c++) {
		struct xptilab_entry_config e = {
			.size = sizeof(e), .cpu = c, .mode = XPTILAB_ENTRY_GATE,
		};

		if (online[c])
			ioctl(fd, XPTILAB_IOC_ENTRY_CONFIG, &e);
	}
}

static void report(struct fuzz *f, double secs)
{
	unsigned long long tot[NOUT + 1] = { 0 };
	char line[512];
	int len;

	RDIAG("fuzz: %llu calls in %.1f s (%.0f/s): %llu well-formed, %llu mutated, %llu random bytes, %llu other commands, %llu EPERM probes; %llu succeeded",
	      f->calls, secs, f->calls / secs, f->exact, f->mutated,
	      f->random_bytes, f->others, f->eperm_probes, f->succeeded);
	for (int k = 0; k < C_KINDS; k++) {
		len = 0;
		line[0] = '\0';
		for (size_t o = 0; o <= NOUT; o++) {
			tot[o] += f->outcome[k][o];
			if (f->outcome[k][o])
				len += snprintf(line + len, sizeof(line) - len,
						" %s=%llu", out_names[o],
						f->outcome[k][o]);
		}
		RDIAG("fuzz: %-13s%s", cmd_names[k], len ? line : " (none)");
	}
	len = 0;
	for (size_t o = 0; o <= NOUT; o++)
		len += snprintf(line + len, sizeof(line) - len, " %s=%llu",
				out_names[o], tot[o]);
	RDIAG("fuzz: outcomes:%s", line);
	RDIAG("fuzz: argument at: valid %llu, unaligned %llu, NULL %llu, kernel %llu, non-canonical %llu, unmapped %llu, PROT_NONE %llu, straddling %llu, read-only %llu, low %llu",
	      f->by_ptr[P_VALID], f->by_ptr[P_UNALIGNED], f->by_ptr[P_NULL],
	      f->by_ptr[P_KERNEL], f->by_ptr[P_NONCANON], f->by_ptr[P_HOLE],
	      f->by_ptr[P_NONE], f->by_ptr[P_STRADDLE], f->by_ptr[P_RO],
	      f->by_ptr[P_LOW]);
	RDIAG("fuzz: test-vector ints not served (not the configuring descriptor): %llu",
	      f->faulted);
	RDIAG("fuzz: sessions started %llu, session entries %llu, test-vector entries %llu, reopens %llu, audits %llu, hotplug events %llu",
	      f->sessions, f->session_ints, f->entries, f->reopens, f->audits,
	      f->hotplugs);
	RDIAG("fuzz: slowest call: %s", f->slowest_what);
	RDIAG("fuzz-summary: calls=%llu undocumented=%d seconds=%.0f hotplug=%llu",
	      f->calls, f->bad_reported, secs, f->hotplugs);
}

TEST(fuzz_ioctls)
{
	static struct fuzz fz;
	static struct robust_snap before, after;
	struct fuzz *f = &fz;
	struct xptilab_info info;
	struct kmsg_verdict kv;
	unsigned long seconds = env_ulong("XPTILAB_FUZZ_SECONDS",
					  FUZZ_DEFAULT_SECONDS);
	uint64_t seed = rng_seed();
	double start, end, next_audit, now;
	long pages0, pages1;
	char why[300], audit[4096];
	bool went_offline = false;
	int kmsg;

	REQUIRE_MODULE();
	memset(f, 0, sizeof(*f));
	f->rng = seed;
	f->offline_cpu = -1;
	ASSERT_EQ(0, mem_init(&f->m)) TH_LOG("mmap: %s", strerror(errno));
	kmsg = kmsg_open_end();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	OPEN_DEVICE(f->fd);
	ASSERT_EQ(0, get_info(f->fd, &info));
	f->ncpus = possible_cpus();
	if (f->ncpus > MAX_TEST_CPUS)
		f->ncpus = MAX_TEST_CPUS;
	online_cpus(f->online);
	if (f->ncpus > 1 && cpu_hotpluggable(f->ncpus - 1) &&
	    f->online[f->ncpus - 1])
		f->offline_cpu = f->ncpus - 1;
	f->vec_gate = module_param_int("vector_gate");
	f->vec_trap = module_param_int("vector_trap");
	f->vec_session = module_param_int("vector_session");
	if (!trigger_vector_ok(f->vec_gate))
		f->vec_gate = -1;
	if (!trigger_vector_ok(f->vec_trap))
		f->vec_trap = -1;
	if (!trigger_vector_ok(f->vec_session))
		f->vec_session = -1;
	ASSERT_EQ(0, robust_snapshot(f->fd, &before)) TH_LOG("%s", strerror(errno));
	pages0 = module_pages();
	RDIAG("fuzz: %lu s, seed %#llx (XPTILAB_SEED=%#llx replays it), %d CPUs, cpu %d offline mid-run",
	      seconds, (unsigned long long)seed, (unsigned long long)seed,
	      f->ncpus, f->offline_cpu);

	start = mono_s();
	end = start + seconds;
	next_audit = start + 2;
	while (mono_s() < end && f->slowest < SLOW_CALL_S) {
		one_call(f);
		if (f->calls % REOPEN_EVERY == 0 || !rng_below(&f->rng, 200)) {
			/* sessions and the mirror end with the descriptor */
			close(f->fd);
			now = mono_s();
			if (now >= next_audit) {
				EXPECT_TRUE(audit_ok(audit, sizeof(audit)))
					TH_LOG("audit after %llu calls: %s",
					       f->calls, audit);
				f->audits++;
				next_audit = now + 2;
			}
			f->fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);
			ASSERT_LE(0, f->fd) TH_LOG("reopen: %s", strerror(errno));
			f->reopens++;
			if (f->reopens % 4 == 0)
				eperm_probe(f, f->fd);
		}
		now = mono_s();
		/* one CPU offline for the middle fifth of the run */
		if (f->offline_cpu >= 0 && !went_offline &&
		    now > start + 0.4 * seconds) {
			went_offline = true;
			if (!cpu_set_online(f->offline_cpu, false)) {
				f->online[f->offline_cpu] = false;
				f->hotplugs++;
			}
		}
		if (went_offline && !f->online[f->offline_cpu] &&
		    now > start + 0.6 * seconds) {
			EXPECT_EQ(0, cpu_set_online(f->offline_cpu, true))
				TH_LOG("cpu%d back online: %s", f->offline_cpu,
				       strerror(errno));
			f->online[f->offline_cpu] = true;
			f->hotplugs++;
		}
	}
	end = mono_s();
	unpin();
	close(f->fd);
	EXPECT_EQ(0, all_cpus_online());

	report(f, end - start);
	for (int i = 0; i < f->bad_reported && i < 10; i++)
		TH_LOG("undocumented outcome: %s", f->bad[i]);
	EXPECT_EQ(0, f->bad_reported);
	EXPECT_GT(SLOW_CALL_S, f->slowest) TH_LOG("%s", f->slowest_what);

	/* the module after it */
	OPEN_DEVICE(f->fd);
	reset_entry_config(f->fd, f->ncpus);
	close(f->fd);
	EXPECT_TRUE(audit_ok(audit, sizeof(audit))) TH_LOG("audit: %s", audit);
	OPEN_DEVICE(f->fd);
	ASSERT_EQ(0, robust_snapshot(f->fd, &after)) TH_LOG("%s", strerror(errno));
	close(f->fd);
	EXPECT_TRUE(robust_sane(&before, &after, why, sizeof(why))) TH_LOG("%s", why);
	pages1 = module_pages();
	EXPECT_EQ(pages0, pages1) TH_LOG("module pages %ld before, %ld after",
					 pages0, pages1);
	kv = kmsg_judge(kmsg);
	EXPECT_EQ(0, kv.complaints) TH_LOG("kernel log: %s", kv.first);
	close(kmsg);
}

/* The harness's timeout follows the duration asked for. */
static void __attribute__((constructor)) fuzz_timeout(void)
{
	_fuzz_ioctls_object.timeout =
		env_ulong("XPTILAB_FUZZ_SECONDS", FUZZ_DEFAULT_SECONDS) * 3 + 120;
}

TEST_HARNESS_MAIN
