// SPDX-License-Identifier: GPL-2.0
/* Access to the xptilab module's device, see dev.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

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
