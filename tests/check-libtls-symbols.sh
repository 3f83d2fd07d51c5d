#!/bin/sh
# Every symbol Debian's libtls 3.7.0 exports (capi-tests/libtls-symbols.txt, the 91 names of
# `nm -D --defined-only libtls.so.26`) is in nbtls's export list (capi-tests/symbols.txt), so a
# program linked against libtls relinks against nbtls unchanged. With the system libtls
# installed, the checklist itself is checked against it too.
set -eu
cd "$(dirname "$0")/.."
missing=$(comm -23 capi-tests/libtls-symbols.txt capi-tests/symbols.txt)
if [ -n "$missing" ]; then
	echo "libtls-symbols: exported by libtls but missing from capi-tests/symbols.txt:"
	echo "$missing"
	exit 1
fi
sys=$(ls /usr/lib/*/libtls.so.26 /usr/lib/libtls.so.26 2>/dev/null | head -n 1 || true)
if [ -n "$sys" ]; then
	nm -D --defined-only "$sys" | awk '{print $3}' | sed 's/@.*//' | grep . | sort -u > /tmp/libtls-symbols.$$
	if ! diff -u capi-tests/libtls-symbols.txt /tmp/libtls-symbols.$$; then
		echo "libtls-symbols: $sys differs from capi-tests/libtls-symbols.txt"
		rm -f /tmp/libtls-symbols.$$; exit 1
	fi
	rm -f /tmp/libtls-symbols.$$
fi
echo "libtls-symbols: all $(wc -l < capi-tests/libtls-symbols.txt) libtls symbols are exported by nbtls"
