// SPDX-License-Identifier: GPL-2.0
/* Xen facts without the module, see xen.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ioctl.h>

#include "xen.h"

/*
 * Linux's privcmd ABI (include/uapi/xen/privcmd.h, whose header needs
 * kernel-internal ones): a hypercall with up to five arguments.
 */
struct privcmd_hypercall {
	uint64_t op;
	uint64_t arg[5];
};

#define IOCTL_PRIVCMD_HYPERCALL \
	_IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))

/* Xen's public ABI (xen/include/public/xen.h, sysctl.h). */
#define HYPERVISOR_SYSCTL	35
#define XEN_SYSCTL_READCONSOLE	1
/* Xen 4.17's; other releases answer -EACCES, then neighbours are tried. */
#define SYSCTL_VERSION_417	0x15
#define SYSCTL_VERSION_MIN	0x10
#define SYSCTL_VERSION_MAX	0x20
#define CONRING_MAX		(256u << 10)

struct sysctl_readconsole {
	uint8_t clear, incremental, pad0, pad1;
	uint32_t index;
	uint64_t buffer;	/* XEN_GUEST_HANDLE_64(char) */
	uint32_t count;
};

struct xen_sysctl {
	uint32_t cmd;
	uint32_t interface_version;
	union {
		struct sysctl_readconsole readconsole;
		uint8_t pad[128];
	} u;
};

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* One readconsole hypercall; returns its result (negative errno) */
static long readconsole(int fd, struct xen_sysctl *op, char *buf,
			uint32_t len, uint32_t version)
{
	struct privcmd_hypercall h = {
		.op = HYPERVISOR_SYSCTL,
		.arg = { (uintptr_t)op },
	};
	long ret;

	memset(op, 0, sizeof(*op));
	op->cmd = XEN_SYSCTL_READCONSOLE;
	op->interface_version = version;
	op->u.readconsole.buffer = (uintptr_t)buf;
	op->u.readconsole.count = len;
	ret = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &h);
	return ret < 0 ? -errno : ret;
}

/* Xen's console ring into a malloc'd string; NULL with why[] set. */
static char *console_ring(char *why, size_t whylen)
{
	static const char *const paths[] = {
		"/dev/xen/privcmd", "/proc/xen/privcmd",
	};
	struct xen_sysctl *op = NULL;
	char *buf = NULL;
	long ret = -ENOENT;
	int fd = -1;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && fd < 0; i++)
		fd = open(paths[i], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "no /dev/xen/privcmd (xen-privcmd module not loaded)");
		return NULL;
	}
	/* Xen reads and writes these through the guest's page tables. */
	op = calloc(1, sizeof(*op));
	buf = calloc(1, CONRING_MAX + 1);
	if (!op || !buf) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (mlock(op, sizeof(*op)) || mlock(buf, CONRING_MAX)) {
		snprintf(why, whylen, "mlock: %s", strerror(errno));
		goto fail;
	}
	/*
	 * Xen cannot fault pages in for a PV guest's hypercall (-EFAULT), and
	 * AddressSanitizer makes mlock() a no-op: touch every page.
	 */
	for (size_t i = 0; i < CONRING_MAX; i += 4096)
		((volatile char *)buf)[i] = 0;
	ret = readconsole(fd, op, buf, CONRING_MAX, SYSCTL_VERSION_417);
	for (uint32_t v = SYSCTL_VERSION_MIN; ret == -EACCES && v <= SYSCTL_VERSION_MAX; v++)
		if (v != SYSCTL_VERSION_417)
			ret = readconsole(fd, op, buf, CONRING_MAX, v);
	if (ret < 0) {
		snprintf(why, whylen, "XEN_SYSCTL_readconsole: %s%s", strerror((int)-ret),
			 ret == -EPERM || ret == -EACCES ?
			 " (not dom0, or an unknown sysctl version)" : "");
		goto fail;
	}
	buf[op->u.readconsole.count < CONRING_MAX ?
	    op->u.readconsole.count : CONRING_MAX] = '\0';
	munlock(buf, CONRING_MAX);
	free(op);
	close(fd);
	return buf;
fail:
	free(op);
	free(buf);
	close(fd);
	return NULL;
}

/* "Dom0 enabled, DomU enabled (without PCID)" */
static void parse_xpti(struct xen_facts *x, const char *line)
{
	const char *d0 = strstr(line, "Dom0 "), *du = strstr(line, "DomU ");

	snprintf(x->xpti_line, sizeof(x->xpti_line), "%s", line);
	if (d0)
		x->xpti_dom0 = !strncmp(d0 + 5, "enabled", 7) ? 1 :
			       !strncmp(d0 + 5, "disabled", 8) ? 0 : -1;
	if (du)
		x->xpti_domu = !strncmp(du + 5, "enabled", 7) ? 1 :
			       !strncmp(du + 5, "disabled", 8) ? 0 : -1;
	if (strstr(line, "without PCID"))
		x->xpti_pcid = 0;
	else if (strstr(line, "with PCID"))
		x->xpti_pcid = 1;
}

void xen_probe(struct xen_facts *x)
{
	char type[16], buf[32], major[8], minor[8], extra[16];
	char why[80] = "";
	char *ring, *line;

	memset(x, 0, sizeof(*x));
	x->xpti_dom0 = x->xpti_domu = x->xpti_pcid = -1;
	read_line("/sys/hypervisor/type", type, sizeof(type));
	if (strcmp(type, "xen"))
		return;
	x->present = true;
	read_line("/sys/hypervisor/guest_type", x->guest_type,
		  sizeof(x->guest_type));
	read_line("/proc/xen/capabilities", buf, sizeof(buf));
	x->dom0 = strstr(buf, "control_d") != NULL;
	read_line("/sys/hypervisor/version/major", major, sizeof(major));
	read_line("/sys/hypervisor/version/minor", minor, sizeof(minor));
	read_line("/sys/hypervisor/version/extra", extra, sizeof(extra));
	if (*major)
		snprintf(x->version, sizeof(x->version), "%s.%s%s", major,
			 minor, extra);

	ring = console_ring(why, sizeof(why));
	if (!ring) {
		snprintf(x->xpti_source, sizeof(x->xpti_source), "unknown: %s", why);
		return;
	}
	line = strstr(ring, "XPTI (64-bit PV only):");
	if (line) {
		line[strcspn(line, "\r\n")] = '\0';
		parse_xpti(x, line);
		snprintf(x->xpti_source, sizeof(x->xpti_source),
			 "Xen's console ring (XEN_SYSCTL_readconsole)");
	} else {
		snprintf(x->xpti_source, sizeof(x->xpti_source),
			 "unknown: no XPTI line in Xen's console ring");
	}
	free(ring);
}

const char *xen_hypervisor_type(const struct xen_facts *x)
{
	if (!x->present)
		return NULL;
	if (!strcmp(x->guest_type, "PV"))
		return "xen-pv";
	if (!strcmp(x->guest_type, "HVM"))
		return "xen-hvm";
	if (!strcmp(x->guest_type, "PVH"))
		return "xen-pvh";
	return "xen";
}

int xen_xpti_active(const struct xen_facts *x)
{
	int on;

	if (!x->present || strcmp(x->guest_type, "PV"))
		return 0;
	on = x->dom0 ? x->xpti_dom0 : x->xpti_domu;
	return on;
}
