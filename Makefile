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

.PHONY: all build helpers test go-test bats bench demo setup cosign ci install clean

all: build

# Every main package under cmd/ (seccomp-attest, hook, wrapper-runc, ...);
# the hook is installed as seccomp-attest-hook, the name hooks.d points at.
build:
	@mkdir -p $(BIN)
	$(GO) build -tags libseccomp -o $(BIN)/ ./cmd/...
	mv -f $(BIN)/hook $(BIN)/seccomp-attest-hook

# Test programs the bats tests and the fixture capture copy into containers
# (static: the busybox rootfs has no C library).
helpers: $(HELPERS)/seccomp-stack $(HELPERS)/docker-profile

$(HELPERS)/seccomp-stack: test/helpers/seccomp-stack.c
	@mkdir -p $(HELPERS)
	gcc -static -pthread -O2 -Wall -Wextra -o $@ $<

$(HELPERS)/docker-profile: test/helpers/docker-profile/main.go go.mod go.sum
	@mkdir -p $(HELPERS)
	$(GO) build -o $@ ./test/helpers/docker-profile

test: go-test bats

go-test:
	$(GO) test $(GOFLAGS_TEST) ./...

bats: build helpers
	SECCOMP_ATTEST=$(CURDIR)/$(BIN)/seccomp-attest HELPERS=$(CURDIR)/$(HELPERS) \
		$(BATS) --print-output-on-failure test/bats

bench:
	$(GO) test -tags libseccomp -run '^$$' -bench . -benchmem ./...

setup:
	bash scripts/setup-host.sh

# cosign verifies our attestations in the tests; building it takes minutes.
cosign:
	bash scripts/install-cosign.sh

ci: setup cosign
	$(MAKE) test

demo: setup build helpers
	bash scripts/demo.sh

# Packaging comes later; for now copy the binaries.
install: build
	install -d $(DESTDIR)/usr/local/bin
	find $(BIN) -maxdepth 1 -type f -perm -u+x -exec install -m 0755 {} $(DESTDIR)/usr/local/bin/ \;

clean:
	rm -rf $(BIN)
