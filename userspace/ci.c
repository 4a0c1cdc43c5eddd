// SPDX-License-Identifier: GPL-2.0
/*
 * Comparisons with confidence intervals and their verdicts (ci.h):
 * Hodges-Lehmann estimates with Wilcoxon signed-rank (paired) and
 * Mann-Whitney (two-sample) intervals, exact where the null distribution
 * is cheap to compute, and the exact binomial upper bound.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "ci.h"
#include "xptilab.h"

#define Z95	1.959963984540054
#define Z90	1.644853626951472
/* Exact null distributions up to these sizes, normal approximation above. */
#define WSR_EXACT_MAX	400
#define MW_EXACT_MAX	4000	/* na * nb */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_sorted(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Wilcoxon signed-rank: the largest c with P(T+ <= c - 1) <= alpha2 under
 * the null for n pairs; the CI is [W(c), W(M + 1 - c)] of the M sorted
 * Walsh averages (1-based). 0: no such c (the interval is unbounded).
 */
static size_t wsr_c_compute(size_t n, double alpha2, double z);

/* wsr_c_compute() remembered: a report asks for the same n many times. */
static size_t wsr_c(size_t n, double alpha2, double z)
{
	static struct { size_t n, c; double alpha2; } memo[16];
	static unsigned int next_slot;
	size_t c;

	for (size_t i = 0; i < sizeof(memo) / sizeof(memo[0]); i++)
		if (memo[i].n == n && memo[i].alpha2 == alpha2)
			return memo[i].c;
	c = wsr_c_compute(n, alpha2, z);
	memo[next_slot].n = n;
	memo[next_slot].alpha2 = alpha2;
	memo[next_slot].c = c;
	next_slot = (next_slot + 1) % (sizeof(memo) / sizeof(memo[0]));
	return c;
}

static size_t wsr_c_compute(size_t n, double alpha2, double z)
{
	size_t s_max = n * (n + 1) / 2, c = 0;
	double *p, cum = 0;

	if (n > WSR_EXACT_MAX) {
		double sd = sqrt(n * (n + 1.0) * (2.0 * n + 1) / 24);
		double v = floor(s_max / 2.0 - z * sd);

		return v < 1 ? 0 : (size_t)v;
	}
	p = calloc(s_max + 1, sizeof(*p));
	if (!p)
		return 0;
	p[0] = 1;
	for (size_t j = 1, top = 0; j <= n; j++) {
		top += j;
		for (size_t s = top; s >= j; s--)
			p[s] = 0.5 * (p[s] + p[s - j]);
		for (size_t s = 0; s < j && s <= top; s++)
			p[s] *= 0.5;
	}
	for (size_t s = 0; s <= s_max; s++) {
		cum += p[s];
		if (cum > alpha2 * (1 + 1e-12))
			break;
		c = s + 1;
	}
	free(p);
	return c;
}

/*
 * Mann-Whitney U for sizes na, nb: the largest c with P(U <= c - 1) <=
 * alpha2; the CI is [D(c), D(na*nb + 1 - c)] of the sorted differences.
 */
static size_t mw_c(size_t na, size_t nb, double alpha2, double z)
{
	size_t mn = na * nb, c = 0;
	double *prev, *cur, cum = 0;

	if (mn > MW_EXACT_MAX) {
		double sd = sqrt(mn * (na + nb + 1.0) / 12);
		double v = floor(mn / 2.0 - z * sd);

		return v < 1 ? 0 : (size_t)v;
	}
	/*
	 * P[i][j](u) = i/(i+j) P[i-1][j](u - j) + j/(i+j) P[i][j-1](u),
	 * row by row in i; row i holds P[i][j] for j = 0..nb at stride mn+1.
	 */
	prev = calloc((nb + 1) * (mn + 1), sizeof(*prev));
	cur = calloc((nb + 1) * (mn + 1), sizeof(*cur));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return 0;
	}
	for (size_t j = 0; j <= nb; j++)
		prev[j * (mn + 1)] = 1;		/* i = 0: U = 0 */
	for (size_t i = 1; i <= na; i++) {
		memset(cur, 0, (nb + 1) * (mn + 1) * sizeof(*cur));
		cur[0] = 1;			/* j = 0: U = 0 */
		for (size_t j = 1; j <= nb; j++) {
			double *o = cur + j * (mn + 1), *l = prev + j * (mn + 1);
			double *d = cur + (j - 1) * (mn + 1);
			double wa = (double)i / (i + j), wb = (double)j / (i + j);

			for (size_t u = 0; u <= i * j; u++)
				o[u] = (u >= j ? wa * l[u - j] : 0) + wb * d[u];
		}
		double *t = prev;

		prev = cur;
		cur = t;
	}
	for (size_t u = 0; u <= mn; u++) {
		cum += prev[nb * (mn + 1) + u];
		if (cum > alpha2 * (1 + 1e-12))
			break;
		c = u + 1;
	}
	free(prev);
	free(cur);
	return c;
}

/* est from m sorted values w and the 95%/90% ranks c95, c90 (log space). */
static void est_from(const double *w, size_t m, size_t c95, size_t c90,
		     struct cmp_est *e)
{
	e->ratio = exp(median_sorted(w, m));
	e->lo95 = c95 ? exp(w[c95 - 1]) : 0;
	e->hi95 = c95 ? exp(w[m - c95]) : INFINITY;
	e->lo90 = c90 ? exp(w[c90 - 1]) : 0;
	e->hi90 = c90 ? exp(w[m - c90]) : INFINITY;
}

/* Paired: HL of d[0..n) with the signed-rank CI. */
static int hl_paired(const double *d, size_t n, struct cmp_est *e)
{
	size_t m = n * (n + 1) / 2, k = 0;
	double *w = malloc(m * sizeof(*w));

	if (!w)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			w[k++] = (d[i] + d[j]) / 2;
	qsort(w, m, sizeof(*w), cmp_double);
	est_from(w, m, wsr_c(n, 0.025, Z95), wsr_c(n, 0.05, Z90), e);
	free(w);
	return 0;
}

static const char *pct(double r, char *buf, size_t len)
{
	if (isinf(r) || r <= 0)
		snprintf(buf, len, "%s", r <= 0 ? "-100%" : "+inf%");
	else
		snprintf(buf, len, "%+.1f%%", (r - 1) * 100);
	return buf;
}

/* "dearer by 12.3% [10.1%, 14.6%]" (or cheaper) from the median's est. */
static void sized(const struct cmp_est *e, const char *name, char *buf,
		  size_t len)
{
	char l[24], u[24];

	if (e->ratio >= 1)
		snprintf(buf, len, "%s dearer by %.1f%% [%s, %s]", name,
			 (e->ratio - 1) * 100, pct(e->lo95, l, sizeof(l)),
			 pct(e->hi95, u, sizeof(u)));
	else
		snprintf(buf, len, "%s cheaper by %.1f%% [%s, %s]", name,
			 (1 - e->ratio) * 100, pct(e->lo95, l, sizeof(l)),
			 pct(e->hi95, u, sizeof(u)));
}

static void decide(struct cmp *c, const char *name)
{
	const struct cmp_est *e = &c->med;
	double m = log1p(c->margin);
	double lo = log(e->lo95), hi = log(e->hi95);
	double lo9 = log(e->lo90), hi9 = log(e->hi90);
	char sz[128], *t = c->text;
	size_t len = sizeof(c->text), off;

	off = snprintf(t, len, "%s", c->emulated ? "emulator result: " : "");
	c->resolution = isinf(hi) || isinf(lo) ? INFINITY : expm1((hi - lo) / 2);
	sized(e, name, sz, sizeof(sz));
	if (lo > m || hi < -m) {
		c->verdict = lo > m ? CMP_DEARER : CMP_CHEAPER;
		c->beyond_margin = true;
		snprintf(t + off, len - off, "%s", sz);
	} else if ((lo > 0 || hi < 0) && lo > -m && hi < m) {
		c->verdict = CMP_BELOW_MARGIN;
		snprintf(t + off, len - off, "difference detected, below \u00b1%g%% (%s)",
			 c->margin * 100, sz);
	} else if (lo9 > -m && hi9 < m) {
		char l9[24], u9[24];

		c->verdict = CMP_EQUIVALENT;
		snprintf(t + off, len - off, "equivalent within \u00b1%g%% (90%% CI %s to %s)",
			 c->margin * 100, pct(e->lo90, l9, sizeof(l9)),
			 pct(e->hi90, u9, sizeof(u9)));
	} else if (lo > 0 || hi < 0) {
		c->verdict = lo > 0 ? CMP_DEARER : CMP_CHEAPER;
		snprintf(t + off, len - off, "%s; against \u00b1%g%% undecided",
			 sz, c->margin * 100);
	} else {
		c->verdict = CMP_UNDECIDED;
		if (isinf(c->resolution))
			snprintf(t + off, len - off,
				 "no difference detected; resolution unbounded (%zu rounds), too coarse to decide",
				 c->rounds);
		else
			snprintf(t + off, len - off,
				 "no difference detected; resolution \u00b1%.1f%%, too coarse to decide",
				 c->resolution * 100);
	}
	if (c->has_p10) {
		double a = log(c->med.ratio), b = log(c->p10.ratio);
		bool excl = c->med.lo95 > 1 || c->med.hi95 < 1 ||
			    c->p10.lo95 > 1 || c->p10.hi95 < 1;

		c->mode_sensitive = excl && ((a > 0 && b < 0) || (a < 0 && b > 0));
		if (c->mode_sensitive) {
			off = strlen(t);
			sized(&c->p10, "p10", sz, sizeof(sz));
			snprintf(t + off, len - off, "; mode-sensitive: %s", sz);
		}
	}
}

static void cmp_init(struct cmp *c, double margin, bool emulated)
{
	memset(c, 0, sizeof(*c));
	c->margin = margin;
	c->emulated = emulated;
	c->med.ratio = c->p10.ratio = NAN;
	c->resolution = NAN;
	c->verdict = CMP_NOT_EVALUATED;
}

static int not_evaluated(struct cmp *c)
{
	snprintf(c->text, sizeof(c->text), "%snot evaluated: %zu usable round%s",
		 c->emulated ? "emulator result: " : "", c->rounds,
		 c->rounds == 1 ? "" : "s");
	return -1;
}

int cmp_paired(const double *a, const double *b, const double *a_p10,
	       const double *b_p10, size_t n, double margin, bool emulated,
	       const char *b_name, struct cmp *out)
{
	double *d = calloc(n ? n : 1, sizeof(*d)), *d10 = NULL;
	size_t k = 0, k10 = 0;
	int ret = -1;

	cmp_init(out, margin, emulated);
	out->paired = true;
	if (a_p10 && b_p10)
		d10 = calloc(n ? n : 1, sizeof(*d10));
	if (!d || (a_p10 && b_p10 && !d10))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (a[i] > 0 && b[i] > 0)
			d[k++] = log(b[i] / a[i]);
		else
			out->dropped++;
		if (d10 && a_p10[i] > 0 && b_p10[i] > 0)
			d10[k10++] = log(b_p10[i] / a_p10[i]);
	}
	out->rounds = k;
	if (k < 2) {
		ret = not_evaluated(out);
		goto out;
	}
	if (hl_paired(d, k, &out->med))
		goto out;
	if (d10 && k10 >= 2) {
		if (hl_paired(d10, k10, &out->p10))
			goto out;
		out->has_p10 = true;
	}
	decide(out, b_name ? b_name : "B");
	ret = 0;
out:
	free(d);
	free(d10);
	return ret;
}

int cmp_unpaired(const double *a, size_t na, const double *b, size_t nb,
		 double margin, bool emulated, const char *b_name,
		 struct cmp *out)
{
	double *la = malloc((na ? na : 1) * sizeof(*la));
	double *lb = malloc((nb ? nb : 1) * sizeof(*lb));
	double *w = NULL;
	size_t ka = 0, kb = 0, m, k = 0;
	int ret = -1;

	cmp_init(out, margin, emulated);
	if (!la || !lb)
		goto out;
	for (size_t i = 0; i < na; i++)
		if (a[i] > 0)
			la[ka++] = log(a[i]);
	for (size_t i = 0; i < nb; i++)
		if (b[i] > 0)
			lb[kb++] = log(b[i]);
	out->dropped = na - ka + nb - kb;
	out->rounds = ka < kb ? ka : kb;
	if (ka < 2 || kb < 2) {
		ret = not_evaluated(out);
		goto out;
	}
	m = ka * kb;
	w = malloc(m * sizeof(*w));
	if (!w)
		goto out;
	for (size_t i = 0; i < ka; i++)
		for (size_t j = 0; j < kb; j++)
			w[k++] = lb[j] - la[i];
	qsort(w, m, sizeof(*w), cmp_double);
	est_from(w, m, mw_c(ka, kb, 0.025, Z95), mw_c(ka, kb, 0.05, Z90), &out->med);
	decide(out, b_name ? b_name : "B");
	ret = 0;
out:
	free(la);
	free(lb);
	free(w);
	return ret;
}

const char *cmp_verdict_name(enum cmp_verdict v)
{
	switch (v) {
	case CMP_DEARER: return "dearer";
	case CMP_CHEAPER: return "cheaper";
	case CMP_BELOW_MARGIN: return "below-margin";
	case CMP_EQUIVALENT: return "equivalent";
	case CMP_UNDECIDED: return "undecided";
	default: return "not-evaluated";
	}
}

/* P(X <= x) for X ~ Binomial(n, p), 0 < p < 1. */
static double binom_cdf(uint64_t x, uint64_t n, double p)
{
	double lp = log(p), lq = log1p(-p), sum = 0;
	double ln = lgamma((double)n + 1);

	for (uint64_t k = 0; k <= x && k <= n; k++)
		sum += exp(ln - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
			   k * lp + (n - k) * lq);
	return sum;
}

double binom_upper95(uint64_t x, uint64_t n)
{
	double lo, hi;

	if (!n)
		return NAN;
	if (x >= n)
		return 1;
	if (!x)
		return -expm1(log(0.05) / n);
	/* the p with P(X <= x; n, p) = 0.05: the CDF falls as p rises */
	lo = (double)x / n;
	hi = 1;
	for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
		double mid = (lo + hi) / 2;

		if (binom_cdf(x, n, mid) > 0.05)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* --- `xptilab verdict` -------------------------------------------------- */

static int verdict_usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab verdict [--margin PCT] [--emulated] [--swap] [--unpaired] FILE\n"
		"  FILE: one round a line, \"A B\" or \"A B A_p10 B_p10\" (block medians\n"
		"  and p10s of variants A and B in that round; '#' starts a comment).\n"
		"  Prints the paired comparison of B against A (ci.h): Hodges-Lehmann\n"
		"  ratio, 95%% and 90%% CIs, and the verdict against +-PCT%% (default 5).\n"
		"  --swap compares A against B; --unpaired treats the columns as two\n"
		"  runs (Mann-Whitney); --emulated prefixes \"emulator result: \".\n"
		"  xptilab verdict --binomial X N: the exact 95%% upper bound on a rate.\n");
	return status;
}

int cmd_verdict(int argc, char **argv)
{
	double margin = 0.05, *col[4] = { NULL };
	bool emulated = false, swap = false, unpaired = false;
	size_t n = 0, cap = 0;
	int ncol = 0, ret = EXIT_USAGE;
	const char *path = NULL;
	struct cmp c;
	char line[512];
	FILE *f;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return verdict_usage(stdout, 0);
		if (!strcmp(a, "--binomial") && i + 2 < argc) {
			unsigned long x, t;

			if (!args_uint(argv[i + 1], ~0ul, &x) || !args_uint(argv[i + 2], ~0ul, &t))
				return verdict_usage(stderr, EXIT_USAGE);
			printf("upper95: %.6g\n", binom_upper95(x, t));
			return 0;
		}
		if (!strcmp(a, "--margin") && i + 1 < argc) {
			char *end;

			margin = strtod(argv[++i], &end) / 100;
			if (*end || !(margin > 0) || margin >= 1) {
				xptilab_err("verdict: --margin wants a percentage in (0, 100)");
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--emulated")) {
			emulated = true;
		} else if (!strcmp(a, "--swap")) {
			swap = true;
		} else if (!strcmp(a, "--unpaired")) {
			unpaired = true;
		} else if (a[0] != '-' && !path) {
			path = a;
		} else {
			xptilab_err("verdict: bad argument '%s'", a);
			return verdict_usage(stderr, EXIT_USAGE);
		}
	}
	if (!path)
		return verdict_usage(stderr, EXIT_USAGE);
	f = fopen(path, "r");
	if (!f) {
		xptilab_err("verdict: %s: %s", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		double v[4];
		char *h = strchr(line, '#');
		int got;

		if (h)
			*h = '\0';
		got = sscanf(line, "%lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3]);
		if (got <= 0)
			continue;
		if ((got != 2 && got != 4) || (ncol && got != ncol)) {
			xptilab_err("verdict: %s: a line with %d values (want 2 or 4, the same on every line)",
				    path, got);
			ret = 1;
			goto out;
		}
		ncol = got;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			for (int k = 0; k < 4; k++) {
				double *p = realloc(col[k], cap * sizeof(double));

				if (!p) {
					xptilab_err("out of memory");
					ret = 1;
					goto out;
				}
				col[k] = p;
			}
		}
		for (int k = 0; k < got; k++)
			col[k][n] = v[k];
		n++;
	}
	{
		int ia = swap, ib = !swap;

		if (unpaired)
			cmp_unpaired(col[ia], n, col[ib], n, margin, emulated, "B", &c);
		else
			cmp_paired(col[ia], col[ib], ncol == 4 ? col[2 + ia] : NULL,
				   ncol == 4 ? col[2 + ib] : NULL, n, margin, emulated,
				   "B", &c);
	}
	printf("rounds: %zu\nratio: %.6g\nci95: %.6g %.6g\nci90: %.6g %.6g\n",
	       c.rounds, c.med.ratio, c.med.lo95, c.med.hi95, c.med.lo90, c.med.hi90);
	if (c.has_p10)
		printf("p10_ratio: %.6g\np10_ci95: %.6g %.6g\nmode_sensitive: %s\n",
		       c.p10.ratio, c.p10.lo95, c.p10.hi95, c.mode_sensitive ? "yes" : "no");
	printf("verdict: %s%s\ntext: %s\n", cmp_verdict_name(c.verdict),
	       c.beyond_margin ? " beyond-margin" : "", c.text);
	ret = 0;
out:
	fclose(f);
	for (int k = 0; k < 4; k++)
		free(col[k]);
	return ret;
}
