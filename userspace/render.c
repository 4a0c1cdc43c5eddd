// SPDX-License-Identifier: GPL-2.0
/* `xptilab report DIR` (see render.h and docs/results.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "render.h"
#include "results.h"
#include "stale.h"
#include "xptilab.h"

/* The experiments report.md knows, in its order, with their sections. */
static const struct section {
	const char *experiment;
	const char *title;
	const char *about;
	const char *plot;		/* basename under plots/, or NULL */
	const char *plot_caption;
} sections[] = {
	{ "cr3", "cr3: full → shadow → full round trips",
	  "One CR3 round trip from the full root to the CPU's shadow root and "
	  "back, interrupts off, timed in the module with serialized TSC reads "
	  "(docs/cr3.md). `+touch` records time re-reading kernel pages after "
	  "the return to the full root: the TLB refill cost.",
	  "cr3", "median per variant; whiskers from min to p90" },
	{ "entry", "entry: user-triggered entry round trips",
	  "One user → kernel → user round trip, timed in user mode around a "
	  "single entry instruction (docs/entry.md).",
	  "entry", "median per variant; whiskers from min to p90" },
	{ "ipi", "ipi: sync vs flush IPIs by target count and NUMA distance",
	  "The IPI sent after a top-level page-table update. `/latency`: the "
	  "initiator's time from sending to the last target having finished; "
	  "`/handler`: one target's handler (all targets' samples pooled). "
	  "`distance` is the largest NUMA distance from the initiator to a "
	  "target (10: local).",
	  "ipi", "median latency against target count; one line per variant and NUMA distance (count sweep only)" },
	{ "race", "race: interrupts on the shadow root, interrupt vs trap gate",
	  "One thread enters through a test vector back to back while another "
	  "CPU sends it IPIs. A race hit is an interrupt taken at CPL 0 with the "
	  "shadow root still in CR3; with the interrupt gate there must be none. "
	  "Deferred interrupts landed in a trampoline on the full root and were "
	  "replayed on its way out (not races).",
	  "race", "race hits per million entries, by gate type" },
};

static const struct model {
	const char *experiment, *variant, *text;
} models[] = {
	{ "cr3", "plain", "the CR3 writes alone: the lower bound" },
	{ "cr3", "nonglobal", "Xen after 9d1d31ad94: non-global clones, globals flushed (CR4.PGE toggle) only on full → shadow" },
	{ "cr3", "global", "Xen before 9d1d31ad94: global clones, globals flushed on both switches" },
	{ "cr3", "pcid", "the shadow root under its own PCID, both writes NOFLUSH: the tagged-TLB alternative" },
	{ "cr3", "+touch", "re-reading the kernel pages after the round trip: the TLB refill cost of that variant" },
	{ "entry", "syscall", "baseline: Linux `syscall` (getppid), with KPTI's two CR3 writes when PTI is on" },
	{ "entry", "int80", "baseline: Linux `int $0x80` (ia32 getppid), an interrupt gate, through xptilab's stub while its IDT is loaded" },
	{ "entry", "int80-linux", "`int $0x80` with Linux's own gate on vector 0x80 for the block: `int80` against this is the tax xptilab's stub puts on every entry" },
	{ "entry", "gate", "the floor: an interrupt gate, a counter and `iretq`, no CR3 write" },
	{ "entry", "xpti", "Xen after 9d1d31ad94: interrupt gate, `sti` after the entry switch, non-global clones, global flush on the exit switch only (4 CR3 writes, 5 under PTI, 2 of them XPTI's own)" },
	{ "entry", "xpti-global", "Xen before 9d1d31ad94: global clones, global flush on both switches" },
	{ "entry", "trap", "the pre-change trap gate: IF=1 from the first instruction, with `window` spin iterations on the shadow root" },
	{ "entry", "session-xpti", "`xpti` from inside a session: the task already runs on the shadow root, so a round trip is exactly XPTI's entry and exit switches (2 CR3 writes, global flush on the exit switch)" },
	{ "entry", "session-trap", "`trap` from inside a session, with `window`" },
	{ "ipi", "empty", "an empty handler: the IPI round trip itself" },
	{ "ipi", "sync", "re-copy the caller's top-level user entries into the target's shadow root: Xen's \"sync\" IPI before the change" },
	{ "ipi", "flush", "sync, then a global flush (CR4.PGE toggle): Xen's IPI after the change" },
	{ "ipi", "flush-nonglobal", "sync, then a CR3 reload (global entries survive)" },
	{ "ipi", "invpcid", "sync, then INVPCID all-contexts (skipped without INVPCID)" },
	{ "race", "interrupt", "the interrupt gate (IF=0 until after the entry switch, then `sti`): race hits must be 0" },
	{ "race", "trap", "the trap gate, spinning `window` iterations with IF=1 on the shadow root before the entry switch" },
	{ "race", "session_interrupt", "the interrupt gate from inside a session (the thread runs in user mode on the shadow root): race hits must still be 0" },
	{ "race", "session_trap", "the trap gate from inside a session: its window has race hits" },
};

static const char *const caveat =
	"**Emulated (QEMU TCG).** Cycle counts are emulator numbers, not "
	"hardware figures: QEMU flushes its whole software TLB on every CR3 "
	"write and models neither global pages nor PCID timing, nor IPI "
	"delivery costs. The *differences* between global and non-global "
	"variants, and between NUMA distances, say nothing about hardware. "
	"Race hits are real: the race itself does not depend on timing "
	"fidelity.";

const char *variant_models(const char *experiment, const char *variant)
{
	size_t vlen = strcspn(variant, "/");	/* ipi: "sync/latency" */

	for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
		const struct model *m = &models[i];

		if (strcmp(m->experiment, experiment))
			continue;
		if (m->variant[0] == '+' ? strstr(variant, m->variant) != NULL :
		    strlen(m->variant) == vlen && !strncmp(m->variant, variant, vlen))
			return m->text;
	}
	return NULL;
}

/* ---- formatting ---- */

static const char *num(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

static const char *guest_name(const struct results *res, const struct rec *r)
{
	return res->guests[r->guest].label;
}

static bool is_ipi_handler(const struct rec *r)
{
	return !strcmp(r->experiment, "ipi") && strstr(r->variant, "/handler");
}

/* The params that tell records apart at a glance (no cpus, set, mode). */
void params_short(const struct rec *r, char *buf, size_t len)
{
	const char *p = r->params_text;
	size_t off = 0;

	buf[0] = '\0';
	while (*p && off < len) {
		size_t n = strcspn(p, " ");

		if (strncmp(p, "cpus=", 5) && strncmp(p, "set=", 4) &&
		    strncmp(p, "mode=", 5) && !(n == 7 && !strncmp(p, "node=-1", 7)))
			off += snprintf(buf + off, len - off, "%s%.*s",
					off ? " " : "", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

void render_summary(FILE *out, const struct results *res)
{
	const char *last = "";
	bool handlers = false;
	char b[6][32], params[160];

	if (res->combined)
		fprintf(out, "%-14s ", "guest");
	fprintf(out, "%-10s %-24s %-28s %7s %10s %10s %10s  %s\n",
		"experiment", "variant", "params", "n", "median", "p90", "p99",
		"unit");
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];

		if (is_ipi_handler(r)) {
			handlers = true;
			continue;
		}
		if (strcmp(last, r->experiment) && i)
			fputc('\n', out);
		last = r->experiment;
		params_short(r, params, sizeof(params));
		if (res->combined)
			fprintf(out, "%-14s ", guest_name(res, r));
		fprintf(out, "%-10s %-24s %-28s ", r->experiment, r->variant,
			params);
		switch (r->kind) {
		case REC_SKIPPED:
			fprintf(out, "SKIP: %s\n", r->reason);
			break;
		case REC_COUNTS:
			fprintf(out, "race hits %s in %s entries (%.1f per million), %s deferred\n",
				num(r->race_hits, b[0], 32), num(r->entries, b[1], 32),
				r->hits_per_million,
				num(jv_num(r->obj, "deferred"), b[2], 32));
			break;
		case REC_STATS:
			fprintf(out, "%7s %10s %10s %10s  %s\n", num(r->n, b[0], 32),
				num(r->median, b[1], 32), num(r->p90, b[2], 32),
				num(r->p99, b[3], 32), r->unit);
			break;
		}
	}
	if (handlers)
		fprintf(out, "(ipi: /latency records only; the /handler records are in report.md and results.csv)\n");
	if (results_any_emulated(res))
		fprintf(out, "EMULATED: cycle counts are QEMU TCG numbers, not hardware figures; global vs\n"
			"non-global and PCID differences say nothing about hardware (report.md).\n");
}

/* ---- results.csv ---- */

static void csv_str(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\n\r ")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
	char b[32];

	if (!isnan(v))
		fputs(num(v, b, sizeof(b)), f);
}

static int write_csv(const char *path, const struct results *res)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	fputs("guest,experiment,variant,params,unit,skipped,reason,n,min,median,"
	      "p90,p99,max,mean,stddev,cr3_writes,global_flushes,race_hits,"
	      "entries,hits_per_million\n", f);
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		const double v[] = {
			r->n, r->min, r->median, r->p90, r->p99, r->max, r->mean,
			r->stddev, r->cr3_writes, r->global_flushes, r->race_hits,
			r->entries, r->hits_per_million,
		};

		csv_str(f, guest_name(res, r));
		fputc(',', f);
		csv_str(f, r->experiment);
		fputc(',', f);
		csv_str(f, r->variant);
		fputc(',', f);
		csv_str(f, r->params_text);
		fputc(',', f);
		csv_str(f, r->unit);
		fprintf(f, ",%d,", r->kind == REC_SKIPPED);
		csv_str(f, r->kind == REC_SKIPPED ? r->reason : "");
		for (size_t k = 0; k < ARRAY_SIZE(v); k++) {
			fputc(',', f);
			csv_num(f, v[k]);
		}
		fputc('\n', f);
	}
	if (fclose(f)) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- report.md ---- */

/* Markdown table cell text: no '|' or newline. */
static void md(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static const char *yesno(const struct guest *g, const char *key)
{
	const struct jv *v = jv_get(g->machine, key);

	if (!v || v->type != JV_BOOL)
		return "-";
	return v->b ? "yes" : "no";
}

static void numa_text(const struct guest *g, char *buf, size_t len)
{
	const struct jv *nodes = jv_get(g->numa, "nodes");
	size_t off = 0;

	buf[0] = '\0';
	if (!nodes || nodes->type != JV_ARR || !nodes->n) {
		snprintf(buf, len, "-");
		return;
	}
	off += snprintf(buf, len, "%zu node%s", nodes->n, nodes->n == 1 ? "" : "s");
	for (size_t i = 0; i < nodes->n && off < len; i++) {
		const struct jv *n = &nodes->items[i], *cpus = jv_get(n, "cpus");
		const struct jv *d = jv_get(n, "distance");

		off += snprintf(buf + off, len - off, "%s node %.0f: cpus %s",
				i ? ";" : ":", jv_num(n, "node"),
				cpus && cpus->type == JV_STR ? cpus->str : "?");
		if (d && d->type == JV_ARR && d->n > 1 && off < len) {
			off += snprintf(buf + off, len - off, ", distances");
			for (size_t k = 0; k < d->n && off < len; k++)
				off += snprintf(buf + off, len - off, "%s%.0f",
						k ? "/" : " ", d->items[k].type == JV_NUM ?
						d->items[k].num : -1);
		}
	}
}

static void exp_text(const struct guest *g, char *buf, size_t len)
{
	const struct jv *ex = g->experiments;
	size_t off = 0;

	buf[0] = '\0';
	if (!ex) {
		snprintf(buf, len, "-");
		return;
	}
	for (size_t i = 0; i < ex->n && off < len; i++) {
		const struct jv *e = &ex->items[i], *st = jv_get(e, "status");
		double s = jv_num(e, "seconds");

		off += snprintf(buf + off, len - off, "%s%s %s", i ? ", " : "",
				ex->keys[i], st && st->type == JV_STR ? st->str : "?");
		if (!isnan(s) && off < len)
			off += snprintf(buf + off, len - off, " (%.1f s)", s);
	}
}

static void ovh_text(const struct guest *g, char *buf, size_t len)
{
	const struct jv *ex = g->experiments;
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; ex && i < ex->n && off < len; i++) {
		double m = jv_num(&ex->items[i], "timer_overhead_median");

		if (!isnan(m))
			off += snprintf(buf + off, len - off, "%s%s %.0f",
					off ? ", " : "", ex->keys[i], m);
	}
	if (!off)
		snprintf(buf, len, "-");
}

static void md_machines(FILE *f, const struct results *res)
{
	static const struct {
		const char *label, *key;
		int kind;	/* 0 string, 1 bool, 2 number */
	} rows[] = {
		{ "CPU model", "cpu_model", 0 },
		{ "kernel", "kernel", 0 },
		{ "CPUs online", "cpus", 2 },
		{ "paging levels", "paging_levels", 2 },
		{ "PTI", "pti", 1 },
		{ "PCID", "pcid", 1 },
		{ "INVPCID", "invpcid", 1 },
		{ "PGE", "pge", 1 },
		{ "LA57", "la57", 1 },
		{ "IA32 emulation", "ia32_emulation", 1 },
		{ "hypervisor", "hypervisor_vendor", 0 },
		{ "hypervisor type", "hypervisor_type", 0 },
		{ "emulated", "emulated", 1 },
		{ "emulator", "emulator", 0 },
		{ "emulator CPU", "emulator_cpu", 0 },
		{ "clone_global", "clone_global", 2 },
		{ "module ABI", "abi_version", 2 },
	};
	char buf[1024];

	fprintf(f, "## Machines\n\n|  |");
	for (size_t g = 0; g < res->nguests; g++) {
		fputc(' ', f);
		md(f, res->combined ? res->guests[g].label : "machine");
		fputs(" |", f);
	}
	fputs("\n|---|", f);
	for (size_t g = 0; g < res->nguests; g++)
		fputs("---|", f);
	fputc('\n', f);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		fprintf(f, "| %s |", rows[i].label);
		for (size_t g = 0; g < res->nguests; g++) {
			const struct guest *gu = &res->guests[g];
			const char *s;

			fputc(' ', f);
			if (rows[i].kind == 1)
				s = yesno(gu, rows[i].key);
			else if (rows[i].kind == 2)
				s = num(machine_num(gu, rows[i].key), buf, sizeof(buf));
			else
				s = machine_str(gu, rows[i].key) ?: "-";
			md(f, s);
			fputs(" |", f);
		}
		fputc('\n', f);
	}
	fputs("| NUMA |", f);
	for (size_t g = 0; g < res->nguests; g++) {
		numa_text(&res->guests[g], buf, sizeof(buf));
		fputc(' ', f);
		md(f, buf);
		fputs(" |", f);
	}
	fputs("\n| experiments |", f);
	for (size_t g = 0; g < res->nguests; g++) {
		exp_text(&res->guests[g], buf, sizeof(buf));
		fputc(' ', f);
		md(f, buf);
		fputs(" |", f);
	}
	fputs("\n| timer overhead (median, cycles, subtracted) |", f);
	for (size_t g = 0; g < res->nguests; g++) {
		ovh_text(&res->guests[g], buf, sizeof(buf));
		fputc(' ', f);
		md(f, buf);
		fputs(" |", f);
	}
	fputs("\n\n", f);
}

/* Records of one experiment, variant-major for cr3/entry/race: guests side by side. */
static size_t order(const struct results *res, const char *exp, size_t *idx)
{
	size_t n = 0;
	bool by_variant = strcmp(exp, "ipi") != 0 && res->combined;

	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		bool seen = false;

		if (strcmp(r->experiment, exp))
			continue;
		if (!by_variant) {
			idx[n++] = i;
			continue;
		}
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(res->recs[idx[k]].variant, r->variant) &&
			       !strcmp(res->recs[idx[k]].params_text, r->params_text);
		if (seen)
			continue;
		for (size_t k = i; k < res->nrecs; k++) {
			const struct rec *q = &res->recs[k];

			if (!strcmp(q->experiment, exp) &&
			    !strcmp(q->variant, r->variant) &&
			    !strcmp(q->params_text, r->params_text))
				idx[n++] = k;
		}
	}
	return n;
}

static void md_models(FILE *f, const struct results *res, const char *exp)
{
	const char *done[64];
	size_t ndone = 0;

	fputs("| variant | models |\n|---|---|\n", f);
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		const char *text = variant_models(exp, r->variant);
		bool seen = false;

		if (strcmp(r->experiment, exp) || !text)
			continue;
		for (size_t k = 0; k < ndone && !seen; k++)
			seen = done[k] == text;
		if (seen || ndone == ARRAY_SIZE(done))
			continue;
		done[ndone++] = text;
		fprintf(f, "| `%.*s` | ", (int)strcspn(r->variant, "/"), r->variant);
		md(f, text);
		fputs(" |\n", f);
	}
	fputc('\n', f);
}

static bool guest_icount(const struct results *res, size_t g)
{
	const char *em = machine_str(&res->guests[g], "emulator");

	return em && !strcmp(em, "qemu-tcg-icount");
}

/*
 * Instructions per round trip of r's variant: the median of the same
 * experiment/variant/params in an icount guest with the same PTI setting
 * (exact), or NAN.
 */
static double icount_of(const struct results *res, const struct rec *r)
{
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *k = &res->recs[i];

		if (k->kind == REC_STATS && guest_icount(res, k->guest) &&
		    machine_bool(&res->guests[k->guest], "pti") ==
		    machine_bool(&res->guests[r->guest], "pti") &&
		    !strcmp(k->experiment, r->experiment) &&
		    !strcmp(k->variant, r->variant) &&
		    !strcmp(k->params_text, r->params_text))
			return k->median;
	}
	return NAN;
}

static void md_table(FILE *f, const struct results *res, const char *exp)
{
	size_t *idx = calloc(res->nrecs + 1, sizeof(*idx)), n;
	bool race = !strcmp(exp, "race"), params = false, insn = false;
	char b[12][32];

	if (!idx)
		return;
	n = order(res, exp, idx);
	for (size_t i = 0; i < n; i++) {
		params |= res->recs[idx[i]].params_text[0] != '\0';
		insn |= !race && !isnan(icount_of(res, &res->recs[idx[i]]));
	}
	if (insn)
		fputs("*instructions per round trip*: the median of the same variant in "
		      "an icount guest with the same PTI setting (`vm-run --icount`: the "
		      "TSC counts retired instructions; `-` where there is none), exact and "
		      "repeatable; it measures path length only, with no TLB, cache or "
		      "microcode cost.\n\n", f);
	fputc('|', f);
	if (res->combined)
		fputs(" guest |", f);
	fputs(" variant |", f);
	if (params)
		fputs(" params |", f);
	if (race)
		fputs(" entries | IPIs | race hits | per million entries | deferred | CR3 writes | global flushes |\n", f);
	else
		fprintf(f, " n | min | median | p90 | p99 | max | mean | stddev | CR3 writes | global flushes |%s\n",
			insn ? " instructions per round trip |" : "");
	fputs("|", f);
	for (int c = 0; c < (res->combined ? 1 : 0) + 1 + (params ? 1 : 0) +
	     (race ? 7 : 10) + insn; c++)
		fputs("---|", f);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &res->recs[idx[i]];

		fputc('|', f);
		if (res->combined) {
			fputc(' ', f);
			md(f, guest_name(res, r));
			fputs(" |", f);
		}
		fputs(" `", f);
		md(f, r->variant);
		fputs("` |", f);
		if (params) {
			fputc(' ', f);
			md(f, r->params_text);
			fputs(" |", f);
		}
		if (r->kind == REC_SKIPPED) {
			fputs(" skipped: ", f);
			md(f, r->reason);
			fputs(" |\n", f);
			continue;
		}
		if (r->kind == REC_COUNTS)
			fprintf(f, " %s | %s | **%s** | %.1f | %s | %s | %s |\n",
				num(r->entries, b[0], 32),
				num(jv_num(r->obj, "ipis"), b[1], 32),
				num(r->race_hits, b[2], 32), r->hits_per_million,
				num(jv_num(r->obj, "deferred"), b[3], 32),
				num(r->cr3_writes, b[4], 32),
				num(r->global_flushes, b[5], 32));
		else
			fprintf(f, " %s | %s | **%s** | %s | %s | %s | %.1f | %.1f | %s | %s |%s%s%s\n",
				num(r->n, b[0], 32), num(r->min, b[1], 32),
				num(r->median, b[2], 32), num(r->p90, b[3], 32),
				num(r->p99, b[4], 32), num(r->max, b[5], 32),
				r->mean, r->stddev, num(r->cr3_writes, b[6], 32),
				num(r->global_flushes, b[7], 32), insn ? " " : "",
				insn ? num(icount_of(res, r), b[8], 32) : "",
				insn ? " |" : "");
	}
	fputc('\n', f);
	free(idx);
}

static bool has_experiment(const struct results *res, const char *exp)
{
	for (size_t i = 0; i < res->nrecs; i++)
		if (!strcmp(res->recs[i].experiment, exp))
			return true;
	return false;
}

static bool known_experiment(const char *exp)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (!strcmp(sections[i].experiment, exp))
			return true;
	return false;
}

static bool is_quick(const struct jv *obj)
{
	const struct jv *q = jv_get(obj, "quick");

	return q && q->type == JV_BOOL && q->b;
}

/*
 * A guest's stale experiment (`xptilab stale --json`): the top-level
 * "stale" of a one-machine file, the guest's own in a merged one.
 */
static const struct jv *stale_of(const struct results *res, size_t g)
{
	const struct jv *guests = jv_get(res->root, "guests");

	if (!res->combined)
		return jv_get(res->root, "stale");
	if (!guests || guests->type != JV_ARR || g >= guests->n)
		return NULL;
	return jv_get(&guests->items[g], "stale");
}

static int write_md(const char *path, const struct results *res,
		    const bool *plotted, const struct claim *claims)
{
	FILE *f = fopen(path, "we");
	bool quick = false;

	if (!f) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	quick = is_quick(res->root);
	for (size_t g = 0; g < res->nguests; g++)
		quick |= res->combined && is_quick(&jv_get(res->root, "guests")->items[g]);
	fprintf(f, "<!-- Generated by xptilab report from results.json; do not edit. -->\n");
	fprintf(f, "# xptilab results\n\n");
	fprintf(f, "Generated by %s", res->generated_by);
	if (res->created)
		fprintf(f, " at %s", res->created);
	fprintf(f, "; results.json schema_version %d (docs/results.md). ",
		res->schema_version);
	fprintf(f, "Units: `cycles` are TSC ticks with the timer's own overhead "
		"subtracted; the timing method is in docs/methodology.md. The "
		"tables give every statistic; **bold** is the one to read (the "
		"median).%s\n\n",
		res->combined ? " One column or row per guest: each guest is one "
		"QEMU virtual machine with its own CPU model." : "");
	if (quick)
		fprintf(f, "**Quick run** (`run-all --quick`): about a tenth of the "
			"samples; a smoke test, not a measurement.\n\n");
	if (results_any_emulated(res)) {
		fprintf(f, "> %s", caveat);
		if (res->combined) {
			fputs(" Emulated guests:", f);
			for (size_t g = 0; g < res->nguests; g++)
				if (machine_bool(&res->guests[g], "emulated"))
					fprintf(f, " %s", res->guests[g].label);
			fputc('.', f);
		}
		fputs("\n\n", f);
	}
	for (size_t g = 0; g < res->nguests; g++) {
		const struct jv *e = jv_get(res->guests[g].machine, "emulator");

		if (e && e->type == JV_STR && !strcmp(e->str, "bochs")) {
			fprintf(f, "> **Bochs** (%s): its TSC counts emulated "
				"instructions, so its \"cycles\" are instruction counts "
				"(path length), never costs, and no claim about cost rests "
				"on them (docs/bochs.md).\n\n",
				*res->guests[g].label ? res->guests[g].label : "this machine");
		}
	}
	md_machines(f, res);
	md_kernels(f, res);
	/* the stale claims (###) belong under the claims' heading */
	if (claims)
		claims_md(f, claims);
	for (size_t g = 0; g < res->nguests; g++)
		stale_claim_md(f, stale_of(res, g), res->guests[g].label);
	if (claims) {
		claims_precision(f, NULL, res);
		claims_stub_tax(f, NULL, res);
	}
	for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
		const struct section *sec = &sections[s];

		if (!has_experiment(res, sec->experiment))
			continue;
		fprintf(f, "## %s\n\n%s\n\n", sec->title, sec->about);
		md_models(f, res, sec->experiment);
		md_table(f, res, sec->experiment);
		if (sec->plot && plotted[s])
			fprintf(f, "![%s](plots/%s.png)\n\n*%s* ([SVG](plots/%s.svg))\n\n",
				sec->experiment, sec->plot, sec->plot_caption,
				sec->plot);
	}
	for (size_t g = 0; g < res->nguests; g++)
		stale_md(f, stale_of(res, g), res->guests[g].label);
	/* an experiment this version does not describe: its table alone */
	for (size_t i = 0; i < res->nrecs; i++) {
		const char *exp = res->recs[i].experiment;
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			first = strcmp(res->recs[k].experiment, exp) != 0;
		if (!first || known_experiment(exp))
			continue;
		fprintf(f, "## %s\n\n", exp);
		md_table(f, res, exp);
	}
	if (fclose(f)) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- plots ---- */

static const char *const terminals[][2] = {
	{ "svg", "set terminal svg size 960,540 dynamic noenhanced font 'sans,11' background rgb 'white'" },
	{ "png", "set terminal pngcairo size 960,540 noenhanced font 'sans,10' background rgb 'white'" },
};

/* Distinct variants of an experiment in order of appearance. */
static size_t variants_of(const struct results *res, const char *exp,
			  const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		bool seen = false;

		if (strcmp(r->experiment, exp) || r->kind == REC_SKIPPED)
			continue;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(out[k], r->variant);
		if (!seen && n < max)
			out[n++] = r->variant;
	}
	return n;
}

static const struct rec *find(const struct results *res, const char *exp,
			      const char *variant, size_t guest)
{
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];

		if (r->guest == guest && r->kind != REC_SKIPPED &&
		    !strcmp(r->experiment, exp) && !strcmp(r->variant, variant))
			return r;
	}
	return NULL;
}

static void gp_title(FILE *gp, const struct results *res, const char *title)
{
	fprintf(gp, "set title \"%s%s\"\n", title,
		results_any_emulated(res) ? " (emulated: QEMU TCG)" : "");
}

static const char *glabel(const struct results *res, size_t g)
{
	return res->combined ? res->guests[g].label : "median";
}

/* Clustered bars: one cluster per variant, one bar per guest. */
static bool plot_bars(FILE *gp, const char *dir, const struct results *res,
		      const char *exp, const char *title, const char *ylabel,
		      bool errorbars)
{
	const char *vars[64];
	size_t nv = variants_of(res, exp, vars, ARRAY_SIZE(vars));
	char path[4200];
	FILE *d;

	if (!nv)
		return false;
	snprintf(path, sizeof(path), "%s/%s.dat", dir, exp);
	d = fopen(path, "we");
	if (!d) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return false;
	}
	fprintf(d, "# variant");
	for (size_t g = 0; g < res->nguests; g++)
		fprintf(d, errorbars ? " %s:median min p90" : " %s:per_million hits",
			glabel(res, g));
	fputc('\n', d);
	for (size_t v = 0; v < nv; v++) {
		fprintf(d, "\"%s\"", vars[v]);
		for (size_t g = 0; g < res->nguests; g++) {
			const struct rec *r = find(res, exp, vars[v], g);

			if (!r)
				fputs(errorbars ? " ? ? ?" : " ? ?", d);
			else if (errorbars)
				fprintf(d, " %.0f %.0f %.0f", r->median, r->min, r->p90);
			else
				fprintf(d, " %g %.0f", r->hits_per_million, r->race_hits);
		}
		fputc('\n', d);
	}
	fclose(d);

	for (size_t t = 0; t < ARRAY_SIZE(terminals); t++) {
		fprintf(gp, "reset\n%s\nset output '%s.%s'\n", terminals[t][1], exp,
			terminals[t][0]);
		gp_title(gp, res, title);
		fprintf(gp, "set datafile missing '?'\nset style data histograms\n"
			"set style histogram %s gap 1\n"
			"set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
			"set ylabel '%s'\nset yrange [0:*]\nset grid ytics\n"
			"set key top left\nset xtics rotate by -20\n",
			errorbars ? "errorbars lw 1" : "clustered", ylabel);
		fputs("plot ", gp);
		for (size_t g = 0; g < res->nguests; g++) {
			if (errorbars)
				fprintf(gp, "%s'%s.dat' using %zu:%zu:%zu%s title '%s'",
					g ? ", " : "", exp, 2 + 3 * g, 3 + 3 * g,
					4 + 3 * g, g ? "" : ":xtic(1)", glabel(res, g));
			else
				fprintf(gp, "%s'%s.dat' using %zu%s title '%s'",
					g ? ", " : "", exp, 2 + 2 * g,
					g ? "" : ":xtic(1)", glabel(res, g));
		}
		/* counts: the raw number over each bar (a 0 has no bar) */
		for (size_t g = 0; !errorbars && g < res->nguests; g++)
			fprintf(gp, ", '%s.dat' using ($0 + %g):%zu:(sprintf('%%d hits', $%zu)) with labels offset 0,0.8 font ',9' notitle",
				exp, ((double)g - (res->nguests - 1) / 2.0) /
				(res->nguests + 1), 2 + 2 * g, 3 + 2 * g);
		fputs("\nunset output\n", gp);
	}
	return true;
}

/* IPI latency against target count: a panel per guest, a line per variant and distance. */
static bool plot_ipi(FILE *gp, const char *dir, const struct results *res)
{
	const char *vars[16];
	size_t nv = 0, block = 0, npanels = 0;
	size_t *first = calloc(res->nguests + 1, sizeof(*first));
	double *maxt = calloc(res->nguests + 1, sizeof(*maxt));
	char path[4200];
	FILE *d;

	if (!first || !maxt) {
		free(first);
		free(maxt);
		return false;
	}
	snprintf(path, sizeof(path), "%s/ipi.dat", dir);
	d = fopen(path, "we");
	if (!d) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		free(first);
		free(maxt);
		return false;
	}
	/* the latency variants, "sync" of "sync/latency" */
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i];
		bool seen = false;

		if (strcmp(r->experiment, "ipi") || r->kind != REC_STATS ||
		    !strstr(r->variant, "/latency"))
			continue;
		for (size_t k = 0; k < nv && !seen; k++)
			seen = !strcmp(vars[k], r->variant);
		if (!seen && nv < ARRAY_SIZE(vars))
			vars[nv++] = r->variant;
	}
	fprintf(gp, "# ipi.dat: one block per guest, variant and distance\n");
	/* per guest: blocks (variant, distance); write the blocks and remember titles */
	struct blk { size_t guest, var; double dist; } *blks = NULL;
	size_t nblk = 0, cap = 0;

	for (size_t g = 0; g < res->nguests; g++) {
		first[g] = nblk;
		for (size_t v = 0; v < nv; v++) {
			double dists[16];
			size_t nd = 0;

			for (size_t i = 0; i < res->nrecs; i++) {
				const struct rec *r = &res->recs[i];
				double dd = jv_num(r->params, "distance");
				const struct jv *set = jv_get(r->params, "set");
				bool seen = false;

				if (r->guest != g || r->kind != REC_STATS ||
				    strcmp(r->experiment, "ipi") ||
				    strcmp(r->variant, vars[v]) || isnan(dd) ||
				    (set && set->type == JV_STR && !strcmp(set->str, "node")))
					continue;
				for (size_t k = 0; k < nd && !seen; k++)
					seen = dists[k] == dd;
				if (!seen && nd < ARRAY_SIZE(dists))
					dists[nd++] = dd;
			}
			for (size_t k = 0; k < nd; k++) {
				if (nblk == cap) {
					size_t ncap = cap ? 2 * cap : 16;
					struct blk *nb = realloc(blks, ncap * sizeof(*nb));

					if (!nb)
						goto out;
					blks = nb;
					cap = ncap;
				}
				blks[nblk++] = (struct blk){ g, v, dists[k] };
				if (block)
					fputs("\n\n", d);
				fprintf(d, "# guest %s, %s, distance %g\n# targets median p90\n",
					glabel(res, g), vars[v], dists[k]);
				for (size_t i = 0; i < res->nrecs; i++) {
					const struct rec *r = &res->recs[i];
					const struct jv *set = jv_get(r->params, "set");

					if (r->guest != g || r->kind != REC_STATS ||
					    strcmp(r->experiment, "ipi") ||
					    strcmp(r->variant, vars[v]) ||
					    jv_num(r->params, "distance") != dists[k] ||
					    (set && set->type == JV_STR && !strcmp(set->str, "node")))
						continue;
					fprintf(d, "%.0f %.0f %.0f\n",
						jv_num(r->params, "targets"),
						r->median, r->p90);
					maxt[g] = fmax(maxt[g], jv_num(r->params, "targets"));
				}
				block++;
			}
		}
		npanels += nblk > first[g];
	}
	first[res->nguests] = nblk;
out:
	fclose(d);
	if (!npanels) {
		free(blks);
		free(first);
		free(maxt);
		return false;
	}
	for (size_t t = 0; t < ARRAY_SIZE(terminals); t++) {
		size_t panel = 0;

		fprintf(gp, "reset\n%s\nset output 'ipi.%s'\n", terminals[t][1],
			terminals[t][0]);
		if (npanels > 1)
			fprintf(gp, "set multiplot layout 1,%zu title \"IPI latency by target count and NUMA distance%s\"\n",
				npanels, results_any_emulated(res) ?
				" (emulated: QEMU TCG)" : "");
		for (size_t g = 0; g < res->nguests; g++) {
			if (first[g + 1] == first[g])
				continue;
			if (npanels > 1)
				fprintf(gp, "set title '%s'\n", glabel(res, g));
			else
				gp_title(gp, res, "IPI latency by target count and NUMA distance");
			fprintf(gp, "set xlabel 'targets'\nset ylabel 'cycles (median)'\n"
				"set xtics 1\nset xrange [0.5:%g]\nset offsets 0, 0, graph 0.4, 0\nset yrange [0:*]\n"
				"set grid\nset key top left font ',8'\n", maxt[g] + 0.5);
			fputs("plot ", gp);
			for (size_t b = first[g]; b < first[g + 1]; b++)
				fprintf(gp, "%s'ipi.dat' index %zu using 1:2 with linespoints lc %zu dt %d pt 7 title '%.*s d=%g'",
					b > first[g] ? ", " : "", b, blks[b].var + 1,
					blks[b].dist > 10 ? 2 : 1,
					(int)strcspn(vars[blks[b].var], "/"),
					vars[blks[b].var], blks[b].dist);
			fputc('\n', gp);
			panel++;
		}
		if (npanels > 1)
			fputs("unset multiplot\n", gp);
		fputs("unset output\n", gp);
	}
	free(blks);
	free(first);
	free(maxt);
	return true;
}

/* Run gnuplot on dir/plots.gp in dir. */
static int run_gnuplot(const char *dir)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		xptilab_err("report: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (chdir(dir)) {
			fprintf(stderr, "xptilab: report: %s: %s\n", dir, strerror(errno));
			_exit(126);
		}
		execlp("gnuplot", "gnuplot", "plots.gp", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		xptilab_err("report: waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		xptilab_err("report: gnuplot not found: install gnuplot-nox (scripts/deps), or use --no-plots");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		xptilab_err("report: gnuplot failed on %s/plots.gp", dir);
		return -1;
	}
	return 0;
}

static int plots(const char *dir, const struct results *res, bool *plotted)
{
	char pdir[3000], path[4200];
	FILE *gp;
	bool any = false;

	snprintf(pdir, sizeof(pdir), "%s/plots", dir);
	if (mkdir(pdir, 0755) && errno != EEXIST) {
		xptilab_err("report: %s: %s", pdir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/plots.gp", pdir);
	gp = fopen(path, "we");
	if (!gp) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(gp, "# Generated by xptilab report; run `gnuplot plots.gp` here.\n");
	for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
		const char *e = sections[s].experiment;

		if (!strcmp(e, "cr3"))
			plotted[s] = plot_bars(gp, pdir, res, e,
					       "cr3: full -> shadow -> full round trip (median; min..p90)",
					       "TSC cycles", true);
		else if (!strcmp(e, "entry"))
			plotted[s] = plot_bars(gp, pdir, res, e,
					       "entry: user -> kernel -> user round trip (median; min..p90)",
					       "TSC cycles", true);
		else if (!strcmp(e, "ipi"))
			plotted[s] = plot_ipi(gp, pdir, res);
		else if (!strcmp(e, "race"))
			plotted[s] = plot_bars(gp, pdir, res, e,
					       "race hits by gate type",
					       "race hits per million entries", false);
		any |= plotted[s];
	}
	if (fclose(gp)) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	if (!any)
		return 0;
	return run_gnuplot(pdir);
}

/* DIR/claims.txt: the claims as text (scripts/bench prints it). */
static int write_claims_txt(const char *path, const struct claim *claims,
			    const struct results *res)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	claims_text(f, claims);
	claims_precision(NULL, f, res);
	claims_stub_tax(NULL, f, res);
	for (size_t g = 0; g < res->nguests; g++)
		stale_claim_text(f, stale_of(res, g), res->guests[g].label);
	if (fclose(f)) {
		xptilab_err("report: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab report [--no-plots] [--quiet] DIR\n"
		"  Reads DIR/results.json (from run-all or merge) and writes\n"
		"  DIR/results.csv, DIR/report.md (with the review's claims, also in\n"
		"  DIR/claims.txt) and, with gnuplot, DIR/plots/*.svg\n"
		"  and *.png; prints a summary table unless --quiet. A results.json with\n"
		"  a missing field or an unknown schema_version is refused (exit 1).\n");
	return status;
}

int cmd_report(int argc, char **argv)
{
	bool no_plots = false, quiet = false;
	bool plotted[ARRAY_SIZE(sections)] = { false };
	const char *dir = NULL;
	char path[4200];
	struct results res;
	struct claim claims[NCLAIMS];
	bool have_claims = false;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (!strcmp(argv[i], "--no-plots")) {
			no_plots = true;
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (argv[i][0] == '-' || dir) {
			xptilab_err("report: bad argument '%s'", argv[i]);
			return usage(stderr, EXIT_USAGE);
		} else {
			dir = argv[i];
		}
	}
	if (!dir) {
		xptilab_err("report: no DIR given");
		return usage(stderr, EXIT_USAGE);
	}
	snprintf(path, sizeof(path), "%s/results.json", dir);
	if (results_load(path, &res))
		return 1;
	if (!no_plots && plots(dir, &res, plotted))
		goto out;
	snprintf(path, sizeof(path), "%s/results.csv", dir);
	if (write_csv(path, &res))
		goto out;
	if (claims_compute(&res, claims))
		goto out;
	have_claims = true;
	snprintf(path, sizeof(path), "%s/report.md", dir);
	if (write_md(path, &res, plotted, claims))
		goto out;
	snprintf(path, sizeof(path), "%s/claims.txt", dir);
	if (write_claims_txt(path, claims, &res))
		goto out;
	if (!quiet)
		render_summary(stdout, &res);
	status = fflush(stdout) ? 1 : 0;
out:
	if (have_claims)
		claims_free(claims);
	results_free(&res);
	return status;
}
