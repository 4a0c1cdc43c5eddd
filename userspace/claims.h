/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The claims of the January 2018 XPTI review, each with the numbers of one
 * results.json that bear on it and a verdict computed from them
 * (docs/results.md, "Claims"). `report` renders them into report.md and
 * claims.txt; `merge` writes them as the "claims" block of results.json.
 */
#ifndef XPTILAB_CLAIMS_H
#define XPTILAB_CLAIMS_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
#include "ci.h"
#include "results.h"

#define NCLAIMS	5

struct claim_row {
	const char *guest;		/* label, "" in a one-machine file */
	char measure[160];		/* "cr3 round trip", "ipi handler targets=2 ..." */
	const char *a_label, *b_label;
	double a, b;			/* medians (race: hits, interrupts) */
	double ratio;			/* race: hits per interrupt */
	double upper95;			/* race: exact binomial 95% upper bound */
	double insn_a, insn_b;		/* instructions per round trip (icount), or NAN */
	bool has_cmp;
	struct cmp cmp;			/* the comparison (ci.h) */
	char result[360];		/* that row's reading */
};

struct claim {
	int id;
	const char *key, *statement;
	const char *verdict;		/* supported, contradicted, inconclusive, ... */
	double margin;			/* the equivalence margin declared, or 0 */
	char reason[320];		/* why, in numbers */
	bool emulated;			/* a guest it rests on is emulated */
	const char *caveat, *hardware;	/* under emulation; what hardware settles */
	size_t nrows;
	struct claim_row *rows;
};

/* Fills c[NCLAIMS]; 0, or -1 out of memory. claims_free() after. */
int claims_compute(const struct results *res, struct claim *c);
void claims_free(struct claim *c);

void claims_md(FILE *f, const struct claim *c);
void claims_text(FILE *f, const struct claim *c);
void claims_json(struct json *j, const struct claim *c);

/*
 * "Precision of the comparisons": every cr3 and every entry variant pair
 * of each guest, its 95% CI, and how many lie within +-5% of the ratio,
 * as Markdown (f_md) and as one line of text (f_txt); either may be NULL.
 */
void claims_precision(FILE *f_md, FILE *f_txt, const struct results *res);

/*
 * "The stub's tax on every entry": per guest, entry int80 (through
 * xptilab's stub) against int80-linux (Linux's own gate), compared like
 * the claims; nothing when no guest measured both. Either FILE may be NULL.
 */
void claims_stub_tax(FILE *f_md, FILE *f_txt, const struct results *res);

#endif /* XPTILAB_CLAIMS_H */
