// SPDX-License-Identifier: GPL-2.0
/*
 * The five claims of the January 2018 XPTI review, measured (claims.h).
 * Every timing verdict is computed by rec_compare() (ci.h): paired
 * per-round log ratios of block medians, Hodges-Lehmann estimate, 95% CI,
 * against the margin each claim declares below. Under emulation a claim
 * about hardware cost is never "supported": at most "consistent".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "xptilab.h"

static const char *const rule =
	"paired per-round log ratio of block medians: Hodges-Lehmann estimate, "
	"Wilcoxon signed-rank 95% CI (90% for equivalence), against the claim's "
	"margin (docs/methodology.md)";

/* Margins declared in advance, per claim (0: the claim is not a timing). */
static const double margins[NCLAIMS] = { 0.05, 0.05, 0, 0.05, 0.05 };

static const struct claim_def {
	const char *key, *statement, *caveat, *hardware;
} defs[NCLAIMS] = {
	{ "nonglobal_clones",
	  "Non-global clones remove the global flush from the entry paths: "
	  "entries get cheaper (Xen 9d1d31ad94).",
	  "QEMU TCG models neither global pages nor PCID: a CR4.PGE toggle is "
	  "one more flush of its whole software TLB, so the saving here is "
	  "QEMU's cost of that flush, not a hardware global-TLB flush.",
	  "how many cycles dropping the entry-path global flush saves with real "
	  "global TLB entries, and the TLB refill (+touch) that follows it" },
	{ "interrupt_gate_sti",
	  "An interrupt gate plus an explicit `sti` after the CR3 switch costs "
	  "about the same as a trap gate (\"negligible\").",
	  "Under TCG a gate type and an `sti` cost emulator time, not the "
	  "hardware's microcode and pipeline cost.",
	  "whether the interrupt gate and `sti` cost anything measurable "
	  "against a trap gate on a real CPU" },
	{ "interrupt_gate_race",
	  "The interrupt gate closes the race: no interrupt is taken on the "
	  "restricted (shadow) root, where the trap gate takes some.",
	  "Race hits do not depend on timing fidelity, but the trap gate's "
	  "window is widened (`window` spin iterations) to be seen under "
	  "emulation, and QEMU delivers interrupts only at translation-block "
	  "boundaries.",
	  "the trap gate's hit rate with a zero-length window and real "
	  "interrupt timing (the interrupt gate's must stay 0)" },
	{ "flush_ipi_dearer",
	  "A flush IPI (re-copy plus global flush) costs more than the sync IPI "
	  "it replaced, by target count and NUMA distance.",
	  "QEMU TCG does not model IPI delivery cost, NUMA distance, or the "
	  "cost of a global-TLB flush (it flushes its whole software TLB).",
	  "the real flush-IPI cost on targets and initiator, and how it grows "
	  "with target count and NUMA distance" },
	{ "kpti_cost",
	  "What KPTI itself costs: `entry syscall` on a PTI-on guest against a "
	  "PTI-off guest of the same CPU model.",
	  "QEMU TCG flushes its whole software TLB on every CR3 write and "
	  "models no PCID, so KPTI's two CR3 writes cost far more than on "
	  "hardware, where Linux uses PCID to keep the TLB.",
	  "KPTI's per-syscall cost with PCID (boot with and without `pti=off` "
	  "on one machine)" },
};


static double param_num(const struct rec *r, const char *key)
{
	return r->params ? jv_num(r->params, key) : NAN;
}

static const char *param_str(const struct rec *r, const char *key)
{
	const struct jv *v = r->params ? jv_get(r->params, key) : NULL;

	return v && v->type == JV_STR ? v->str : NULL;
}

static bool is_icount(const struct results *res, size_t g)
{
	const char *cl = machine_str(&res->guests[g], "cmdline");
	const char *em = machine_str(&res->guests[g], "emulator");

	return (cl && strstr(cl, "xptilab_icount=1")) ||
	       (em && !strcmp(em, "qemu-tcg-icount"));
}

static const struct rec *find(const struct results *res, size_t guest,
			      const char *exp, const char *variant,
			      const char *params_text)
{
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];

		if (r->guest == guest && r->kind != REC_SKIPPED &&
		    !strcmp(r->experiment, exp) && !strcmp(r->variant, variant) &&
		    (!params_text || !strcmp(r->params_text, params_text)))
			return r;
	}
	return NULL;
}

static struct claim_row *add_row(struct claim *c, const struct results *res,
				 size_t guest)
{
	struct claim_row *rows = realloc(c->rows, (c->nrows + 1) * sizeof(*rows));
	struct claim_row *w;

	if (!rows)
		return NULL;
	c->rows = rows;
	w = &rows[c->nrows++];
	memset(w, 0, sizeof(*w));
	w->guest = res->guests[guest].label;
	w->a = w->b = w->ratio = w->upper95 = NAN;
	w->insn_a = w->insn_b = NAN;
	if (machine_bool(&res->guests[guest], "emulated") && !is_icount(res, guest))
		c->emulated = true;
	return w;
}

/* Counts of row verdicts over a claim. */
struct tally {
	size_t n, dearer, dearer_beyond, cheaper, cheaper_beyond, equiv, below,
	       undecided, mode;
};

static void count(struct tally *t, const struct cmp *k)
{
	t->n++;
	t->mode += k->mode_sensitive;
	switch (k->verdict) {
	case CMP_DEARER:
		t->dearer++;
		t->dearer_beyond += k->beyond_margin;
		break;
	case CMP_CHEAPER:
		t->cheaper++;
		t->cheaper_beyond += k->beyond_margin;
		break;
	case CMP_EQUIVALENT:
		t->equiv++;
		break;
	case CMP_BELOW_MARGIN:
		t->below++;
		break;
	default:
		t->undecided++;
		break;
	}
}

/*
 * A against B with rec_compare(); the row reads the comparison's text.
 * Rows from an icount guest hold exact instruction counts instead (no CI).
 */
static struct claim_row *cmp_row(struct claim *c, const struct results *res,
				 size_t guest, const char *measure,
				 const struct rec *a, const char *la,
				 const struct rec *b, const char *lb,
				 struct tally *t)
{
	struct claim_row *w = add_row(c, res, guest);

	if (!w)
		return NULL;
	snprintf(w->measure, sizeof(w->measure), "%s", measure);
	w->a_label = la;
	w->b_label = lb;
	w->a = a->median;
	w->b = b->median;
	if (is_icount(res, guest)) {
		w->insn_a = a->median;
		w->insn_b = b->median;
		snprintf(w->result, sizeof(w->result),
			 "instructions per round trip: %s %.0f, %s %.0f (%+.0f); exact path length, no TLB/cache/microcode cost",
			 la, a->median, lb, b->median, b->median - a->median);
		return w;
	}
	rec_compare(res, a, b, c->margin, lb, &w->cmp);
	w->has_cmp = true;
	snprintf(w->result, sizeof(w->result), "%s", w->cmp.text);
	if (t && w->cmp.verdict != CMP_NOT_EVALUATED)
		count(t, &w->cmp);
	return w;
}

static void set_verdict(struct claim *c, const char *verdict)
{
	c->verdict = verdict;
}

/* The verdict of a hardware-cost claim that the data support. */
static const char *supported(const struct claim *c)
{
	return c->emulated ? "emulator result: consistent (not a hardware result)" :
	       "supported";
}

static const char *prefixed(const struct claim *c, const char *v)
{
	if (!c->emulated)
		return v;
	if (!strcmp(v, "contradicted"))
		return "emulator result: contradicted here (not a hardware result)";
	if (!strcmp(v, "not supported"))
		return "emulator result: not supported here (not a hardware result)";
	return "emulator result: inconclusive";
}

/* (1) global vs nonglobal (cr3), xpti-global vs xpti (entry). */
static int claim1(struct claim *c, const struct results *res)
{
	struct tally t = { 0 };

	for (size_t g = 0; g < res->nguests; g++) {
		static const char *const pairs[][4] = {
			{ "cr3", "global", "nonglobal", "cr3 round trip" },
			{ "entry", "xpti-global", "xpti", "entry round trip" },
		};

		for (size_t p = 0; p < ARRAY_SIZE(pairs); p++) {
			const struct rec *a = find(res, g, pairs[p][0], pairs[p][1], NULL);
			const struct rec *b = find(res, g, pairs[p][0], pairs[p][2], NULL);

			if (!a || !b)
				continue;
			if (!cmp_row(c, res, g, pairs[p][3], a, pairs[p][1], b,
				     pairs[p][2], &t))
				return -1;
		}
	}
	if (!t.n) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason),
			 "no cr3 global/nonglobal or entry xpti-global/xpti pair measured in rounds in this run");
	} else if (t.dearer) {
		set_verdict(c, prefixed(c, "contradicted"));
		snprintf(c->reason, sizeof(c->reason),
			 "non-global clones are dearer (95%% CI above 1) in %zu of %zu comparisons",
			 t.dearer, t.n);
	} else if (t.cheaper_beyond == t.n) {
		set_verdict(c, supported(c));
		snprintf(c->reason, sizeof(c->reason),
			 "non-global clones are cheaper, the whole 95%% CI beyond -%g%%, in all %zu comparisons",
			 c->margin * 100, t.n);
	} else {
		set_verdict(c, prefixed(c, "inconclusive"));
		snprintf(c->reason, sizeof(c->reason),
			 "cheaper beyond -%g%% in %zu of %zu comparisons; %zu cheaper by an undecided amount, %zu equivalent, %zu below the margin, %zu too coarse",
			 c->margin * 100, t.cheaper_beyond, t.n, t.cheaper - t.cheaper_beyond,
			 t.equiv, t.below, t.undecided);
	}
	return 0;
}

/* (2) trap (window 0) vs xpti, and the session pair: "negligible" = within the margin. */
static int claim2(struct claim *c, const struct results *res)
{
	struct tally t = { 0 };
	size_t wide = 0, ninsn = 0;
	double insn_max = -INFINITY;

	for (size_t g = 0; g < res->nguests; g++) {
		static const char *const pairs[][3] = {
			{ "trap", "xpti", "entry round trip" },
			{ "session-trap", "session-xpti", "entry from a session" },
		};

		for (size_t p = 0; p < ARRAY_SIZE(pairs); p++) {
			const struct rec *a = find(res, g, "entry", pairs[p][0], NULL);
			const struct rec *b = find(res, g, "entry", pairs[p][1], NULL);
			struct claim_row *w;

			if (!a || !b)
				continue;
			if (param_num(a, "window") != 0) {
				wide++;
				continue;
			}
			w = cmp_row(c, res, g, pairs[p][2], a, pairs[p][0], b,
				    pairs[p][1], &t);
			if (!w)
				return -1;
			if (!isnan(w->insn_a)) {
				ninsn++;
				insn_max = fmax(insn_max, w->insn_b - w->insn_a);
			}
		}
	}
	if (!t.n && !ninsn) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason), "%s",
			 wide ? "the trap records have a non-zero window; run entry with --window 0"
			      : "no entry trap/xpti pair measured in rounds in this run");
	} else if (t.dearer_beyond) {
		set_verdict(c, prefixed(c, "not supported"));
		snprintf(c->reason, sizeof(c->reason),
			 "the interrupt gate + sti is dearer than the trap gate beyond \u00b1%g%% (whole 95%% CI) in %zu of %zu comparisons",
			 c->margin * 100, t.dearer_beyond, t.n);
	} else if (t.n && t.equiv + t.below + t.cheaper == t.n) {
		set_verdict(c, supported(c));
		snprintf(c->reason, sizeof(c->reason),
			 "in all %zu comparisons the interrupt gate + sti is within \u00b1%g%% of the trap gate or cheaper (%zu equivalent, %zu below the margin, %zu cheaper)",
			 t.n, c->margin * 100, t.equiv, t.below, t.cheaper);
	} else {
		set_verdict(c, prefixed(c, "inconclusive"));
		snprintf(c->reason, sizeof(c->reason),
			 "%zu of %zu comparisons not resolved within \u00b1%g%% (%zu dearer by an undecided amount, %zu too coarse)",
			 t.dearer + t.undecided, t.n, c->margin * 100, t.dearer, t.undecided);
	}
	if (ninsn) {
		size_t off = strlen(c->reason);

		snprintf(c->reason + off, sizeof(c->reason) - off,
			 "; path length (icount): interrupt gate + sti minus trap gate = %+.0f instructions (the largest over the icount rows)",
			 insn_max);
	}
	return 0;
}

/*
 * (3) race hits per interrupt that arrived in the trampoline (race hits
 * plus deferred interrupts), with the exact binomial 95% upper bound.
 */
static int claim3(struct claim *c, const struct results *res)
{
	size_t nint = 0, int_hits = 0, ntrap = 0, trap_hits = 0, untested = 0;
	double worst_upper = 0;

	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		double deferred = r->obj ? jv_num(r->obj, "deferred") : NAN;
		double arrived;
		bool trap;
		struct claim_row *w;

		if (strcmp(r->experiment, "race") || r->kind != REC_COUNTS)
			continue;
		trap = strstr(r->variant, "trap") != NULL;
		w = add_row(c, res, r->guest);
		if (!w)
			return -1;
		if (isnan(deferred))
			deferred = 0;
		arrived = r->race_hits + deferred;
		snprintf(w->measure, sizeof(w->measure), "race %s gate, window %.0f%s",
			 r->variant, param_num(r, "window"),
			 strncmp(r->variant, "session", 7) ? "" : " (session)");
		w->a_label = "race hits";
		w->b_label = "interrupts in the trampoline";
		w->a = r->race_hits;
		w->b = arrived;
		w->ratio = arrived > 0 ? r->race_hits / arrived : NAN;
		w->upper95 = arrived > 0 ? binom_upper95(r->race_hits, arrived) : NAN;
		if (arrived <= 0)
			snprintf(w->result, sizeof(w->result),
				 "no interrupt arrived in the trampoline (%.0f entries): not tested",
				 r->entries);
		else if (r->race_hits == 0)
			snprintf(w->result, sizeof(w->result),
				 "0 of %.0f interrupts hit the shadow root; rate < %.2g (exact binomial 95%% upper bound)",
				 arrived, w->upper95);
		else
			snprintf(w->result, sizeof(w->result),
				 "%.0f of %.0f interrupts hit the shadow root (%.3g per interrupt, 95%% upper bound %.3g); %.0f entries",
				 r->race_hits, arrived, w->ratio, w->upper95, r->entries);
		if (trap) {
			ntrap++;
			trap_hits += r->race_hits > 0;
		} else if (arrived > 0) {
			nint++;
			int_hits += r->race_hits > 0;
			worst_upper = fmax(worst_upper, w->upper95);
		} else {
			untested++;
		}
	}
	if (!nint) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason),
			 "no interrupt-gate race run in which an interrupt arrived in the trampoline%s",
			 untested ? " (some ran, none was hit by an interrupt)" : "");
	} else if (int_hits) {
		set_verdict(c, "contradicted");
		snprintf(c->reason, sizeof(c->reason),
			 "%zu of %zu interrupt-gate runs had race hits", int_hits, nint);
	} else if (!trap_hits) {
		set_verdict(c, "inconclusive");
		snprintf(c->reason, sizeof(c->reason),
			 "no race hits with the interrupt gate (%zu runs, rate < %.2g each), but none with the trap gate either (%zu runs): the test showed no race to close",
			 nint, worst_upper, ntrap);
	} else {
		set_verdict(c, "supported");
		snprintf(c->reason, sizeof(c->reason),
			 "0 race hits in all %zu interrupt-gate runs (rate per interrupt < %.2g, exact binomial 95%% bound); the trap gate had hits in %zu of %zu runs",
			 nint, worst_upper, trap_hits, ntrap);
	}
	return 0;
}

/* (4) flush vs sync IPIs, latency and handler, by target count and distance. */
static int claim4(struct claim *c, const struct results *res)
{
	struct tally th = { 0 }, tl = { 0 };
	size_t unrounded = 0;

	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *a = &res->recs[i], *b;
		const char *part = strchr(a->variant, '/');
		char fv[64], m[160];
		bool handler;

		if (strcmp(a->experiment, "ipi") || a->kind != REC_STATS ||
		    strncmp(a->variant, "sync/", 5))
			continue;
		/* a node set measured as the count set with its CPUs: once */
		if (!isnan(jv_num(jv_get(a->obj, "extra"), "same_as_record")))
			continue;
		snprintf(fv, sizeof(fv), "flush%s", part);
		b = find(res, a->guest, "ipi", fv, a->params_text);
		if (!b)
			continue;
		if (!a->nblocks || !b->nblocks) {
			unrounded++;
			continue;
		}
		handler = !strcmp(part, "/handler");
		snprintf(m, sizeof(m), "%s, %.0f target%s, distance %.0f%s",
			 part + 1, param_num(a, "targets"),
			 param_num(a, "targets") == 1 ? "" : "s",
			 param_num(a, "distance"),
			 param_num(a, "node") >= 0 ? ", a node's CPUs" : "");
		(void)param_str;
		if (!cmp_row(c, res, a->guest, m, a, "sync", b, "flush",
			     handler ? &th : &tl))
			return -1;
	}
	if (!th.n && !tl.n) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason), "%s",
			 unrounded ? "the ipi records were not measured in rounds (no blocks): no confidence interval can be computed"
				   : "no ipi sync/flush pair in this run");
		return 0;
	}
	if (th.cheaper || tl.cheaper)
		set_verdict(c, prefixed(c, "contradicted"));
	else if (th.n && th.dearer == th.n)
		set_verdict(c, supported(c));
	else
		set_verdict(c, prefixed(c, "inconclusive"));
	snprintf(c->reason, sizeof(c->reason),
		 "flush dearer (95%% CI above 1): handler %zu of %zu (%zu beyond +%g%%), latency %zu of %zu; flush cheaper: handler %zu, latency %zu; too coarse: handler %zu, latency %zu",
		 th.dearer, th.n, th.dearer_beyond, c->margin * 100, tl.dearer, tl.n,
		 th.cheaper, tl.cheaper, th.undecided, tl.undecided);
	return 0;
}

static bool has_pti_off(const char *cmdline)
{
	return cmdline && (strstr(cmdline, "pti=off") || strstr(cmdline, "nopti"));
}

/*
 * (5) entry syscall, PTI on vs off: guests of the same CPU model and
 * vendor, one booted with pti=off (make bench boots one CPU model twice).
 */
static int claim5(struct claim *c, const struct results *res)
{
	struct tally t = { 0 };

	for (size_t off = 0; off < res->nguests; off++) {
		const struct guest *go = &res->guests[off];
		const char *vo = machine_str(go, "cpu_vendor");

		if (machine_bool(go, "pti") || !machine_str(go, "cpu_model") || !vo ||
		    !has_pti_off(machine_str(go, "cmdline")) || is_icount(res, off) ||
		    machine_str(go, "hypervisor_type"))
			continue;	/* (a Xen PV dom0 is not Linux without PTI) */
		for (size_t on = 0; on < res->nguests; on++) {
			const struct guest *gn = &res->guests[on];
			const char *vn = machine_str(gn, "cpu_vendor");
			const struct rec *a, *b;
			struct claim_row *w;
			char m[160];

			if (!machine_bool(gn, "pti") || !machine_str(gn, "cpu_model") ||
			    !vn || strcmp(vo, vn) || is_icount(res, on) ||
			    strcmp(machine_str(go, "cpu_model"), machine_str(gn, "cpu_model")))
				continue;
			a = find(res, off, "entry", "syscall", NULL);
			b = find(res, on, "entry", "syscall", NULL);
			if (!a || !b)
				continue;
			snprintf(m, sizeof(m), "entry syscall, %s (pti=off) vs %s (PTI on)",
				 go->label, gn->label);
			w = cmp_row(c, res, on, m, a, "PTI off", b, "PTI on", &t);
			if (!w)
				return -1;
			if (machine_bool(go, "emulated"))
				c->emulated = true;
		}
	}
	if (!t.n) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason),
			 "needs one CPU model and vendor booted with and without pti=off in one results.json (make bench: skylake-numa and skylake-nopti); this run has %s",
			 res->nguests > 1 ? "no such pair" : "one machine");
	} else if (t.dearer == t.n) {
		set_verdict(c, c->emulated ? "emulator result: measured, KPTI costs" :
			    "measured: KPTI costs");
		snprintf(c->reason, sizeof(c->reason),
			 "syscall dearer with PTI on (95%% CI above 1) in all %zu pairs (two boots: unpaired, Mann-Whitney CI over blocks)",
			 t.n);
	} else {
		set_verdict(c, c->emulated ? "emulator result: measured, cost not resolved" :
			    "measured: cost not resolved");
		snprintf(c->reason, sizeof(c->reason),
			 "syscall dearer with PTI on in %zu of %zu pairs; %zu equivalent, %zu too coarse",
			 t.dearer, t.n, t.equiv, t.undecided);
	}
	return 0;
}

int claims_compute(const struct results *res, struct claim *c)
{
	int (*const fn[NCLAIMS])(struct claim *, const struct results *) = {
		claim1, claim2, claim3, claim4, claim5,
	};

	memset(c, 0, NCLAIMS * sizeof(*c));
	for (int i = 0; i < NCLAIMS; i++) {
		c[i].id = i + 1;
		c[i].key = defs[i].key;
		c[i].statement = defs[i].statement;
		c[i].caveat = defs[i].caveat;
		c[i].hardware = defs[i].hardware;
		c[i].margin = margins[i];
		if (fn[i](&c[i], res)) {
			xptilab_err("out of memory");
			claims_free(c);
			return -1;
		}
	}
	return 0;
}

void claims_free(struct claim *c)
{
	for (int i = 0; i < NCLAIMS; i++) {
		free(c[i].rows);
		c[i].rows = NULL;
		c[i].nrows = 0;
	}
}

static const char *fmt(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

static void md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, f);
}

static const char *pctci(const struct cmp_est *e, char *buf, size_t len)
{
	if (isnan(e->ratio))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f [%.3f, %.3f]", e->ratio, e->lo95,
			 e->hi95);
	return buf;
}

static void margin_text(FILE *f, const struct claim *k)
{
	if (k->margin > 0)
		fprintf(f, "Margin declared for this claim: \u00b1%g%%. ", k->margin * 100);
}

void claims_md(FILE *f, const struct claim *c)
{
	char b[6][64];

	fputs("## Claims of the January 2018 XPTI review\n\n"
	      "Each claim, the numbers of this run that bear on it, and a verdict "
	      "computed from them by `xptilab report` (never written by hand). A "
	      "comparison is the ", f);
	fputs(rule, f);
	fputs(". B/A is the estimate with its 95% confidence interval; each claim "
	      "declares its margin in advance. On an emulator every timing verdict "
	      "starts \"emulator result\", and a claim about hardware cost is never "
	      "\"supported\" from emulated data. Rows from an icount guest are exact "
	      "instruction counts (path length only: no TLB, cache or microcode "
	      "cost).\n\n", f);
	for (int i = 0; i < NCLAIMS; i++) {
		const struct claim *k = &c[i];
		bool guest = false;

		for (size_t r = 0; r < k->nrows; r++)
			guest |= k->rows[r].guest[0] != '\0';
		fprintf(f, "### Claim %d: %s\n\n", k->id, k->statement);
		margin_text(f, k);
		if (k->margin > 0)
			fputs("\n\n", f);
		if (k->nrows) {
			fputs(guest ? "| guest | measure | A | B | rounds | B/A [95% CI] | p10 B/A [95% CI] | reading |\n|---|---|---|---|---|---|---|---|\n"
				    : "| measure | A | B | rounds | B/A [95% CI] | p10 B/A [95% CI] | reading |\n|---|---|---|---|---|---|---|\n", f);
			for (size_t r = 0; r < k->nrows; r++) {
				const struct claim_row *w = &k->rows[r];

				fputc('|', f);
				if (guest)
					fprintf(f, " %s |", w->guest);
				fputc(' ', f);
				md_cell(f, w->measure);
				if (k->id == 3)
					fprintf(f, " | %s race hits | %s interrupts | - | %s per interrupt | - | ",
						fmt(w->a, b[0], 64), fmt(w->b, b[1], 64),
						fmt(w->ratio, b[2], 64));
				else if (!w->has_cmp)
					fprintf(f, " | %s `%s` | %s `%s` | - | - | - | ",
						w->a_label, fmt(w->a, b[0], 64), w->b_label,
						fmt(w->b, b[1], 64));
				else
					fprintf(f, " | %s `%s` | %s `%s` | %zu | %s | %s | ",
						w->a_label, fmt(w->a, b[0], 64), w->b_label,
						fmt(w->b, b[1], 64), w->cmp.rounds,
						pctci(&w->cmp.med, b[2], 64),
						w->cmp.has_p10 ? pctci(&w->cmp.p10, b[3], 64) : "-");
				md_cell(f, w->result);
				fputs(" |\n", f);
			}
			fputc('\n', f);
		}
		fprintf(f, "**Verdict: %s.** %s.", k->verdict, k->reason);
		if (k->emulated)
			fprintf(f, " *Emulated (QEMU TCG):* %s A hardware run would settle %s.",
				k->caveat, k->hardware);
		fputs("\n\n", f);
	}
}

void claims_text(FILE *f, const struct claim *c)
{
	char b[6][64];

	fprintf(f, "Claims of the January 2018 XPTI review (verdicts computed from this run;\n"
		"%s):\n", rule);
	for (int i = 0; i < NCLAIMS; i++) {
		const struct claim *k = &c[i];

		fprintf(f, "\n(%d) %s\n", k->id, k->statement);
		if (k->margin > 0)
			fprintf(f, "    margin: \u00b1%g%%\n", k->margin * 100);
		for (size_t r = 0; r < k->nrows; r++) {
			const struct claim_row *w = &k->rows[r];

			fprintf(f, "    %s%s%s: ", w->guest, w->guest[0] ? " " : "", w->measure);
			if (k->id == 3)
				fprintf(f, "%s hits in %s interrupts: %s\n", fmt(w->a, b[0], 64),
					fmt(w->b, b[1], 64), w->result);
			else if (w->has_cmp)
				fprintf(f, "%s %s, %s %s, B/A %s over %zu %s: %s\n",
					w->a_label, fmt(w->a, b[0], 64), w->b_label,
					fmt(w->b, b[1], 64), pctci(&w->cmp.med, b[2], 64),
					w->cmp.rounds,
					w->cmp.paired ? "rounds" : "blocks each (two boots)",
					w->result);
			else
				fprintf(f, "%s\n", w->result);
		}
		fprintf(f, "    VERDICT: %s: %s.\n", k->verdict, k->reason);
		if (k->emulated)
			fprintf(f, "    (emulated: %s A hardware run would settle %s.)\n",
				k->caveat, k->hardware);
	}
}

static void est_json(struct json *j, const char *key, const struct cmp_est *e)
{
	json_object_begin(j, key);
	json_double(j, "ratio", e->ratio);
	json_double(j, "ci95_low", e->lo95);
	json_double(j, "ci95_high", e->hi95);
	json_double(j, "ci90_low", e->lo90);
	json_double(j, "ci90_high", e->hi90);
	json_object_end(j);
}

void claims_json(struct json *j, const struct claim *c)
{
	json_object_begin(j, "claims");
	json_string(j, "rule", rule);
	json_array_begin(j, "items");
	for (int i = 0; i < NCLAIMS; i++) {
		const struct claim *k = &c[i];

		json_object_begin(j, NULL);
		json_u64(j, "id", k->id);
		json_string(j, "key", k->key);
		json_string(j, "claim", k->statement);
		if (k->margin > 0)
			json_double(j, "margin", k->margin);
		json_string(j, "verdict", k->verdict);
		json_string(j, "reason", k->reason);
		json_bool(j, "emulated", k->emulated);
		json_string(j, "caveat", k->emulated ? k->caveat : NULL);
		json_string(j, "hardware_would_settle", k->hardware);
		json_array_begin(j, "rows");
		for (size_t r = 0; r < k->nrows; r++) {
			const struct claim_row *w = &k->rows[r];

			json_object_begin(j, NULL);
			json_string(j, "guest", w->guest);
			json_string(j, "measure", w->measure);
			json_string(j, "a_label", w->a_label);
			json_double(j, "a", w->a);
			json_string(j, "b_label", w->b_label);
			json_double(j, "b", w->b);
			if (k->id == 3) {
				json_double(j, "hits_per_interrupt", w->ratio);
				json_double(j, "upper95", w->upper95);
			} else if (w->has_cmp) {
				json_u64(j, "rounds", w->cmp.rounds);
				json_bool(j, "paired", w->cmp.paired);
				est_json(j, "median", &w->cmp.med);
				if (w->cmp.has_p10)
					est_json(j, "p10", &w->cmp.p10);
				json_bool(j, "mode_sensitive", w->cmp.mode_sensitive);
				json_string(j, "verdict", cmp_verdict_name(w->cmp.verdict));
				json_bool(j, "beyond_margin", w->cmp.beyond_margin);
			} else if (!isnan(w->insn_a)) {
				json_double(j, "instructions_a", w->insn_a);
				json_double(j, "instructions_b", w->insn_b);
			}
			json_string(j, "reading", w->result);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

/*
 * The precision a run reached: every pair of cr3 variants, and of entry
 * variants, of each guest (+touch records among themselves), compared with
 * rec_compare(); a comparison is precise when its 95% CI lies within
 * +-PRECISION_TARGET of its ratio. icount guests (exact counts) are left
 * out. f_md and f_txt may be NULL.
 */
#define PRECISION_TARGET	0.05

static bool touch_rec(const struct rec *r)
{
	return strstr(r->variant, "+touch") != NULL;
}

void claims_precision(FILE *f_md, FILE *f_txt, const struct results *res)
{
	static const char *const exps[] = { "cr3", "entry" };
	size_t n = 0, tight = 0, none = 0;
	double worst = 0;
	char worst_what[200] = "";

	if (f_md)
		fputs("## Precision of the comparisons\n\n"
		      "Every pair of `cr3` variants and of `entry` variants in each guest, "
		      "compared as the claims are (paired rounds, Hodges-Lehmann, 95% CI). "
		      "Target: a 95% CI within \u00b15% of the ratio.\n\n"
		      "<details><summary>All comparisons</summary>\n\n"
		      "| guest | A | B | rounds | B/A | 95% CI | half-width | reading |\n"
		      "|---|---|---|---|---|---|---|---|\n", f_md);
	for (size_t g = 0; g < res->nguests; g++) {
		if (is_icount(res, g))
			continue;
		for (size_t e = 0; e < ARRAY_SIZE(exps); e++) {
			for (size_t i = 0; i < res->nrecs; i++) {
				const struct rec *a = &res->recs[i];

				if (a->guest != g || a->kind != REC_STATS ||
				    strcmp(a->experiment, exps[e]))
					continue;
				if (!a->nblocks) {
					none++;
					continue;
				}
				for (size_t k = i + 1; k < res->nrecs; k++) {
					const struct rec *b = &res->recs[k];
					struct cmp c;
					double hw;

					if (b->guest != g || b->kind != REC_STATS ||
					    strcmp(b->experiment, exps[e]) || !b->nblocks ||
					    touch_rec(a) != touch_rec(b))
						continue;
					if (rec_compare(res, a, b, PRECISION_TARGET, b->variant, &c))
						continue;
					hw = fmax(c.med.hi95 / c.med.ratio - 1,
						  1 - c.med.lo95 / c.med.ratio);
					n++;
					tight += hw <= PRECISION_TARGET;
					if (hw > worst) {
						worst = hw;
						snprintf(worst_what, sizeof(worst_what), "%s%s%s %s vs %s",
							 res->guests[g].label,
							 res->guests[g].label[0] ? " " : "",
							 exps[e], a->variant, b->variant);
					}
					if (f_md) {
						fprintf(f_md, "| %s | %s %s | %s | %zu | %.3f | [%.3f, %.3f] | \u00b1%.1f%% | ",
							res->guests[g].label, exps[e], a->variant,
							b->variant, c.rounds, c.med.ratio,
							c.med.lo95, c.med.hi95, hw * 100);
						md_cell(f_md, c.text);
						fputs(" |\n", f_md);
					}
				}
			}
		}
	}
	if (f_md) {
		fputs("\n</details>\n\n", f_md);
		if (n)
			fprintf(f_md, "**%zu of %zu** cr3/entry comparisons reached a 95%% CI within \u00b15%% of the ratio (widest: \u00b1%.1f%%, %s).%s\n\n",
				tight, n, worst * 100, worst_what,
				none ? " Records without blocks (schema 1) cannot be compared." : "");
		else
			fputs("No cr3/entry records measured in rounds: no comparison.\n\n", f_md);
	}
	if (f_txt && n)
		fprintf(f_txt, "\nPrecision: %zu of %zu cr3/entry comparisons have a 95%% CI within \u00b15%% of the ratio%s (widest \u00b1%.1f%%: %s).\n",
			tight, n, tight == n ? " (target met)" : " (target NOT met)",
			worst * 100, worst_what);
}

/*
 * The stub's tax: while xptilab's IDT is loaded every vector goes through
 * its stub on the way to Linux's handler. `entry int80` goes through it,
 * `int80-linux` takes Linux's own gate for vector 0x80 (mode LINUX_INT80)
 * in the same rounds on the same CPU: B/A = int80 / int80-linux, compared
 * like the claims (rec_compare(), +-5% margin). An icount guest gives the
 * exact instruction difference instead.
 */
#define STUB_TAX_MARGIN	0.05

void claims_stub_tax(FILE *f_md, FILE *f_txt, const struct results *res)
{
	bool any = false;

	for (size_t g = 0; g < res->nguests; g++) {
		const struct rec *a = find(res, g, "entry", "int80-linux", NULL);
		const struct rec *b = find(res, g, "entry", "int80", NULL);
		const char *label = res->guests[g].label;
		char line[512];
		struct cmp c;

		if (!a || !b || a->kind != REC_STATS || b->kind != REC_STATS)
			continue;
		if (is_icount(res, g)) {
			snprintf(line, sizeof(line),
				 "instructions per round trip: int80-linux %.0f, int80 %.0f (%+.0f through the stub); exact path length, no TLB/cache/microcode cost",
				 a->median, b->median, b->median - a->median);
		} else if (!a->nblocks || !b->nblocks ||
			   rec_compare(res, a, b, STUB_TAX_MARGIN, "int80 (through the stub)", &c)) {
			snprintf(line, sizeof(line),
				 "medians int80-linux %.0f, int80 %.0f; not compared (no rounds)",
				 a->median, b->median);
		} else {
			snprintf(line, sizeof(line), "B/A %.3f [%.3f, %.3f]: %s",
				 c.med.ratio, c.med.lo95, c.med.hi95, c.text);
		}
		if (!any && f_md)
			fputs("## The stub's tax on every entry\n\n"
			      "While xptilab's IDT is loaded every vector reaches Linux through "
			      "xptilab's stub (a window read, the CPU number, `lfence; jmp *`). "
			      "`int80` goes through it; `int80-linux` takes Linux's own gate for "
			      "vector 0x80 (entry mode `LINUX_INT80`), in the same rounds on the "
			      "same CPU. B/A = int80 / int80-linux, paired per round "
			      "(Hodges-Lehmann, 95% CI, margin \u00b15%); cycles are TSC ticks, "
			      "emulator numbers where the guest is emulated.\n\n"
			      "| guest | int80-linux | int80 | reading |\n|---|---|---|---|\n", f_md);
		if (!any && f_txt)
			fputs("\nThe stub's tax (entry int80 through xptilab's stub, B, against int80-linux, Linux's own gate, A):\n", f_txt);
		any = true;
		if (f_md) {
			fprintf(f_md, "| %s | %.0f | %.0f | ", *label ? label : "this machine",
				a->median, b->median);
			md_cell(f_md, line);
			fputs(" |\n", f_md);
		}
		if (f_txt)
			fprintf(f_txt, "  %s: %s\n", *label ? label : "this machine", line);
	}
	if (any && f_md)
		fputc('\n', f_md);
}
