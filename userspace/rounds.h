/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sampling in rounds (docs/methodology.md): an experiment runs k rounds;
 * in each round every variant runs once as a block of m timed samples, in
 * a fresh random order drawn from a recorded seed, each block after an
 * untimed warm-up (the variant was just switched to). Round 0 is
 * discarded: it pays for first-touch faults and translation. What is kept
 * per block (round, position in the round, time, n, median, p10, p90, and
 * the samples) lets ci.h compare variants round by round.
 */
#ifndef XPTILAB_ROUNDS_H
#define XPTILAB_ROUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ROUNDS_DEFAULT_K	21	/* round 0 + 20 kept */
#define ROUNDS_MAX_K		1000

struct block {
	unsigned int round;		/* 1..k-1 */
	unsigned int pos;		/* its place in the round's order */
	double t;			/* seconds since the first round began */
	size_t n;
	uint64_t median, p10, p90;	/* nearest rank, after subtraction */
	uint64_t *v;			/* n samples (owned), sorted */
};

struct rounds_cfg {
	unsigned int k;			/* rounds, round 0 included */
	unsigned int m;			/* timed samples per block */
	unsigned int warmup;		/* untimed operations before a block */
	uint64_t seed;			/* of the orders; recorded */
	unsigned int s2_factor;		/* second series: m * this (0 = 1) */
	/*
	 * Blocks of similar duration: when > 1, round 0 (discarded) measures
	 * each variant's median sample, and from round 1 a variant's block has
	 * m * min(max_mult, costliest median / its median) samples, so that a
	 * cheap variant's block median is not left to a few dozen samples.
	 * fn's s, s2 and ovh then hold m * max_mult (* s2_factor) samples.
	 */
	unsigned int max_mult;
};

/*
 * One block: switch to variant var, run cfg->warmup untimed operations,
 * then fill s[0..m) with timed samples (and ovh[0..m) with timer-overhead
 * samples when the experiment has them, else leave it; s2[0..m) with a
 * second series taken in the same operations, e.g. cr3's +touch or ipi's
 * handler samples, when rounds_run() was given vars2: up to m * s2_factor
 * samples; the function sets *n2, preset to m, to how many). Return the samples
 * taken (<= m), or -1 on a hard error (then the run stops).
 */
typedef long (*rounds_block_fn)(void *ctx, size_t var, uint64_t *s,
				uint64_t *s2, size_t *n2, uint64_t *ovh, size_t m);

struct rounds_var {			/* per variant, filled by rounds_run() */
	size_t nblocks;
	struct block *blocks;		/* rounds 1..k-1 in round order */
	uint64_t *ovh;			/* pooled overhead samples, kept rounds */
	size_t novh;
};

/*
 * Run cfg->k rounds over the nvar variants with active[i] set, calling fn.
 * vars[nvar] receives the blocks (raw samples, nothing subtracted yet);
 * vars2[nvar], when not NULL, the second series' blocks.
 * Returns 0, or -1 (fn failed, or out of memory).
 */
int rounds_run(const struct rounds_cfg *cfg, size_t nvar, const bool *active,
	       rounds_block_fn fn, void *ctx, struct rounds_var *vars,
	       struct rounds_var *vars2);

/* Subtract sub (clamped at 0) and (re)compute each block's statistics. */
void rounds_finish(struct rounds_var *rv, uint64_t sub);

/* Every kept sample of a variant, pooled (caller frees). NULL if none. */
uint64_t *rounds_pool(const struct rounds_var *rv, size_t *n);

void rounds_free(struct rounds_var *rv);

/* A seed from the clock (when --seed is not given). */
uint64_t rounds_seed(void);

/* Parse --rounds K / --block M / --seed S; true if arg was one (i advanced). */
bool rounds_arg(int argc, char **argv, int *i, struct rounds_cfg *cfg,
		int *err);

#endif /* XPTILAB_ROUNDS_H */
