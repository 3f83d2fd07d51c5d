"""The issue-5 example programs (examples-c/) against real peers.

- https-server-select: curl (HTTP/1.1 keep-alive, --parallel), openssl s_client
  (pipelined requests), error statuses and path traversal, every ticket policy.
- poll-client: openssl s_server -www and gnutls-serv --http, asserting the body, the
  negotiated version and ALPN; verification on by default.
- echo-server-epoll with load-client: 2,000 concurrent connections on loopback, every
  echoed byte checked by the client; the server's peak memory per connection (from
  /proc/PID/status: VmHWM at the peak minus VmRSS before the load, over the connection
  count) is printed.
- memory-pair: its transcript and summary over wires of 1 byte up.

Programs that need nbtls's extensions (echo-server-epoll, memory-pair, ticket policies)
are skipped under PEERS_LIBTLS=1, where they are stubs.  See conftest.py for the
environment.
"""

import hashlib
import os
import re
import subprocess
import time

import pytest

from conftest import BUILD, STEP_TIMEOUT, USE_LIBTLS, require_tool, run

STATUS_LINE = re.compile(r"^nbtls: version=(\S+) cipher=(\S+) alpn=(\S+)$", re.M)
needs_nbtls = pytest.mark.skipif(USE_LIBTLS, reason="uses nbtls's extensions")


def example(name):
    p = BUILD / name
    if not os.access(p, os.X_OK):
        hint = "make -C examples-c LIBTLS=1" if USE_LIBTLS else "make examples"
        pytest.fail(f"{p} is missing: run `{hint}` first")
    return str(p)


def status_line(stderr):
    m = STATUS_LINE.search(stderr)
    assert m, f"no 'nbtls: version=... cipher=... alpn=...' line on stderr:\n{stderr}"
    return m.groups()


# --------------------------------------------------------------------------------------
# https-server-select

@pytest.fixture
def docroot(tmp_path):
    """A document root with an index, text, binary files and a symlink pointing outside."""
    root = tmp_path / "www"
    (root / "sub").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "index.html").write_text("<h1>nbtls index</h1>\n")
    (root / "hello.txt").write_text("hello from https-server-select\n")
    (root / "sub" / "index.html").write_text("sub index\n")
    # Deterministic binary content of several sizes, one larger than every buffer.
    for size in (0, 1, 16383, 16384, 300_000):
        data = hashlib.shake_256(str(size).encode()).digest(size) if size else b""
        (root / "sub" / f"blob-{size}.bin").write_bytes(data)
    (tmp_path / "secret.txt").write_text("must not be served\n")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def select_server(spawn, certs, docroot):
    """select_server(*flags) -> (Proc, port): https-server-select on a free port."""
    def _start(*flags):
        pr = spawn([example("https-server-select"), "-c", certs / "server.pem",
                    "-k", certs / "server.key", *flags, docroot, "0"])
        m = pr.wait_for(r"^listening on (\d+)$")
        assert m is not None, f"https-server-select did not start:\n{pr.output()}"
        return pr, int(m.group(1))
    return _start


def curl(certs, *args):
    require_tool("curl")
    return run(["curl", "-sS", "--http1.1", "--cacert", certs / "ca.pem", *args])


def handshakes(pr):
    """How many TLS connections the server logged."""
    return pr.count(r"conn \d+: TLSv1\.[23] ")


def test_select_server_keepalive_sequential(select_server, certs, docroot, tmp_path):
    pr, port = select_server("-a", "http/1.1")
    names = ["index.html", "hello.txt", "sub/blob-16384.bin", "sub/blob-300000.bin",
             "sub/blob-0.bin", "sub/"]
    args = []
    for i, name in enumerate(names):
        args += [f"https://localhost:{port}/{name}", "-o", tmp_path / f"out{i}"]
    r = curl(certs, *args, "-w", "%{http_version} %{http_code} %{num_connects} "
             "%{size_download}\\n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")[:len(names)]
    for i, (name, line) in enumerate(zip(names, lines)):
        version, code, connects, size = line.split()
        src = docroot / name / "index.html" if name.endswith("/") else docroot / name
        assert (version, code) == ("1.1", "200"), line
        assert (tmp_path / f"out{i}").read_bytes() == src.read_bytes(), name
        assert int(size) == src.stat().st_size
        # keep-alive: one connection for all six requests
        assert connects == ("1" if i == 0 else "0"), f"{name}: {line}"
    assert handshakes(pr) == 1, pr.output()


def test_select_server_parallel(select_server, certs, docroot, tmp_path):
    pr, port = select_server("-a", "http/1.1", "-q")
    require_tool("curl")
    n = 16
    args = []
    for i in range(n):
        name = "sub/blob-300000.bin" if i % 2 else "sub/blob-16383.bin"
        args += [f"https://localhost:{port}/{name}?i={i}", "-o", tmp_path / f"p{i}"]
    r = curl(certs, "--parallel", "--parallel-max", "4", "--parallel-immediate", *args,
             "-w", "%{http_code} %{num_connects}\\n")
    assert r.returncode == 0, r.stderr
    codes = [l.split() for l in r.stdout.splitlines() if l.strip()]
    assert len(codes) == n and all(c[0] == "200" for c in codes), r.stdout
    for i in range(n):
        name = "sub/blob-300000.bin" if i % 2 else "sub/blob-16383.bin"
        assert (tmp_path / f"p{i}").read_bytes() == (docroot / name).read_bytes()
    new = sum(int(c[1]) for c in codes)
    # Up to 4 at once, connections reused: fewer connections than transfers.
    assert 1 <= new <= 4 + 2, r.stdout
    assert new < n


def test_select_server_statuses(select_server, certs):
    pr, port = select_server()
    base = f"https://localhost:{port}"
    cases = [
        ("/nope.txt", "404"), ("/empty-dir/", "404"), ("/empty-dir", "404"),
        ("/escape.txt", "404"),  # a symlink leading out of docroot
        ("/../secret.txt", "400"), ("/sub/../../secret.txt", "400"),
        ("/%2e%2e/secret.txt", "400"), ("/sub/%2E%2E/hello.txt", "400"),
        ("/hello%2etxt", "200"), ("/sub/index.html?x=1", "200"),
    ]
    for path, want in cases:
        r = curl(certs, "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", base + path)
        assert r.returncode == 0, r.stderr
        assert r.stdout == want, f"{path}: got {r.stdout}"
    r = curl(certs, "-I", base + "/hello.txt")
    assert r.returncode == 0 and " 200 " in r.stdout.splitlines()[0], r.stdout
    assert re.search(r"(?im)^content-length: 31\r?$", r.stdout), r.stdout
    r = curl(certs, "-X", "DELETE", "-o", "/dev/null", "-w", "%{http_code}", base + "/hello.txt")
    assert r.stdout == "405"
    assert pr.p.poll() is None, "the server must survive bad requests"


def test_select_server_s_client_pipelined(select_server, certs):
    require_tool("openssl")
    pr, port = select_server("-a", "http/1.1")
    reqs = ("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
            "GET /sub/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
             "-CAfile", certs / "ca.pem", "-verify_return_error", "-alpn", "http/1.1",
             "-ign_eof"], input=reqs)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "Verification: OK" in out and "ALPN protocol: http/1.1" in out, out
    assert out.count("HTTP/1.1 200 OK") == 2, out
    assert "hello from https-server-select\n" in out and "sub index\n" in out
    assert out.index("hello from") < out.index("sub index")
    assert "Connection: keep-alive" in out and "Connection: close" in out
    # The second request asked to close: the server ended the stream, s_client saw it.
    assert "closed" in out.splitlines()[-1] or "closed\n" in out, out


@needs_nbtls
@pytest.mark.parametrize("policy", ["deferred", "opportunistic", "immediate", "none"])
def test_select_server_ticket_policies(select_server, certs, docroot, tmp_path, policy):
    pr, port = select_server("-t", policy, "-a", "http/1.1")
    sess = tmp_path / "sess"
    for attempt in range(2):
        r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                 "localhost", "-CAfile", certs / "ca.pem", "-verify_return_error",
                 "-ign_eof", *(["-sess_out", sess] if attempt == 0 else ["-sess_in", sess])],
                input="GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "hello from https-server-select" in r.stdout
        if policy == "none":
            break
        if attempt == 1:
            assert "Reused, TLSv1.3" in r.stdout, r.stdout
    r = curl(certs, f"https://localhost:{port}/sub/blob-300000.bin", "-o", tmp_path / "b")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b").read_bytes() == (docroot / "sub" / "blob-300000.bin").read_bytes()


def test_select_server_usage():
    r = run([example("https-server-select")])
    assert r.returncode == 1 and r.stderr.startswith("usage: https-server-select"), r.stderr


# --------------------------------------------------------------------------------------
# poll-client against OpenSSL's s_server -www and gnutls-serv --http

def s_server_www(start_server, certs, *opts):
    require_tool("openssl")
    return start_server(
        lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                      "-cert", certs / "server.pem", "-key", certs / "server.key",
                      "-www", *opts],
        r"^ACCEPT$")


def gnutls_http(start_server, certs, *opts):
    require_tool("gnutls-serv")
    return start_server(
        lambda port: ["gnutls-serv", "-p", str(port), "--http",
                      "--x509certfile", certs / "server.pem",
                      "--x509keyfile", certs / "server.key", *opts],
        r"listening on .*done|HTTP Server listening")


def poll_client(certs, port, *opts, url_host="localhost", path="/"):
    return run([example("poll-client"), "-C", certs / "ca.pem", *opts,
                f"https://{url_host}:{port}{path}"])


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("alpn", [True, False], ids=["alpn", "no-alpn"])
def test_poll_client_s_server(start_server, certs, version, alpn):
    _, port = s_server_www(start_server, certs, *(["-alpn", "http/1.1"] if alpn else []))
    r = poll_client(certs, port, "-p", version, *(["-a", "h2,http/1.1"] if alpn else []))
    assert r.returncode == 0, r.stderr
    got_version, cipher, got_alpn = status_line(r.stderr)
    assert got_version == f"TLSv{version}"
    assert got_alpn == ("http/1.1" if alpn else "-")
    # s_server -www describes the connection it served.
    assert "s_server -www" in r.stdout or "Ciphers supported" in r.stdout, r.stdout[:500]
    assert re.search(rf"(?m)^(New|Reused), TLSv{version}, Cipher is", r.stdout), r.stdout[-800:]


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("alpn", [True, False], ids=["alpn", "no-alpn"])
def test_poll_client_gnutls(start_server, certs, version, alpn):
    _, port = gnutls_http(start_server, certs, *(["--alpn=http/1.1"] if alpn else []))
    # gnutls-serv listens on every address; connect to 127.0.0.1 (SNI still localhost).
    r = poll_client(certs, port, "-n", "localhost", "-p", version,
                    *(["-a", "http/1.1"] if alpn else []), url_host="127.0.0.1")
    assert r.returncode == 0, r.stderr
    got_version, cipher, got_alpn = status_line(r.stderr)
    assert got_version == f"TLSv{version}"
    assert got_alpn == ("http/1.1" if alpn else "-")
    assert "GnuTLS" in r.stdout, r.stdout[:500]
    assert f"TLS1.{version[-1]}" in r.stdout.replace("TLS 1.", "TLS1.").replace(
        "TLSv1.", "TLS1."), r.stdout


def test_poll_client_verifies_by_default(start_server, certs):
    require_tool("openssl")
    _, port = start_server(
        lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                      "-cert", certs / "untrusted.pem", "-key", certs / "untrusted.key",
                      "-www"], r"^ACCEPT$")
    r = poll_client(certs, port)
    assert r.returncode == 1 and "handshake" in r.stderr, r.stderr
    assert r.stdout == ""
    r = poll_client(certs, port, "--insecure-noverify")
    assert r.returncode == 0, r.stderr
    assert status_line(r.stderr)[0] == "TLSv1.3"


def test_poll_client_select_server(select_server, certs, docroot):
    pr, port = select_server("-a", "http/1.1")
    for name in ("sub/blob-300000.bin", "sub/blob-1.bin", "sub/blob-0.bin", "hello.txt"):
        r = subprocess.run([example("poll-client"), "-C", certs / "ca.pem", "-a", "http/1.1",
                            f"https://localhost:{port}/{name}"], capture_output=True,
                           timeout=STEP_TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert r.stdout == (docroot / name).read_bytes(), name
        assert status_line(r.stderr.decode())[2] == "http/1.1"
    r = poll_client(certs, port, path="/nope")
    assert r.returncode == 1 and "HTTP status 404" in r.stderr


def test_poll_client_usage():
    r = run([example("poll-client")])
    assert r.returncode == 1 and r.stderr.startswith("usage: poll-client"), r.stderr


# --------------------------------------------------------------------------------------
# echo-server-epoll with load-client

def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@pytest.fixture
def echo_server(spawn, certs):
    def _start(*flags):
        pr = spawn([example("echo-server-epoll"), "-c", certs / "server.pem",
                    "-k", certs / "server.key", *flags, "0"])
        m = pr.wait_for(r"^listening on (\d+)$")
        assert m is not None, f"echo-server-epoll did not start:\n{pr.output()}"
        return pr, int(m.group(1))
    return _start


@needs_nbtls
def test_epoll_echo_2000_connections(echo_server, spawn, certs, capsys):
    n = 2000
    server, port = echo_server("-q")
    nofile = int(server.wait_for(r"^nofile limit (\d+)$").group(1))
    if nofile < n + 64:
        pytest.skip(f"RLIMIT_NOFILE hard limit {nofile} is below {n + 64}")
    rss_before = vm_kib(server.p.pid, "VmRSS")
    t0 = time.monotonic()
    client = spawn([example("load-client"), "-C", certs / "ca.pem", "-c", n, "-b", 4096,
                    "-P", 128, "-t", 40, "-w", "127.0.0.1", port], stdin=subprocess.PIPE)
    m = client.wait_for(r"^holding (\d+) connections, (\d+) echoed bytes verified, "
                        r"(\d+) failed", timeout=45)
    assert m is not None, client.output()
    assert m.groups() == (str(n), str(n * 4096), "0"), client.output()
    # All n connections are open on the server now.
    hwm = vm_kib(server.p.pid, "VmHWM")
    rss_peak = vm_kib(server.p.pid, "VmRSS")
    fds = len(os.listdir(f"/proc/{server.p.pid}/fd"))
    assert fds >= n, f"server has {fds} fds open, expected at least {n}"
    elapsed = time.monotonic() - t0
    client.p.stdin.write("\n")
    client.p.stdin.flush()
    assert client.wait(30) == 0, client.output()
    assert client.wait_for(rf"^closed {n} connections$") is not None
    per_conn = (hwm - rss_before) * 1024 / n
    with capsys.disabled():
        print(f"\n[echo-server-epoll] {n} concurrent connections, 4096 bytes echoed each, "
              f"{elapsed:.1f} s; server VmRSS {rss_before} KiB before, {rss_peak} KiB at "
              f"the peak (VmHWM {hwm} KiB): {per_conn / 1024:.1f} KiB per connection "
              f"(/proc/PID/status, (VmHWM - VmRSS before) / {n})")
    # Everything closed cleanly on the server side too, once it has seen every EOF.
    deadline = time.monotonic() + 15
    while len(os.listdir(f"/proc/{server.p.pid}/fd")) > 32 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.p.send_signal(2)
    assert server.wait(10) == 0, server.output()
    assert server.wait_for(rf"^served {n} connections, peak {n} open, 0 failed") is not None, \
        server.output()
    assert per_conn < 64 * 1024, "more than 64 KiB per idle connection"


@needs_nbtls
def test_epoll_echo_bulk(echo_server, spawn, certs):
    """Few connections with large payloads: exercises the fairness budget and ready list."""
    server, port = echo_server()
    r = run([example("load-client"), "-C", certs / "ca.pem", "-c", 8, "-b", 2_000_000,
             "-P", 8, "-t", 30, "127.0.0.1", port], timeout=40)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "holding 8 connections, 16000000 echoed bytes verified, 0 failed" in r.stdout
    deadline = time.monotonic() + 15
    while len(os.listdir(f"/proc/{server.p.pid}/fd")) > 32 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.p.send_signal(2)
    assert server.wait(10) == 0, server.output()
    assert server.wait_for(r"^served 8 connections, peak \d+ open, 0 failed") is not None


# --------------------------------------------------------------------------------------
# memory-pair

@needs_nbtls
@pytest.mark.parametrize("wire", [16384, 7, 1])
@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_memory_pair(certs, wire, version):
    r = run([example("memory-pair"), "-c", certs / "server.pem", "-k", certs / "server.key",
             "-C", certs / "ca.pem", "-s", wire, "-p", version])
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert re.search(rf"(?m)^client: handshake done: TLSv{version} \S+ alpn=http/1\.1$", out)
    assert re.search(rf"(?m)^server: handshake done: TLSv{version} \S+ alpn=http/1\.1", out)
    assert "server: request: GET /hello HTTP/1.1\n" in out
    assert ("client: response: HTTP/1.1 200 OK, body: hello over the memory transport\n"
            in out), out
    assert "server: end of stream (close_notify)\n" in out
    assert out.index("client: close_notify queued") < out.index("server: end of stream")
    m = re.search(r"(?m)^memory-pair: ok: client -> server (\d+) bytes in (\d+) transfers, "
                  r"server -> client (\d+) bytes in (\d+) transfers", out)
    assert m, out
    c2s, c2s_n, s2c, s2c_n = map(int, m.groups())
    if wire == 1:
        assert c2s_n == c2s, "one byte per transfer"
    # The first transfer is the ClientHello, a whole handshake record.
    first = out.splitlines()[0]
    assert re.match(r"client -> server \d+ bytes:( handshake\(\d+\)| \(record continues\))",
                    first), first
    tickets = int(re.search(r"client: tickets received: (\d+)", out).group(1))
    assert tickets == (2 if version == "1.3" else 0)


@needs_nbtls
@pytest.mark.parametrize("policy", ["deferred", "opportunistic", "immediate", "none"])
def test_memory_pair_policies(certs, policy):
    r = run([example("memory-pair"), "-q", "-c", certs / "server.pem", "-k",
             certs / "server.key", "-C", certs / "ca.pem", "-t", policy, "-s", 100])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "memory-pair: ok:" in r.stdout
    held = int(re.search(r"server: handshake done: .*\(tickets held back: (\d+) bytes\)",
                         r.stdout).group(1))
    tickets = int(re.search(r"client: tickets received: (\d+)", r.stdout).group(1))
    if policy == "none":
        assert (held, tickets) == (0, 0)
    else:
        assert tickets == 2
    if policy == "deferred":
        assert held > 0, "DEFERRED holds the tickets back after the handshake"
    if policy == "immediate":
        assert held == 0, "IMMEDIATE sends them before the handshake returns"


def test_memory_pair_usage():
    r = run([example("memory-pair")])
    if USE_LIBTLS:
        assert "build it against nbtls" in r.stdout
    else:
        assert r.returncode == 1 and r.stderr.startswith("usage: memory-pair"), r.stderr
