// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing shared by the experiments (see args.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "xptilab.h"

#define ONLINE_CPUS "/sys/devices/system/cpu/online"

bool args_uint(const char *s, unsigned long max, unsigned long *val)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*val = strtoul(s, &end, 0);
	return !errno && !*end && *val <= max;
}

int args_uint_range(const char *cmd, const char *opt, const char *s,
		    unsigned long lo, unsigned long hi, unsigned long *val)
{
	if (!args_uint(s, (unsigned long)-1, val)) {
		xptilab_err("%s: %s '%s': not a number", cmd, opt, s ? s : "");
		return -1;
	}
	if (*val < lo || *val > hi) {
		xptilab_err("%s: %s %s: not in %lu..%lu", cmd, opt, s, lo, hi);
		return -1;
	}
	return 0;
}

int args_option(const char *cmd, int argc, char **argv, int *i,
		const char *const *names, size_t n, char *name, size_t size,
		const char **val)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t k;

	*val = NULL;
	if (!strncmp(arg, "--", 2) && eq && (size_t)(eq - arg) < size) {
		snprintf(name, size, "%.*s", (int)(eq - arg), arg);
		*val = eq + 1;
	} else {
		snprintf(name, size, "%s", arg);
	}
	for (k = 0; k < n; k++)
		if (!strcmp(name, names[k]))
			break;
	if (k == n)
		return 1;
	if (!*val) {
		if (*i + 1 >= argc) {
			xptilab_err("%s: %s needs a value", cmd, name);
			return -1;
		}
		*val = argv[++*i];
	}
	return 0;
}

int args_variants(const char *cmd, const char *s, const char *const *names,
		  unsigned int n, unsigned int *mask)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int ret = 0;

	if (!copy) {
		xptilab_err("out of memory");
		return -1;
	}
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int v;

		if (!strcmp(tok, "all")) {
			*mask |= (n >= 32 ? ~0u : (1u << n) - 1);
			continue;
		}
		for (v = 0; v < n; v++)
			if (names[v] && !strcmp(tok, names[v]))
				break;
		if (v < n) {
			*mask |= 1u << v;
			continue;
		}
		fflush(stdout);
		fprintf(stderr, "xptilab: %s: unknown variant '%s' (", cmd, tok);
		for (v = 0; v < n; v++)
			if (names[v])
				fprintf(stderr, "%s, ", names[v]);
		fprintf(stderr, "or all)\n");
		ret = -1;
	}
	if (!ret && !*mask) {
		xptilab_err("%s: no variant given", cmd);
		ret = -1;
	}
	free(copy);
	return ret;
}

int args_cpulist(const char *s, bool *set, size_t nset, char *why, size_t len)
{
	const char *p = s;
	int n = 0;

	memset(set, 0, nset * sizeof(*set));
	while (*p && *p != '\n') {
		unsigned long lo, hi;
		char *end;

		if (*p < '0' || *p > '9')
			goto syntax;
		errno = 0;
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto syntax;
			hi = strtoul(p, &end, 10);
		}
		if (errno == ERANGE || hi < lo)
			goto syntax;
		if (hi >= nset) {
			snprintf(why, len, "cpu %lu is out of range (0..%zu)",
				 hi, nset - 1);
			return -1;
		}
		for (unsigned long c = lo; c <= hi; c++)
			if (!set[c]) {
				set[c] = true;
				n++;
			}
		p = end;
		if (*p == ',' && p[1] && p[1] != '\n')
			p++;
		else if (*p && *p != '\n')
			goto syntax;
	}
	return n;
syntax:
	snprintf(why, len, "'%s' is not a CPU list such as 0-3,8", s);
	return -1;
}

bool args_cpu_online(int cpu)
{
	static bool set[4096];
	char buf[4096], why[128];
	FILE *f = fopen(ONLINE_CPUS, "re");
	bool ok;

	if (cpu < 0)
		return false;
	if (!f)
		return true;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok || args_cpulist(buf, set, sizeof(set) / sizeof(set[0]), why,
				sizeof(why)) < 0)
		return true;
	return (size_t)cpu < sizeof(set) / sizeof(set[0]) && set[cpu];
}
