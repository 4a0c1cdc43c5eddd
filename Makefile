# SPDX-License-Identifier: GPL-2.0
#
# xptilab: `make` builds the module, the tool and the selftests;
# `make check` runs lint and every selftest in several QEMU guests;
# `make bench` runs the experiments and writes a report;
# `make stress` runs the long robustness tests.

ifeq ($(origin KDIR),undefined)
KDIR := $(shell scripts/kdir)
endif
export KDIR

.PHONY: all module tools selftests lint check bench deps ksrc clean

all: module tools selftests

deps:
	@scripts/deps

ksrc:
	@scripts/ksrc

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C userspace

selftests: ksrc
	$(MAKE) -C selftests

# checkpatch (strict) on the module's sources, sparse (C=1), and a W=1 build
# that must be warning-free; any finding fails.
lint: ksrc
	@scripts/lint

check: deps
	$(MAKE) all
	$(MAKE) lint
	@scripts/check

# scripts/bench: every guest, results/<UTC timestamp>/, results/latest;
# BENCH_ARGS="--quick" for a smoke run (docs/results.md).
bench: deps
	$(MAKE) all
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
	$(MAKE) all
	@scripts/validate

# scripts/stress: the long robustness tests (fuzz 60 s, stress 60 s, 100
# load/unload cycles) in one guest, and a table of what survived
# (docs/robustness.md).
.PHONY: stress
stress: deps
	$(MAKE) all
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
