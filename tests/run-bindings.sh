#!/bin/sh
# Runs the tests of the bindings for other languages against target/release/libnbtls.so
# (`make lib` first): the Python binding's pytest suite, then the Rust extern "C" crate's
# cargo tests.  Exit status non-zero when any fails.
#   NBTLS_LIBDIR  the library's directory (default: target/release)
#   NBTLS_CERTS   the test PKI (default: generated into target/certs)
#   PYTHON, CARGO as usual
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
: "${NBTLS_LIBDIR:=$root/target/release}"
: "${NBTLS_CERTS:=$root/target/certs}"
export NBTLS_LIBDIR NBTLS_CERTS
PYTHON=${PYTHON:-python3}
CARGO=${CARGO:-cargo}

if [ ! -e "$NBTLS_LIBDIR/libnbtls.so" ]; then
	echo "run-bindings: $NBTLS_LIBDIR/libnbtls.so is missing: run 'make lib'" >&2
	exit 1
fi
if [ ! -e "$NBTLS_LIBDIR/libnbtls.so.0" ]; then
	echo "run-bindings: $NBTLS_LIBDIR/libnbtls.so.0 is missing (the library build makes it): run 'make lib'" >&2
	exit 1
fi
[ -f "$NBTLS_CERTS/.done" ] || sh "$root/tests/gen-certs.sh" "$NBTLS_CERTS" >/dev/null || exit 1

failed=""
echo "== Python binding (bindings/python, ctypes)"
(cd "$root" && "$PYTHON" -m pytest -q bindings/python/tests) || failed="$failed python"
echo "== Rust through extern \"C\" (bindings/rust-extern)"
(cd "$root/bindings/rust-extern" && "$CARGO" test --offline --locked -q) || failed="$failed rust-extern"

if [ -n "$failed" ]; then
	echo "run-bindings: FAILED:$failed"
	exit 1
fi
echo "run-bindings: python and rust-extern binding tests passed"
