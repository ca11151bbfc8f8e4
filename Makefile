# seccomp-attest: build, test and demo on a Debian 12 machine (as root).
#
#   make demo   set the machine up, build, read the filter of a runc container
#   make ci     set the machine up and run every test (what .ci/run calls)

SHELL := /bin/bash
export PATH := /usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$(PATH)

GO       ?= go
BIN      := bin
HELPERS  := $(BIN)/test
BATS     ?= bats
GOFLAGS_TEST ?= -count=1 -tags libseccomp
# The version --version, attestations and the .deb carry: the commit's date
# and hash (a Debian version that sorts by date).
VERSION  ?= $(shell git log -1 --format='0.0.0~git%cd.%h' --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0.0.0)
GENDIR   := build/gen
# Install layout (packaging/install.sh explains each variable).
PREFIX   ?= /usr
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" HOOKSDIR="$(HOOKSDIR)" BIN="$(BIN)" GENDIR="$(GENDIR)"
# The Kubernetes node stack of the CRI tests and the runtime matrix
# (containerd 2.x, crictl, runc 1.5), beside Debian's runtimes.
STACK    ?= /opt/seccomp-attest-test
export SECCOMP_ATTEST_STACK := $(STACK)
# staticcheck, pinned (2026.2.2 knows Go 1.26) and installed from the module
# proxy on first use, so that a fresh clone runs the same checks.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CURDIR)/build/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

.PHONY: all build helpers test vet lint go-test race bats bench fuzz demo setup cosign ci install uninstall deb docs cli-docs clean

all: build

# Every main package under cmd/ (seccomp-attest, hook, seccomp-attestd,
# wrapper-runc); the hook is installed as seccomp-attest-hook, the name
# hooks.d points at.
build:
	@mkdir -p $(BIN)
	$(GO) build -tags libseccomp -ldflags "-X github.com/seccomp-attest/seccomp-attest/internal/version.stamped=$(VERSION)" -o $(BIN)/ ./cmd/...
	mv -f $(BIN)/hook $(BIN)/seccomp-attest-hook

# Test programs the bats tests and the fixture capture copy into containers
# (static: the busybox rootfs has no C library).
helpers: $(HELPERS)/seccomp-stack $(HELPERS)/docker-profile $(HELPERS)/rawsyscall $(HELPERS)/null-hook \
	$(HELPERS)/seccomp-threads $(HELPERS)/kernel-oracle $(HELPERS)/record-workload

$(HELPERS)/seccomp-stack: test/helpers/seccomp-stack.c
	@mkdir -p $(HELPERS)
	gcc -static -pthread -O2 -Wall -Wextra -o $@ $<

# Installs two filters from two threads (dump -- CMD tests).
$(HELPERS)/seccomp-threads: test/helpers/seccomp-threads.c
	@mkdir -p $(HELPERS)
	gcc -static -pthread -O2 -Wall -Wextra -o $@ $<

# Runs a filter in the kernel on sampled inputs (eval tests).
$(HELPERS)/kernel-oracle: test/helpers/kernel-oracle/main.go internal/filterfuzz/*.go pkg/bytecode/*.go go.mod go.sum
	@mkdir -p $(HELPERS)
	$(GO) build -o $@ ./test/helpers/kernel-oracle

# Marker syscalls from a child, a thread, x32 and an exec'd image (record tests).
$(HELPERS)/record-workload: test/helpers/record-workload.c
	@mkdir -p $(HELPERS)
	gcc -static -pthread -O2 -Wall -Wextra -o $@ $<

$(HELPERS)/rawsyscall: test/helpers/rawsyscall.c
	@mkdir -p $(HELPERS)
	gcc -static -O2 -Wall -Wextra -o $@ $<

$(HELPERS)/docker-profile: test/helpers/docker-profile/main.go go.mod go.sum
	@mkdir -p $(HELPERS)
	$(GO) build -o $@ ./test/helpers/docker-profile

$(HELPERS)/null-hook: test/helpers/null-hook/main.go
	@mkdir -p $(HELPERS)
	$(GO) build -o $@ ./test/helpers/null-hook

test: lint go-test race bats

# Formatting and go vet on every package (with libseccomp's files): a tree
# that fails either does not reach the tests.
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go') </dev/null); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet -tags libseccomp ./...

# vet, then go.mod and go.sum exactly as go mod tidy leaves them, then
# staticcheck on both builds (with and without libseccomp's files; -matrix
# merges them, so that code only one build uses is not reported unused).
lint: vet $(STATICCHECK)
	$(GO) mod tidy -diff
	printf 'libseccomp: -tags=libseccomp\nplain:\n' | $(STATICCHECK) -matrix ./...

$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

go-test:
	$(GO) test $(GOFLAGS_TEST) ./...
	# containers/common builds its own profile resolver only with its
	# seccomp tag; pkg/spec's translation must agree with it.
	$(GO) test -count=1 -tags 'libseccomp seccomp' -run '^TestPodmanResolverAgrees$$' ./pkg/spec

# The Go tests again under the race detector, in their -short form, except
# RACE_SKIP: the filter analysis, comparison and compilation, where the
# concurrency is a cache or a pool and whose property tests take minutes
# under -race (on 2 cores with -short: pkg/bytecode 3m47s, pkg/spec 3m,
# pkg/compare 1m38s). The daemon, pipeline, tracer, recorder, wrapper,
# hook and store run under it.
RACE_SKIP := pkg/bytecode pkg/compare pkg/spec
race:
	$(GO) test -race -short $(GOFLAGS_TEST) $$($(GO) list ./... | grep -v -E '/($(subst $(eval) ,|,$(strip $(RACE_SKIP))))$$')

# The hook's and the wrapper's tests run twice: without a daemon (the
# programs check in their own processes) and answered by seccomp-attestd.
bats: build helpers
	SECCOMP_ATTEST=$(CURDIR)/$(BIN)/seccomp-attest HELPERS=$(CURDIR)/$(HELPERS) \
		$(BATS) --print-output-on-failure test/bats
	SECCOMP_ATTEST=$(CURDIR)/$(BIN)/seccomp-attest HELPERS=$(CURDIR)/$(HELPERS) \
		SECCOMP_ATTEST_HOOK_DAEMON=1 SECCOMP_ATTEST_WRAPPER_DAEMON=1 \
		$(BATS) --print-output-on-failure test/bats/hook.bats test/bats/wrapper.bats
	# The runtime matrix: the same suites with today's upstream runc.
	SECCOMP_ATTEST=$(CURDIR)/$(BIN)/seccomp-attest HELPERS=$(CURDIR)/$(HELPERS) SECCOMP_ATTEST_RUNC=$(STACK)/bin/runc \
		$(BATS) --print-output-on-failure test/bats/hook.bats test/bats/wrapper.bats test/bats/dump.bats

bench:
	$(GO) test -tags libseccomp -run '^$$' -bench . -benchmem ./...

# Each fuzz target for a bounded number of runs besides its corpus
# (go-test replays the corpus): about 10 s each here. Counts, not
# durations: a -fuzztime duration can fail with "context deadline exceeded"
# and no crasher (golang/go#75804, Go 1.26). Each run starts from the
# committed corpus (the fuzz cache is cleared) so that its baseline stays
# short; -fuzz takes one target of one package per run; new coverage is
# minimised by 10 runs at most. Reproducers of known engine bugs go to
# FUZZ_FINDINGS_DIR when it is set.
FUZZ_TARGETS := pkg/bytecode:FuzzDecode:150000x pkg/bytecode:FuzzValidate:100000x \
	pkg/bytecode:FuzzEvaluate:150000x pkg/bytecode:FuzzAnalyze:80000x \
	pkg/bytecode:FuzzTableMutated:500x pkg/bytecode:FuzzTableRandom:3000x \
	pkg/compare:FuzzCompareMutated:300x pkg/compare:FuzzCompareRandom:1000x \
	internal/runcargs:FuzzRuncArgsParse:60000x pkg/policy:FuzzPolicyParse:60000x \
	pkg/spec:FuzzProfileLoad:40000x

fuzz:
	$(GO) clean -fuzzcache
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; runs=$${rest#*:}; \
		echo "fuzz $$name in $$pkg, $$runs"; \
		$(GO) test -tags libseccomp -run '^$$' -fuzz "^$$name\$$" -fuzztime $$runs -fuzzminimizetime 10x ./$$pkg; \
	done

setup:
	bash scripts/setup-host.sh
	bash scripts/setup-k8s-stack.sh

# cosign verifies our attestations in the tests; building it takes minutes.
cosign:
	bash scripts/install-cosign.sh

ci: setup cosign
	$(MAKE) test
	$(MAKE) fuzz

demo: setup build helpers
	bash scripts/demo.sh

# Man pages and shell completions, generated from the CLI definition.
docs: build
	rm -rf $(GENDIR)
	$(BIN)/seccomp-attest docs --man $(GENDIR)/man --completion $(GENDIR)/completion

# The Markdown CLI reference in docs/cli (committed, linked from README).
cli-docs: build
	rm -rf docs/cli
	$(BIN)/seccomp-attest docs --markdown docs/cli

# Programs, hook and hooks.d, man pages, completions, default config and
# policy, store and host key; DESTDIR and PREFIX aware.
install: build docs
	$(INSTALL_ENV) bash packaging/install.sh install

# Removes what install added; keeps changed configuration, keys, attestations.
uninstall:
	$(INSTALL_ENV) bash packaging/install.sh uninstall

# build/seccomp-attest_VERSION_ARCH.deb, with dpkg-deb (packaging/deb).
deb: build docs
	rm -rf build/deb build/seccomp-attest_*.deb
	DESTDIR=$(CURDIR)/build/deb PREFIX=/usr HOOKSDIR= BIN="$(BIN)" GENDIR="$(GENDIR)" PACKAGING=1 \
		bash packaging/install.sh install
	STAGE=$(CURDIR)/build/deb VERSION=$(VERSION) bash packaging/deb/build.sh build

clean:
	rm -rf $(BIN) build
