/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xptilab selftests; include after kselftest_harness.h.
 * Programs that need the module SKIP when it is not loaded (e.g. on a host
 * without it), but fail when it is loaded and misbehaves.
 */
#ifndef XPTILAB_SELFTESTS_HELPERS_H
#define XPTILAB_SELFTESTS_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uapi/xptilab.h>

#define MODULE_NAME "xptilab"

/* Exit status of a child whose set-up (not the operation tested) failed. */
#define CHILD_SETUP_FAILED 250

/* Is the module called name in /proc/modules? */
static inline bool module_named_loaded(const char *name)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, strlen(name)) &&
			line[strlen(name)] == ' ';
	fclose(f);
	return found;
}

static inline bool module_loaded(void)
{
	return module_named_loaded(MODULE_NAME);
}

/* SKIP the test unless it runs as root and the module is loaded. */
#define REQUIRE_MODULE() do { \
	if (geteuid() != 0) \
		SKIP(return, "needs root"); \
	if (!module_loaded()) \
		SKIP(return, "the " MODULE_NAME " module is not loaded"); \
} while (0)

/* SKIP unless the module is loaded and $XPTILAB_KO can reload it. */
#define REQUIRE_RELOADABLE() do { \
	REQUIRE_MODULE(); \
	if (!getenv("XPTILAB_KO")) \
		SKIP(return, "XPTILAB_KO is not set"); \
	if (access(getenv("XPTILAB_KO"), R_OK)) \
		SKIP(return, "%s: %s", getenv("XPTILAB_KO"), strerror(errno)); \
} while (0)

/* Open the device into fd or fail the test. */
#define OPEN_DEVICE(fd) do { \
	(fd) = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC); \
	ASSERT_LE(0, (fd)) \
		TH_LOG("open %s: %s", XPTILAB_DEVICE, strerror(errno)); \
} while (0)

/* A well-formed XPTILAB_IOC_INFO; returns ioctl()'s result, errno set. */
static inline int get_info(int fd, struct xptilab_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, XPTILAB_IOC_INFO, info);
}

/*
 * Run fn(arg) in a child process (so that what it drops, the test keeps).
 * Returns the child's exit status, 128 + signal if it was killed, -1 if
 * it could not be run.
 */
static inline int run_in_child(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* 0 when the call succeeded, its errno when it failed. */
static inline int errno_of(long ret)
{
	return ret < 0 ? errno : 0;
}

/*
 * Run cmd through popen(); up to size - 1 bytes of its output into out
 * (NUL-terminated), the rest read and dropped so the command is never
 * killed by SIGPIPE. Returns its exit status, or -1.
 */
static inline int run_cmd(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "re");
	size_t len = 0, n;
	int status;

	out[0] = '\0';
	if (!p)
		return -1;
	while (len < size - 1 &&
	       (n = fread(out + len, 1, size - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Pin the calling thread to cpu; 0 or -1 with errno. */
static inline int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The tool the selftests run: the sanitizer build when installed. */
static inline const char *tool_path(void)
{
	return access("/usr/bin/xptilab-asan", X_OK) ? "xptilab" :
	       "/usr/bin/xptilab-asan";
}

#endif /* XPTILAB_SELFTESTS_HELPERS_H */
