// SPDX-License-Identifier: GPL-2.0
/*
 * The stale experiment in the report: its table (stale reads / trials per
 * cell, exact binomial 95% bounds) and its claim, worded from the counts
 * of that run whichever way they fall. Input: the output of
 * `xptilab stale --json`, which run-all keeps as the "stale" member of
 * results.json.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonp.h"
#include "results.h"
#include "stale.h"

struct sum {
	double trials, stale;
};

static const char *str(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v && v->type == JV_STR ? v->str : "";
}

static bool is_true(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);

	return v && v->type == JV_BOOL && v->b;
}

bool stale_form_ok(const struct jv *raw)
{
	const struct jv *rows = jv_get(raw, "rows");

	if (!raw || raw->type != JV_OBJ || !rows || rows->type != JV_ARR ||
	    !jv_get(raw, "control") || !*str(raw, "platform"))
		return false;
	for (size_t i = 0; i < rows->n; i++) {
		const struct jv *r = &rows->items[i];

		if (!*str(r, "variant") || !*str(r, "clones"))
			return false;
		if (is_true(r, "skipped"))
			continue;
		if (!*str(r, "fill") || !*str(r, "state") ||
		    isnan(jv_num(r, "trials")) || isnan(jv_num(r, "stale")))
			return false;
	}
	return true;
}

/* Sum the cells matching the patterns (NULL: any). */
static struct sum sum(const struct jv *raw, const char *variant,
		      const char *clones, const char *fill, const char *state)
{
	const struct jv *rows = jv_get(raw, "rows");
	struct sum s = { 0, 0 };

	for (size_t i = 0; rows && i < rows->n; i++) {
		const struct jv *r = &rows->items[i];

		if (is_true(r, "skipped") ||
		    (variant && strcmp(str(r, "variant"), variant)) ||
		    (clones && strcmp(str(r, "clones"), clones)) ||
		    (fill && strcmp(str(r, "fill"), fill)) ||
		    (state && strcmp(str(r, "state"), state)))
			continue;
		s.trials += jv_num(r, "trials");
		s.stale += jv_num(r, "stale");
	}
	return s;
}

/* "3/50 (95%: 1.3%-16%)" or "0/50 (95% upper bound 5.8%)" */
static const char *cell_text(struct sum s, char *buf, size_t len)
{
	double lo, hi;

	if (!s.trials) {
		snprintf(buf, len, "0/0");
		return buf;
	}
	stale_interval((unsigned long)s.stale, (unsigned long)s.trials, &lo, &hi);
	if (!s.stale)
		snprintf(buf, len, "0/%.0f (95%% upper bound %.2g%%)", s.trials,
			 100 * hi);
	else
		snprintf(buf, len, "%.0f/%.0f (95%%: %.2g%%-%.3g%%)", s.stale,
			 s.trials, 100 * lo, 100 * hi);
	return buf;
}

static const char *caveat(const char *platform)
{
	if (!strcmp(platform, "qemu-tcg"))
		return "QEMU TCG drops every TLB entry, global ones included, on each CR3 write, and has no PCID: its rows after a CR3 write cannot show a global entry surviving; only the same-root rows and the shadow-root copy say anything.";
	if (!strcmp(platform, "bochs"))
		return "Bochs keeps global entries across CR3 writes and drops non-global ones on every CR3 write (no PCID tags, no paging-structure caches): a model of a TLB, not a measurement of one (docs/bochs.md).";
	if (!strcmp(platform, "hardware"))
		return "Measured on hardware.";
	return "Measured in a virtual machine: the TLB is the host CPU's, shared with the hypervisor's own flushes.";
}

void stale_md(FILE *f, const struct jv *raw, const char *guest)
{
	static const char *const variants[] = {
		"none", "empty", "sync", "flush", "flush-nonglobal", "invpcid",
	};
	const struct jv *rows;
	char buf[3][96];

	if (!raw || !stale_form_ok(raw))
		return;
	rows = jv_get(raw, "rows");
	fprintf(f, "## Stale translations (%s%splatform: %s)\n\n",
		guest && *guest ? guest : "", guest && *guest ? ", " : "",
		str(raw, "platform"));
	fprintf(f, "After the initiator changes a top-level entry so that the test "
		"address maps another page, each target reads the address: on the "
		"full root with no CR3 write since the fill (*same*), after a CR3 "
		"write to its shadow root (*shadow*), after the switch back "
		"(*full*). A cell is stale reads / trials with an exact binomial "
		"95%% interval (for zero, the one-sided upper bound). *none* is the "
		"positive control (no IPI). %s (docs/stale.md)\n\n",
		caveat(str(raw, "platform")));
	fprintf(f, "| IPI | clones | filled through | same | shadow | full |\n");
	fprintf(f, "|---|---|---|---|---|---|\n");
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++)
		for (int g = 0; g < 2; g++) {
			for (size_t i = 0; i < rows->n; i++) {
				const struct jv *r = &rows->items[i];

				if (strcmp(str(r, "variant"), variants[v]) ||
				    strcmp(str(r, "clones"), stale_clone_names[g]) ||
				    !is_true(r, "skipped"))
					continue;
				fprintf(f, "| %s | %s | SKIP: %s | | | |\n", variants[v],
					stale_clone_names[g], str(r, "reason"));
			}
			for (int fi = 0; fi < XPTILAB_STALE_NR_FILLS; fi++) {
				struct sum s[XPTILAB_STALE_NR_STATES];
				bool any = false;

				for (int st = 0; st < XPTILAB_STALE_NR_STATES; st++) {
					s[st] = sum(raw, variants[v], stale_clone_names[g],
						    stale_fill_names[fi], stale_state_names[st]);
					any |= s[st].trials > 0;
				}
				if (!any)
					continue;
				fprintf(f, "| %s | %s | %s root | %s | %s | %s |\n",
					variants[v], stale_clone_names[g],
					stale_fill_names[fi],
					cell_text(s[0], buf[0], sizeof(buf[0])),
					cell_text(s[1], buf[1], sizeof(buf[1])),
					cell_text(s[2], buf[2], sizeof(buf[2])));
			}
		}
	fputc('\n', f);
}

/*
 * The claim, in sentences built from the counts: Beulich (the sync IPI
 * after an L4 update must become a real, global flush) and Cooper (the
 * entry paths' CR3 writes leave us no worse off than before).
 */
static void claim(FILE *f, const struct jv *raw, const char *bullet)
{
	const char *plat = str(raw, "platform");
	struct sum ctl = sum(raw, "none", "nonglobal", "full", "same");
	struct sum empty_same = sum(raw, "empty", NULL, "full", "same");
	struct sum sync = sum(raw, "sync", NULL, NULL, NULL);
	struct sum sync_same = sum(raw, "sync", NULL, "full", "same");
	struct sum ng_sh = sum(raw, "sync", "nonglobal", NULL, "shadow");
	struct sum ng_fu = sum(raw, "sync", "nonglobal", NULL, "full");
	struct sum g_sh = sum(raw, "sync", "global", NULL, "shadow");
	struct sum g_fu = sum(raw, "sync", "global", NULL, "full");
	struct sum flush = sum(raw, "flush", NULL, NULL, NULL);
	struct sum fng = sum(raw, "flush-nonglobal", "global", NULL, NULL);
	struct sum ng = { ng_sh.trials + ng_fu.trials, ng_sh.stale + ng_fu.stale };
	struct sum gl = { g_sh.trials + g_fu.trials, g_sh.stale + g_fu.stale };
	char a[96], b[96], c[96];

	fprintf(f, "%sStale translations after an L4 update (platform: %s). ",
		bullet, plat);
	if (!ctl.stale) {
		fprintf(f, "Inconclusive: the positive control (no IPI, no CR3 write) "
			"read stale data in %s trials, so this TLB cannot show a "
			"stale translation and the zeros below prove nothing. %s\n",
			cell_text(ctl, a, sizeof(a)), caveat(plat));
		return;
	}
	fprintf(f, "The positive control read stale data in %s. ",
		cell_text(ctl, a, sizeof(a)));
	if (!empty_same.stale) {
		fprintf(f, "Inconclusive for the IPI variants: an IPI that does "
			"nothing (empty) already left no stale read on the same "
			"root, %s, so receiving an IPI flushes this TLB by itself "
			"and sync, flush and the others cannot be told apart here. %s\n",
			cell_text(empty_same, b, sizeof(b)), caveat(plat));
		return;
	}
	/* Beulich */
	if (sync.stale > 0 && !flush.stale)
		fprintf(f, "Beulich's point is supported here: after a sync IPI, "
			"%s reads were stale (on the same root with no CR3 write: "
			"%s, filled there), after a flush IPI %s. ",
			cell_text(sync, a, sizeof(a)),
			cell_text(sync_same, b, sizeof(b)),
			cell_text(flush, c, sizeof(c)));
	else if (!sync.stale)
		fprintf(f, "Beulich's point is not borne out here: after a sync IPI "
			"no read was stale, %s. ", cell_text(sync, a, sizeof(a)));
	else
		fprintf(f, "Neither IPI sufficed here: after a sync IPI %s reads "
			"were stale, after a flush IPI %s. ",
			cell_text(sync, a, sizeof(a)),
			cell_text(flush, b, sizeof(b)));
	/* Cooper */
	if (ng.trials) {
		if (!ng.stale)
			fprintf(f, "Cooper's point holds for non-global mappings once "
				"a CR3 write has happened: after sync, %s stale on the "
				"shadow root and back on the full root",
				cell_text(ng, a, sizeof(a)));
		else
			fprintf(f, "Cooper's point fails even for non-global mappings: "
				"after sync and a CR3 write, %s reads were stale",
				cell_text(ng, a, sizeof(a)));
		fprintf(f, "%s", sync_same.stale ?
			", but a CPU that stays on the same root without a CR3 write "
			"keeps reading the old page. " : ". ");
	}
	if (gl.trials)
		fprintf(f, "With global mappings, after sync and CR3 writes %s reads "
			"were stale%s; flush-nonglobal (a CR3 reload) left %s. ",
			cell_text(gl, a, sizeof(a)),
			gl.stale ? " (only a global flush removes them)" : "",
			cell_text(fng, b, sizeof(b)));
	fprintf(f, "%s\n", caveat(plat));
}

void stale_claim_md(FILE *f, const struct jv *raw, const char *guest)
{
	if (!raw || !stale_form_ok(raw))
		return;
	fprintf(f, "### Stale translations (`xptilab stale`%s%s)\n\n",
		guest && *guest ? ", guest " : "", guest && *guest ? guest : "");
	claim(f, raw, "");
	fputc('\n', f);
}

void stale_claim_text(FILE *f, const struct jv *raw, const char *guest)
{
	char prefix[96];

	if (!raw || !stale_form_ok(raw))
		return;
	snprintf(prefix, sizeof(prefix), "stale%s%s: ",
		 guest && *guest ? " " : "", guest && *guest ? guest : "");
	claim(f, raw, prefix);
}
