// SPDX-License-Identifier: GPL-2.0
/* Serialized TSC timing and CPU pinning (see timing.h). */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "timing.h"
#include "xptilab.h"

int timing_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE) {
		xptilab_err("cpu %d: out of range", cpu);
		return -1;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		xptilab_err("cannot pin to cpu %d: %s", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

int timing_overhead(uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = tsc_serialized();

		v[i] = tsc_serialized() - t0;
	}
	return 0;
}

void timing_subtract(uint64_t *v, size_t n, uint64_t ovh)
{
	for (size_t i = 0; i < n; i++)
		v[i] = v[i] > ovh ? v[i] - ovh : 0;
}
