// SPDX-License-Identifier: GPL-2.0
/*
 * The five claims of the January 2018 XPTI review, measured (claims.h).
 * Every verdict is computed from the records; "beyond spread" is compare's
 * rule: |B/A - 1| > max((p90 - min) / median of A, of B).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "xptilab.h"

static const char *const spread_rule =
	"|B/A - 1| > max((p90 - min) / median of A, of B)";

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

static double rel_spread(const struct rec *r)
{
	return r->median > 0 ? (r->p90 - r->min) / r->median : NAN;
}

static double param_num(const struct rec *r, const char *key)
{
	return r->params ? jv_num(r->params, key) : NAN;
}

static const char *param_str(const struct rec *r, const char *key)
{
	const struct jv *v = r->params ? jv_get(r->params, key) : NULL;

	return v && v->type == JV_STR ? v->str : NULL;
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
	w->a = w->b = w->diff = w->ratio = w->spread = NAN;
	if (machine_bool(&res->guests[guest], "emulated"))
		c->emulated = true;
	return w;
}

/* A against B by medians; the row's reading in words. */
static struct claim_row *stats_row(struct claim *c, const struct results *res,
				   size_t guest, const char *measure,
				   const struct rec *a, const char *la,
				   const struct rec *b, const char *lb)
{
	struct claim_row *w = add_row(c, res, guest);
	double sa = rel_spread(a), sb = rel_spread(b);

	if (!w)
		return NULL;
	snprintf(w->measure, sizeof(w->measure), "%s", measure);
	w->a_label = la;
	w->b_label = lb;
	w->a = a->median;
	w->b = b->median;
	w->diff = b->median - a->median;
	w->ratio = a->median > 0 ? b->median / a->median : NAN;
	w->spread = isnan(sa) ? sb : isnan(sb) ? sa : fmax(sa, sb);
	w->beyond = !isnan(w->ratio) && !isnan(w->spread) &&
		    fabs(w->ratio - 1) > w->spread;
	if (!w->beyond)
		snprintf(w->result, sizeof(w->result), "same within spread");
	else
		snprintf(w->result, sizeof(w->result), "%s %s beyond spread",
			 lb, w->ratio > 1 ? "higher" : "lower");
	return w;
}

static void set_verdict(struct claim *c, const char *verdict)
{
	c->verdict = verdict;
}

/* (1) global vs nonglobal (cr3), xpti-global vs xpti (entry). */
static int claim1(struct claim *c, const struct results *res)
{
	size_t lower = 0, higher = 0, n = 0, entry_lower = 0, nentry = 0;

	for (size_t g = 0; g < res->nguests; g++) {
		static const char *const pairs[][4] = {
			{ "cr3", "global", "nonglobal", "cr3 round trip" },
			{ "entry", "xpti-global", "xpti", "entry round trip" },
		};

		for (size_t p = 0; p < ARRAY_SIZE(pairs); p++) {
			const struct rec *a = find(res, g, pairs[p][0], pairs[p][1], NULL);
			const struct rec *b = find(res, g, pairs[p][0], pairs[p][2], NULL);
			struct claim_row *w;

			if (!a || !b)
				continue;
			w = stats_row(c, res, g, pairs[p][3], a, pairs[p][1], b, pairs[p][2]);
			if (!w)
				return -1;
			n++;
			snprintf(w->result, sizeof(w->result),
				 "%.0f cycles saved (global/nonglobal x%.2f), %s spread %.2f",
				 -w->diff, w->b > 0 ? w->a / w->b : NAN,
				 w->beyond ? "beyond" : "within", w->spread);
			if (w->beyond && w->ratio < 1) {
				lower++;
			} else if (w->beyond) {
				higher++;
			}
			if (p == 1) {
				nentry++;
				entry_lower += w->beyond && w->ratio < 1;
			}
		}
	}
	if (!n) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason),
			 "no cr3 global/nonglobal or entry xpti-global/xpti pair in this run");
	} else if (higher) {
		set_verdict(c, "contradicted");
		snprintf(c->reason, sizeof(c->reason),
			 "non-global clones cost more, beyond the spread, in %zu of %zu comparisons",
			 higher, n);
	} else if (lower == n && nentry) {
		set_verdict(c, "supported");
		snprintf(c->reason, sizeof(c->reason),
			 "non-global clones are cheaper beyond the spread in all %zu comparisons (%zu of them entry round trips)",
			 n, nentry);
	} else {
		set_verdict(c, "inconclusive");
		snprintf(c->reason, sizeof(c->reason),
			 "cheaper beyond the spread in %zu of %zu comparisons (%zu of %zu entry round trips); the rest within the spread",
			 lower, n, entry_lower, nentry);
	}
	return 0;
}

/* (2) trap (window 0) vs xpti, and the session pair. */
static int claim2(struct claim *c, const struct results *res)
{
	size_t n = 0, dearer = 0, wide = 0;

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
			w = stats_row(c, res, g, pairs[p][2], a, pairs[p][0], b, pairs[p][1]);
			if (!w)
				return -1;
			n++;
			snprintf(w->result, sizeof(w->result), "%+.0f cycles (x%.2f), %s spread %.2f",
				 w->diff, w->ratio, w->beyond ? "beyond" : "within",
				 w->spread);
			dearer += w->beyond && w->ratio > 1;
		}
	}
	if (!n) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason), "%s",
			 wide ? "the trap records have a non-zero window; run entry with --window 0"
			      : "no entry trap/xpti pair in this run");
	} else if (dearer) {
		set_verdict(c, "not supported");
		snprintf(c->reason, sizeof(c->reason),
			 "the interrupt gate + sti costs more than the trap gate beyond the spread in %zu of %zu comparisons",
			 dearer, n);
	} else {
		set_verdict(c, "supported");
		snprintf(c->reason, sizeof(c->reason),
			 "in all %zu comparisons the interrupt gate + sti costs the same as the trap gate within the spread, or less",
			 n);
	}
	return 0;
}

/* (3) race hits per million entries by gate type. */
static int claim3(struct claim *c, const struct results *res)
{
	size_t nint = 0, int_hits = 0, ntrap = 0, trap_hits = 0;

	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		bool trap;
		struct claim_row *w;

		if (strcmp(r->experiment, "race") || r->kind != REC_COUNTS)
			continue;
		trap = strstr(r->variant, "trap") != NULL;
		w = add_row(c, res, r->guest);
		if (!w)
			return -1;
		snprintf(w->measure, sizeof(w->measure), "race %s gate, window %.0f%s",
			 r->variant, param_num(r, "window"),
			 strncmp(r->variant, "session", 7) ? "" : " (session)");
		w->a_label = "race hits";
		w->b_label = "entries";
		w->a = r->race_hits;
		w->b = r->entries;
		w->ratio = r->hits_per_million;
		snprintf(w->result, sizeof(w->result), "%.1f race hits per million entries",
			 r->hits_per_million);
		if (trap) {
			ntrap++;
			trap_hits += r->race_hits > 0;
		} else {
			nint++;
			int_hits += r->race_hits > 0;
		}
	}
	if (!nint) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason), "no race records with an interrupt gate in this run");
	} else if (int_hits) {
		set_verdict(c, "contradicted");
		snprintf(c->reason, sizeof(c->reason),
			 "%zu of %zu interrupt-gate runs had race hits", int_hits, nint);
	} else if (!trap_hits) {
		set_verdict(c, "inconclusive");
		snprintf(c->reason, sizeof(c->reason),
			 "no race hits with the interrupt gate (%zu runs), but none with the trap gate either (%zu runs): the test showed no race to close",
			 nint, ntrap);
	} else {
		set_verdict(c, "supported");
		snprintf(c->reason, sizeof(c->reason),
			 "0 race hits in all %zu interrupt-gate runs; the trap gate had hits in %zu of %zu runs",
			 nint, trap_hits, ntrap);
	}
	return 0;
}

/* (4) flush vs sync IPIs, latency and handler, by target count and distance. */
static int claim4(struct claim *c, const struct results *res)
{
	size_t nh = 0, h_higher = 0, h_lower = 0, nl = 0, l_higher = 0, l_lower = 0;

	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *a = &res->recs[i], *b;
		const char *part = strchr(a->variant, '/');
		char fv[64], m[160];
		struct claim_row *w;
		bool handler;

		if (strcmp(a->experiment, "ipi") || a->kind != REC_STATS ||
		    strncmp(a->variant, "sync/", 5))
			continue;
		snprintf(fv, sizeof(fv), "flush%s", part);
		b = find(res, a->guest, "ipi", fv, a->params_text);
		if (!b)
			continue;
		handler = !strcmp(part, "/handler");
		snprintf(m, sizeof(m), "%s, %s sweep, %.0f target%s, distance %.0f",
			 part + 1, param_str(a, "set") ?: "?", param_num(a, "targets"),
			 param_num(a, "targets") == 1 ? "" : "s",
			 param_num(a, "distance"));
		w = stats_row(c, res, a->guest, m, a, "sync", b, "flush");
		if (!w)
			return -1;
		snprintf(w->result, sizeof(w->result), "flush %+.0f cycles (x%.2f), %s spread %.2f",
			 w->diff, w->ratio, w->beyond ? "beyond" : "within", w->spread);
		if (handler) {
			nh++;
			h_higher += w->beyond && w->ratio > 1;
			h_lower += w->beyond && w->ratio < 1;
		} else {
			nl++;
			l_higher += w->beyond && w->ratio > 1;
			l_lower += w->beyond && w->ratio < 1;
		}
	}
	if (!nh && !nl) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason), "no ipi sync/flush pair in this run");
		return 0;
	}
	if (h_lower || l_lower)
		set_verdict(c, "contradicted");
	else if (nh && h_higher == nh)
		set_verdict(c, "supported");
	else
		set_verdict(c, "inconclusive");
	snprintf(c->reason, sizeof(c->reason),
		 "flush dearer beyond the spread: handler %zu of %zu, latency %zu of %zu; cheaper beyond the spread: handler %zu, latency %zu (the initiator's latency spread is wide under emulation)",
		 h_higher, nh, l_higher, nl, h_lower, l_lower);
	return 0;
}

/* (5) entry syscall, PTI on vs off on the same CPU model. */
static int claim5(struct claim *c, const struct results *res)
{
	size_t n = 0, dearer = 0;

	for (size_t off = 0; off < res->nguests; off++) {
		const struct guest *go = &res->guests[off];

		if (machine_bool(go, "pti") || !machine_str(go, "cpu_model") ||
		    machine_str(go, "hypervisor_type"))
			continue;	/* a Xen PV dom0 is not Linux without PTI */
		for (size_t on = 0; on < res->nguests; on++) {
			const struct guest *gn = &res->guests[on];
			const struct rec *a, *b;
			struct claim_row *w;
			char m[160];

			if (!machine_bool(gn, "pti") || !machine_str(gn, "cpu_model") ||
			    strcmp(machine_str(go, "cpu_model"), machine_str(gn, "cpu_model")))
				continue;
			a = find(res, off, "entry", "syscall", NULL);
			b = find(res, on, "entry", "syscall", NULL);
			if (!a || !b)
				continue;
			snprintf(m, sizeof(m), "entry syscall, %s (PTI off) vs %s (PTI on)",
				 go->label, gn->label);
			w = stats_row(c, res, on, m, a, "PTI off", b, "PTI on");
			if (!w)
				return -1;
			if (machine_bool(go, "emulated"))
				c->emulated = true;
			n++;
			dearer += w->beyond && w->ratio > 1;
			snprintf(w->result, sizeof(w->result), "KPTI %+.0f cycles per syscall (x%.2f), %s spread %.2f",
				 w->diff, w->ratio, w->beyond ? "beyond" : "within", w->spread);
		}
	}
	if (!n) {
		set_verdict(c, "not evaluated");
		snprintf(c->reason, sizeof(c->reason),
			 "needs a PTI-on and a PTI-off guest of the same CPU model in one results.json (make bench: max and max-intel); this run has %s",
			 res->nguests > 1 ? "no such pair" : "one machine");
	} else if (dearer == n) {
		set_verdict(c, "measured: KPTI costs");
		snprintf(c->reason, sizeof(c->reason),
			 "syscall dearer with PTI on beyond the spread in all %zu pairs", n);
	} else {
		set_verdict(c, "measured: no cost beyond the spread");
		snprintf(c->reason, sizeof(c->reason),
			 "syscall dearer with PTI on beyond the spread in %zu of %zu pairs", dearer, n);
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

void claims_md(FILE *f, const struct claim *c)
{
	char b[6][32];

	fputs("## Claims of the January 2018 XPTI review\n\n"
	      "Each claim, the numbers of this run that bear on it, and a verdict "
	      "computed from them by `xptilab report` (never written by hand). A "
	      "difference counts when it lies beyond the runs' spread, compare's "
	      "rule: `", f);
	fputs(spread_rule, f);
	fputs("` (docs/results.md).\n\n", f);
	for (int i = 0; i < NCLAIMS; i++) {
		const struct claim *k = &c[i];
		bool guest = false;

		for (size_t r = 0; r < k->nrows; r++)
			guest |= k->rows[r].guest[0] != '\0';
		fprintf(f, "### Claim %d: %s\n\n", k->id, k->statement);
		if (k->nrows) {
			fputs(guest ? "| guest | measure | A | B | B - A | B/A | spread | reading |\n|---|---|---|---|---|---|---|---|\n"
				    : "| measure | A | B | B - A | B/A | spread | reading |\n|---|---|---|---|---|---|---|\n", f);
			for (size_t r = 0; r < k->nrows; r++) {
				const struct claim_row *w = &k->rows[r];

				fputc('|', f);
				if (guest)
					fprintf(f, " %s |", w->guest);
				fputc(' ', f);
				md_cell(f, w->measure);
				if (k->id == 3)
					fprintf(f, " | %s race hits | %s entries | - | %s per million | - | ",
						fmt(w->a, b[0], 32), fmt(w->b, b[1], 32),
						fmt(w->ratio, b[2], 32));
				else
					fprintf(f, " | %s `%s` | %s `%s` | %s | %s | %s | ",
						w->a_label, fmt(w->a, b[0], 32), w->b_label,
						fmt(w->b, b[1], 32), fmt(w->diff, b[2], 32),
						fmt(w->ratio, b[3], 32), fmt(w->spread, b[4], 32));
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
	char b[6][32];

	fprintf(f, "Claims of the January 2018 XPTI review (verdicts computed from this run;\n"
		"\"beyond spread\": %s):\n", spread_rule);
	for (int i = 0; i < NCLAIMS; i++) {
		const struct claim *k = &c[i];

		fprintf(f, "\n(%d) %s\n", k->id, k->statement);
		for (size_t r = 0; r < k->nrows; r++) {
			const struct claim_row *w = &k->rows[r];

			fprintf(f, "    %s%s%s: ", w->guest, w->guest[0] ? " " : "", w->measure);
			if (k->id == 3)
				fprintf(f, "%s hits in %s entries: %s\n", fmt(w->a, b[0], 32),
					fmt(w->b, b[1], 32), w->result);
			else
				fprintf(f, "%s %s, %s %s: %s\n", w->a_label, fmt(w->a, b[0], 32),
					w->b_label, fmt(w->b, b[1], 32), w->result);
		}
		fprintf(f, "    VERDICT: %s: %s.\n", k->verdict, k->reason);
		if (k->emulated)
			fprintf(f, "    (emulated: %s A hardware run would settle %s.)\n",
				k->caveat, k->hardware);
	}
}

void claims_json(struct json *j, const struct claim *c)
{
	json_object_begin(j, "claims");
	json_string(j, "rule", spread_rule);
	json_array_begin(j, "items");
	for (int i = 0; i < NCLAIMS; i++) {
		const struct claim *k = &c[i];

		json_object_begin(j, NULL);
		json_u64(j, "id", k->id);
		json_string(j, "key", k->key);
		json_string(j, "claim", k->statement);
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
				json_double(j, "hits_per_million", w->ratio);
			} else {
				json_double(j, "difference", w->diff);
				json_double(j, "ratio", w->ratio);
				json_double(j, "spread", w->spread);
				json_bool(j, "beyond_spread", w->beyond);
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
