# mk/fuzz.mk: the fuzzers. Included by the top Makefile.
#
#   make fuzz                      every target for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_SECONDS=3600    the long run
#   make fuzz FUZZ_TARGETS=api_sequence
#
# cargo-fuzz needs nightly compiler features; on a stable toolchain RUSTC_BOOTSTRAP=1 enables
# them (install it with `cargo install cargo-fuzz`). New inputs are added to a scratch copy of
# each corpus under fuzz/target/corpus/, never to the committed seeds; a crash is written to
# fuzz/artifacts/<target>/ and ends the run with an error. `make test` replays the committed
# corpora with stable `cargo test` (tests/fuzz_replay.rs).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= server_bytes client_bytes api_sequence client_hello
FUZZ_FLAGS   ?= -max_len=4096 -rss_limit_mb=2048

.PHONY: fuzz fuzz-build

fuzz-build:
	@command -v cargo-fuzz >/dev/null || { echo "make fuzz: install cargo-fuzz (cargo install cargo-fuzz)"; exit 1; }
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build -O

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/target/corpus/$$t; \
		cp -n fuzz/corpus/$$t/* fuzz/target/corpus/$$t/ 2>/dev/null || true; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		(cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t target/corpus/$$t corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS)); \
	done
	@echo "make fuzz: no crash in $(FUZZ_TARGETS)"
