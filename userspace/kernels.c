// SPDX-License-Identifier: GPL-2.0
/*
 * report.md's "Linux versions side by side": guests that are the same
 * machine (CPU model, CPUs, paging, PTI, PCID, emulator) under different
 * kernels, with their cr3 and entry medians next to each other. Linux's
 * entry paths changed between 6.1 and 6.12, so this is the comparison of
 * one machine across kernels; make bench runs one CPU model on both.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "render.h"

/* The machine keys that must be equal for two guests to be "the same machine". */
static const char *const same_keys[] = {
	"cpu_model", "cpus", "paging_levels", "pti", "pcid", "invpcid", "pge",
	"la57", "emulated", "emulator", "hypervisor_vendor",
};

static bool same_value(const struct jv *a, const struct jv *b)
{
	if (!a || !b)
		return !a && !b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JV_STR:
		return !strcmp(a->str, b->str);
	case JV_NUM:
		return a->num == b->num;
	case JV_BOOL:
		return a->b == b->b;
	default:
		return true;
	}
}

static const char *kernel_of(const struct guest *g)
{
	const struct jv *k = jv_get(g->machine, "kernel");

	return k && k->type == JV_STR ? k->str : NULL;
}

static bool same_machine_other_kernel(const struct guest *a, const struct guest *b)
{
	const char *ka = kernel_of(a), *kb = kernel_of(b);

	if (!ka || !kb || !strcmp(ka, kb))
		return false;
	for (size_t i = 0; i < sizeof(same_keys) / sizeof(same_keys[0]); i++)
		if (!same_value(jv_get(a->machine, same_keys[i]),
				jv_get(b->machine, same_keys[i])))
			return false;
	return true;
}

static const struct rec *counterpart(const struct results *res, size_t guest,
				     const struct rec *r)
{
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *q = &res->recs[i];

		if (q->guest == guest && q->kind == REC_STATS &&
		    !strcmp(q->experiment, r->experiment) &&
		    !strcmp(q->variant, r->variant) &&
		    !strcmp(q->params_text, r->params_text))
			return q;
	}
	return NULL;
}

static void md_cell(FILE *f, const char *s)
{
	fputc(' ', f);
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
	fputs(" |", f);
}

static void md_pair(FILE *f, const struct results *res, size_t a, size_t b)
{
	const struct guest *ga = &res->guests[a], *gb = &res->guests[b];
	char params[160], cell[64];

	fprintf(f, "### %s (Linux %s) and %s (Linux %s)\n\n", ga->label,
		kernel_of(ga), gb->label, kernel_of(gb));
	fprintf(f, "| experiment | variant | params | median %s | median %s | %s / %s | unit |\n",
		ga->label, gb->label, gb->label, ga->label);
	fputs("|---|---|---|---:|---:|---:|---|\n", f);
	for (size_t i = 0; i < res->nrecs; i++) {
		const struct rec *r = &res->recs[i], *q;

		if (r->guest != a || r->kind != REC_STATS ||
		    (strcmp(r->experiment, "cr3") && strcmp(r->experiment, "entry")))
			continue;
		q = counterpart(res, b, r);
		fputc('|', f);
		md_cell(f, r->experiment);
		md_cell(f, r->variant);
		params_short(r, params, sizeof(params));
		md_cell(f, params[0] ? params : "-");
		snprintf(cell, sizeof(cell), "%.0f", r->median);
		md_cell(f, cell);
		if (q)
			snprintf(cell, sizeof(cell), "%.0f", q->median);
		md_cell(f, q ? cell : "-");
		if (q && r->median > 0 && !isnan(q->median))
			snprintf(cell, sizeof(cell), "%.2f", q->median / r->median);
		md_cell(f, q && r->median > 0 ? cell : "-");
		md_cell(f, r->unit);
		fputc('\n', f);
	}
	fputc('\n', f);
}

void md_kernels(FILE *f, const struct results *res)
{
	bool any = false;

	if (!res->combined)
		return;
	for (size_t a = 0; a < res->nguests; a++) {
		for (size_t b = a + 1; b < res->nguests; b++) {
			if (!same_machine_other_kernel(&res->guests[a], &res->guests[b]))
				continue;
			if (!any)
				fputs("## Linux versions side by side\n\n"
				      "Guests that are the same machine (CPU model, CPUs, "
				      "paging, PTI, PCID, emulator) under different kernels: "
				      "the cr3 and entry medians of one next to the other's. "
				      "A ratio is not a verdict: the per-guest tables below "
				      "give the spread of each. On an emulator, a ratio "
				      "reflects the instructions each kernel's entry code "
				      "executes, not hardware cost.\n\n", f);
			any = true;
			md_pair(f, res, a, b);
		}
	}
}
