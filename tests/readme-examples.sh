#!/bin/sh
# Compiles every ```c block of README.md as C (warnings are errors) against include/tls.h,
# and a file including tls.h as C++, so the README and the header's C++ guards stay true.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
. tests/cwarn.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '
	/^```c$/ { n++; f = dir "/example" n ".c"; inblock = 1; next }
	/^```/ { inblock = 0; next }
	inblock { print > f }
' README.md
count=0
for f in "$tmp"/example*.c; do
	[ -e "$f" ] || continue
	${CC:-cc} $CWARN -Iinclude -c "$f" -o "$f.o"
	count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "readme: no C examples found"; exit 1; }
printf '#include <tls.h>\nint main() { struct tls *t = tls_client(); tls_free(t); return TLS_WANT_POLLIN + 2; }\n' > "$tmp/cxx.cc"
${CXX:-c++} -Wall -Wextra -Werror -Iinclude "$tmp/cxx.cc" -o "$tmp/cxx" -L"${NBTLS_LIBDIR:-target/release}" -lnbtls
echo "readme: $count C examples compile; tls.h compiles and links as C++"
