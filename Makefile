# nbtls: the front door. `make demo` and `make test` are the two commands a new reader runs.
CARGO   ?= cargo
CC      ?= cc
PYTHON  ?= python3
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR   = target/release
CERTS    = target/certs
export NBTLS_LIBDIR := $(abspath $(LIBDIR))
export NBTLS_INCLUDE := $(abspath include)
export NBTLS_CERTS := $(abspath $(CERTS))

.PHONY: lint bindings test-install all lib header check-header certs check test test-rust test-c asan valgrind peers \
        examples demo bench install clean soak soak-quick tsan pq-peer

all: lib

lib:
	$(CARGO) build --release --locked

# Regenerates include/nbtls.h from the Rust sources (cbindgen, run by build.rs).
header:
	NBTLS_WRITE_HEADER=1 $(CARGO) build --release --locked

# Fails when the committed header differs from a fresh one.
check-header:
	$(CARGO) test --release --locked --test header

certs:
	sh tests/gen-certs.sh $(CERTS)

test-rust:
	$(CARGO) test --release --locked

# rustfmt and clippy clean (src/lib.rs holds the lint policy); skipped with a message where the components are missing.
lint:
	@if $(CARGO) fmt --version >/dev/null 2>&1; then $(CARGO) fmt --check && echo "lint: rustfmt clean"; \
	else echo "lint: SKIPPED rustfmt (component not installed)"; fi
	@if $(CARGO) clippy --version >/dev/null 2>&1; then \
	$(CARGO) clippy --release --locked --all-targets -q -- -D warnings && echo "lint: clippy clean"; \
	else echo "lint: SKIPPED clippy (component not installed)"; fi

test-c: lib certs
	sh tests/check-symbols.sh
	sh tests/check-libtls-symbols.sh
	sh tests/readme-examples.sh
	sh capi-tests/run.sh
	sh tests/nullability/run.sh
	sh tests/differential/run.sh

test-install: lib
	sh tests/install-test.sh

asan: lib certs
	SANITIZE=asan sh capi-tests/run.sh
	SANITIZE_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" sh tests/nullability/run.sh

valgrind: lib certs
	@# the plain builds from test-c run again under valgrind (leaks and invalid accesses)
	SANITIZE=valgrind sh capi-tests/run.sh

peers: lib certs examples pq-peer
	$(PYTHON) -m pytest -q -rs tests/peers

# The independent X25519MLKEM768 peer (rustls + aws-lc-rs) for tests/peers/test_pq.py.
pq-peer:
	$(CARGO) build --release --locked --manifest-path tests/pq-peer/Cargo.toml

examples: lib
	$(MAKE) -C examples-c

demo: examples certs
	sh examples-c/demo.sh

bindings: lib certs
	sh tests/run-bindings.sh

# The quick check before a commit (a couple of minutes): the Rust tests and the plain C tests.
check: test-rust test-c
	@echo "make check: Rust and plain C tests passed"

test: lint test-rust test-c asan valgrind tsan peers soak-quick bindings test-install test-man
	@echo "make test: all suites passed"

clean:
	$(CARGO) clean
	$(MAKE) -C examples-c clean
	rm -rf capi-tests/build

include mk/cwarn.mk
include mk/install.mk
include mk/bench.mk
include mk/fuzz.mk
include mk/soak.mk
include mk/tsan.mk
