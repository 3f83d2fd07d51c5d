#!/bin/sh
# The differential test: tests/differential/differential.c, written only against libtls's
# <tls.h>, is built against nbtls (include/tls.h + -lnbtls) and, when Debian's libtls is
# installed, against it (-ltls); both run the same fixed scenarios over in-memory pipes and
# their transcripts are compared line by line. A differing line passes only when
# allowed-differences.txt lists its key with both results (each item is a deliberate
# difference, in the README's "Differences from libtls" too), and every listed item must still show.
#
# Without libtls, nbtls is compared with libtls.expected, libtls's committed transcript; with
# libtls, its live transcript must equal libtls.expected.
#
#   NBTLS_LIBDIR=… NBTLS_INCLUDE=… NBTLS_CERTS=… sh tests/differential/run.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${CC:-cc}
LIBDIR=${NBTLS_LIBDIR:-$top/target/release}
INCLUDE=${NBTLS_INCLUDE:-$top/include}
CERTS=${NBTLS_CERTS:-$top/target/certs}
out=$top/target/differential
. "$top/tests/cwarn.sh"
CFLAGS="$CWARN -O1 -g"
mkdir -p "$out"
[ -f "$CERTS/ca.pem" ] || sh "$top/tests/gen-certs.sh" "$CERTS" || exit 2
# the library build (build.rs) makes the libnbtls.so.0 link the program loads
[ -e "$LIBDIR/libnbtls.so.0" ] || { echo "differential: no $LIBDIR/libnbtls.so.0: make lib" >&2; exit 2; }

fail=0
$CC $CFLAGS -I"$INCLUDE" -o "$out/nbtls" "$here/differential.c" \
	-L"$LIBDIR" -lnbtls -Wl,-rpath,"$LIBDIR" || { echo "differential: nbtls build failed"; exit 1; }
timeout 120 "$out/nbtls" "$CERTS" > "$out/nbtls.txt" || { echo "differential: nbtls run failed"; fail=1; }

reference=$here/libtls.expected
if [ -f /usr/include/tls.h ] && $CC $CFLAGS -o "$out/libtls" "$here/differential.c" -ltls 2>"$out/libtls.log"; then
	timeout 120 "$out/libtls" "$CERTS" > "$out/libtls.txt" || { echo "differential: libtls run failed"; fail=1; }
	if ! diff -u "$reference" "$out/libtls.txt"; then
		echo "differential: libtls's transcript differs from libtls.expected (update it if libtls changed)"
		fail=1
	fi
	reference=$out/libtls.txt
	echo "differential: comparing with the system libtls"
else
	echo "differential: no system libtls; comparing with libtls.expected"
fi

if [ "$(wc -l < "$reference")" -ne "$(wc -l < "$out/nbtls.txt")" ]; then
	echo "differential: the transcripts differ in length:"
	diff -u "$reference" "$out/nbtls.txt"
	exit 1
fi

# Each differing line: key (up to the result) and the two results; look it up.
paste -d '\n' "$reference" "$out/nbtls.txt" | awk -v allowed="$here/allowed-differences.txt" '
BEGIN {
	FS = " :: "
	while ((getline line < allowed) > 0) {
		if (line ~ /^#/ || line == "") continue
		n = split(line, f, / :: /)
		if (n < 4) { print "differential: malformed item: " line; bad = 1; continue }
		key[f[1]] = 1; lib[f[1]] = f[2]; nb[f[1]] = f[3]; why[f[1]] = f[4]
	}
	FS = "\n"
}
function split_line(s, out,   a, b) {
	a = index(s, ": "); b = index(substr(s, a + 2), ": ")
	if (a == 0 || b == 0) { out["key"] = s; out["res"] = ""; return }
	out["key"] = substr(s, 1, a + b); out["res"] = substr(s, a + b + 3)
}
NR % 2 == 1 { ref = $0; next }
{
	if ($0 == ref) next
	split_line(ref, r); split_line($0, m)
	k = r["key"]
	if (k == m["key"] && (k in key) && lib[k] == r["res"] && nb[k] == m["res"]) {
		printf "allowed   %s\n  libtls: %s\n  nbtls:  %s\n  why:    %s\n", k, r["res"], m["res"], why[k]
		seen[k] = 1
		next
	}
	printf "DIFFERENT %s\n  libtls: %s\n  nbtls:  %s\n", k, r["res"], m["res"]
	bad = 1
}
END {
	for (k in key) if (!(k in seen)) { print "STALE     " k " (listed in allowed-differences.txt, but the transcripts agree)"; bad = 1 }
	exit bad
}' || fail=1

total=$(wc -l < "$out/nbtls.txt")
if [ $fail -eq 0 ]; then
	echo "differential: $total transcript lines; every difference is a listed, deliberate one"
else
	echo "differential: FAILED (transcripts in $out)"
fi
exit $fail
