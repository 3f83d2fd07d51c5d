#!/usr/bin/env python3
"""The load soak: examples-c/echo-server-epoll under thousands of concurrent connections.

    soak.py [--seconds S] [--concurrent C] [--max-bytes B] [--seed N]

Runs the epoll echo server with an allocation counter preloaded (tests/soak/alloc-count.so)
and drives it with tests/soak/soak-client: C connections open at once for S seconds, each
a full echo of a random size, an early close, a reset mid-transfer or mid-handshake, a
close without close_notify, garbage instead of a ClientHello or silence (see
soak-client.c).  The server's accounting comes from its SIGUSR1 stats line.

Checks, each with a plain message when it fails:
  - the client saw nothing unexpected: every full echo verified byte for byte, no failure
    before a connection's planned end, every connection ended;
  - every connection accounted for: the server accepted exactly the TCP connections the
    client established, and closed every one (open 0);
  - the heap back to its baseline: the number of live allocations at idle after the soak
    equals the number at idle before it.  The baseline is taken after warm-up rounds
    (the same mix of connections) have settled it: lazily built state (the config's
    rustls snapshot, the TLS 1.2 session cache, which the server runs at 8 entries so
    that warm-up fills it) is created once, and two rounds in a row must leave the same
    count before the soak starts;
  - the server exits on SIGTERM with the status its failure count implies.

`make soak` runs the long version; `make test` a short one (`make soak-quick`).
"""

import argparse
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "examples-c" / "build" / "echo-server-epoll"
CLIENT = ROOT / "target" / "soak" / "soak-client"
COUNTER = ROOT / "target" / "soak" / "alloc-count.so"
CERTS = ROOT / "target" / "certs"
CACHE_SIZE = 8
STATS = re.compile(
    r"stats: accepted (\d+), open (\d+), closed (\d+), failed (\d+), peak (\d+), "
    r"live allocations (\d+|n/a)")


class Failure(Exception):
    pass


class Server:
    """The echo server, its stdout read line by line with timeouts."""

    def __init__(self):
        env = dict(os.environ, LD_PRELOAD=str(COUNTER))
        self.proc = subprocess.Popen(
            [SERVER, "-q", "-s", str(CACHE_SIZE), "-c", CERTS / "server.pem",
             "-k", CERTS / "server.key", "0"],
            stdout=subprocess.PIPE, env=env)
        self.buf = b""
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.line_matching(re.compile(r"listening on (\d+)"), 10)
        self.port = int(line.group(1))

    def line_matching(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                m = pattern.search(line.decode())
                if m is not None:
                    return m
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                raise Failure(f"the server printed no line matching {pattern.pattern!r} "
                              f"within {timeout} s")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if chunk == b"":
                raise Failure(f"the server exited (status {self.proc.wait()})")
            self.buf += chunk

    def stats(self):
        self.proc.send_signal(signal.SIGUSR1)
        m = self.line_matching(STATS, 10)
        if m.group(6) == "n/a":
            raise Failure(f"the allocation counter is not loaded ({COUNTER})")
        keys = ("accepted", "open", "closed", "failed", "peak", "live")
        return dict(zip(keys, (int(g) for g in m.groups())))

    def idle(self, timeout=30):
        """The stats once every connection the server accepted is closed."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats()
            if s["open"] == 0:
                if s["accepted"] != s["closed"]:
                    raise Failure(f"open 0 but accepted {s['accepted']} != closed "
                                  f"{s['closed']}")
                return s
            if time.monotonic() > deadline:
                raise Failure(f"{s['open']} connections still open on the server {timeout} s "
                              "after the client ended")
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        m = self.line_matching(re.compile(r"served (\d+) connections, peak \d+ open, (\d+) "
                                          r"failed"), 10)
        rc = self.proc.wait(timeout=10)
        return int(m.group(1)), int(m.group(2)), rc


def run_client(port, seconds, concurrent, max_bytes, seed):
    args = [CLIENT, "-C", CERTS / "ca.pem", "-c", str(concurrent), "-d", str(seconds),
            "-b", str(max_bytes)]
    if seed is not None:
        args += ["-s", str(seed)]
    r = subprocess.run(args + ["127.0.0.1", str(port)], capture_output=True, text=True,
                       timeout=seconds + 120)
    summary = [l for l in r.stdout.splitlines() if "connected" in l]
    if r.returncode != 0 or not summary:
        raise Failure(f"soak-client failed (status {r.returncode}):\n{r.stdout}{r.stderr[-4000:]}")
    m = re.search(r"connected (\d+) ", summary[-1])
    return int(m.group(1)), summary[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--concurrent", type=int, default=4000)
    ap.add_argument("--max-bytes", type=int, default=256 * 1024)
    ap.add_argument("--seed", type=int)
    a = ap.parse_args()
    for p in (SERVER, CLIENT, COUNTER, CERTS / "server.pem"):
        if not p.exists():
            sys.exit(f"soak: {p} is missing (run it with `make soak`)")

    server = Server()
    try:
        # Warm-up rounds until two in a row leave the same count at idle.
        warm = min(a.concurrent, 500)
        last = None
        for round_ in range(1, 7):
            _, summary = run_client(server.port, 1, warm, a.max_bytes, None)
            s = server.idle()
            print(f"soak: warm-up {round_}: {s['live']} live allocations at idle "
                  f"({s['accepted']} connections so far)", flush=True)
            if last is not None and s["live"] == last["live"]:
                break
            last = s
        else:
            raise Failure("the allocation count did not settle in six warm-up rounds: "
                          "memory grows with connections")
        base = s

        t0 = time.monotonic()
        connected, summary = run_client(server.port, a.seconds, a.concurrent, a.max_bytes,
                                        a.seed)
        took = time.monotonic() - t0
        print(summary, flush=True)
        after = server.idle()
        accepted = after["accepted"] - base["accepted"]
        failed = after["failed"] - base["failed"]
        print(f"soak: {took:.0f} s; server accepted {accepted}, closed all, {failed} ended by "
              f"the client's faults; peak {after['peak']} open; live allocations "
              f"{base['live']} before, {after['live']} after", flush=True)
        if accepted != connected:
            raise Failure(f"the client established {connected} connections, the server "
                          f"accepted {accepted}")
        if after["live"] != base["live"]:
            raise Failure(f"live allocations at idle went from {base['live']} to "
                          f"{after['live']} over {accepted} connections")
    finally:
        if server.proc.poll() is None:
            served, failed_total, rc = server.stop()
        else:
            served, failed_total, rc = None, None, server.proc.returncode
    if rc != (1 if failed_total else 0):
        raise Failure(f"the server exited with status {rc} after {failed_total} failures")
    print(f"soak: passed ({served} connections served in all)")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        sys.exit(f"soak: FAILED: {e}")
