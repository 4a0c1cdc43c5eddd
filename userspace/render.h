/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `xptilab report DIR`: DIR/results.json rendered as DIR/results.csv,
 * DIR/report.md and gnuplot plots (SVG and PNG files in DIR/plots), and a
 * summary table on stdout.
 */
#ifndef XPTILAB_RENDER_H
#define XPTILAB_RENDER_H

#include <stdio.h>

#include "results.h"

/* What a variant models (docs/cr3.md, docs/entry.md, ...), or NULL. */
const char *variant_models(const char *experiment, const char *variant);

/* r's params without cpus, set, mode and node=-1: for narrow tables. */
void params_short(const struct rec *r, char *buf, size_t len);

/* One line per record (ipi: latency records only) as a text table. */
void render_summary(FILE *out, const struct results *res);

/* report.md: one machine under two kernels, side by side (kernels.c). */
void md_kernels(FILE *f, const struct results *res);

int cmd_report(int argc, char **argv);

#endif /* XPTILAB_RENDER_H */
