/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line parsing shared by the experiments: numbers, variant and CPU lists. */
#ifndef XPTILAB_ARGS_H
#define XPTILAB_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* An unsigned number (decimal or 0x hex, no sign) no larger than max. */
bool args_uint(const char *s, unsigned long max, unsigned long *val);

/*
 * The same within lo..hi; on error says "CMD: OPT S: ..." on stderr and
 * returns -1.
 */
int args_uint_range(const char *cmd, const char *opt, const char *s,
		    unsigned long lo, unsigned long hi, unsigned long *val);

/*
 * A comma-separated list of names[0..n) or "all" into a bit mask; on an
 * unknown name says so (listing the names) and returns -1.
 */
int args_variants(const char *cmd, const char *s, const char *const *names,
		  unsigned int n, unsigned int *mask);

/*
 * A CPU list such as "0-3,8" into set[0..nset). Returns the number of
 * CPUs, or -1 with the reason in why (a syntax error, or a CPU >= nset).
 */
int args_cpulist(const char *s, bool *set, size_t nset, char *why, size_t len);

/*
 * argv[*i] as one of the options names[0..n), given as "--opt VALUE" or
 * "--opt=VALUE": *name (size bytes) gets the option, *val its value (*i
 * advanced past a separate one). Returns 0; 1 when argv[*i] is not one of
 * names (nothing printed: the caller says so); -1 when the value is
 * missing (said on stderr as "CMD: OPT needs a value").
 */
int args_option(const char *cmd, int argc, char **argv, int *i,
		const char *const *names, size_t n, char *name, size_t size,
		const char **val);

/* Is cpu online? True when sysfs cannot tell: the module checks too. */
bool args_cpu_online(int cpu);

#endif /* XPTILAB_ARGS_H */
