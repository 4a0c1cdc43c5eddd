// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab compare A B [--json] [--margin PCT]`: two results.json files
 * side by side. Every record the two have in common (same experiment,
 * variant and params, and same guest when both files hold several guests)
 * with both medians and their ratio B/A. Records measured in rounds (schema
 * 2) are compared with the machinery of ci.h over their block medians: two
 * runs are not paired by round, so the two-sample Hodges-Lehmann shift of
 * log block medians with its Mann-Whitney 95% CI (cmp_unpaired()), and the
 * verdict against +-PCT% (default 5). A change is flagged when the 95% CI
 * excludes 1 and is not wholly inside the margin. Schema 1 records have no
 * blocks: their ratio is shown, never flagged (no CI can be computed).
 * Race records compare hits per million entries and are flagged only when
 * race hits appear (0 in A, some in B) or vanish. See docs/results.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "render.h"
#include "results.h"
#include "xptilab.h"

#define RULE "95 percent CI of B/A (Hodges-Lehmann over block medians, Mann-Whitney) excludes 1 and is not inside the margin"

struct row {
	const struct rec *a, *b;
	double va, vb, ratio;		/* NAN: undefined */
	bool has_cmp;
	struct cmp cmp;
	const char *flag;		/* "" when unchanged */
};

struct side {
	struct results res;
	const char *guest;		/* --guest-a/-b, or NULL */
	size_t gi;			/* that guest's index */
};

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab compare [--json] [--margin PCT] [--guest-a LABEL]\n"
		"                       [--guest-b LABEL] A B\n"
		"  A, B: results.json files (or directories holding one). For every\n"
		"  common experiment/variant/params: both medians, B/A with its 95%% CI\n"
		"  over the runs' block medians, the verdict against +-PCT%% (default 5),\n"
		"  and a flag when the " RULE ".\n"
		"  Files with several guests are matched guest by guest; --guest-a and\n"
		"  --guest-b pick one guest of each (e.g. PTI off vs PTI on).\n");
	return status;
}

static bool in_side(const struct side *s, const struct rec *r)
{
	return !s->guest || r->guest == s->gi;
}

/* Match by guest label only when both sides hold several guests. */
static bool same_key(const struct side *sa, const struct rec *a,
		     const struct side *sb, const struct rec *b, bool by_guest)
{
	if (strcmp(a->experiment, b->experiment) || strcmp(a->variant, b->variant) ||
	    strcmp(a->params_text, b->params_text))
		return false;
	return !by_guest || !strcmp(sa->res.guests[a->guest].label,
				    sb->res.guests[b->guest].label);
}

static void fill(struct row *w, const struct side *sa, const struct side *sb,
		 double margin)
{
	const struct rec *a = w->a, *b = w->b;

	w->flag = "";
	if (a->kind == REC_COUNTS) {
		w->va = a->hits_per_million;
		w->vb = b->hits_per_million;
		if (a->race_hits == 0 && b->race_hits > 0)
			w->flag = "hits appeared";
		else if (a->race_hits > 0 && b->race_hits == 0)
			w->flag = "hits vanished";
	} else {
		bool emu = machine_bool(&sa->res.guests[a->guest], "emulated") ||
			   machine_bool(&sb->res.guests[b->guest], "emulated");

		w->va = a->median;
		w->vb = b->median;
		if (a->nblocks && b->nblocks) {
			w->has_cmp = true;
			cmp_unpaired(a->bmed, a->nblocks, b->bmed, b->nblocks,
				     margin, emu, "B", &w->cmp);
		}
	}
	if (w->va == w->vb)
		w->ratio = 1.0;
	else if (w->va > 0)
		w->ratio = w->vb / w->va;
	else
		w->ratio = NAN;
	if (w->has_cmp && w->cmp.verdict == CMP_DEARER)
		w->flag = "higher";
	else if (w->has_cmp && w->cmp.verdict == CMP_CHEAPER)
		w->flag = "lower";
}

static int load(const char *arg, struct side *s)
{
	char path[4200];
	size_t len = strlen(arg);

	if (len > 5 && !strcmp(arg + len - 5, ".json"))
		snprintf(path, sizeof(path), "%s", arg);
	else
		snprintf(path, sizeof(path), "%s/results.json", arg);
	s->res.path = NULL;
	if (results_load(path, &s->res))
		return -1;
	/* results_load keeps the pointer: give it one that lives on */
	s->res.path = arg;
	if (!s->guest)
		return 0;
	for (s->gi = 0; s->gi < s->res.nguests; s->gi++)
		if (!strcmp(s->res.guests[s->gi].label, s->guest))
			return 0;
	xptilab_err("compare: %s has no guest '%s'", arg, s->guest);
	return -1;
}

static const char *label_of(const struct side *s, const struct rec *r)
{
	return s->res.guests[r->guest].label;
}

static void print_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

int cmd_compare(int argc, char **argv)
{
	struct side s[2] = { 0 };
	const char *file[2] = { NULL, NULL };
	struct row *rows = NULL;
	bool json = false, by_guest, *used = NULL;
	size_t nrows = 0, nfile = 0, nmissing = 0, nflag = 0;
	double margin = 0.05;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--margin") && i + 1 < argc) {
			char *end;

			margin = strtod(argv[++i], &end) / 100;
			if (*end || !(margin > 0) || margin >= 1) {
				xptilab_err("compare: --margin wants a percentage in (0, 100)");
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--guest-a") && i + 1 < argc) {
			s[0].guest = argv[++i];
		} else if (!strcmp(argv[i], "--guest-b") && i + 1 < argc) {
			s[1].guest = argv[++i];
		} else if (argv[i][0] != '-' && nfile < 2) {
			file[nfile++] = argv[i];
		} else {
			xptilab_err("compare: bad argument '%s'", argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (nfile != 2) {
		xptilab_err("compare: two results files needed");
		return usage(stderr, EXIT_USAGE);
	}
	if (load(file[0], &s[0]) || load(file[1], &s[1]))
		goto out;
	by_guest = s[0].res.nguests > 1 && s[1].res.nguests > 1 &&
		   !s[0].guest && !s[1].guest;

	rows = calloc(s[0].res.nrecs + 1, sizeof(*rows));
	used = calloc(s[1].res.nrecs + 1, sizeof(*used));
	if (!rows || !used) {
		xptilab_err("out of memory");
		goto out;
	}
	for (size_t i = 0; i < s[0].res.nrecs; i++) {
		const struct rec *a = &s[0].res.recs[i];
		size_t k;

		if (!in_side(&s[0], a))
			continue;
		for (k = 0; k < s[1].res.nrecs; k++) {
			const struct rec *b = &s[1].res.recs[k];

			if (!used[k] && in_side(&s[1], b) &&
			    same_key(&s[0], a, &s[1], b, by_guest))
				break;
		}
		if (k == s[1].res.nrecs) {
			nmissing++;
			continue;
		}
		used[k] = true;
		if (a->kind == REC_SKIPPED || s[1].res.recs[k].kind != a->kind) {
			nmissing++;
			continue;
		}
		rows[nrows].a = a;
		rows[nrows].b = &s[1].res.recs[k];
		fill(&rows[nrows], &s[0], &s[1], margin);
		nflag += *rows[nrows].flag != '\0';
		nrows++;
	}
	for (size_t k = 0; k < s[1].res.nrecs; k++)
		nmissing += !used[k] && in_side(&s[1], &s[1].res.recs[k]);

	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_object_begin(&j, NULL);
		json_u64(&j, "schema_version", 1);
		json_string(&j, "a", file[0]);
		json_string(&j, "b", file[1]);
		json_string(&j, "guest_a", s[0].guest);
		json_string(&j, "guest_b", s[1].guest);
		json_string(&j, "rule", RULE);
		json_double(&j, "margin", margin);
		json_array_begin(&j, "rows");
		for (size_t i = 0; i < nrows; i++) {
			const struct row *w = &rows[i];

			json_object_begin(&j, NULL);
			if (by_guest)
				json_string(&j, "guest", label_of(&s[0], w->a));
			json_string(&j, "experiment", w->a->experiment);
			json_string(&j, "variant", w->a->variant);
			json_string(&j, "params", w->a->params_text);
			json_string(&j, "value", w->a->kind == REC_COUNTS ?
				    "hits_per_million" : "median");
			json_double(&j, "a", w->va);
			json_double(&j, "b", w->vb);
			json_double(&j, "ratio", w->ratio);
			if (w->has_cmp) {
				json_u64(&j, "blocks_a", w->a->nblocks);
				json_u64(&j, "blocks_b", w->b->nblocks);
				json_double(&j, "hl_ratio", w->cmp.med.ratio);
				json_double(&j, "ci95_low", w->cmp.med.lo95);
				json_double(&j, "ci95_high", w->cmp.med.hi95);
				json_string(&j, "verdict", cmp_verdict_name(w->cmp.verdict));
				json_string(&j, "reading", w->cmp.text);
			}
			json_bool(&j, "changed", *w->flag != '\0');
			json_string(&j, "flag", w->flag);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_u64(&j, "compared", nrows);
		json_u64(&j, "changed", nflag);
		json_u64(&j, "not_compared", nmissing);
		json_object_end(&j);
	} else {
		printf("A: %s (%s)\nB: %s (%s)\n", file[0], s[0].res.generated_by,
		       file[1], s[1].res.generated_by);
		if (s[0].guest || s[1].guest)
			printf("guests: A %s, B %s\n", s[0].guest ?: "(all)",
			       s[1].guest ?: "(all)");
		printf("flagged when the " RULE " (\u00b1%g%%)\n\n", margin * 100);
		printf("%-12s %-10s %-24s %-28s %10s %10s %7s %-17s  %s\n",
		       by_guest ? "guest" : "", "experiment", "variant", "params",
		       "median A", "median B", "B/A", "95% CI", "flag");
		for (size_t i = 0; i < nrows; i++) {
			const struct row *w = &rows[i];
			char a[32], b[32], r[32], sp[48], params[160];

			print_num(a, sizeof(a), w->va);
			print_num(b, sizeof(b), w->vb);
			if (isnan(w->ratio))
				snprintf(r, sizeof(r), "-");
			else
				snprintf(r, sizeof(r), "%.2f", w->ratio);
			if (!w->has_cmp)
				snprintf(sp, sizeof(sp), "-");
			else
				snprintf(sp, sizeof(sp), "[%.3f, %.3f]", w->cmp.med.lo95,
					 w->cmp.med.hi95);
			params_short(w->a, params, sizeof(params));
			printf("%-12s %-10s %-24s %-28s %10s %10s %7s %-17s  %s%s%s%s\n",
			       by_guest ? label_of(&s[0], w->a) : "",
			       w->a->experiment, w->a->variant, params,
			       a, b, r, sp, w->flag,
			       w->a->kind == REC_COUNTS ? " (race hits per million entries)" : "",
			       w->has_cmp ? (*w->flag ? ": " : "") : "",
			       w->has_cmp ? w->cmp.text :
			       w->a->kind == REC_STATS ? "(no blocks: schema 1, no CI)" : "");
		}
		printf("\n%zu compared, %zu flagged, %zu not compared (skipped, or in one file only)\n",
		       nrows, nflag, nmissing);
	}
	status = fflush(stdout) ? 1 : 0;
out:
	free(rows);
	free(used);
	results_free(&s[0].res);
	results_free(&s[1].res);
	return status;
}
