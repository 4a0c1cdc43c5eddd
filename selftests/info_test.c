// SPDX-License-Identifier: GPL-2.0
/*
 * XPTILAB_IOC_INFO tells the truth: it agrees with /proc/cpuinfo, sysfs and
 * what a user-mode probe can see; the debugfs info file and the tool's
 * `info --json` agree with it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define DEBUGFS_INFO	"/sys/kernel/debug/xptilab/info"
#define ASAN_TOOL	"/usr/bin/xptilab-asan"

static const struct feature {
	const char *name;	/* in debugfs and JSON */
	__u64 bit;
	const char *flag;	/* in /proc/cpuinfo, if there */
} features[] = {
	{ "pti",		XPTILAB_FEAT_PTI,	"pti" },
	{ "pcid",		XPTILAB_FEAT_PCID,	"pcid" },
	{ "invpcid",		XPTILAB_FEAT_INVPCID,	"invpcid" },
	{ "pge",		XPTILAB_FEAT_PGE,	"pge" },
	{ "smep",		XPTILAB_FEAT_SMEP,	"smep" },
	{ "smap",		XPTILAB_FEAT_SMAP,	"smap" },
	{ "umip",		XPTILAB_FEAT_UMIP,	"umip" },
	{ "la57",		XPTILAB_FEAT_LA57,	"la57" },
	{ "hypervisor",		XPTILAB_FEAT_HYPERVISOR, "hypervisor" },
	{ "ia32_emulation",	XPTILAB_FEAT_IA32_EMU,	NULL },
	/* Linux keeps the "pcid" flag exactly when it sets CR4.PCIDE */
	{ "pcid_in_use",	XPTILAB_FEAT_PCIDE,	"pcid" },
	{ "pcid_cpuid",		XPTILAB_FEAT_PCID_CPUID, NULL },
};

static bool has(const struct xptilab_info *info, const struct feature *f)
{
	return info->features & f->bit;
}

static void trim(char *s)
{
	size_t len = strlen(s), start = 0;

	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	while (isspace((unsigned char)s[start]))
		start++;
	memmove(s, s + start, len - start + 1);
}

/* A field of the first processor in /proc/cpuinfo, trimmed; false if absent. */
static bool cpuinfo_field(const char *name, char *val, size_t size)
{
	static char line[8192];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");
	size_t len = strlen(name);

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f) && line[0] != '\n') {
		if (strncmp(line, name, len) || !strchr(" \t:", line[len]))
			continue;
		found = true;
		snprintf(val, size, "%s", strchr(line, ':') + 1);
		trim(val);
	}
	fclose(f);
	return found;
}

static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
	return false;
}

static void read_info(struct __test_metadata *_metadata,
		      struct xptilab_info *info)
{
	int fd;

	OPEN_DEVICE(fd);
	ASSERT_EQ(0, get_info(fd, info)) TH_LOG("INFO: %s", strerror(errno));
	close(fd);
}

TEST(features_match_proc_cpuinfo)
{
	static char flags[8192];
	struct xptilab_info info;

	REQUIRE_MODULE();
	read_info(_metadata, &info);
	ASSERT_TRUE(cpuinfo_field("flags", flags, sizeof(flags)));
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		const struct feature *f = &features[i];

		if (!f->flag)
			continue;
		EXPECT_EQ(has_word(flags, f->flag), has(&info, f))
			TH_LOG("%s: INFO says %d, /proc/cpuinfo says %d", f->name,
			       has(&info, f), has_word(flags, f->flag));
	}
}

TEST(cpu_model_matches_proc_cpuinfo)
{
	char model[256];
	struct xptilab_info info;

	REQUIRE_MODULE();
	read_info(_metadata, &info);
	ASSERT_TRUE(cpuinfo_field("model name", model, sizeof(model)));
	trim(info.cpu_model);
	EXPECT_STREQ(model, info.cpu_model);
}

TEST(pti_matches_meltdown_status)
{
	const char *path = "/sys/devices/system/cpu/vulnerabilities/meltdown";
	struct xptilab_info info;
	char status[256] = "";
	FILE *f;

	REQUIRE_MODULE();
	read_info(_metadata, &info);
	f = fopen(path, "re");
	if (!f)
		SKIP(return, "%s: %s", path, strerror(errno));
	ASSERT_NE(NULL, fgets(status, sizeof(status), f));
	fclose(f);
	EXPECT_EQ(!!strstr(status, "PTI"), !!(info.features & XPTILAB_FEAT_PTI))
		TH_LOG("meltdown: %s", status);
}

/* Number of CPUs in a sysfs CPU list such as "0-3,8". */
static unsigned int count_cpulist(const char *s)
{
	unsigned int n = 0;
	char *end;

	while (*s && *s != '\n') {
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		n += hi - lo + 1;
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s != '\n' && *s)
			break;	/* malformed */
	}
	return n;
}

TEST(cpus_and_paging_levels)
{
	struct xptilab_info info;
	char possible[256] = "";
	FILE *f;

	REQUIRE_MODULE();
	read_info(_metadata, &info);
	EXPECT_EQ(sysconf(_SC_NPROCESSORS_ONLN), (long)info.cpus_online);

	f = fopen("/sys/devices/system/cpu/possible", "re");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(possible, sizeof(possible), f));
	fclose(f);
	EXPECT_EQ(count_cpulist(possible), info.cpus_possible)
		TH_LOG("possible: %s", possible);

	EXPECT_EQ(info.features & XPTILAB_FEAT_LA57 ? 5u : 4u, info.paging_levels);
}

/* getpid through the 32-bit system call gate from 64-bit code. */
static int int80_getpid(void *arg)
{
	long ret = 20;	/* __NR_getpid of the i386 table */

	asm volatile("int $0x80" : "+a"(ret) : : "memory", "rcx", "r11",
		     "r8", "r9", "r10");
	return ret == getpid() ? 0 : 1;
}

TEST(ia32_emulation_matches_int80)
{
	struct xptilab_info info;
	int status;

	REQUIRE_MODULE();
	read_info(_metadata, &info);
	status = run_in_child(int80_getpid, NULL);
	if (info.features & XPTILAB_FEAT_IA32_EMU) {
		EXPECT_EQ(0, status) TH_LOG("int $0x80 getpid: status %d", status);
	} else {
		EXPECT_EQ(128 + SIGSEGV, status)
			TH_LOG("int $0x80 getpid: status %d", status);
	}
}

/* The value of name in debugfs "name: value" lines, trimmed. */
static bool debugfs_value(const char *text, const char *name, char *val,
			  size_t size)
{
	size_t len = strlen(name);

	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, len) || p[len] != ':')
			continue;
		snprintf(val, size, "%.*s", (int)strcspn(p + len + 1, "\n"),
			 p + len + 1);
		trim(val);
		return true;
	}
	return false;
}

static bool debugfs_mounted(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, " /sys/kernel/debug debugfs ") != NULL;
	if (f)
		fclose(f);
	return found;
}

TEST(debugfs_agrees_with_ioctl)
{
	static char text[4096];
	struct xptilab_info info;
	char val[256], want[256];
	size_t len;
	FILE *f;
	const char *const names[] = {
		"abi_version", "cpus", "cpus_possible", "paging_levels",
		"clone_global",
	};

	REQUIRE_MODULE();
	if (!debugfs_mounted())
		SKIP(return, "debugfs is not mounted");
	read_info(_metadata, &info);
	f = fopen(DEBUGFS_INFO, "re");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", DEBUGFS_INFO, strerror(errno));
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const __u32 values[ARRAY_SIZE(names)] = {
			info.abi_version, info.cpus_online, info.cpus_possible,
			info.paging_levels, info.clone_global,
		};

		snprintf(want, sizeof(want), "%u", values[i]);
		ASSERT_TRUE(debugfs_value(text, names[i], val, sizeof(val)))
			TH_LOG("no %s in %s", names[i], DEBUGFS_INFO);
		EXPECT_STREQ(want, val) TH_LOG("%s", names[i]);
	}
	ASSERT_TRUE(debugfs_value(text, "kernel", val, sizeof(val)));
	EXPECT_STREQ(info.kernel_release, val);
	ASSERT_TRUE(debugfs_value(text, "cpu_model", val, sizeof(val)));
	trim(info.cpu_model);
	EXPECT_STREQ(info.cpu_model, val);
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		ASSERT_TRUE(debugfs_value(text, features[i].name, val, sizeof(val)))
			TH_LOG("no %s in %s", features[i].name, DEBUGFS_INFO);
		EXPECT_STREQ(has(&info, &features[i]) ? "1" : "0", val)
			TH_LOG("%s", features[i].name);
	}
}

/* The text right after "key": in a flat JSON object, or NULL. */
static const char *json_value(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return NULL;
	for (p += strlen(pat); isspace((unsigned char)*p); p++)
		;
	return p;
}

/* Does the JSON value at v read exactly as the literal text want? */
static bool json_is(const char *v, const char *want)
{
	size_t len = strlen(want);

	return v && !strncmp(v, want, len) && strchr(",}\n \t", v[len]);
}

static void check_tool_json(struct __test_metadata *_metadata, const char *tool)
{
	static char out[8192];
	struct xptilab_info info;
	const char *emulator = getenv("XPTILAB_EMULATOR");
	char cmd[128], want[256];
	size_t len;
	FILE *p;
	int status;

	read_info(_metadata, &info);
	snprintf(cmd, sizeof(cmd), "%s info --json", tool);
	p = popen(cmd, "re");
	ASSERT_NE(NULL, p) TH_LOG("popen %s: %s", cmd, strerror(errno));
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	status = pclose(p);
	ASSERT_EQ(0, status) TH_LOG("'%s' exit status %#x, output:\n%s", cmd,
				    status, out);

	ASSERT_EQ('{', out[0]);
	snprintf(want, sizeof(want), "%u", info.abi_version);
	EXPECT_TRUE(json_is(json_value(out, "abi_version"), want));
	snprintf(want, sizeof(want), "\"%s\"", info.kernel_release);
	EXPECT_TRUE(json_is(json_value(out, "kernel"), want));
	snprintf(want, sizeof(want), "%u", info.cpus_online);
	EXPECT_TRUE(json_is(json_value(out, "cpus"), want));
	snprintf(want, sizeof(want), "%u", info.cpus_possible);
	EXPECT_TRUE(json_is(json_value(out, "cpus_possible"), want));
	snprintf(want, sizeof(want), "%u", info.paging_levels);
	EXPECT_TRUE(json_is(json_value(out, "paging_levels"), want));
	snprintf(want, sizeof(want), "%u", info.clone_global);
	EXPECT_TRUE(json_is(json_value(out, "clone_global"), want));
	EXPECT_NE(NULL, json_value(out, "cpu_model"));
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		EXPECT_TRUE(json_is(json_value(out, features[i].name),
				    has(&info, &features[i]) ? "true" : "false"))
			TH_LOG("%s", features[i].name);
	}

	/* a signature string exactly when CPUID says there is a hypervisor */
	ASSERT_NE(NULL, json_value(out, "hypervisor_vendor"));
	if (info.features & XPTILAB_FEAT_HYPERVISOR) {
		EXPECT_EQ('"', *json_value(out, "hypervisor_vendor"));
	} else {
		EXPECT_TRUE(json_is(json_value(out, "hypervisor_vendor"), "null"));
	}
	if (emulator && *emulator) {
		snprintf(want, sizeof(want), "\"%s\"", emulator);
		EXPECT_TRUE(json_is(json_value(out, "emulator"), want));
		EXPECT_TRUE(json_is(json_value(out, "emulated"), "true"));
	} else {
		EXPECT_TRUE(json_is(json_value(out, "emulator"), "null"));
		EXPECT_NE(NULL, json_value(out, "emulated"));
	}
	if (!_metadata->passed)
		TH_LOG("'%s' printed:\n%s", cmd, out);
}

/* Is word one of /proc/cmdline's words? */
static bool cmdline_has(const char *word)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "re");
	size_t len;

	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	trim(buf);
	return has_word(buf, word);
}

/*
 * Every record says whether PCID was in use (docs/design.md): CR4.PCIDE,
 * the CPUID bit, `nopcid` on the command line, and the mode the tool
 * derives from them. With `nopcid` PCID must be off whatever the CPU has;
 * the CPUID bit is the CPU's own (compared with a user-mode CPUID).
 */
TEST(pcid_mode_is_recorded)
{
	static char out[8192];
	unsigned int eax, ebx, ecx, edx;
	struct xptilab_info info;
	bool nopcid = cmdline_has("nopcid");
	const char *mode;
	char want[64];

	REQUIRE_MODULE();
	read_info(_metadata, &info);
	ASSERT_NE(0, !!(info.features & XPTILAB_FEAT_PCID_KNOWN))
		TH_LOG("the module does not report CR4.PCIDE");
	__asm__ __volatile__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
			     : "a"(1), "c"(0));
	EXPECT_EQ(!!(ecx & (1u << 17)),
		  !!(info.features & XPTILAB_FEAT_PCID_CPUID));
	if (nopcid)
		EXPECT_EQ(0, !!(info.features & XPTILAB_FEAT_PCIDE))
			TH_LOG("booted with nopcid, but CR4.PCIDE is set");
	if (info.features & XPTILAB_FEAT_PCIDE)
		mode = "pcid";
	else if (!(info.features & XPTILAB_FEAT_PCID_CPUID))
		mode = "absent";
	else
		mode = nopcid ? "nopcid" : "off";
	ASSERT_EQ(0, run_cmd("xptilab info --json", out, sizeof(out)));
	snprintf(want, sizeof(want), "\"%s\"", mode);
	EXPECT_TRUE(json_is(json_value(out, "pcid_mode"), want))
		TH_LOG("pcid_mode: want %s in %s", want, out);
	EXPECT_TRUE(json_is(json_value(out, "nopcid"), nopcid ? "true" : "false"));
	ksft_print_msg("pcid: nopcid on the command line %s, CR4.PCIDE %d, CPUID.PCID %d, pcid_mode %s\n",
		       nopcid ? "yes" : "no",
		       !!(info.features & XPTILAB_FEAT_PCIDE),
		       !!(info.features & XPTILAB_FEAT_PCID_CPUID), mode);
	fflush(stdout);
}

TEST(tool_info_json)
{
	REQUIRE_MODULE();
	check_tool_json(_metadata, "xptilab");
}

TEST(tool_asan_info_json)
{
	REQUIRE_MODULE();
	if (access(ASAN_TOOL, X_OK))
		SKIP(return, "%s: %s", ASAN_TOOL, strerror(errno));
	check_tool_json(_metadata, ASAN_TOOL);
}

TEST_HARNESS_MAIN
