/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Experiment reports: one record per variant (statistics, CR3 writes and
 * global flushes per round trip, dropped samples, or skipped with a
 * reason), printed as a table for people, or as JSON or CSV. Every report
 * carries the machine it ran on and says when the numbers are emulated.
 */
#ifndef XPTILAB_REPORT_H
#define XPTILAB_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uapi/xptilab.h>

#include "platform.h"
#include "rounds.h"
#include "stats.h"

#define REPORT_SCHEMA		1
#define REPORT_MAX_EXTRA	12

enum report_format { REPORT_TABLE, REPORT_JSON, REPORT_CSV };

struct result_extra {
	char key[32];
	double val;
};

struct result {
	char variant[32];
	const char *unit;		/* "cycles", "count", ... */
	bool skipped;
	char reason[256];		/* why skipped */
	struct stats st;
	int cr3_writes;			/* per round trip; -1: not applicable */
	int global_flushes;		/* per round trip; -1: not applicable */
	uint64_t dropped;		/* disturbed samples discarded */
	size_t nextra;
	struct result_extra extra[REPORT_MAX_EXTRA];
	const struct rounds_var *rv;	/* its blocks when run in rounds, or NULL */
};

struct json;
struct report;

/*
 * Optional additions to the JSON output, for experiments with more to say
 * than the common fields: json_top writes extra top-level members (after
 * "cpu" and "timer_overhead"), json_record extra members of record i
 * (before its extra numeric keys).
 */
struct report_json_hooks {
	void (*json_top)(struct json *j, const struct report *r, void *ctx);
	void (*json_record)(struct json *j, const struct report *r, size_t i,
			    void *ctx);
	void *ctx;
};

struct report {
	const char *experiment;
	enum report_format fmt;
	int cpu;			/* CPU the experiment ran on, or -1 */
	bool has_info;
	struct xptilab_info info;
	struct platform plat;
	bool has_overhead;
	struct stats overhead;		/* the timer's own cost, subtracted */
	struct result *results;
	size_t n, cap;
	struct report_json_hooks hooks;
	bool has_rounds;
	struct rounds_cfg rounds;	/* k, m, warm-up, seed */
	const char *samples_path;	/* --samples: raw samples written here */
};

/* Parse "--json"/"--csv" into *fmt; returns true if arg was one. */
bool report_format_arg(const char *arg, enum report_format *fmt);

/* Machine facts come from the device fd (may be -1: then none). */
void report_init(struct report *r, const char *experiment,
		 enum report_format fmt, int fd, int cpu);

/* A new zeroed record (cr3_writes/global_flushes -1); exits on ENOMEM. */
/* Room for n more results, so that report_add() keeps earlier pointers. */
void report_reserve(struct report *r, size_t n);
struct result *report_add(struct report *r, const char *variant,
			  const char *unit);

void result_skip(struct result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void result_extra(struct result *res, const char *key, double val);

void report_print(const struct report *r, FILE *out);

/*
 * A record measured in rounds: keep rv (its blocks, already
 * rounds_finish()ed) and summarise every kept sample into res->st.
 */
void result_rounds(struct result *res, const struct rounds_var *rv);

/*
 * The raw samples of every record run in rounds, one block a line:
 * "EXPERIMENT RECORD VARIANT ROUND POS N V1 V2 ..." (RECORD: the record's
 * index in this report; samples sorted, after subtraction),
 * after a "# xptilab samples 1" header. 0, or -1 with the reason printed.
 */
int report_write_samples(const struct report *r, const char *path);

/* n, min, median, p90, p99, max, mean, stddev as members of an object. */
void report_stats_json(struct json *j, const struct stats *s);
void report_free(struct report *r);

#endif /* XPTILAB_REPORT_H */
