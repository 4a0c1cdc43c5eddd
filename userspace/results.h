/* SPDX-License-Identifier: GPL-2.0 */
/*
 * results.json (docs/results.md): what `xptilab run-all` writes for one
 * machine and `xptilab merge` for several guests, and what `report` and
 * `compare` read. results_load() validates a file against the schema and
 * refuses, with a message naming the file, the record and the field, one
 * that lacks a required field or has a schema_version this tool does not
 * know.
 */
#ifndef XPTILAB_RESULTS_H
#define XPTILAB_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ci.h"
#include "jsonp.h"

/*
 * 2: records measured in rounds carry "blocks" (round, pos, t, n, median,
 * p10, p90), experiments.NAME "rounds" and "samples" (the raw samples'
 * file, beside results.json). Version 1 files (no blocks) still load.
 */
#define RESULTS_SCHEMA_VERSION	2

enum rec_kind {
	REC_SKIPPED,
	REC_STATS,		/* n, min, median, p90, p99, max, mean, stddev */
	REC_COUNTS,		/* race: race_hits, entries, hits_per_million */
};

struct rec {
	const struct jv *obj;
	size_t guest;			/* index into results.guests */
	const char *experiment, *variant, *unit, *reason;
	enum rec_kind kind;
	double n, min, median, p90, p99, max, mean, stddev;
	double cr3_writes, global_flushes;	/* NAN: not applicable */
	double race_hits, entries, hits_per_million;
	const struct jv *params;	/* an object, or NULL */
	char params_text[160];		/* "distance=20 node=-1 ..." by key */
	/* rounds (schema 2): per kept block, in file order */
	size_t nblocks;
	double *bround, *bmed, *bp10;
	bool from_samples;		/* bmed/bp10 recomputed from raw samples */
};

struct guest {
	const char *label;		/* "" in a one-machine file */
	const struct jv *machine, *numa, *experiments;
};

struct results {
	const char *path;
	struct jv *root;
	int schema_version;
	const char *generated_by, *created;
	bool combined;			/* "guests" rather than "machine" */
	size_t nguests;
	struct guest *guests;
	size_t nrecs;
	struct rec *recs;
};

/* 0, or -1 with the reason printed; res is then empty. */
int results_load(const char *path, struct results *res);
void results_free(struct results *res);

/* Machine facts (NULL / false / NAN when absent). */
const char *machine_str(const struct guest *g, const char *key);
bool machine_bool(const struct guest *g, const char *key);
double machine_num(const struct guest *g, const char *key);
bool results_any_emulated(const struct results *res);

/* A number from an object member; NAN when absent or not a number. */
double jv_num(const struct jv *obj, const char *key);

/*
 * THE comparison of two records of one results file, for claims, bench
 * reports and other guests' sections (e.g. Xen's own XPTI costs):
 *
 *   int rec_compare(const struct results *res, const struct rec *a,
 *                   const struct rec *b, double margin, const char *b_name,
 *                   struct cmp *out);
 *
 * a and b must have blocks (measured in rounds). When they come from the
 * same guest, blocks are paired by round and cmp_paired() is used (medians
 * and p10s); otherwise (two guests, e.g. PTI off vs on) the blocks are two
 * independent samples and cmp_unpaired() is used. margin: the equivalence
 * margin declared in advance (0.05 = +-5%). The "emulator result: " prefix
 * is set when either guest is emulated. Returns 0, or -1 with
 * out->verdict CMP_NOT_EVALUATED (no blocks, fewer than 2 rounds, or out
 * of memory) and out->text saying why.
 */
int rec_compare(const struct results *res, const struct rec *a,
		const struct rec *b, double margin, const char *b_name,
		struct cmp *out);

/* `xptilab merge`: several one-machine files into one, a label each. */
int cmd_merge(int argc, char **argv);

#endif /* XPTILAB_RESULTS_H */
