#!/bin/sh
# The built library exports exactly the names in capi-tests/symbols.txt (an ABI change is a
# reviewed one-line diff), only tls_* names, and carries the soname libnbtls.so.0.
set -eu
cd "$(dirname "$0")/.."
LIB=${NBTLS_LIBDIR:-target/release}/libnbtls.so
nm -D --defined-only "$LIB" | awk '{print $3}' | sed 's/@.*//' | grep -v '^NBTLS_' | sort > /tmp/nbtls-symbols.$$
if ! diff -u capi-tests/symbols.txt /tmp/nbtls-symbols.$$; then
	echo "symbols: the library's exports differ from capi-tests/symbols.txt (diff above)"
	rm -f /tmp/nbtls-symbols.$$; exit 1
fi
if grep -v '^tls_' /tmp/nbtls-symbols.$$; then
	echo "symbols: non-tls_* names exported"; rm -f /tmp/nbtls-symbols.$$; exit 1
fi
rm -f /tmp/nbtls-symbols.$$
readelf -d "$LIB" | grep -q 'SONAME.*\[libnbtls.so.0\]' || { echo "symbols: soname is not libnbtls.so.0"; exit 1; }
echo "symbols: $(wc -l < capi-tests/symbols.txt) exports match capi-tests/symbols.txt; soname libnbtls.so.0"
