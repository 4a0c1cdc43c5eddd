// SPDX-License-Identifier: GPL-2.0
/*
 * Instructions the kernel under test relies on, checked against the CPU
 * (or emulator) the tests run on: a guest that gets them wrong crashes
 * Linux in ways that look like xptilab's fault.
 *
 * cmpxchg16b and its flags. QEMU 7.2's TCG (Debian 12) computes the
 * EFLAGS of cmpxchg16b from the lazy-flags state as it stood when the
 * translation block began, not after the instructions before it in the
 * block: every flag but ZF comes out as garbage. Linux 6.12's SLUB fast
 * path ends a block with "cmpxchg16b; jne", so an interrupt taken right
 * there pushes that garbage as RFLAGS and its iretq loads it (TF, DF, AC,
 * IOPL): a #DB or a double fault in the slab fast path, within seconds
 * under IPI storms. scripts/vm-run therefore takes CX16 out of QEMU's CPU
 * models (Linux then uses SLUB's locked path), and this test SKIPs there;
 * XPTILAB_QEMU_CX16=1 keeps CX16, and then this test fails under QEMU 7.2.
 * Needs no module.
 */
#include <cpuid.h>
#include <stdint.h>

#include "kselftest_harness.h"

#define TRIES		10000
#define EFLAGS_ID	(1UL << 21)

static bool has_cx16(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_CMPXCHG16B);
}

/* cx16_flags()'s sequence, with PREFIX ("" or "lock ") before cmpxchg16b. */
#define CX16_SEQ(prefix)						\
	__asm__ volatile("pushq $0x202\n\tpopfq\n\t"			\
			 "addq %[z], %[x]\n\t"				\
			 prefix "cmpxchg16b %[m]\n\t"			\
			 "pushfq\n\tpopq %[fl]\n\t"			\
			 "addq $0, %[x]\n\t"					\
			 : [fl] "=&r"(fl), [x] "+S"(x), "+a"(a), "+d"(d),	\
			   [m] "+m"(mem)					\
			 : "b"(b), "c"(c), [z] "D"(z) : "cc", "memory")

/*
 * The flags right after cmpxchg16b, with the lazy flags of the block's
 * start set to "EFLAGS" (popfq ends a block) and an add before it whose
 * source operand holds EFLAGS.ID: a stale evaluation shows ID set.
 * locked: with a LOCK prefix (the atomic path). Success or failure of
 * the exchange does not matter; *zf_ok says whether ZF matched it.
 */
static unsigned long cx16_flags(bool locked, bool *zf_ok)
{
	static __int128 mem __attribute__((aligned(16)));
	unsigned long fl, a = 0, d = 0, x = 0, z = EFLAGS_ID;
	unsigned long b = 1, c = 0;

	mem = 0;
	if (locked)
		CX16_SEQ("lock ");
	else
		CX16_SEQ("");
	/* mem was 0 == rdx:rax: the exchange succeeded, ZF must be set */
	*zf_ok = (fl & 0x40) && mem == 1;
	return fl;
}

static void check_cx16(struct __test_metadata *_metadata, bool locked)
{
	unsigned long stale = 0, fl = 0;
	bool zf_ok = true;

	if (!has_cx16())
		SKIP(return, "no CX16 in CPUID (scripts/vm-run takes it out under QEMU TCG, whose cmpxchg16b flags are wrong; XPTILAB_QEMU_CX16=1 keeps it)");
	for (int i = 0; i < TRIES; i++) {
		bool ok;

		fl = cx16_flags(locked, &ok);
		stale += !!(fl & EFLAGS_ID);
		zf_ok &= ok;
	}
	EXPECT_TRUE(zf_ok);
	EXPECT_EQ(0UL, stale)
		TH_LOG("%lu of %d %scmpxchg16b left EFLAGS %#lx: flags from stale lazy state (QEMU 7.2 TCG); Linux 6.12 then crashes in the slab fast path",
		       stale, TRIES, locked ? "lock " : "", fl);
}

TEST(cmpxchg16b_flags)
{
	check_cx16(_metadata, false);
}

TEST(lock_cmpxchg16b_flags)
{
	check_cx16(_metadata, true);
}

TEST_HARNESS_MAIN
