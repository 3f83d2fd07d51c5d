"""Latency of a fresh connection plus one small request over loopback TCP, Nagle left on.

The one timing check in `make test`, because the failure it catches is a timer: when a
handshake ends on a read and nothing is written after it, the kernel delays its ACK of the
peer's last flight (~40 ms on Linux), and the peer's next small write (the request) waits
for that ACK under Nagle.  nbtls sets TCP_QUICKACK once after such a read (the README,
"Latency: delayed ACKs after a quiet handshake"); without it the median here is 44-51 ms, with it about a millisecond.  The check
is the median of RUNS connections below LIMIT_MS, so a slow machine or one slow run does not
fail it but a 40 ms timer on every connection does.  No socket option is set anywhere: no
TCP_NODELAY, default buffers.

What each client measures, honestly:
- blocking-client (nbtls, --repeat): wall-clock time inside the client from before
  connect() to the first bytes of the reply, per connection, in one process.  Its
  connections share one tls_config, so after the first they resume where the server
  allows (TLS 1.3 tickets, TLS 1.2 sessions): the TLS 1.2 resumed handshake is the one
  that ends on a server read.
- Python's ssl client: the same span (connect, handshake, 50-byte request, reply), in
  this process; fresh full handshakes every time.
- openssl s_client: a new process per connection, so its connect-to-reply time would
  include process start-up.  The request waits on its stdin from the start (s_client
  reads stdin only once its handshake is done, and then sends it right behind its
  Finished); the test measures from s_client's "CONNECTION ESTABLISHED" line to the reply
  on its stdout, which spans the stall: the request waiting for the ACK of the Finished.
  OpenSSL's apps turn TCP_NODELAY on for the sockets they connect, which would hide the
  stall, so s_client (and s_server) run with a small LD_PRELOAD shim, built here, that
  ignores TCP_NODELAY.  Connections after the first resume the previous session.
The servers: poll-server (nbtls) under every ticket policy, TLS 1.3 and 1.2, against all
three clients; and blocking-client against `openssl s_server -www` and a Python ssl server.
There a resumed TLS 1.2 client writes its Finished last and its request next, and OpenSSL
servers delay their ACK of that Finished: the request waits ~40 ms unless the client
pushes it (Python's ssl client, OpenSSL underneath, is printed beside it as a reference
and stalls there too).
Every figure is printed in the summary at the end of the run ("latency ..." lines).
Under PEERS_LIBTLS=1 the programs are the libtls builds and only the default policy runs.
"""

import os
import socket
import ssl
import statistics
import subprocess
import threading
import time

import pytest

from conftest import SUMMARY, STEP_TIMEOUT, USE_LIBTLS, require_tool, run

RUNS = 20
LIMIT_MS = 20.0
REQ_LEN = 50
POLICIES = ["deferred", "opportunistic", "immediate", "none"]
VERSIONS = ["1.3", "1.2"]


def request(port):
    """blocking-client's request line for a path that makes it REQ_LEN bytes long."""
    fixed = len(f"GET  HTTP/1.0\r\nHost: localhost:{port}\r\n\r\n")
    return "/" + "x" * (REQ_LEN - fixed - 1)


PY_REQUEST = b"GET / HTTP/1.0\r\nX-Pad: "
PY_REQUEST += b"x" * (REQ_LEN - len(PY_REQUEST) - 4) + b"\r\n\r\n"
assert len(PY_REQUEST) == REQ_LEN


def record(label, samples):
    """Prints and keeps the figures; returns (median, line)."""
    med = statistics.median(samples)
    line = (f"latency {label}: median {med:.2f} ms (min {min(samples):.2f}, "
            f"max {max(samples):.2f}, n={len(samples)})")
    print(line)
    SUMMARY.append(line)
    return med, line


def reference(label, samples):
    """A figure printed for comparison and not checked."""
    record(label + " [reference, not checked]", samples)


def check(results):
    """results: [(label, samples)]; fails with every figure if any median is too high."""
    lines, bad = [], []
    for label, samples in results:
        assert len(samples) == RUNS, f"{label}: {len(samples)} of {RUNS} connections measured"
        med, line = record(label, samples)
        lines.append(line)
        if med >= LIMIT_MS:
            bad.append(label)
    assert not bad, (f"median connect-to-reply over {LIMIT_MS} ms (a delayed-ACK stall?) "
                     f"for {bad}:\n" + "\n".join(lines))


# -- clients ------------------------------------------------------------------------

def nbtls_client(bins, certs, port, version, label):
    """(label with how many connections resumed, blocking-client's times)."""
    r = run([bins["blocking-client"], "-C", certs / "ca.pem", "-n", "localhost",
             "-p", version, "--repeat", RUNS, "127.0.0.1", port, request(port)])
    assert r.returncode == 0, r.stderr
    resumed = r.stderr.count("nbtls: resumed=1")
    return (f"{label} ({resumed} resumed)",
            [float(x.split("ms=")[1]) for x in r.stderr.splitlines()
             if x.startswith("nbtls: connect-to-reply ms=")])


def py_client_times(certs, port, version, resume=False):
    """Connect-to-reply times; with resume, each connection offers the previous session."""
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    times, session = [], None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        raw = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(PY_REQUEST)
            reply = b""
            while b"\r\n\r\n" not in reply:
                data = s.recv(65536)
                assert data, f"the server closed before its reply: {reply!r}"
                reply += data
            times.append((time.perf_counter() - t0) * 1e3)
            assert reply.startswith(b"HTTP/1.0 200"), reply
            if resume:
                session = s.session
        # closed without close_notify: the server's lingering close does not mind
    return times


NODELAY_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
/* Keeps Nagle on: OpenSSL's apps set TCP_NODELAY on the sockets they connect. */
int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		return 0;
	if (real == NULL)
		real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	return real(fd, level, name, val, len);
}
"""


@pytest.fixture(scope="module")
def nagle_env(tmp_path_factory):
    """The environment for OpenSSL's programs with the TCP_NODELAY-ignoring shim."""
    d = tmp_path_factory.mktemp("nagle")
    (d / "nagle.c").write_text(NODELAY_SHIM)
    r = run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O2", "-o", d / "nagle.so",
             d / "nagle.c", "-ldl"])
    assert r.returncode == 0, r.stderr
    return {**os.environ, "LD_PRELOAD": str(d / "nagle.so")}


def s_client_times(certs, port, version, sess, env):
    """Request-to-reply times through s_client's stdin/stdout (see the module docstring)."""
    require_tool("openssl")
    times = []
    for _ in range(RUNS):
        argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                "localhost", "-CAfile", str(certs / "ca.pem"), "-verify_return_error", "-brief",
                f"-tls1_{version[-1]}", "-sess_out", str(sess)]
        if sess.exists() and sess.stat().st_size > 0:
            argv += ["-sess_in", str(sess)]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, bufsize=0, env=env)
        try:
            p.stdin.write(PY_REQUEST)  # s_client reads stdin once its handshake is done
            seen = []
            for line in p.stdout:
                seen.append(line)
                if line.startswith(b"CONNECTION ESTABLISHED"):
                    break
            else:
                raise AssertionError(f"s_client: no handshake:\n{b''.join(seen).decode()}")
            t0 = time.perf_counter()
            for line in p.stdout:
                seen.append(line)
                if line.startswith(b"HTTP/1.0 200"):
                    times.append((time.perf_counter() - t0) * 1e3)
                    break
            else:
                raise AssertionError(f"s_client: no reply:\n{b''.join(seen).decode()}")
            p.stdin.close()
            p.wait(STEP_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    return times


# -- servers ------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("version", VERSIONS)
def test_latency_nbtls_server(poll_server, bins, certs, tmp_path, nagle_env, version, policy):
    if USE_LIBTLS and policy != "deferred":
        pytest.skip("ticket policies are nbtls's")
    srv, port = poll_server("-p", version, *([] if USE_LIBTLS else ["-t", policy]))
    label = f"TLSv{version} server=poll-server/{policy}"
    check([nbtls_client(bins, certs, port, version, f"{label} client=blocking-client"),
           (f"{label} client=python-ssl", py_client_times(certs, port, version)),
           (f"{label} client=s_client (handshake done to reply)",
            s_client_times(certs, port, version, tmp_path / "sess.pem", nagle_env))])
    assert srv.p.poll() is None, srv.output()


def python_server(certs, version):
    """An HTTP/1.0 server on a thread answering every connection -> (port, stop, errors)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs / "server.pem"), str(certs / "server.key"))
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(STEP_TIMEOUT)
    errors = []

    def serve():
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                return  # closed by the test
            try:
                conn.settimeout(STEP_TIMEOUT)
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    req = b""
                    while b"\r\n\r\n" not in req:
                        b = tls.recv(4096)
                        if not b:
                            break
                        req += b
                    tls.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                b"hello from python\n")
                    try:
                        tls.unwrap()  # close_notify; blocking-client answers with its own
                    except (ssl.SSLError, OSError):
                        pass  # the Python client closes without one
            except Exception as e:  # reported by the test
                errors.append(repr(e))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lsock.getsockname()[1], lsock, errors


@pytest.mark.parametrize("version", VERSIONS)
def test_latency_nbtls_client_vs_python_server(bins, certs, version):
    port, lsock, errors = python_server(certs, version)
    try:
        result = nbtls_client(bins, certs, port, version,
                              f"TLSv{version} server=python-ssl client=blocking-client")
        ref = py_client_times(certs, port, version, resume=True)
    finally:
        lsock.close()
    assert not errors, errors
    reference(f"TLSv{version} server=python-ssl client=python-ssl resuming", ref)
    check([result])


@pytest.mark.parametrize("version", VERSIONS)
def test_latency_nbtls_client_vs_s_server(bins, certs, start_server, nagle_env, version):
    require_tool("openssl")
    _, port = start_server(
        lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                      "-cert", certs / "server.pem", "-key", certs / "server.key",
                      "-www", f"-tls1_{version[-1]}"],
        r"^ACCEPT$", env=nagle_env)
    result = nbtls_client(bins, certs, port, version,
                          f"TLSv{version} server=s_server client=blocking-client")
    reference(f"TLSv{version} server=s_server client=python-ssl resuming",
              py_client_times(certs, port, version, resume=True))
    check([result])

