#!/bin/sh
# Checks the manual pages in man/: every function capi-tests/symbols.txt exports is named in
# the NAME section of exactly one page, every name there is exported, each page is named
# after its first function (the file `make install` links the others to), every Xr to a tls_
# page points at a name some page has, every SYNOPSIS prototype compiles beside the header's
# (so a page cannot show a wrong signature), every page's RETURN VALUES gives the values the
# header's comments say its functions return (tests/check-man-returns.py), and
# `mandoc -Tlint -W warning` reports nothing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v mandoc >/dev/null || { echo "check-man: mandoc is not installed (apt-get install mandoc)"; exit 1; }

# The names each page's NAME section gives, as "name page" lines.
for page in man/*.3; do
	sed -n '/^\.Sh NAME/,/^\.Nd/s/^\.Nm \([A-Za-z0-9_]*\).*/\1/p' "$page" |
		while read -r name; do echo "$name ${page#man/}"; done
done | sort > "$tmp/names"

for page in man/*.3; do
	base=$(basename "$page" .3)
	first=$(sed -n '/^\.Sh NAME/,/^\.Nd/s/^\.Nm \([A-Za-z0-9_]*\).*/\1/p' "$page" | head -n 1)
	[ "$first" = "$base" ] || { echo "check-man: $page names $first first, not $base"; fail=1; }
	dt=$(sed -n 's/^\.Dt \([^ ]*\) 3$/\1/p' "$page")
	[ "$dt" = "$(echo "$base" | tr a-z A-Z)" ] || { echo "check-man: $page: .Dt is '$dt'"; fail=1; }
done

while read -r sym; do
	n=$(awk -v s="$sym" '$1 == s' "$tmp/names" | wc -l)
	[ "$n" -eq 1 ] || { echo "check-man: $sym is named on $n pages (want 1)"; fail=1; }
done < capi-tests/symbols.txt

awk '{print $1}' "$tmp/names" | while read -r name; do
	grep -qx "$name" capi-tests/symbols.txt || { echo "check-man: $name is named in man/ but not exported"; exit 1; }
done || fail=1

sed -n 's/^\.Xr \(tls_[a-z0-9_]*\) 3.*/\1/p' man/*.3 | sort -u | while read -r ref; do
	awk -v s="$ref" '$1 == s {f=1} END {exit !f}' "$tmp/names" ||
		{ echo "check-man: Xr $ref 3 has no page"; exit 1; }
done || fail=1

# Every function a page names has a prototype in its SYNOPSIS, and the prototypes agree with
# the header: they are redeclared after #include <tls.h>, where a conflict is a compile error.
python3 - man/*.3 > "$tmp/synopsis.c" <<'PY' || fail=1
import re, shlex, sys
out = ["#include <tls.h>"]
bad = False
for page in sys.argv[1:]:
    names, protos, section, ret, fo = [], {}, None, None, None
    for line in open(page):
        line = line.rstrip("\n")
        if line.startswith(".Sh "):
            section = line[4:]
            continue
        if section == "NAME" and line.startswith(".Nm "):
            names.append(line.split()[1])
        if section != "SYNOPSIS":
            continue
        if line.startswith(".Ft "):
            ret = line[4:]
        elif line.startswith(".Fn "):
            words = shlex.split(line[4:])
            protos[words[0]] = (ret, words[1:])
        elif line.startswith(".Fo "):
            fo = (line.split()[1], [])
        elif line.startswith(".Fa ") and fo:
            fo[1].extend(shlex.split(line[4:]))
        elif line.startswith(".Fc") and fo:
            protos[fo[0]] = (ret, fo[1])
            fo = None
    for name in names:
        if name not in protos:
            print(f"check-man: {page}: {name} has no prototype in SYNOPSIS", file=sys.stderr)
            bad = True
    for name, (ret, args) in protos.items():
        sep = "" if ret.endswith("*") else " "
        out.append(f"{ret}{sep}{name}({', '.join(args)});")
print("\n".join(out))
sys.exit(1 if bad else 0)
PY
if ! ${CC:-cc} -std=c11 -Wall -Werror -Iinclude -fsyntax-only "$tmp/synopsis.c" > "$tmp/cc" 2>&1; then
	cat "$tmp/cc"; echo "check-man: a SYNOPSIS disagrees with include/nbtls.h"; fail=1
fi

python3 tests/check-man-returns.py "$top" || fail=1

if ! mandoc -Tlint -W warning man/*.3 > "$tmp/lint" 2>&1 || [ -s "$tmp/lint" ]; then
	cat "$tmp/lint"; echo "check-man: mandoc -Tlint -W warning is not clean"; fail=1
fi

[ "$fail" -eq 0 ] || exit 1
echo "check-man: $(ls man/*.3 | wc -l) pages name all $(wc -l < capi-tests/symbols.txt) exported functions; prototypes and return values match the header; mandoc lint clean"
