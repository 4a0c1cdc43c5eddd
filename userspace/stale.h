/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stale-translation experiment (stale.c) and what the report makes of
 * its output (stale_report.c): a table of stale reads per cell and the
 * claim worded from it.
 */
#ifndef XPTILAB_STALE_H
#define XPTILAB_STALE_H

#include <stdbool.h>
#include <stdio.h>

#include <uapi/xptilab.h>

#define STALE_NVARIANTS	XPTILAB_STALE_NR_VARIANTS

struct platform;
struct jv;

extern const char *const stale_variant_names[STALE_NVARIANTS];
extern const char *const stale_state_names[XPTILAB_STALE_NR_STATES];
extern const char *const stale_fill_names[XPTILAB_STALE_NR_FILLS];
extern const char *const stale_clone_names[2];

/*
 * Exact binomial 95% interval for k successes in n trials: Clopper-Pearson
 * two-sided for k > 0; for k = 0, [0, 1 - 0.05^(1/n)] (one-sided).
 */
void stale_interval(unsigned long k, unsigned long n, double *lo, double *hi);

/* "hardware", "qemu-tcg", "bochs", ... */
const char *stale_platform_label(const struct platform *p);

int cmd_stale(int argc, char **argv);

/*
 * stale_report.c: from `xptilab stale --json` output (parsed). guest names
 * the guest of a combined file in the headings, or is NULL or "".
 */
bool stale_form_ok(const struct jv *raw);
void stale_md(FILE *f, const struct jv *raw, const char *guest);
void stale_claim_md(FILE *f, const struct jv *raw, const char *guest);
void stale_claim_text(FILE *f, const struct jv *raw, const char *guest);

#endif /* XPTILAB_STALE_H */
