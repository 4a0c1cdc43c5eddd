// SPDX-License-Identifier: GPL-2.0
/* Sampling in rounds, see rounds.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "rounds.h"
#include "stats.h"
#include "xptilab.h"

/* splitmix64: a small, well-mixed generator; the seed is recorded. */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t rounds_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* below 2^53: exact as a JSON number */
	return ((uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec) &
	       ((1ull << 53) - 1);
}

int rounds_run(const struct rounds_cfg *cfg, size_t nvar, const bool *active,
	       rounds_block_fn fn, void *ctx, struct rounds_var *vars,
	       struct rounds_var *vars2)
{
	size_t *order = calloc(nvar ? nvar : 1, sizeof(*order)), nact = 0;
	unsigned int mm = cfg->max_mult > 1 ? cfg->max_mult : 1;
	size_t mmax = (size_t)(cfg->m ? cfg->m : 1) * mm;
	uint64_t *s = calloc(mmax, sizeof(*s));
	uint64_t *o = calloc(mmax, sizeof(*o));
	size_t s2max = mmax * (cfg->s2_factor ? cfg->s2_factor : 1);
	size_t *mv = calloc(nvar ? nvar : 1, sizeof(*mv));
	uint64_t *cost = calloc(nvar ? nvar : 1, sizeof(*cost));
	uint64_t *s2 = calloc(s2max, sizeof(*s2));
	uint64_t state = cfg->seed;
	double t0 = now();
	int ret = -1;

	memset(vars, 0, nvar * sizeof(*vars));
	if (vars2)
		memset(vars2, 0, nvar * sizeof(*vars2));
	if (!order || !s || !o || !s2 || !mv || !cost)
		goto oom;
	for (size_t v = 0; v < nvar; v++) {
		if (!active[v])
			continue;
		order[nact++] = v;
		vars[v].blocks = calloc(cfg->k, sizeof(struct block));
		vars[v].ovh = calloc((size_t)cfg->k * mmax, sizeof(uint64_t));
		mv[v] = cfg->m;
		if (!vars[v].blocks || !vars[v].ovh)
			goto oom;
		if (vars2) {
			vars2[v].blocks = calloc(cfg->k, sizeof(struct block));
			if (!vars2[v].blocks)
				goto oom;
		}
	}
	for (unsigned int r = 0; r < cfg->k; r++) {
		if (r == 1 && mm > 1) {
			uint64_t top = 0;

			for (size_t i = 0; i < nact; i++)
				top = cost[order[i]] > top ? cost[order[i]] : top;
			for (size_t i = 0; i < nact; i++) {
				uint64_t c = cost[order[i]] ? cost[order[i]] : 1;
				uint64_t f = top / c;

				mv[order[i]] = cfg->m * (f < 1 ? 1 : f > mm ? mm : f);
			}
		}
		/* Fisher-Yates: a fresh order every round */
		for (size_t i = nact; i > 1; i--) {
			size_t j = next(&state) % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t p = 0; p < nact; p++) {
			struct rounds_var *rv = &vars[order[p]];
			double t = now() - t0;
			size_t n2;
			long got;

			memset(o, 0, mv[order[p]] * sizeof(*o));
			n2 = mv[order[p]];
			got = fn(ctx, order[p], s, s2, &n2, o, mv[order[p]]);
			if (got < 0)
				goto out;
			if (r == 0 && got > 0) {
				/* the variant's cost, for the block sizes */
				stats_sort(s, got);
				cost[order[p]] = stats_percentile(s, got, 50);
			}
			if (n2 > s2max)
				n2 = s2max;
			if (r == 0 || got == 0)
				continue;	/* round 0: warm-up, discarded */
			struct block *b = &rv->blocks[rv->nblocks++];

			b->round = r;
			b->pos = p;
			b->t = t;
			b->n = got;
			b->v = malloc(got * sizeof(*b->v));
			if (!b->v)
				goto oom;
			memcpy(b->v, s, got * sizeof(*s));
			memcpy(rv->ovh + rv->novh, o, got * sizeof(*o));
			rv->novh += got;
			if (vars2) {
				struct block *b2 = &vars2[order[p]].blocks[vars2[order[p]].nblocks++];

				*b2 = *b;
				b2->n = n2;
				b2->v = malloc((n2 ? n2 : 1) * sizeof(*b2->v));
				if (!b2->v)
					goto oom;
				memcpy(b2->v, s2, n2 * sizeof(*s2));
			}
		}
	}
	ret = 0;
	goto out;
oom:
	xptilab_err("out of memory");
out:
	free(order);
	free(s);
	free(o);
	free(s2);
	free(mv);
	free(cost);
	return ret;
}

void rounds_finish(struct rounds_var *rv, uint64_t sub)
{
	for (size_t i = 0; i < rv->nblocks; i++) {
		struct block *b = &rv->blocks[i];

		for (size_t k = 0; k < b->n; k++)
			b->v[k] = b->v[k] > sub ? b->v[k] - sub : 0;
		stats_sort(b->v, b->n);
		b->median = stats_percentile(b->v, b->n, 50);
		b->p10 = stats_percentile(b->v, b->n, 10);
		b->p90 = stats_percentile(b->v, b->n, 90);
	}
}

uint64_t *rounds_pool(const struct rounds_var *rv, size_t *n)
{
	size_t tot = 0, off = 0;
	uint64_t *p;

	for (size_t i = 0; i < rv->nblocks; i++)
		tot += rv->blocks[i].n;
	*n = tot;
	if (!tot)
		return NULL;
	p = malloc(tot * sizeof(*p));
	if (!p)
		return NULL;
	for (size_t i = 0; i < rv->nblocks; i++) {
		memcpy(p + off, rv->blocks[i].v, rv->blocks[i].n * sizeof(*p));
		off += rv->blocks[i].n;
	}
	return p;
}

void rounds_free(struct rounds_var *rv)
{
	for (size_t i = 0; i < rv->nblocks; i++)
		free(rv->blocks[i].v);
	free(rv->blocks);
	free(rv->ovh);
	memset(rv, 0, sizeof(*rv));
}

bool rounds_arg(int argc, char **argv, int *i, struct rounds_cfg *cfg,
		int *err)
{
	const char *a = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
	unsigned long v;

	if (strcmp(a, "--rounds") && strcmp(a, "--block") && strcmp(a, "--seed"))
		return false;
	(*i)++;
	if (!strcmp(a, "--seed")) {
		char *end;

		if (!val || !*val || (cfg->seed = strtoull(val, &end, 0), *end)) {
			xptilab_err("--seed needs a number");
			*err = 1;
		}
		return true;
	}
	if (!strcmp(a, "--rounds")) {
		if (!args_uint(val, ROUNDS_MAX_K, &v) || v < 2) {
			xptilab_err("--rounds needs 2..%u (round 0 is discarded)", ROUNDS_MAX_K);
			*err = 1;
		} else {
			cfg->k = v;
		}
		return true;
	}
	if (!args_uint(val, 1000000, &v) || !v) {
		xptilab_err("--block needs 1..1000000 samples");
		*err = 1;
	} else {
		cfg->m = v;
	}
	return true;
}
