// SPDX-License-Identifier: GPL-2.0
/*
 * `xptilab run-all --out DIR [--quick]`: every experiment, one after the
 * other, each in a child process (this binary, exec'd again) so that one
 * experiment's failure cannot take the others' results with it. Each
 * child's JSON goes to DIR/<experiment>.json unchanged; DIR/results.json
 * then holds the machine facts, the NUMA topology and one record per
 * variant (docs/results.md). Progress goes to stderr, the summary table
 * to stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "json.h"
#include "jsonp.h"
#include "platform.h"
#include "render.h"
#include "results.h"
#include "stale.h"
#include "xptilab.h"

#define MAX_ARGS	12
#define HEARTBEAT_S	15
#define NODE_DIR	"/sys/devices/system/node"
/* race's status for "cannot run here" (one CPU): its JSON says why. */
#define EXIT_SKIPPED	4

/*
 * Sized so that the four take well under a minute in a 4-CPU QEMU TCG
 * guest on a 2-core host (docs/methodology.md has measured times), and
 * `make bench` (three guests) stays within 10 minutes on a loaded host.
 */
static const struct experiment {
	const char *name;
	const char *args[MAX_ARGS];
	const char *quick[MAX_ARGS];
	bool rounds;			/* sampled in rounds: --samples FILE */
} experiments[] = {
	{ "cr3", { "--rounds", "401", "--block", "25", "--touch", "16" },
		 { "--rounds", "6", "--block", "100", "--touch", "16" }, true },
	{ "entry", { "--rounds", "401", "--block", "25" },
		   { "--rounds", "6", "--block", "100" }, true },
	{ "ipi", { "--rounds", "21", "--block", "50" },
		 { "--rounds", "6", "--block", "20" }, true },
	{ "race", { "--seconds", "5" },
		  { "--seconds", "1" }, false },
	{ "stale", { "--trials", "50" },
		   { "--trials", "10" }, false },
};

/* Raw variant keys that identify a measurement rather than describe it. */
static const char *const param_keys[] = {
	"set", "cpus", "targets", "distance", "node", "window", "touch_pages",
	"mode",
};

/* Raw variant keys results.json has as its own fields. */
static const char *const std_keys[] = {
	"name", "unit", "skipped", "reason", "n", "min", "median", "p90",
	"p99", "max", "mean", "stddev", "dropped", "cr3_writes",
	"global_flushes",
};

enum exp_status { EXP_OK, EXP_SKIPPED, EXP_FAILED, EXP_NOT_BUILT };

static const char *const status_names[] = {
	[EXP_OK] = "ok", [EXP_SKIPPED] = "skipped", [EXP_FAILED] = "failed",
	[EXP_NOT_BUILT] = "not built",
};

struct exp_run {
	enum exp_status status;
	int exit_status;		/* -1: killed by a signal or not run */
	double seconds;
	char reason[256];
	char args[256];
	struct jv *raw;			/* the parsed DIR/<name>.json */
};

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(FILE *out, int status)
{
	fprintf(out,
		"usage: xptilab run-all --out DIR [--quick] [--only LIST]\n"
		"  Runs cr3, entry, ipi, race and stale (each as `xptilab NAME --json`), keeps\n"
		"  each one's output as DIR/NAME.json and writes DIR/results.json\n"
		"  (docs/results.md). Needs the module loaded; render with\n"
		"  `xptilab report DIR` (scripts/report) on a machine with gnuplot.\n"
		"  --quick      about a tenth of the samples (a smoke run)\n"
		"  --only LIST  only these experiments, e.g. cr3,entry\n"
		"  --rounds K, --block M  rounds and block size of the experiments\n"
		"               sampled in rounds (cr3, entry), instead of their defaults\n");
	return status;
}

static int mkdir_p(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

/* Run `self NAME --json ARGS` with stdout into path; progress meanwhile. */
/* run-all --rounds / --block: replace those values (NULL: keep). */
static const char *opt_rounds, *opt_block;

static void run_child(const char *self, const struct experiment *e,
		      bool quick, const char *path, int idx, int total,
		      struct exp_run *x)
{
	const char *const *extra = quick ? e->quick : e->args;
	char *argv[MAX_ARGS + 6], samples[4096];
	double t0 = now_s(), last = t0;
	int argc = 0, fd, wstatus;
	size_t off = 0;
	pid_t pid;

	argv[argc++] = (char *)self;
	argv[argc++] = (char *)e->name;
	argv[argc++] = "--json";
	for (int i = 0; i < MAX_ARGS && extra[i]; i++) {
		const char *a = extra[i];

		if (i > 0 && opt_rounds && !strcmp(extra[i - 1], "--rounds"))
			a = opt_rounds;
		if (i > 0 && opt_block && !strcmp(extra[i - 1], "--block"))
			a = opt_block;
		argv[argc++] = (char *)a;
	}
	if (e->rounds) {
		/* the raw samples beside NAME.json: NAME.samples */
		snprintf(samples, sizeof(samples), "%.*s.samples",
			 (int)(strlen(path) - 5), path);
		argv[argc++] = "--samples";
		argv[argc++] = samples;
	}
	argv[argc] = NULL;
	for (int i = 2; i < argc; i++)
		off += snprintf(x->args + off, off < sizeof(x->args) ?
				sizeof(x->args) - off : 0, "%s%s",
				i > 2 ? " " : "", argv[i]);

	fprintf(stderr, "run-all: [%d/%d] %s: xptilab %s %s\n", idx, total,
		e->name, e->name, x->args);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		x->status = EXP_FAILED;
		snprintf(x->reason, sizeof(x->reason), "%.160s: %s", path,
			 strerror(errno));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd);
		x->status = EXP_FAILED;
		snprintf(x->reason, sizeof(x->reason), "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		execv(self, argv);
		fprintf(stderr, "xptilab: run-all: exec %s: %s\n", self,
			strerror(errno));
		_exit(127);
	}
	close(fd);
	for (;;) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		pid_t got = waitpid(pid, &wstatus, WNOHANG);
		double t = now_s();

		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			x->status = EXP_FAILED;
			snprintf(x->reason, sizeof(x->reason), "waitpid: %s",
				 strerror(errno));
			return;
		}
		if (t - last >= HEARTBEAT_S) {
			fprintf(stderr, "run-all: [%d/%d] %s: running, %.0f s\n",
				idx, total, e->name, t - t0);
			last = t;
		}
		nanosleep(&ts, NULL);
	}
	x->seconds = now_s() - t0;
	x->exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	if (x->exit_status == 0 ||
	    (x->exit_status == EXIT_SKIPPED && !strcmp(e->name, "race"))) {
		x->status = x->exit_status ? EXP_SKIPPED : EXP_OK;
	} else {
		x->status = EXP_FAILED;
		if (WIFSIGNALED(wstatus))
			snprintf(x->reason, sizeof(x->reason),
				 "failed: killed by signal %d", WTERMSIG(wstatus));
		else
			snprintf(x->reason, sizeof(x->reason),
				 "failed: exit status %d (its messages are above)",
				 x->exit_status);
	}
}

static void write_numa(struct json *j)
{
	struct dirent **names = NULL;
	int n = scandir(NODE_DIR, &names, NULL, versionsort);

	json_object_begin(j, "numa");
	json_string(j, "source", NODE_DIR);
	json_array_begin(j, "nodes");
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		char path[512], buf[4096];
		FILE *f;

		if (strncmp(d, "node", 4) || d[4] < '0' || d[4] > '9')
			continue;
		json_object_begin(j, NULL);
		json_i64(j, "node", atoi(d + 4));
		snprintf(path, sizeof(path), NODE_DIR "/%s/cpulist", d);
		f = fopen(path, "re");
		if (f && fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			json_string(j, "cpus", buf);
		} else {
			json_null(j, "cpus");
		}
		if (f)
			fclose(f);
		/* to every online node, in the order of "nodes" */
		json_array_begin(j, "distance");
		snprintf(path, sizeof(path), NODE_DIR "/%s/distance", d);
		f = fopen(path, "re");
		if (f && fgets(buf, sizeof(buf), f)) {
			char *p = buf, *end;

			for (long v = strtol(p, &end, 10); end != p;
			     p = end, v = strtol(p, &end, 10))
				json_i64(j, NULL, v);
		}
		if (f)
			fclose(f);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void skipped_record(struct json *j, const char *exp, const char *variant,
			   const char *reason)
{
	json_object_begin(j, NULL);
	json_string(j, "experiment", exp);
	json_string(j, "variant", variant);
	json_bool(j, "skipped", true);
	json_string(j, "reason", reason);
	json_object_end(j);
}

/* An array of CPU numbers as "1,2,3". */
static void cpus_text(const struct jv *a, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n && off < len; i++)
		if (a->items[i].type == JV_NUM)
			off += snprintf(buf + off, len - off, "%s%.0f",
					off ? "," : "", a->items[i].num);
}

static void write_params(struct json *j, const struct jv *v)
{
	bool any = false;

	for (size_t k = 0; k < v->n; k++) {
		const char *key = v->keys[k];
		const struct jv *x = &v->items[k];

		if (!in_list(key, param_keys, ARRAY_SIZE(param_keys)))
			continue;
		if (!any) {
			json_object_begin(j, "params");
			any = true;
		}
		if (x->type == JV_ARR) {
			char buf[1024];

			cpus_text(x, buf, sizeof(buf));
			json_string(j, key, buf);
		} else if (x->type == JV_NUM || x->type == JV_STR) {
			jv_write(j, key, x);
		}
	}
	if (any)
		json_object_end(j);
}

static void write_extra(struct json *j, const struct jv *v,
			const char *const *skip, size_t nskip)
{
	bool any = false;

	for (size_t k = 0; k < v->n; k++) {
		const char *key = v->keys[k];

		if (v->items[k].type != JV_NUM ||
		    in_list(key, param_keys, ARRAY_SIZE(param_keys)) ||
		    in_list(key, skip, nskip))
			continue;
		if (!any) {
			json_object_begin(j, "extra");
			any = true;
		}
		jv_write(j, key, &v->items[k]);
	}
	if (any)
		json_object_end(j);
}

static void copy_or_null(struct json *j, const struct jv *obj, const char *key)
{
	const struct jv *v = jv_get(obj, key);

	if (v && v->type == JV_NUM)
		jv_write(j, key, v);
	else
		json_null(j, key);
}

static const char *const stat_keys[] = {
	"n", "min", "median", "p90", "p99", "max", "mean", "stddev",
};

static bool is_type(const struct jv *obj, const char *key, enum jv_type t)
{
	const struct jv *v = jv_get(obj, key);

	return v && v->type == t;
}

/* Has a report.c-style output the form stats_records() needs? */
static bool stats_form_ok(const struct jv *raw)
{
	const struct jv *vars = jv_get(raw, "variants");

	if (!vars || vars->type != JV_ARR)
		return false;
	for (size_t i = 0; i < vars->n; i++) {
		const struct jv *v = &vars->items[i];

		if (!is_type(v, "name", JV_STR) || !is_type(v, "unit", JV_STR) ||
		    !is_type(v, "skipped", JV_BOOL))
			return false;
		if (jv_get(v, "skipped")->b)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(stat_keys); k++)
			if (!is_type(v, stat_keys[k], JV_NUM))
				return false;
	}
	return true;
}

/*
 * A record's blocks, from the experiment's top-level "blocks" (one entry
 * per variant: null, or rows in the order of "block_fields"), written as
 * objects into results.json.
 */
static void write_blocks(struct json *j, const struct jv *raw, size_t i)
{
	const struct jv *all = jv_get(raw, "blocks"), *names = jv_get(raw, "block_fields");
	const struct jv *rows;

	if (!all || all->type != JV_ARR || i >= all->n || !names || names->type != JV_ARR)
		return;
	rows = &all->items[i];
	if (rows->type != JV_ARR)
		return;
	json_array_begin(j, "blocks");
	for (size_t b = 0; b < rows->n; b++) {
		const struct jv *row = &rows->items[b];

		if (row->type != JV_ARR)
			continue;
		json_object_begin(j, NULL);
		for (size_t f = 0; f < row->n && f < names->n; f++)
			if (names->items[f].type == JV_STR)
				jv_write(j, names->items[f].str, &row->items[f]);
		json_object_end(j);
	}
	json_array_end(j);
}

/* One record per variant of a report.c-style output (stats_form_ok()). */
static int stats_records(struct json *j, const char *exp, const struct jv *raw)
{
	const struct jv *vars = jv_get(raw, "variants");
	int n = 0;

	for (size_t i = 0; i < vars->n; i++) {
		const struct jv *v = &vars->items[i], *x;
		const struct jv *name = jv_get(v, "name"), *unit = jv_get(v, "unit");
		const struct jv *skipped = jv_get(v, "skipped");

		json_object_begin(j, NULL);
		json_string(j, "experiment", exp);
		json_string(j, "variant", name->str);
		json_string(j, "unit", unit->str);
		json_bool(j, "skipped", skipped->b);
		if (skipped->b) {
			x = jv_get(v, "reason");
			json_string(j, "reason", x && x->type == JV_STR ?
				    x->str : "(no reason given)");
		} else {
			for (size_t k = 0; k < ARRAY_SIZE(stat_keys); k++)
				jv_write(j, stat_keys[k], jv_get(v, stat_keys[k]));
			if (jv_get(v, "dropped"))
				copy_or_null(j, v, "dropped");
		}
		copy_or_null(j, v, "cr3_writes");
		copy_or_null(j, v, "global_flushes");
		write_params(j, v);
		write_extra(j, v, std_keys, ARRAY_SIZE(std_keys));
		if (!skipped->b)
			write_blocks(j, raw, i);
		json_object_end(j);
		n++;
	}
	return n;
}

static bool race_skipped(const struct jv *raw)
{
	const struct jv *sk = jv_get(raw, "skipped");

	return sk && sk->type == JV_BOOL && sk->b;
}

static bool race_form_ok(const struct jv *raw)
{
	const struct jv *gates = jv_get(raw, "gates");

	if (race_skipped(raw))
		return true;
	if (!gates || gates->type != JV_ARR)
		return false;
	for (size_t i = 0; i < gates->n; i++) {
		const struct jv *g = &gates->items[i];

		if (!is_type(g, "gate", JV_STR) || !is_type(g, "race_hits", JV_NUM) ||
		    !is_type(g, "entries", JV_NUM))
			return false;
	}
	return true;
}

/* race's own format (race_form_ok()): a record per gate, with counts. */
static int race_records(struct json *j, const struct jv *raw)
{
	static const char *const own[] = {
		"gate", "cr3_writes", "global_flushes", "race_hits", "entries",
		"ipis", "deferred", "race_hits_per_million_entries",
	};
	const struct jv *gates = jv_get(raw, "gates");
	int n = 0;

	if (race_skipped(raw)) {
		const struct jv *why = jv_get(raw, "reason");

		skipped_record(j, "race", "all", why && why->type == JV_STR ?
			       why->str : "(no reason given)");
		return 1;
	}
	for (size_t i = 0; i < gates->n; i++) {
		const struct jv *g = &gates->items[i], *gate = jv_get(g, "gate");
		double hits = jv_num(g, "race_hits"), entries = jv_num(g, "entries");

		json_object_begin(j, NULL);
		json_string(j, "experiment", "race");
		json_string(j, "variant", gate->str);
		json_string(j, "unit", "count");
		json_bool(j, "skipped", false);
		copy_or_null(j, g, "cr3_writes");
		copy_or_null(j, g, "global_flushes");
		jv_write(j, "race_hits", jv_get(g, "race_hits"));
		jv_write(j, "entries", jv_get(g, "entries"));
		copy_or_null(j, g, "ipis");
		copy_or_null(j, g, "deferred");
		json_double(j, "hits_per_million",
			    entries > 0 ? 1e6 * hits / entries : 0.0);
		write_params(j, g);
		write_extra(j, g, own, ARRAY_SIZE(own));
		json_object_end(j);
		n++;
	}
	return n;
}

static void utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool selected(const char *only, const char *name)
{
	size_t n = strlen(name);

	if (!only)
		return true;
	for (const char *p = only; *p; ) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

static bool only_ok(const char *only)
{
	for (const char *p = only; *p; ) {
		size_t len = strcspn(p, ",");
		bool known = false;

		for (size_t i = 0; i < ARRAY_SIZE(experiments); i++)
			if (strlen(experiments[i].name) == len &&
			    !strncmp(p, experiments[i].name, len))
				known = true;
		if (!known) {
			xptilab_err("run-all: --only: unknown experiment '%.*s' (cr3, entry, ipi, race)",
				    (int)len, p);
			return false;
		}
		p += len;
		if (*p)
			p++;
	}
	return true;
}

int cmd_run_all(int argc, char **argv)
{
	const char *out = NULL, *only = NULL;
	struct exp_run runs[ARRAY_SIZE(experiments)];
	char self[4096], path[4200], now[32], err[256];
	struct xptilab_info info;
	struct platform plat;
	struct results res;
	bool quick = false, no_module = false;
	int fd, total = 0, idx = 0, status = 0;
	ssize_t len;
	struct json j;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
			if (!only_ok(only))
				return EXIT_USAGE;
		} else if ((!strcmp(argv[i], "--rounds") || !strcmp(argv[i], "--block")) &&
			   i + 1 < argc && strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]) &&
			   argv[i + 1][0]) {
			if (!strcmp(argv[i], "--rounds"))
				opt_rounds = argv[++i];
			else
				opt_block = argv[++i];
		} else {
			xptilab_err("run-all: bad argument '%s'", argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (!out) {
		xptilab_err("run-all: --out DIR is required");
		return usage(stderr, EXIT_USAGE);
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		xptilab_err("run-all: /proc/self/exe: %s", strerror(errno));
		return 1;
	}
	self[len] = '\0';
	if (mkdir_p(out)) {
		xptilab_err("run-all: %s: %s", out, strerror(errno));
		return 1;
	}
	/*
	 * Without the module (a Xen PV guest, where it refuses to load),
	 * only entry runs (its module-free variants); the others SKIP.
	 */
	fd = dev_try_open();
	if (fd < 0) {
		no_module = true;
		if (sys_info(&info))
			return 1;
		fprintf(stderr, "run-all: %s not available: only the experiments that need no module run\n",
			XPTILAB_DEVICE);
	} else if (dev_info(fd, &info)) {
		close(fd);
		return 1;
	} else {
		close(fd);
	}
	platform_probe(&plat);

	for (size_t i = 0; i < ARRAY_SIZE(experiments); i++)
		total += selected(only, experiments[i].name);
	memset(runs, 0, sizeof(runs));
	for (size_t i = 0; i < ARRAY_SIZE(experiments); i++) {
		const struct experiment *e = &experiments[i];
		struct exp_run *x = &runs[i];

		x->exit_status = -1;
		if (!selected(only, e->name)) {
			x->status = EXP_SKIPPED;
			snprintf(x->reason, sizeof(x->reason), "not selected (--only %.100s)",
				 only);
			continue;
		}
		idx++;
		if (!xptilab_have_command(e->name)) {
			x->status = EXP_NOT_BUILT;
			snprintf(x->reason, sizeof(x->reason), "not built");
			fprintf(stderr, "run-all: [%d/%d] %s: not built into this xptilab; skipped\n",
				idx, total, e->name);
			continue;
		}
		if (no_module && strcmp(e->name, "entry")) {
			x->status = EXP_SKIPPED;
			snprintf(x->reason, sizeof(x->reason), "needs the module (%s not available)",
				 XPTILAB_DEVICE);
			goto report;
		}
		if ((!strcmp(e->name, "ipi") || !strcmp(e->name, "stale")) &&
		    info.cpus_online < 2) {
			/* ipi refuses (EXIT_USAGE) with no target CPU: not a failure */
			x->status = EXP_SKIPPED;
			snprintf(x->reason, sizeof(x->reason),
				 "needs two online CPUs: an initiator and a target");
			goto report;
		}
		snprintf(path, sizeof(path), "%s/%s.json", out, e->name);
		run_child(self, e, quick, path, idx, total, x);
		if (x->status == EXP_FAILED && x->exit_status < 0 && !x->seconds)
			goto report;
		x->raw = jv_load(path, err, sizeof(err));
		if (!x->raw && x->status != EXP_FAILED) {
			x->status = EXP_FAILED;
			snprintf(x->reason, sizeof(x->reason),
				 "failed: its output %s.json is not JSON (%.160s)",
				 e->name, err);
		} else if (x->raw && x->status != EXP_FAILED &&
			   !(!strcmp(e->name, "stale") ? stale_form_ok(x->raw) :
			     strcmp(e->name, "race") ? stats_form_ok(x->raw) :
			     race_form_ok(x->raw))) {
			x->status = EXP_FAILED;
			snprintf(x->reason, sizeof(x->reason),
				 "failed: its output %s.json does not have the expected form",
				 e->name);
		}
		if (x->status == EXP_SKIPPED && x->raw && !*x->reason) {
			const struct jv *why = jv_get(x->raw, "reason");

			if (why && why->type == JV_STR)
				snprintf(x->reason, sizeof(x->reason), "%s", why->str);
		}
report:
		/* a failure's reason says "failed: ..." itself */
		fprintf(stderr, "run-all: [%d/%d] %s: %s%s%s, %.1f s\n", idx, total,
			e->name, x->status == EXP_FAILED ? "" : status_names[x->status],
			*x->reason && x->status != EXP_FAILED ? ": " : "",
			x->reason, x->seconds);
	}

	snprintf(path, sizeof(path), "%s/results.json", out);
	f = fopen(path, "we");
	if (!f) {
		xptilab_err("run-all: %s: %s", path, strerror(errno));
		status = 1;
		goto out;
	}
	utc_now(now, sizeof(now));
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_u64(&j, "schema_version", RESULTS_SCHEMA_VERSION);
	json_string(&j, "generated_by", "xptilab " XPTILAB_VERSION);
	json_string(&j, "created", now);
	json_bool(&j, "quick", quick);
	info_json(&j, "machine", &info, &plat);
	write_numa(&j);
	json_object_begin(&j, "experiments");
	for (size_t i = 0; i < ARRAY_SIZE(experiments); i++) {
		const struct exp_run *x = &runs[i];
		const struct jv *ovh = x->raw ? jv_get(x->raw, "timer_overhead") : NULL;

		if (!selected(only, experiments[i].name))
			continue;
		json_object_begin(&j, experiments[i].name);
		json_string(&j, "status", status_names[x->status]);
		if (*x->reason)
			json_string(&j, "reason", x->reason);
		if (x->exit_status >= 0 || x->seconds) {
			json_string(&j, "args", x->args);
			json_i64(&j, "exit_status", x->exit_status);
			json_double(&j, "seconds", round(x->seconds * 10) / 10);
			snprintf(path, sizeof(path), "%s.json", experiments[i].name);
			json_string(&j, "output", path);
		}
		if (ovh && !isnan(jv_num(ovh, "median")))
			json_double(&j, "timer_overhead_median",
				    jv_num(ovh, "median"));
		if (x->raw && jv_get(x->raw, "rounds")) {
			const struct jv *rd = jv_get(x->raw, "rounds");

			jv_write(&j, "rounds", rd);
			if (rd->type == JV_OBJ && jv_get(rd, "samples") &&
			    jv_get(rd, "samples")->type == JV_STR) {
				const char *sp = jv_get(rd, "samples")->str;
				const char *base = strrchr(sp, '/');

				json_string(&j, "samples", base ? base + 1 : sp);
			}
		}
		json_object_end(&j);
	}
	json_object_end(&j);
	json_array_begin(&j, "records");
	for (size_t i = 0; i < ARRAY_SIZE(experiments); i++) {
		struct exp_run *x = &runs[i];
		const char *name = experiments[i].name;
		int n = 0;

		if (!selected(only, name))
			continue;
		/* stale's table is the "stale" member below, not records */
		if (!strcmp(name, "stale") && x->raw && x->status == EXP_OK)
			continue;
		if (x->raw && x->status != EXP_FAILED)
			n = !strcmp(name, "race") ? race_records(&j, x->raw) :
			    stats_records(&j, name, x->raw);
		if (x->status == EXP_FAILED || x->status == EXP_NOT_BUILT ||
		    (x->status == EXP_SKIPPED && !x->raw) || !n)
			skipped_record(&j, name, "all", *x->reason ? x->reason :
				       "the experiment reported no variant");
		if (x->status == EXP_FAILED)
			status = 1;
	}
	json_array_end(&j);
	for (size_t i = 0; i < ARRAY_SIZE(experiments); i++)
		if (!strcmp(experiments[i].name, "stale") && runs[i].raw &&
		    runs[i].status == EXP_OK)
			jv_write(&j, "stale", runs[i].raw);
	json_object_end(&j);
	if (fclose(f)) {
		xptilab_err("run-all: %s/results.json: %s", out, strerror(errno));
		status = 1;
		goto out;
	}

	/* Read back what was written: the same checks report and compare make. */
	snprintf(path, sizeof(path), "%s/results.json", out);
	if (results_load(path, &res)) {
		status = 1;
		goto out;
	}
	render_summary(stdout, &res);
	results_free(&res);
	fprintf(stderr, "run-all: wrote %s%s\n", path,
		status ? " (an experiment failed: see above)" : "");
out:
	for (size_t i = 0; i < ARRAY_SIZE(experiments); i++)
		jv_free(runs[i].raw);
	return status;
}
