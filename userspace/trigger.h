/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entries into the kernel from user mode, one instruction each: Linux's
 * `syscall` and `int $0x80` (both running getppid), and `int $N` on the
 * module's DPL-3 test vectors. Header-only: the tool and the selftests
 * both use it.
 *
 * `int` takes its vector as an immediate, and the vectors are known only
 * at run time (module parameters), so every vector the module accepts for
 * a test vector (0x16-0x1b, 0x1f) gets its own instruction. A trampoline
 * saves and restores every register it uses and the flags come back with
 * iretq, so the `int $N` below clobbers nothing; entry_test checks that.
 */
#ifndef XPTILAB_TRIGGER_H
#define XPTILAB_TRIGGER_H

#include <stdbool.h>

/* X(vector) for every vector the module accepts as a test vector. */
#define TRIGGER_FOR_EACH_VECTOR(X) \
	X(0x16) X(0x17) X(0x18) X(0x19) X(0x1a) X(0x1b) X(0x1f)

/* One `int $n`; n must be a literal. */
#define TRIGGER_INT(n) __asm__ __volatile__("int $" #n ::: "memory")

static inline bool trigger_vector_ok(unsigned int vec)
{
	switch (vec) {
#define TRIGGER_CASE_OK(n) case n:
	TRIGGER_FOR_EACH_VECTOR(TRIGGER_CASE_OK)
#undef TRIGGER_CASE_OK
		return true;
	default:
		return false;
	}
}

/* `int $vec`; returns 0, or -1 (and does nothing) for another vector. */
static inline int trigger_vector(unsigned int vec)
{
	switch (vec) {
#define TRIGGER_CASE_INT(n) case n: TRIGGER_INT(n); return 0;
	TRIGGER_FOR_EACH_VECTOR(TRIGGER_CASE_INT)
#undef TRIGGER_CASE_INT
	default:
		return -1;
	}
}

/* getppid through the `syscall` instruction (x86-64 number 110). */
static inline long trigger_syscall_getppid(void)
{
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret) : "0"(110L) : "rcx", "r11", "memory");
	return ret;
}

/*
 * getppid through `int $0x80` (ia32 number 64): needs IA32 emulation, or
 * the process gets SIGSEGV. The ia32 entry may leave r8-r11 changed.
 */
static inline long trigger_int80_getppid(void)
{
	long ret;

	__asm__ __volatile__("int $0x80"
			     : "=a"(ret) : "0"(64L)
			     : "r8", "r9", "r10", "r11", "memory");
	return ret;
}

#endif /* XPTILAB_TRIGGER_H */
