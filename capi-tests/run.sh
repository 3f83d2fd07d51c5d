#!/bin/sh
# capi-tests/run.sh: builds every capi-tests/*.c against nbtls and runs it with the test PKI.
#
#   NBTLS_LIBDIR=… NBTLS_INCLUDE=… NBTLS_CERTS=… sh capi-tests/run.sh [TEST…]
#
# Environment:
#   NBTLS_LIBDIR   directory of libnbtls.so (required unless LIBTLS=1)
#   NBTLS_INCLUDE  directory of nbtls.h (required unless LIBTLS=1)
#   NBTLS_CERTS    directory made by tests/gen-certs.sh (made under capi-tests/build when unset)
#   CC             C compiler (default cc)
#   SANITIZE=asan      build with AddressSanitizer + UBSan into a separate build directory
#   SANITIZE=valgrind  run the plain builds under valgrind (definite leaks are errors)
#   SANITIZE=tsan      build with ThreadSanitizer into a separate build directory; needs
#                  NBTLS_LIBDIR to hold the instrumented library `make tsan` builds
#                  (mk/tsan.mk explains why TSAN_OPTIONS has force_seq_cst_atomics=1)
#   LIBTLS=1       build the portable tests against the system libtls (-ltls, <tls.h>)
#                  instead; files holding the line "/* capi: nbtls-only */" are skipped
#   A test file may carry a line "/* capi: ldflags FLAGS */" with link flags of its own.
#   TEST_TIMEOUT   seconds one test may run (default 120; x3 under valgrind)
#   VERBOSE=1      print every test's output, not only a failing one's
# Prints one line per test (PASS/FAIL/SKIP name) and then "capi: N passed, M failed";
# exits non-zero when any test failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
SANITIZE=${SANITIZE:-}
LIBTLS=${LIBTLS:-0}
top=$(cd "$here/.." && pwd)
. "$top/tests/cwarn.sh"
CFLAGS_BASE="$CWARN -g -O1"

if [ "$LIBTLS" = 1 ]; then
	impl=libtls
	cppflags="-DCAPI_LIBTLS"
	libs="-ltls -lpthread"
else
	impl=nbtls
	: "${NBTLS_LIBDIR:?set NBTLS_LIBDIR to the directory of libnbtls.so}"
	: "${NBTLS_INCLUDE:?set NBTLS_INCLUDE to the directory of nbtls.h}"
	cppflags="-I$NBTLS_INCLUDE"
	libs="-L$NBTLS_LIBDIR -lnbtls -Wl,-rpath,$NBTLS_LIBDIR -lpthread"
	# the library build (build.rs) makes the libnbtls.so.0 link the programs load
	[ -e "$NBTLS_LIBDIR/libnbtls.so.0" ] ||
		{ echo "capi: no $NBTLS_LIBDIR/libnbtls.so.0: build the library (make lib)" >&2; exit 2; }
fi

runner=""
timeout_s=${TEST_TIMEOUT:-120}
sanflags=""
case $SANITIZE in
"")
	build=$here/build/$impl ;;
asan)
	build=$here/build/$impl-asan
	sanflags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	export ASAN_OPTIONS UBSAN_OPTIONS ;;
tsan)
	build=$here/build/$impl-tsan
	sanflags="-fsanitize=thread -fno-omit-frame-pointer"
	if [ "$impl" = nbtls ] && ! nm -D --undefined-only "$NBTLS_LIBDIR/libnbtls.so" | grep -q __tsan_init; then
		echo "capi: $NBTLS_LIBDIR/libnbtls.so is not built for TSan (make tsan builds one)" >&2
		exit 2
	fi
	# any report fails the test (exit 66); the caller's TSAN_OPTIONS come last and win
	TSAN_OPTIONS="force_seq_cst_atomics=1:halt_on_error=1:exitcode=66:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
	[ -f "$here/tsan.supp" ] && TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$here/tsan.supp"
	export TSAN_OPTIONS ;;
valgrind)
	build=$here/build/$impl
	command -v valgrind >/dev/null || { echo "capi: valgrind not found" >&2; exit 2; }
	runner="valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite"
	[ "$impl" = nbtls ] && runner="$runner --suppressions=$here/valgrind.supp" # ring false positives
	timeout_s=$((timeout_s * 3)) ;;
*)
	echo "capi: unknown SANITIZE=$SANITIZE (asan, tsan, valgrind)" >&2
	exit 2 ;;
esac
mkdir -p "$build" || exit 2

if [ -z "${NBTLS_CERTS:-}" ]; then
	NBTLS_CERTS=$here/build/certs
	sh "$here/../tests/gen-certs.sh" "$NBTLS_CERTS" || { echo "capi: gen-certs failed" >&2; exit 2; }
fi
[ -f "$NBTLS_CERTS/ca.pem" ] || { echo "capi: no ca.pem in $NBTLS_CERTS" >&2; exit 2; }

with_timeout=""
command -v timeout >/dev/null && with_timeout="timeout -k 10 $timeout_s"

if [ $# -gt 0 ]; then
	tests=$*
else
	tests=$(cd "$here" && ls *.c | sed 's/\.c$//' | sort)
fi

pass=0 fail=0
for t in $tests; do
	src=$here/$t.c
	if [ ! -f "$src" ]; then
		echo "FAIL $t (no such test)"
		fail=$((fail + 1))
		continue
	fi
	if [ "$LIBTLS" = 1 ] && grep -qx '/\* capi: nbtls-only \*/' "$src"; then
		echo "SKIP $t (nbtls-only)"
		continue
	fi
	bin=$build/$t
	log=$build/$t.log
	# a test names the extra link flags it needs in a line "/* capi: ldflags ... */"
	ldflags=$(sed -n 's|^/\* capi: ldflags \(.*\) \*/$|\1|p' "$src")
	case " $ldflags " in
	*" -levent "*)
		if ! echo '#include <event2/event.h>' | $CC -E - >/dev/null 2>&1; then
			case ${CI:-} in
			1|true|yes|on) echo "FAIL $t (libevent-dev is not installed; CI must skip nothing)"
				fail=$((fail + 1)) ;;
			*) echo "SKIP $t (libevent-dev is not installed: apt-get install libevent-dev)" ;;
			esac
			continue
		fi ;;
	esac
	# shellcheck disable=SC2086 # flags are word lists
	if ! $CC $CFLAGS_BASE $sanflags $cppflags -I"$here" -o "$bin" "$src" $libs $ldflags >"$log" 2>&1; then
		echo "FAIL $t (compile)"
		cat "$log"
		fail=$((fail + 1))
		continue
	fi
	# shellcheck disable=SC2086
	$with_timeout $runner "$bin" "$NBTLS_CERTS" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS $t"
		pass=$((pass + 1))
		[ "${VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$log"
	else
		if [ $rc -eq 124 ]; then why=" (timeout after ${timeout_s}s)"; else why=" (exit $rc)"; fi
		echo "FAIL $t$why"
		sed 's/^/    /' "$log"
		fail=$((fail + 1))
	fi
done
echo "capi: $pass passed, $fail failed"
[ $fail -eq 0 ]
