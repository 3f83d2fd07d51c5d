#!/usr/bin/env python3
"""Call counts and inclusive instructions per operation from two callgrind profiles of the
same harness (N1 and N2 operations): (calls(N2) - calls(N1)) / (N2 - N1), for every function
whose name contains one of the given substrings. Used for docs/bench.md's evidence.

Usage: cgcalls.py PROFILE_N1 PROFILE_N2 N1 N2 SUBSTRING...
"""
import re
import sys
from collections import defaultdict


def load(path):
    names = {}
    calls = defaultdict(int)
    incl = defaultdict(int)
    cfn = None
    pending = None
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
            if m:
                kind, i, name = m.groups()
                if name:
                    names[i] = name.strip()
                if kind == "cfn":
                    cfn = i
                continue
            if line.startswith("calls="):
                pending = int(line.split()[0][6:])
                continue
            if pending is not None:
                parts = line.split()
                if len(parts) >= 2:
                    calls[cfn] += pending
                    incl[cfn] += int(parts[1])
                pending = None
    out_c, out_i = defaultdict(int), defaultdict(int)
    for i, n in calls.items():
        out_c[names.get(i, i)] += n
        out_i[names.get(i, i)] += incl[i]
    return out_c, out_i


def main():
    p1, p2, n1, n2, *subs = sys.argv[1:]
    n = int(n2) - int(n1)
    c1, i1 = load(p1)
    c2, i2 = load(p2)
    rows = []
    for name in c2:
        if any(s in name for s in subs):
            dc = (c2[name] - c1.get(name, 0)) / n
            di = (i2[name] - i1.get(name, 0)) / n
            if dc > 0:
                rows.append((di, dc, name))
    for di, dc, name in sorted(rows, reverse=True)[:40]:
        print(f"{dc:8.2f} calls/op {di:10.0f} Ir/op  {name[:120]}")


if __name__ == "__main__":
    main()
