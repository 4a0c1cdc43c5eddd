// SPDX-License-Identifier: GPL-2.0
/* xptilab: the command-line tool of the xptilab experiment harness. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <uapi/xptilab.h>

#include "ci.h"
#include "stale.h"
#include "xptilab.h"

#ifndef XPTILAB_VERSION
#define XPTILAB_VERSION "unknown"
#endif

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *summary;
} commands[] = {
	{ "info", cmd_info, "[--json]", "kernel, CPU and module facts" },
	{ "cr3", cmd_cr3, "[OPTIONS]", "cost of full -> shadow -> full round trips" },
	{ "entry", cmd_entry, "[OPTIONS]", "cost of user-triggered entry round trips" },
	{ "race", cmd_race, "[OPTIONS]", "race hits: interrupt vs trap gate under an IPI storm" },
	{ "ipi", cmd_ipi, "[OPTIONS]", "sync vs flush IPIs by target count and NUMA distance" },
	{ "session", cmd_session, "[OPTIONS]", "how sessions on the shadow root ended and lasted" },
	{ "stale", cmd_stale, "[OPTIONS]", "stale reads after a top-level update, per IPI" },
	{ "run-all", cmd_run_all, "--out DIR", "every experiment; DIR/results.json" },
	{ "report", cmd_report, "DIR", "DIR/results.json as report.md, results.csv, plots" },
	{ "compare", cmd_compare, "A B", "two results.json files: medians and ratios" },
	{ "merge", cmd_merge, "--out F L=F..", "one-machine results.json files into one" },
	{ "verdict", cmd_verdict, "FILE", "paired per-round comparison with CI and verdict" },
};

bool xptilab_have_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return true;
	return false;
}

void xptilab_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("xptilab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: xptilab COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-7s %-13s %s\n", commands[i].name,
			commands[i].args, commands[i].summary);
	fprintf(out, "  %-7s %-13s %s\n", "help", "", "this text");
	fprintf(out, "\n  --version        print the version and the ABI version\n");
	return status;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr, EXIT_USAGE);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		return usage(stdout, 0);
	if (!strcmp(cmd, "--version")) {
		printf("xptilab %s (ABI %d)\n", XPTILAB_VERSION, XPTILAB_ABI_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);

	xptilab_err("unknown command '%s' (try 'xptilab help')", cmd);
	return EXIT_USAGE;
}
