/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Comparisons with confidence intervals, and the verdicts drawn from them
 * (docs/methodology.md). This is the one place a verdict on "is B dearer
 * than A" is computed; claims, compare, validate and bench call it.
 *
 * The unit of evidence is a round, not a sample. In every round each
 * variant ran once as a block of m samples; a block is summarised by its
 * median (and p10). Comparing variants A and B measured in the same rounds
 * uses the per-round log ratio d_i = ln(B_i / A_i) of block medians:
 *
 *   estimate  the Hodges-Lehmann estimate of d (median of the Walsh
 *             averages (d_i + d_j) / 2, i <= j), reported as a ratio e^d;
 *   CI        the Wilcoxon signed-rank confidence interval (exact null
 *             distribution up to 400 rounds, normal approximation above),
 *             95% and 90%, as ratios.
 *
 * Single samples are never pooled into a test: they are not independent
 * (drift, ordering, caches), rounds are. Comparing two runs, where rounds
 * are not paired, uses the two-sample Hodges-Lehmann shift of log block
 * medians with the Mann-Whitney interval (cmp_unpaired()).
 *
 * Verdicts against a margin D declared in advance (0.05 for "within 5%"),
 * symmetric in log space (|ln(B/A)| < ln(1 + D)), so swapping A and B
 * mirrors the verdict; checked in this order:
 *
 *   CMP_DEARER/CHEAPER, beyond_margin   95% CI wholly beyond the margin:
 *                "B dearer by X% [L%, U%]"
 *   CMP_BELOW_MARGIN  95% CI excludes 1 and lies inside the margin:
 *                "difference detected, below +-D% (B dearer by ...)"
 *   CMP_EQUIVALENT    90% CI inside the margin: "equivalent within +-D%"
 *   CMP_DEARER/CHEAPER, !beyond_margin  95% CI excludes 1 but reaches
 *                past the margin: "B dearer by X% [L%, U%], size against
 *                +-D% undecided"
 *   CMP_UNDECIDED     "no difference detected; resolution +-Y%, too coarse
 *                to decide" (Y: half the 95% CI's width, as a percentage)
 *
 * With emulated set, the text starts "emulator result: ".
 */
#ifndef XPTILAB_CI_H
#define XPTILAB_CI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cmp_verdict {
	CMP_NOT_EVALUATED,	/* fewer than 2 usable rounds */
	CMP_DEARER,
	CMP_CHEAPER,
	CMP_BELOW_MARGIN,
	CMP_EQUIVALENT,
	CMP_UNDECIDED,
};

/* One statistic's comparison, as ratios B/A (CI bounds may be 0 or INFINITY). */
struct cmp_est {
	double ratio;			/* e^(Hodges-Lehmann estimate) */
	double lo95, hi95, lo90, hi90;
};

struct cmp {
	size_t rounds;			/* pairs (or blocks) used */
	bool paired;			/* cmp_paired(): rounds; else blocks of two runs */
	size_t dropped;			/* rounds with a non-positive value */
	double margin;			/* D, e.g. 0.05 */
	bool emulated;
	struct cmp_est med;		/* of block medians */
	bool has_p10;
	struct cmp_est p10;		/* of block p10s */
	bool mode_sensitive;		/* median and p10 disagree in direction */
	enum cmp_verdict verdict;
	bool beyond_margin;		/* DEARER/CHEAPER: 95% CI wholly beyond D */
	double resolution;		/* half-width of the 95% CI, relative */
	char text[320];			/* the verdict in words */
};

/*
 * THE comparison: variants A and B of one guest measured in the same n
 * rounds. a[i], b[i]: round i's block medians (round 0, the warm-up round,
 * already left out by the caller); a_p10/b_p10: the same rounds' block
 * p10s, or NULL. margin: the equivalence margin declared for this
 * comparison (0.05 = +-5%). emulated: the guest is an emulator (the text
 * gets the "emulator result: " prefix). b_name names B in the text ("B"
 * when NULL). Rounds where a value is <= 0 are left out (counted in
 * out->dropped). Always fills *out; returns 0, or -1 when fewer than 2
 * rounds were usable (verdict CMP_NOT_EVALUATED) or out of memory.
 */
int cmp_paired(const double *a, const double *b, const double *a_p10,
	       const double *b_p10, size_t n, double margin, bool emulated,
	       const char *b_name, struct cmp *out);

/*
 * Two runs (not paired by round): na block medians of A, nb of B. The
 * two-sample Hodges-Lehmann shift of their logs with the Mann-Whitney CI;
 * the same verdicts. Returns as cmp_paired().
 */
int cmp_unpaired(const double *a, size_t na, const double *b, size_t nb,
		 double margin, bool emulated, const char *b_name,
		 struct cmp *out);

/* The verdict's name: "dearer", "cheaper", "equivalent", ... */
const char *cmp_verdict_name(enum cmp_verdict v);

/*
 * Exact binomial (Clopper-Pearson) one-sided 95% upper bound on the rate
 * of an event seen x times in n trials (x = 0: 1 - 0.05^(1/n)). NAN if n == 0.
 */
double binom_upper95(uint64_t x, uint64_t n);

/* `xptilab verdict`: cmp_paired() on per-round values from a file. */
int cmd_verdict(int argc, char **argv);

#endif /* XPTILAB_CI_H */
