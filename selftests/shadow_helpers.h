/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the shadow-root selftests (shadow_test, vectors_test,
 * cr3_test): reading /sys/kernel/debug/xptilab/, parsing a CPU's shadow
 * dump, the online CPUs, and reloading the module. Include after helpers.h.
 */
#ifndef XPTILAB_SELFTESTS_SHADOW_HELPERS_H
#define XPTILAB_SELFTESTS_SHADOW_HELPERS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#define XDBG "/sys/kernel/debug/xptilab/"
#define SYSCPU "/sys/devices/system/cpu/"
#define MAX_TEST_CPUS 64

/* Read path into buf (NUL-terminated); length, or -1 with errno set. */
static inline ssize_t read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	n = errno;
	close(fd);
	buf[len] = '\0';
	errno = n;
	return len;
}

static inline int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

/*
 * online[cpu] for cpu < MAX_TEST_CPUS from SYSCPU "online" ("0-3,5");
 * returns the number of online CPUs, or -1.
 */
static inline int online_cpus(bool online[MAX_TEST_CPUS])
{
	char buf[1024], *p = buf, *end;
	int count = 0;

	memset(online, 0, MAX_TEST_CPUS * sizeof(bool));
	if (read_text(SYSCPU "online", buf, sizeof(buf)) <= 0)
		return -1;
	while (*p && *p != '\n') {
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			return -1;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long c = lo; c <= hi && c < MAX_TEST_CPUS; c++) {
			online[c] = true;
			count++;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return count;
}

/* Loading and unloading the module, as lifecycle_test does. */
static inline int module_load(const char *params)
{
	const char *ko = getenv("XPTILAB_KO");
	int fd, ret, err;

	fd = ko ? open(ko, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static inline int module_unload(void)
{
	return syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK);
}

/* One line of cpuN/shadow. */
struct shadow_range {
	uint64_t start, end;
	unsigned long size_k;
	bool rw, nx, user, global;
	char kind[16];
};

#define MAX_RANGES 256

struct shadow_dump {
	bool present;		/* false: "no shadow root" */
	bool header_global;	/* first header says "clones global" */
	bool header_seen;
	int n;
	struct shadow_range r[MAX_RANGES];
	char bad[300];		/* first line that did not parse */
};

/* Parse the text of cpuN/shadow; 0, or -1 when a line does not parse. */
static inline int parse_shadow(const char *text, struct shadow_dump *d)
{
	const char *line = text;

	memset(d, 0, sizeof(*d));
	if (!strncmp(text, "no shadow root", 14))
		return 0;
	d->present = true;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char l[256], rw[8], ex[8], us[8], g[8];
		struct shadow_range *r;

		snprintf(l, sizeof(l), "%.*s", (int)len, line);
		line += len + (nl ? 1 : 0);
		if (!l[0])
			continue;
		if (l[0] == '#') {
			if (!d->header_seen) {
				d->header_seen = true;
				d->header_global = strstr(l, "clones global") != NULL;
				if (!d->header_global && !strstr(l, "clones non-global"))
					goto bad;
			}
			continue;
		}
		if (d->n == MAX_RANGES)
			goto bad;
		r = &d->r[d->n];
		if (sscanf(l, "0x%" SCNx64 "-0x%" SCNx64 " %luK %7s %7s %7s %7s %15s",
			   &r->start, &r->end, &r->size_k, rw, ex, us, g,
			   r->kind) != 8)
			goto bad;
		if ((strcmp(rw, "RW") && strcmp(rw, "ro")) ||
		    (strcmp(ex, "NX") && strcmp(ex, "x")) ||
		    (strcmp(us, "USR") && strcmp(us, "sup")) ||
		    (strcmp(g, "G") && strcmp(g, "ng")))
			goto bad;
		r->rw = !strcmp(rw, "RW");
		r->nx = !strcmp(ex, "NX");
		r->user = !strcmp(us, "USR");
		r->global = !strcmp(g, "G");
		d->n++;
		continue;
bad:
		snprintf(d->bad, sizeof(d->bad), "%s", l);
		return -1;
	}
	return 0;
}

/* Read and parse CPU cpu's dump; 0 or -1 (d->bad or errno says why). */
static inline int read_shadow(int cpu, struct shadow_dump *d)
{
	static char buf[65536];
	char path[96];

	snprintf(path, sizeof(path), XDBG "cpu%d/shadow", cpu);
	if (read_text(path, buf, sizeof(buf)) < 0) {
		memset(d, 0, sizeof(*d));
		snprintf(d->bad, sizeof(d->bad), "%s: %s", path, strerror(errno));
		return -1;
	}
	return parse_shadow(buf, d);
}

/* The audit file's text into buf; true when it is exactly "ok". */
static inline bool audit_ok(char *buf, size_t size)
{
	if (read_text(XDBG "audit", buf, size) < 0) {
		snprintf(buf, size, "audit: %s", strerror(errno));
		return false;
	}
	return !strcmp(buf, "ok\n");
}

/* Sum of the per-CPU totals in the events file, or -1. */
static inline long long shadow_events_total(void)
{
	char buf[16384], *line;
	long long sum = 0;
	char *save = NULL;

	if (read_text(XDBG "events", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned int cpu;
		unsigned long long total;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "cpu%u %llu", &cpu, &total) != 2)
			return -1;
		sum += total;
	}
	return sum;
}

/* Row 'name' (e.g. "LOC") of /proc/interrupts, one count per CPU column. */
static inline int irq_row(const char *name, unsigned long long *counts, int max)
{
	static char buf[65536];
	char *line, *save = NULL, *p;
	int ncols = 0, n = 0;

	if (read_text("/proc/interrupts", buf, sizeof(buf)) <= 0)
		return -1;
	line = strtok_r(buf, "\n", &save);
	if (!line)
		return -1;
	for (p = line; (p = strstr(p, "CPU")); p += 3)
		ncols++;
	for (; (line = strtok_r(NULL, "\n", &save));) {
		while (*line == ' ')
			line++;
		if (strncmp(line, name, strlen(name)) || line[strlen(name)] != ':')
			continue;
		p = line + strlen(name) + 1;
		for (; n < ncols && n < max; n++) {
			char *end;

			counts[n] = strtoull(p, &end, 10);
			if (end == p)
				return -1;
			p = end;
		}
		return n;
	}
	return -1;
}

#endif /* XPTILAB_SELFTESTS_SHADOW_HELPERS_H */
