// SPDX-License-Identifier: GPL-2.0
/* Access to the xptilab module's device, see dev.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dev.h"
#include "xptilab.h"

static const char *hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return " (is the module loaded?)";
	case EACCES:
	case EPERM:
		return " (needs root with CAP_SYS_ADMIN)";
	default:
		return "";
	}
}

int dev_try_open(void)
{
	int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dev_open(void)
{
	int fd = open(XPTILAB_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		xptilab_err("%s: %s%s", XPTILAB_DEVICE, strerror(errno),
			    hint(errno));
	return fd;
}

int dev_info(int fd, struct xptilab_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, XPTILAB_IOC_INFO, info) < 0) {
		xptilab_err("%s: XPTILAB_IOC_INFO: %s%s", XPTILAB_DEVICE,
			    strerror(errno), hint(errno));
		return -1;
	}
	info->kernel_release[sizeof(info->kernel_release) - 1] = '\0';
	info->cpu_model[sizeof(info->cpu_model) - 1] = '\0';
	return 0;
}

/* Is word a whole word of the space-separated list s? */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(s, word); p; p = strstr(p + 1, word))
		if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

int sys_info(struct xptilab_info *info)
{
	static const struct {
		const char *flag;
		__u64 bit;
	} flags[] = {
		{ "pti", XPTILAB_FEAT_PTI }, { "pcid", XPTILAB_FEAT_PCID },
		{ "invpcid", XPTILAB_FEAT_INVPCID }, { "pge", XPTILAB_FEAT_PGE },
		{ "smep", XPTILAB_FEAT_SMEP }, { "smap", XPTILAB_FEAT_SMAP },
		{ "umip", XPTILAB_FEAT_UMIP }, { "la57", XPTILAB_FEAT_LA57 },
		{ "hypervisor", XPTILAB_FEAT_HYPERVISOR },
	};
	char line[4096];
	struct utsname u;
	FILE *f;

	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (!uname(&u))
		snprintf(info->kernel_release, sizeof(info->kernel_release),
			 "%s", u.release);
	info->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	info->cpus_possible = sysconf(_SC_NPROCESSORS_CONF);
	info->paging_levels = 4;
	f = fopen("/proc/cpuinfo", "re");
	if (!f) {
		xptilab_err("/proc/cpuinfo: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		v += 2;
		if (!strncmp(line, "model name", 10) && !*info->cpu_model) {
			v[strcspn(v, "\n")] = '\0';
			snprintf(info->cpu_model, sizeof(info->cpu_model), "%s", v);
		} else if (!strncmp(line, "flags", 5) && !info->features) {
			for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
				if (has_word(v, flags[i].flag))
					info->features |= flags[i].bit;
			/* the kernel lists la57 only when it uses 5-level paging */
			if (info->features & XPTILAB_FEAT_LA57)
				info->paging_levels = 5;
		}
	}
	fclose(f);
	return 0;
}
