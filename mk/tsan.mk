# mk/tsan.mk: `make tsan`, the threaded C tests under ThreadSanitizer (included by Makefile).
#
# The C tests are built with gcc -fsanitize=thread (run.sh SANITIZE=tsan) and linked against
# a copy of libnbtls.so built with -Zsanitizer=thread under target/tsan (stable rustc with
# RUSTC_BOOTSTRAP=1; the explicit --target keeps build scripts and proc macros uninstrumented).
# The cdylib carries no TSan runtime: the test executable's libtsan provides it.
#
# What TSan cannot see, and how it is made visible (README "Robustness"):
# - std is precompiled without instrumentation (no -Zbuild-std without rust-src). Generic std
#   code (Arc, Mutex::lock/unlock fast paths, VecDeque, ...) is monomorphised into our crates
#   and instrumented; the non-generic slow paths are not. The one that matters is the futex
#   Mutex's lock_contended: a thread that gets a contended lock does so in uninstrumented
#   code, so TSan would see no acquire and report every access under that Mutex (rustls's
#   session caches, nbtls's config state). The link wraps it (ld --wrap): the wrapper calls it
#   and then __tsan_acquire on the futex word, which the instrumented unlock released.
# - Arc/Weak drop and Arc::get_mut synchronise with an Acquire fence (std switches to an
#   Acquire load only when std itself is built for TSan); TSan ignores fences, so every last
#   drop of a shared Arc would be reported. run.sh sets TSAN_OPTIONS force_seq_cst_atomics=1,
#   which makes the Release fetch_sub on the count acquire too. Cost: a race that depends on
#   a too-weak memory ordering (Relaxed where Acquire was needed) is not found.
# - LLVM 22 instrumentation calls __tsan_memcpy/memmove/memset, which gcc 12's libtsan lacks:
#   the wrapper object defines them as calls to memcpy etc., which libtsan intercepts and
#   checks. Both live in tests/tsan-wrap.c.
# - Thin LTO is off in this build so that std's object code is linked as objects and --wrap
#   applies to the calls from our crates.

TSAN_TARGET := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
TSAN_DIR     = target/tsan
TSAN_LIBDIR  = $(TSAN_DIR)/$(TSAN_TARGET)/release
# every C test that starts threads
TSAN_TESTS  ?= $(sort $(basename $(notdir $(shell grep -l pthread_create capi-tests/*.c))))


.PHONY: tsan tsan-lib

tsan-lib:
	@mkdir -p $(TSAN_DIR)/std
	@# the mangled name of std's Mutex::lock_contended (it carries the std build's hash)
	rlib=$$(ls "$$(rustc --print sysroot)"/lib/rustlib/$(TSAN_TARGET)/lib/libstd-*.rlib) && \
	cd $(TSAN_DIR)/std && rm -f *.o && ar x "$$rlib" && \
	readelf -sW *.o | awk '$$5 == "GLOBAL" && $$7 != "UND" { print $$8 }' | \
	grep '5mutex5futex.*5Mutex14lock_contended$$' | sort -u >lock_contended.sym && \
	test "$$(wc -l <lock_contended.sym)" = 1 || \
	{ echo "tsan: std's futex Mutex::lock_contended not found exactly once in $$rlib" >&2; exit 1; }
	sym=$$(cat $(TSAN_DIR)/std/lock_contended.sym) && \
	$(CC) $(CWARN) -c -O1 -fPIC -DLOCK_CONTENDED=$$sym -o $(TSAN_DIR)/wrap.o tests/tsan-wrap.c && \
	RUSTC_BOOTSTRAP=1 CARGO_PROFILE_RELEASE_LTO=false \
	RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
	$(CARGO) rustc --release --locked --lib --crate-type cdylib --target $(TSAN_TARGET) \
		--target-dir $(TSAN_DIR) -- \
		-Clink-arg=$(abspath $(TSAN_DIR)/wrap.o) -Clink-arg=-Wl,--wrap=$$sym

tsan: certs tsan-lib
	@echo "tsan: $(TSAN_TESTS) against $(TSAN_LIBDIR)/libnbtls.so (-Zsanitizer=thread)"
	SANITIZE=tsan NBTLS_LIBDIR=$(abspath $(TSAN_LIBDIR)) sh capi-tests/run.sh $(TSAN_TESTS)
