#!/bin/sh
# Generates the nullability table of every export from include/nbtls.h (gen.py), builds
# nullability.c with the generated cases and runs it. The table is written to
# target/nullability/table.txt (one line per pointer argument).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${CC:-cc}
PYTHON=${PYTHON:-python3}
LIBDIR=${NBTLS_LIBDIR:-$top/target/release}
INCLUDE=${NBTLS_INCLUDE:-$top/include}
CERTS=${NBTLS_CERTS:-$top/target/certs}
out=$top/target/nullability
mkdir -p "$out"
[ -f "$CERTS/ca.pem" ] || sh "$top/tests/gen-certs.sh" "$CERTS"
# the library build (build.rs) makes the libnbtls.so.0 link the program loads
[ -e "$LIBDIR/libnbtls.so.0" ] || { echo "nullability: no $LIBDIR/libnbtls.so.0: make lib" >&2; exit 2; }
$PYTHON "$here/gen.py" "$INCLUDE/nbtls.h" "$out/table.txt" "$out/cases.h"
. "$top/tests/cwarn.sh"
$CC $CWARN -g -O1 ${SANITIZE_FLAGS:-} -I"$INCLUDE" \
	-I"$top/capi-tests" -I"$out" -o "$out/nullability" "$here/nullability.c" \
	-L"$LIBDIR" -lnbtls -Wl,-rpath,"$LIBDIR" -lpthread
"$out/nullability" "$CERTS"
