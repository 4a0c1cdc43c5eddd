# SPDX-License-Identifier: GPL-2.0
#
# xptilab: `make` builds the module, the tool and the selftests;
# `make check` runs lint and every selftest in several QEMU guests;
# `make bench` runs the experiments and writes a report;
# `make stress` runs the long robustness tests.

# KDIR, the kernel build directory (scripts/kdir), is computed when a
# recipe first uses it, not when make reads this file: `make bench`, `make
# check` and the like install the kernel headers first (scripts/deps) and
# build in a sub-make, and a value computed before deps ran would be empty
# (scripts/test-fresh-machine checks this). Not exported: sub-makes and the
# scripts compute it again themselves; KDIR given on the command line or in
# the environment is passed on by make as usual.
ifeq ($(origin KDIR),undefined)
KDIR = $(eval KDIR := $(shell scripts/kdir))$(KDIR)
endif

.PHONY: all module kos tools selftests lint check bench deps ksrc clean

all: module tools selftests

deps:
	@scripts/deps

ksrc:
	@scripts/ksrc

module:
	@test -n "$(KDIR)" || { echo "make: no kernel headers for the module (run make deps)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The module for every installed Debian kernel, side by side:
# build/ko/RELEASE/xptilab.ko (scripts/build-ko); scripts/vm-run --kernel
# picks the one for the kernel it boots.
kos:
	@scripts/build-ko

tools:
	$(MAKE) -C userspace

selftests: ksrc
	$(MAKE) -C selftests

# checkpatch (strict) on the module's sources, sparse (C=1), and a W=1 build
# that must be warning-free; any finding fails.
lint: ksrc
	@scripts/lint

# lint builds build/ko/RELEASE/xptilab.ko for every kernel afresh (what
# `make kos` builds), and scripts/check boots those.
check: deps
	$(MAKE) all
	$(MAKE) lint
	@scripts/check

# scripts/bench: every guest, results/<UTC timestamp>/, results/latest;
# BENCH_ARGS="--quick" for a smoke run (docs/results.md).
bench: deps
	$(MAKE) all kos
	@scripts/bench $(BENCH_ARGS)

# Every selftest in the Bochs guest (PCID, INVPCID, global pages; slow):
# docs/bochs.md. `make check` runs the PCID subset there.
.PHONY: check-bochs
check-bochs: deps
	$(MAKE) all
	@scripts/check-bochs

# scripts/validate: Debian's `perf bench syscall basic` against xptilab's
# `entry syscall` in one guest (passes when shown within 20%), timer overhead, the
# spread of five runs of every cr3 and entry variant (docs/methodology.md);
# the perf/xptilab ratio is decided from its confidence interval.
.PHONY: validate
validate: deps
	$(MAKE) all kos
	@scripts/validate

# scripts/stress: the long robustness tests (fuzz 60 s, stress 60 s, 100
# load/unload cycles) in one guest, and a table of what survived
# (docs/robustness.md).
.PHONY: stress
stress: deps
	$(MAKE) all kos
	@scripts/stress

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

# Installing (README.md): `make install` puts the module under
# $(DESTDIR)/lib/modules/RELEASE/extra/ (modules_install), the tool in
# $(PREFIX)/bin, the selftests in $(PREFIX)/lib/xptilab/selftests and their
# runner as $(PREFIX)/bin/xptilab-selftests; `make uninstall` removes them.
# The kernel's own signing key is never in distribution headers, so
# modules_install does not sign; with MOK_KEY and MOK_CERT set, the installed
# module is signed with that Machine Owner Key (Secure Boot).
# `make dkms-install` / `make dkms-remove`: the module with DKMS, for the
# kernel scripts/kdir picks (scripts/dkms).
.PHONY: install uninstall dkms-install dkms-remove dkms-check

PREFIX ?= /usr/local
DESTDIR ?=
MOK_KEY ?=
MOK_CERT ?=
KRELEASE = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)".*/\1/p' \
	     $(KDIR)/include/generated/utsrelease.h)
MODDIR = $(DESTDIR)/lib/modules/$(KRELEASE)/extra

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra CONFIG_MODULE_SIG_ALL= modules_install
	@if [ -n "$(MOK_KEY)" ]; then \
		echo "  SIGN    $(MODDIR)/module/xptilab.ko with $(MOK_CERT)"; \
		$(KDIR)/scripts/sign-file sha256 "$(MOK_KEY)" "$(MOK_CERT)" \
			$(MODDIR)/module/xptilab.ko || exit 1; \
	fi
	@if [ -z "$(DESTDIR)" ]; then echo "  DEPMOD  $(KRELEASE)"; depmod -a $(KRELEASE); fi
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/xptilab/selftests
	install -m 0755 userspace/xptilab $(DESTDIR)$(PREFIX)/bin/xptilab
	install -m 0755 selftests/run_selftests $(DESTDIR)$(PREFIX)/bin/xptilab-selftests
	install -m 0755 selftests/*_test $(DESTDIR)$(PREFIX)/lib/xptilab/selftests/

uninstall:
	rm -f $(MODDIR)/module/xptilab.ko
	rmdir $(MODDIR)/module $(MODDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ]; then echo "  DEPMOD  $(KRELEASE)"; depmod -a $(KRELEASE); fi
	rm -f $(DESTDIR)$(PREFIX)/bin/xptilab $(DESTDIR)$(PREFIX)/bin/xptilab-selftests
	rm -rf $(DESTDIR)$(PREFIX)/lib/xptilab

dkms-install:
	@scripts/dkms install

dkms-remove:
	@scripts/dkms remove

# What `make check` does: DKMS in a throwaway tree, module kept for a guest.
dkms-check:
	@scripts/dkms check build/dkms/xptilab.ko
