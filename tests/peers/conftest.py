"""Fixtures for the real-peer interoperability tests (tests/peers/test_peers.py).

Environment:
  NBTLS_CERTS   directory with the test PKI (tests/gen-certs.sh); generated into a
                temporary directory when unset, or into NBTLS_CERTS when it is missing.
  PEERS_LIBTLS  "1": use the example programs built against Debian's libtls
                (examples-c/build-libtls/, `make -C examples-c LIBTLS=1`) instead of
                examples-c/build/ (nbtls).  For validating the tests themselves.
  CI            when true, a missing peer program (gnutls-serv, curl, ...) is a failure,
                not a skip: CI must skip nothing.
  PEERS_TIMEOUT seconds one test may take before it is aborted (default 60).

Readiness is never a sleep: a server is ready when it printed its ready line
("listening on PORT", s_server's "ACCEPT", gnutls-serv's "listening ... done"),
or when a connect() succeeds.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USE_LIBTLS = os.environ.get("PEERS_LIBTLS", "") == "1"
BUILD = ROOT / "examples-c" / ("build-libtls" if USE_LIBTLS else "build")
TEST_TIMEOUT = int(os.environ.get("PEERS_TIMEOUT", "60"))
STEP_TIMEOUT = 20  # one client run, one readiness wait
SUMMARY = []  # lines a test adds for the end of the run (the latency figures)


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def require_tool(name):
    """Path of a peer program, or skip (fail under CI) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (apt-get install {_PACKAGES.get(name, name)})"
        if in_ci():
            pytest.fail(f"CI must skip nothing: {msg}")
        pytest.skip(msg)
    return path


_PACKAGES = {"gnutls-serv": "gnutls-bin", "gnutls-cli": "gnutls-bin", "curl": "curl",
             "openssl": "openssl"}


def free_port():
    """A port that is free on every address now (gnutls-serv binds the wildcard)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def pytest_terminal_summary(terminalreporter):
    """Prints the figures tests recorded in SUMMARY, also without -s."""
    if SUMMARY:
        terminalreporter.section("figures")
        for line in SUMMARY:
            terminalreporter.write_line(line)


class PeerTestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def _per_test_timeout():
    """Abort a test that takes longer than PEERS_TIMEOUT (SIGALRM, main thread)."""
    def on_alarm(signum, frame):
        raise PeerTestTimeout(f"test took longer than {TEST_TIMEOUT} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    env = os.environ.get("NBTLS_CERTS")
    d = Path(env) if env else tmp_path_factory.mktemp("certs")
    if not (d / ".done").exists():
        subprocess.run(["sh", str(ROOT / "tests" / "gen-certs.sh"), str(d)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
    return d


@pytest.fixture(scope="session")
def bins():
    """Paths of the example programs; missing programs are a failure, never a skip."""
    out = {}
    for name in ("blocking-client", "poll-server"):
        p = BUILD / name
        if not os.access(p, os.X_OK):
            hint = "make -C examples-c LIBTLS=1" if USE_LIBTLS else "make examples"
            pytest.fail(f"{p} is missing: run `{hint}` first")
        out[name] = str(p)
    return out


class Proc:
    """A background process whose combined stdout+stderr is collected line by line."""

    def __init__(self, argv, **kw):
        self.argv = [str(a) for a in argv]
        kw.setdefault("stdin", subprocess.DEVNULL)
        self.p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, errors="replace", start_new_session=True, **kw)
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=STEP_TIMEOUT):
        """The first match of regex pattern in the output; None if the process ended first."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for line in self.lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                if self.eof:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.argv[0]}: no line matching {pattern!r} "
                                         f"within {timeout} s; output:\n{self.output()}")
                self.cond.wait(left)

    def send(self, text):
        """Write to the process's stdin (spawned with stdin=subprocess.PIPE)."""
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def count(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.lines if rx.search(line))

    def wait_for_count(self, pattern, n, timeout=STEP_TIMEOUT):
        """Wait until at least n output lines match pattern."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.count(pattern) < n:
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    raise AssertionError(f"{self.argv[0]}: wanted {n} lines matching "
                                         f"{pattern!r}; output:\n{self.output()}")
                self.cond.wait(left)

    def output(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait(self, timeout=STEP_TIMEOUT):
        """Exit status; fails the test if the process does not exit in time."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{self.argv[0]} did not exit within {timeout} s; "
                                 f"output:\n{self.output()}")
        self.t.join(5)
        return rc

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        self.t.join(5)


@pytest.fixture
def spawn():
    """spawn(argv) -> Proc; every process is stopped when the test ends."""
    procs = []

    def _spawn(argv, **kw):
        pr = Proc(argv, **kw)
        procs.append(pr)
        return pr

    yield _spawn
    for pr in procs:
        pr.stop()


@pytest.fixture
def start_server(spawn):
    """start_server(make_argv, ready, **popen_kw) -> (Proc, port).

    make_argv(port) builds the command line for a free port; ready is a regex for the
    server's ready line.  If the server exits before it is ready (say, the port was
    taken in between), it is retried on another port.
    """
    def _start(make_argv, ready, **kw):
        last = None
        for _ in range(3):
            port = free_port()
            pr = spawn(make_argv(port), **kw)
            if pr.wait_for(ready) is not None:
                return pr, port
            last = pr
        raise AssertionError(f"server never became ready:\n{last.output()}")
    return _start


@pytest.fixture
def poll_server(spawn, bins, certs):
    """poll_server(*args) starts examples-c poll-server on port 0 -> (Proc, port)."""
    def _start(*args, cert="server"):
        pr = spawn([bins["poll-server"], "-c", certs / f"{cert}.pem",
                    "-k", certs / f"{cert}.key", *args, "0"])
        m = pr.wait_for(r"^listening on (\d+)$")
        assert m is not None, f"poll-server did not start:\n{pr.output()}"
        return pr, int(m.group(1))
    return _start


def run(argv, input=None, timeout=STEP_TIMEOUT):
    """Run a client to completion with a timeout; returns CompletedProcess (text)."""
    argv = [str(a) for a in argv]
    try:
        return subprocess.run(argv, input=input, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{argv} did not finish within {timeout} s\n"
                             f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
