/* SPDX-License-Identifier: GPL-2.0 */
/* What the xptilab tool's files share: subcommands and error reporting. */
#ifndef XPTILAB_TOOL_H
#define XPTILAB_TOOL_H

#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses of the tool. */
#define EXIT_USAGE 2

/* Print "xptilab: <message>\n" on stderr. */
void xptilab_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct json;
struct platform;
struct xptilab_info;

/* The machine facts as a JSON object (info.c), for every report. */
void info_json(struct json *j, const char *key,
	       const struct xptilab_info *info, const struct platform *plat);

/* Subcommands: argv[0] is the subcommand's name; they return the exit status. */
int cmd_info(int argc, char **argv);
int cmd_cr3(int argc, char **argv);
int cmd_entry(int argc, char **argv);
int cmd_race(int argc, char **argv);
int cmd_ipi(int argc, char **argv);
int cmd_session(int argc, char **argv);		/* session.c */
int cmd_run_all(int argc, char **argv);		/* runall.c */
int cmd_report(int argc, char **argv);		/* render.c */
int cmd_compare(int argc, char **argv);		/* compare.c */
int cmd_merge(int argc, char **argv);		/* results.c */

/* Is NAME a subcommand of this build? (run-all: "not built" otherwise) */
bool xptilab_have_command(const char *name);

#endif /* XPTILAB_TOOL_H */
