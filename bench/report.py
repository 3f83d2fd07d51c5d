#!/usr/bin/env python3
"""Turns the harnesses' RESULT/SKIP lines (prefixed "<library> <round> ") into the table,
bench/results/latest.json and a small hand-written SVG chart. Standard library only.

Usage: report.py RAW JSON SVG
"""
import json
import statistics
import sys
from collections import OrderedDict

LIBS = ["nbtls", "rustls", "openssl", "libretls", "limit"]
COLOURS = {"nbtls": "#1f6fb4", "rustls": "#e3772b", "openssl": "#3a9a3a", "libretls": "#a23b72"}
HEADLINE = [  # the workloads of the table and the chart, in order
    "handshake_full_p256", "handshake_full_ca150", "handshake_full_sni50",
    "handshake_full_mtls", "handshake_full_mtls_ca150",
    "handshake_full_p256_hybrid", "handshake_full_rsa2048",
    "handshake_resumed", "handshake_resumed_aes256",
    "handshake_full_1t_wall", "handshake_full_2t", "handshake_resumed_1t_wall", "handshake_resumed_2t",
    "bulk_aes128gcm_16k", "bulk_aes256gcm_16k", "bulk_chacha20_16k",
    "bulk_aes128gcm_1k", "bulk_aes256gcm_1k", "bulk_chacha20_1k",
    "bulk_record_16k", "bulk_record_16k_ra", "reads_per_record", "reads_per_record_ra",
    "req_resp_us", "latency_tcp_ms", "mem_per_conn", "mem_per_conn_client", "allocs_per_conn", "allocs_per_req",
    "idle_10k_heap_per_conn", "idle_10k_heap_total", "idle_10k_rss_per_conn", "idle_10k_rss_total",
]
NOT_CHARTED = {"allocs_per_conn", "allocs_per_req", "idle_10k_heap_total", "idle_10k_rss_total"}
SCALING = ["handshake_full", "handshake_resumed"]  # <base>_2t against <base>_1t_wall


def parse(path):
    values = OrderedDict()  # (workload, library) -> [values]
    by_round = {}  # (workload, library) -> {round: value}, for the paired scaling ratios
    meta = {}  # workload -> (unit, higher_is_better)
    skips = OrderedDict()  # (workload, library) -> reason
    other = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) < 3:
                continue
            lib, _round, kind = parts[0], parts[1], parts[2]
            rest = parts[3] if len(parts) > 3 else ""
            if kind == "RESULT":
                w, v, unit, hib = rest.split()
                values.setdefault((w, lib), []).append(float(v))
                by_round.setdefault((w, lib), {})[_round] = float(v)
                meta[w] = (unit, hib == "1")
            elif kind == "SKIP":
                w, _, why = rest.partition(" ")
                if lib != "limit":
                    skips.setdefault((w, lib), why)
            else:
                other.append(line.rstrip("\n"))
    return values, meta, skips, other, by_round


def fmt(v, unit):
    if unit == "bytes" or unit == "count":
        return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def table(entries, meta, only_limit=False):
    """The main table (workloads the TLS libraries ran), or the limit's primitives."""
    by = {(e["workload"], e["library"]): e for e in entries}
    ran = {e["workload"] for e in entries if e["library"] != "limit"}
    workloads = [w for w in HEADLINE if w in meta] + sorted(w for w in meta if w not in HEADLINE)
    workloads = [w for w in workloads if (w in ran) != only_limit and not w.endswith("_cpus")]
    if only_limit:
        rows = [[w, meta[w][0], fmt(by[(w, "limit")]["value"], meta[w][0])] for w in workloads]
        head = ["ring primitive (limit)", "unit", "one core"]
        width = [max(len(str(r[i])) for r in rows + [head]) for i in range(3)]
        out = ["| " + " | ".join(h.ljust(width[i]) for i, h in enumerate(head)) + " |",
               "|" + "|".join("-" * (x + 2) for x in width) + "|"]
        out += ["| " + " | ".join(str(c).ljust(width[i]) for i, c in enumerate(r)) + " |" for r in rows]
        return "\n".join(out)
    head = ["workload", "unit"] + LIBS + ["nbtls/rustls"]
    rows = []
    for w in workloads:
        unit, hib = meta[w]
        row = [w, unit + (" ↑" if hib else " ↓")]
        for lib in LIBS:
            e = by.get((w, lib))
            if e is None:
                row.append("n/a" if lib != "limit" else "")
                continue
            lo, hi = e["spread"]
            sp = (hi - lo) / 2 / e["value"] * 100 if e["value"] else 0
            row.append(fmt(e["value"], unit) + (f" ±{sp:.0f}%" if hi > lo else ""))
        a, b = by.get((w, "nbtls")), by.get((w, "rustls"))
        row.append(f"{a['value'] / b['value']:.2f}" if a and b and b["value"] else "")
        rows.append(row)
    width = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(width[i]) for i, h in enumerate(head)) + " |",
             "|" + "|".join("-" * (x + 2) for x in width) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(width[i]) for i, c in enumerate(r)) + " |")
    return "\n".join(lines)


def scaling(by_round):
    """One line per library and thread row: two threads against one in wall-clock time, paired
    by round (run.sh runs the two back to back), the median over the rounds in which the
    two-thread run kept at least 1.8 CPUs busy (another program's load takes CPUs away from
    a round: its ratio says nothing about locks); with the CPUs busy and the ratio per
    CPU-second (below 1: sharing costs work, e.g. contended cache lines)."""
    lines = []
    for base in SCALING:
        one, two = base + "_1t_wall", base + "_2t"
        for lib in LIBS:
            r1, r2 = by_round.get((one, lib), {}), by_round.get((two, lib), {})
            c1, c2 = by_round.get((one + "_cpus", lib), {}), by_round.get((two + "_cpus", lib), {})
            rounds = [r for r in r2 if r in r1 and r1[r] and r in c1 and r in c2 and c1[r] and c2[r]]
            if not rounds:
                continue
            good = [r for r in rounds if c2[r] >= 1.8]
            use = good or rounds
            med = statistics.median
            line = (f"  {lib:9} {base}: 2t/1t = {med([r2[r] / r1[r] for r in use]):.2f}x"
                    f" (CPUs busy {med([c2[r] for r in use]):.2f} / {med([c1[r] for r in use]):.2f};"
                    f" per CPU-second {med([(r2[r] / c2[r]) / (r1[r] / c1[r]) for r in use]):.2f}x;"
                    f" {len(good)} of {len(rounds)} rounds had two cores)")
            if not good:
                line += " - no round had two cores: see the load"
            lines.append(line)
    return lines


def svg(entries, meta, path):
    """One group of bars per workload, each library's median relative to the best peer
    (lower-is-better figures inverted), with the median printed beside the bar."""
    by = {(e["workload"], e["library"]): e for e in entries}
    peers = ["nbtls", "rustls", "openssl", "libretls"]
    workloads = [w for w in HEADLINE if w in meta and w not in NOT_CHARTED]
    bar, gap, left, width = 11, 14, 190, 380
    height = 40 + len(workloads) * (len(peers) * bar + gap) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" height="{height}" '
           'font-family="sans-serif" font-size="10">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="8" y="16" font-size="13" font-weight="bold">nbtls benchmarks: relative to '
           'the best peer (longer is better)</text>']
    for i, lib in enumerate(peers):
        out.append(f'<rect x="{left + i * 95}" y="24" width="10" height="10" fill="{COLOURS[lib]}"/>'
                   f'<text x="{left + i * 95 + 14}" y="33">{lib}</text>')
    y = 44
    for w in workloads:
        unit, hib = meta[w]
        vals = {lib: by[(w, lib)]["value"] for lib in peers if (w, lib) in by}
        if not vals:
            continue
        best = max(vals.values()) if hib else min(v for v in vals.values() if v > 0)
        out.append(f'<text x="{left - 6}" y="{y + 2 * bar + 3}" text-anchor="end">{w}</text>')
        for j, lib in enumerate(peers):
            yy = y + j * bar
            if lib not in vals:
                out.append(f'<text x="{left + 3}" y="{yy + bar - 2}" fill="#888">n/a</text>')
                continue
            v = vals[lib]
            rel = (v / best) if hib else (best / v if v else 0)
            out.append(f'<rect x="{left}" y="{yy}" width="{max(1, rel * width):.1f}" '
                       f'height="{bar - 2}" fill="{COLOURS[lib]}"/>')
            out.append(f'<text x="{left + rel * width + 4:.1f}" y="{yy + bar - 2}">'
                       f'{fmt(v, unit)} {unit}</text>')
        y += len(peers) * bar + gap
    out.append(f'<text x="8" y="{height - 10}" fill="#555">medians of interleaved rounds; '
               'both ends in one thread over a socketpair; see docs/bench.md</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    raw, jpath, spath = sys.argv[1:4]
    values, meta, skips, other, by_round = parse(raw)
    entries = []
    for (w, lib), vs in values.items():
        unit, hib = meta[w]
        entries.append({"workload": w, "library": lib, "value": round(statistics.median(vs), 3),
                        "unit": unit, "higher_is_better": hib,
                        "spread": [round(min(vs), 3), round(max(vs), 3)]})
    order = {w: i for i, w in enumerate(HEADLINE)}
    entries.sort(key=lambda e: (order.get(e["workload"], 99), e["workload"], LIBS.index(e["library"])
                                if e["library"] in LIBS else 9))
    with open(jpath, "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    svg(entries, meta, spath)
    print(table(entries, meta))
    print("↑ higher is better, ↓ lower is better; median ± half the [min,max] spread across rounds")
    sc = scaling(by_round)
    if sc:
        print("\nScaling, two threads sharing one config and listener against one (goal: 2t/1t >= 1.8x):")
        print("\n".join(sc))
    if any(e["library"] == "limit" for e in entries):
        print()
        print(table(entries, meta, only_limit=True))
    if skips:
        print("\nNo entry (the library cannot do the workload, or the run failed):")
        for (w, lib), why in skips.items():
            print(f"  {lib:9} {w}: {why}")
    if other:
        print("\nOther harness output:")
        for line in other[:20]:
            print("  " + line)
    print(f"\nwrote {jpath} and {spath}")


if __name__ == "__main__":
    main()
