# SPDX-License-Identifier: GPL-2.0
#
# xptilab: `make` builds the module, the tool and the selftests;
# `make check` runs lint and every selftest in several QEMU guests;
# `make bench` runs the experiments and writes a report.

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

bench: deps
	$(MAKE) all
	@scripts/bench

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
