"""Interoperability of the example programs (examples-c/) with real TLS peers.

blocking-client talks to OpenSSL's s_server, gnutls-serv and a Python ssl server;
poll-server is driven by OpenSSL's s_client, Python's ssl module and curl.  Both
programs use only the libtls API, so these tests run unchanged against nbtls
(examples-c/build/) and Debian's libtls (PEERS_LIBTLS=1, examples-c/build-libtls/).
See conftest.py for the environment variables.
"""

import hashlib
import os
import re
import selectors
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import require_tool, run, STEP_TIMEOUT, USE_LIBTLS

VERSIONS = ["1.3", "1.2"]
STATUS_LINE = re.compile(r"^nbtls: version=(\S+) cipher=(\S+) alpn=(\S+)$", re.M)


def status_line(stderr):
    """(version, cipher, alpn) from blocking-client's stderr line."""
    m = STATUS_LINE.search(stderr)
    assert m, f"no 'nbtls: version=... cipher=... alpn=...' line on stderr:\n{stderr}"
    return m.groups()


def client(bins, certs, port, *opts, host="127.0.0.1", path="/", servername="localhost"):
    argv = [bins["blocking-client"], "-C", certs / "ca.pem"]
    if servername is not None:
        argv += ["-n", servername]
    return run(argv + list(opts) + [host, port, path])


def s_server(start_server, certs, *opts, cert="server"):
    """openssl s_server -www on a free port -> (Proc, port)."""
    require_tool("openssl")
    return start_server(
        lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                      "-cert", certs / f"{cert}.pem", "-key", certs / f"{cert}.key",
                      "-www", *opts],
        r"^ACCEPT$")


def http_get(sock, path="/"):
    """Send an HTTP/1.0 request on a connected SSLSocket and read to the end of stream."""
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
    chunks = []
    while True:
        b = sock.recv(65536)
        if not b:
            return b"".join(chunks).decode()
        chunks.append(b)


def py_client_ctx(certs, version=None, alpn=("h2", "http/1.1")):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if version is not None:
        v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = v
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def py_connect(ctx, port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="localhost")


# --------------------------------------------------------------------------------------
# blocking-client against OpenSSL's s_server -www

@pytest.mark.parametrize("alpn", [False, True], ids=["no-alpn", "alpn"])
@pytest.mark.parametrize("version", VERSIONS)
def test_client_vs_s_server(bins, certs, start_server, version, alpn):
    """Server-forced version; ALPN only when both sides offer http/1.1."""
    srv, port = s_server(start_server, certs, f"-tls1_{version[-1]}",
                         *(["-alpn", "http/1.1"] if alpn else []))
    r = client(bins, certs, port, *(["-a", "http/1.1"] if alpn else []))
    assert r.returncode == 0, r.stderr
    # s_server -www echoes its command line and the session it negotiated
    assert "s_server" in r.stdout and "Ciphers supported in s_server binary" in r.stdout
    assert f"New, TLSv{version}, Cipher is" in r.stdout
    got_version, _, got_alpn = status_line(r.stderr)
    assert got_version == f"TLSv{version}"
    assert got_alpn == ("http/1.1" if alpn else "-")


@pytest.mark.parametrize("version,suite,cert", [
    ("1.3", "TLS_AES_256_GCM_SHA384", "server"),
    ("1.3", "TLS_AES_128_GCM_SHA256", "server"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256", "server"),
    ("1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", "server"),
    ("1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", "server"),
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "server"),
    ("1.2", "ECDHE-RSA-AES256-GCM-SHA384", "server-rsa"),
    ("1.2", "ECDHE-RSA-CHACHA20-POLY1305", "server-rsa"),
])
def test_client_cipher_name_matches_openssl(bins, certs, start_server, version, suite, cert):
    """tls_conn_cipher() names each suite as OpenSSL (and thus libtls) does: s_server is
    limited to one suite and its -www page says which one it negotiated."""
    opt = ["-ciphersuites", suite] if version == "1.3" else ["-cipher", suite]
    srv, port = s_server(start_server, certs, f"-tls1_{version[-1]}", *opt, cert=cert)
    r = client(bins, certs, port)
    assert r.returncode == 0, r.stderr
    assert f"New, TLSv{version}, Cipher is {suite}" in r.stdout, r.stdout[:2000]
    _, cipher, _ = status_line(r.stderr)
    assert cipher == suite, f"client says {cipher}, s_server says {suite}"


@pytest.mark.parametrize("version", VERSIONS)
def test_client_protocol_option(bins, certs, start_server, version):
    """-p (tls_config_set_protocols) picks the version against a server offering both."""
    srv, port = s_server(start_server, certs)
    r = client(bins, certs, port, "-p", version)
    assert r.returncode == 0, r.stderr
    assert f"New, TLSv{version}, Cipher is" in r.stdout
    assert status_line(r.stderr)[0] == f"TLSv{version}"


def test_client_rsa_server_cert(bins, certs, start_server):
    srv, port = s_server(start_server, certs, cert="server-rsa")
    r = client(bins, certs, port)
    assert r.returncode == 0, r.stderr
    assert "Ciphers supported in s_server binary" in r.stdout


def test_client_verifies_ip_address(bins, certs, start_server):
    """No -n: the server name is 127.0.0.1, matched against the certificate's IP SAN."""
    srv, port = s_server(start_server, certs)
    r = client(bins, certs, port, servername=None)
    assert r.returncode == 0, r.stderr
    assert "Ciphers supported in s_server binary" in r.stdout


@pytest.mark.parametrize("cert,hint", [
    ("expired", r"expired"),
    ("notyet", r"not.?yet|before|future"),
    ("wrongname", r"name"),
    ("untrusted", r"unknown|issuer|untrusted|trust"),
])
def test_client_rejects_bad_certificate(bins, certs, start_server, cert, hint):
    srv, port = s_server(start_server, certs, cert=cert)
    r = client(bins, certs, port)
    assert r.returncode == 1, f"accepted a bad certificate ({cert}):\n{r.stderr}"
    assert not STATUS_LINE.search(r.stderr), r.stderr
    assert r.stdout == ""
    assert re.search(hint, r.stderr, re.I), f"no hint /{hint}/ in: {r.stderr!r}"


def test_client_untrusted_with_wrong_ca(bins, certs, start_server):
    """A good server certificate, but the client trusts only the unrelated CA."""
    srv, port = s_server(start_server, certs)
    r = run([bins["blocking-client"], "-C", certs / "other-ca.pem", "-n", "localhost",
             "127.0.0.1", port, "/"])
    assert r.returncode == 1, r.stderr
    assert re.search(r"unknown|issuer|untrusted|trust", r.stderr, re.I), r.stderr


def test_client_insecure_noverify(bins, certs, start_server):
    """--insecure-noverify accepts an untrusted, wrongly named certificate."""
    srv, port = s_server(start_server, certs, cert="untrusted")
    r = run([bins["blocking-client"], "--insecure-noverify", "-n", "wrong.example",
             "127.0.0.1", port, "/"])
    assert r.returncode == 0, r.stderr
    assert "Ciphers supported in s_server binary" in r.stdout


def test_client_version_mismatch(bins, certs, start_server):
    """Client only TLS 1.2, server only TLS 1.3: a handshake failure, exit 1."""
    srv, port = s_server(start_server, certs, "-tls1_3")
    r = client(bins, certs, port, "-p", "1.2")
    assert r.returncode == 1, r.stderr
    assert not STATUS_LINE.search(r.stderr), r.stderr
    assert re.search(r"version|protocol|handshake", r.stderr, re.I), r.stderr


def test_client_hello_retry_request(bins, certs, start_server):
    """s_server accepts only P-384, which no client puts in its first key share: the server
    answers HelloRetryRequest and the client must do a second ClientHello."""
    srv, port = s_server(start_server, certs, "-tls1_3", "-groups", "P-384")
    r = client(bins, certs, port)
    assert r.returncode == 0, r.stderr
    assert "New, TLSv1.3, Cipher is" in r.stdout
    assert status_line(r.stderr)[0] == "TLSv1.3"


# --------------------------------------------------------------------------------------
# blocking-client against gnutls-serv --http

@pytest.mark.parametrize("version", VERSIONS)
def test_client_vs_gnutls_serv(bins, certs, start_server, version):
    require_tool("gnutls-serv")
    srv, port = start_server(
        lambda port: ["gnutls-serv", "-p", port, "--http", "--alpn", "http/1.1",
                      "--x509certfile", certs / "server.pem",
                      "--x509keyfile", certs / "server.key"],
        r"listening on IPv4 .*done")
    r = client(bins, certs, port, "-p", version, "-a", "http/1.1")
    assert r.returncode == 0, r.stderr
    assert "GnuTLS" in r.stdout
    assert re.search(rf"Protocol version:</TD><TD>TLS{re.escape(version)}<", r.stdout), r.stdout
    assert "Server Name: localhost" in r.stdout  # our SNI reached the server
    got_version, _, got_alpn = status_line(r.stderr)
    assert got_version == f"TLSv{version}"
    assert got_alpn == "http/1.1"


# --------------------------------------------------------------------------------------
# blocking-client against a Python ssl server (a thread in the test)

def python_server(certs, version, close_notify=True, body=None, num_tickets=None):
    """A one-request HTTP/1.0 server on a thread -> (port, seen dict, thread, listener)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs / "server.pem"), str(certs / "server.key"))
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    ctx.set_alpn_protocols(["http/1.1"])
    if num_tickets is not None:
        ctx.num_tickets = num_tickets
    seen = {"sni": []}
    ctx.sni_callback = lambda sslobj, name, c: seen["sni"].append(name)

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(STEP_TIMEOUT)

    def serve():
        try:
            conn, _ = lsock.accept()
            conn.settimeout(STEP_TIMEOUT)
            with ctx.wrap_socket(conn, server_side=True) as tls:
                req = b""
                while b"\r\n\r\n" not in req:
                    b = tls.recv(4096)
                    if not b:
                        break
                    req += b
                seen["request"] = req.decode(errors="replace")
                out = body if body is not None else (
                    f"hello from python: {tls.version()} "
                    f"alpn={tls.selected_alpn_protocol()}\n").encode()
                tls.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + out)
                if close_notify:
                    tls.unwrap()  # close_notify, then wait for the client's
                    seen["clean_close"] = True
                # else: leaving the with block closes the socket without close_notify
        except Exception as e:  # reported by the assertions of the test
            seen["error"] = repr(e)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lsock.getsockname()[1], seen, t, lsock


@pytest.mark.parametrize("version", VERSIONS)
def test_client_vs_python_server(bins, certs, version):
    port, seen, t, lsock = python_server(certs, version)
    try:
        r = client(bins, certs, port, "-a", "http/1.1", path="/py/path?x=1")
        t.join(STEP_TIMEOUT)
    finally:
        lsock.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"hello from python: TLSv{version} alpn=http/1.1\n"
    assert status_line(r.stderr)[0::2] == (f"TLSv{version}", "http/1.1")
    assert "error" not in seen, seen["error"]
    assert seen["request"].startswith("GET /py/path?x=1 HTTP/1.0\r\n"), seen["request"]
    assert f"\r\nHost: localhost:{port}\r\n" in seen["request"], seen["request"]
    assert seen["sni"] == ["localhost"]
    assert seen.get("clean_close"), "the client did not answer close_notify"


@pytest.mark.parametrize("tickets", [0, 10])
def test_client_tls13_tickets(bins, certs, tickets):
    """An OpenSSL server writes its TLS 1.3 tickets inside its handshake: none, or ten
    records the client has to read past before the response (libtls may report WANT on
    the blocking socket meanwhile; the client repeats the call)."""
    port, seen, t, lsock = python_server(certs, "1.3", num_tickets=tickets)
    try:
        r = client(bins, certs, port, "-a", "http/1.1")
        t.join(STEP_TIMEOUT)
    finally:
        lsock.close()
    assert r.returncode == 0, r.stderr
    assert "error" not in seen, seen["error"]
    assert r.stdout == "hello from python: TLSv1.3 alpn=http/1.1\n"
    assert seen.get("clean_close")


@pytest.mark.parametrize("version", VERSIONS)
def test_client_large_body(bins, certs, version):
    """8 MiB of body through tls_read() on a blocking socket, byte for byte."""
    body = os.urandom(8 * 1024 * 1024)
    port, seen, t, lsock = python_server(certs, version, body=body)
    try:
        r = subprocess.run([str(bins["blocking-client"]), "-C", str(certs / "ca.pem"), "-n",
                            "localhost", "127.0.0.1", str(port), "/big"],
                           capture_output=True, timeout=STEP_TIMEOUT)
        t.join(STEP_TIMEOUT)
    finally:
        lsock.close()
    assert r.returncode == 0, r.stderr
    assert "error" not in seen, seen["error"]
    assert len(r.stdout) == len(body)
    assert hashlib.sha256(r.stdout).digest() == hashlib.sha256(body).digest()
    assert seen.get("clean_close")


@pytest.mark.parametrize("version", VERSIONS)
def test_client_detects_truncation(bins, certs, version):
    """The server ends the stream without close_notify: blocking-client exits 1 with a
    message about the EOF.  (nbtls's contract: tls_read() returns 0, tls_close() fails;
    Debian's libtls on OpenSSL 3 already fails tls_read() with "unexpected eof".)"""
    port, seen, t, lsock = python_server(certs, version, close_notify=False)
    try:
        r = client(bins, certs, port)
        t.join(STEP_TIMEOUT)
    finally:
        lsock.close()
    assert "error" not in seen, seen["error"]
    assert r.stdout == f"hello from python: TLSv{version} alpn=None\n"
    assert r.returncode == 1, r.stderr
    assert re.search(r"(tls_read|tls_close): .*(eof|close_notify|truncat)", r.stderr, re.I), \
        r.stderr


# --------------------------------------------------------------------------------------
# OpenSSL's s_client against poll-server

@pytest.mark.parametrize("alpn", [False, True], ids=["no-alpn", "alpn"])
@pytest.mark.parametrize("version", VERSIONS)
def test_s_client_vs_server(poll_server, certs, version, alpn):
    require_tool("openssl")
    srv, port = poll_server("-n", "1", *(["-a", "http/1.1"] if alpn else []))
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
             "-CAfile", certs / "ca.pem", "-verify_return_error", "-ign_eof",
             f"-tls1_{version[-1]}", *(["-alpn", "http/1.1"] if alpn else [])],
            input="GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
    rc = srv.wait()
    why = f"s_client:\n{r.stdout}{r.stderr}\npoll-server:\n{srv.output()}"
    assert r.returncode == 0, why
    assert f"New, TLSv{version}, Cipher is" in r.stdout, why
    assert "Verify return code: 0 (ok)" in r.stdout
    if alpn:
        assert "ALPN protocol: http/1.1" in r.stdout
    else:
        assert "No ALPN negotiated" in r.stdout
    assert "HTTP/1.0 200 OK" in r.stdout, why
    want_alpn = "http/1.1" if alpn else "-"
    assert f"hello from nbtls: TLSv{version} alpn={want_alpn}\n" in r.stdout, why
    assert rc == 0, why
    # the server's tls_conn_version()/tls_conn_cipher() name what s_client saw
    suite = re.search(r"New, TLSv1\.\d, Cipher is (\S+)", r.stdout).group(1)
    assert f"handshake done: TLSv{version} {suite} alpn={want_alpn}" in srv.output(), why


def test_s_client_hello_retry_request(poll_server, certs):
    """s_client's first key share is ffdhe2048 (which rustls does not do) and P-256 is
    offered second: the server must send HelloRetryRequest over its nonblocking socket."""
    require_tool("openssl")
    srv, port = poll_server("-n", "1")
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
             "-CAfile", certs / "ca.pem", "-verify_return_error", "-ign_eof", "-tls1_3",
             "-groups", "ffdhe2048:P-256"],
            input="GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
    rc = srv.wait()
    why = f"s_client:\n{r.stdout}{r.stderr}\npoll-server:\n{srv.output()}"
    assert r.returncode == 0, why
    assert "Server Temp Key: ECDH, prime256v1" in r.stdout, why
    assert "hello from nbtls: TLSv1.3 alpn=-" in r.stdout, why
    assert rc == 0, why


@pytest.mark.parametrize("version", VERSIONS)
def test_s_client_resumption(poll_server, certs, tmp_path, version):
    """nbtls servers issue resumable sessions by default (DESIGN: sessions and tickets on,
    TLS 1.3 tickets DEFERRED until the response is written): s_client's second connection
    with -sess_in must say "Reused"."""
    require_tool("openssl")
    if USE_LIBTLS:
        pytest.skip("Debian's libtls server offers no resumption without session-id/"
                    "ticket-key setup; this checks nbtls's default")
    srv, port = poll_server("-n", "2")
    sess = tmp_path / "sess.pem"
    outs = []
    for flag in ("-sess_out", "-sess_in"):
        r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                 "localhost", "-CAfile", certs / "ca.pem", "-verify_return_error", "-ign_eof",
                 f"-tls1_{version[-1]}", flag, sess],
                input="GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        outs.append(r.stdout + r.stderr)
        assert r.returncode == 0, outs[-1]
        assert f"hello from nbtls: TLSv{version} alpn=-" in r.stdout, outs[-1]
    assert f"New, TLSv{version}, Cipher is" in outs[0], outs[0]
    assert f"Reused, TLSv{version}, Cipher is" in outs[1], outs[1]
    assert srv.wait() == 0, srv.output()


def test_s_client_key_update_echo(poll_server, spawn, certs):
    """TLS 1.3 KeyUpdate from OpenSSL ("K": update_requested, "k": not requested) in the
    middle of an --echo session: the server must take the new keys and, for "K", send its
    own KeyUpdate before the next echoed record, or s_client cannot decrypt the echo."""
    require_tool("openssl")
    srv, port = poll_server("-n", "1", "--echo")
    c = spawn(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
               "localhost", "-CAfile", certs / "ca.pem", "-verify_return_error", "-tls1_3"],
              stdin=subprocess.PIPE)
    c.send("hello1\n")
    c.wait_for_count(r"^hello1$", 1)
    for i, cmd in enumerate(["K", "k", "K"]):
        # one command per read(): s_client ignores whatever follows a command in its buffer
        c.send(cmd + "\n")
        c.wait_for_count(r"^KEYUPDATE$", i + 1)
        c.send(f"after-{cmd}-{i}\n")
        c.wait_for_count(rf"^after-{cmd}-{i}$", 1)
    c.p.stdin.close()  # s_client sends close_notify; the server closes too
    assert c.wait() == 0, c.output()
    assert srv.wait() == 0, srv.output()


# --------------------------------------------------------------------------------------
# gnutls-cli against poll-server

@pytest.mark.parametrize("version", VERSIONS)
def test_gnutls_cli_vs_server(poll_server, certs, version):
    require_tool("gnutls-cli")
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    r = run(["gnutls-cli", "-p", port, "--x509cafile", certs / "ca.pem", "--alpn=http/1.1",
             f"--priority=NORMAL:-VERS-ALL:+VERS-TLS{version}", "localhost"],
            input="GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
    rc = srv.wait()
    out = r.stdout + r.stderr
    why = f"gnutls-cli:\n{out}\npoll-server:\n{srv.output()}"
    assert r.returncode == 0, why
    assert "The certificate is trusted" in out, why
    assert f"- Description: (TLS{version}-X.509)" in out, why
    assert "- Application protocol: http/1.1" in out, why
    assert f"hello from nbtls: TLSv{version} alpn=http/1.1" in r.stdout, why
    assert "Peer has closed the GnuTLS connection" in out, why  # a close_notify came
    assert rc == 0, why


# --------------------------------------------------------------------------------------
# Python's ssl client against poll-server

@pytest.mark.parametrize("version", VERSIONS)
def test_python_client_vs_server(poll_server, certs, version):
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    with py_connect(py_client_ctx(certs, version), port) as s:
        assert s.version() == f"TLSv{version}"
        assert s.selected_alpn_protocol() == "http/1.1"
        resp = http_get(s)
        # recv() returned b"" — was it a close_notify?  unwrap() succeeds only then.
        s.unwrap()
    head, _, body = resp.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.0 200 OK\r\n"), resp
    assert body == f"hello from nbtls: TLSv{version} alpn=http/1.1\n"
    assert f"Content-Length: {len(body)}" in head
    assert srv.wait() == 0, srv.output()


def test_python_client_no_alpn(poll_server, certs):
    """The server has ALPN configured, the client offers none: no ALPN, no failure."""
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    with py_connect(py_client_ctx(certs, alpn=None), port) as s:
        assert s.selected_alpn_protocol() is None
        resp = http_get(s)
    assert resp.endswith("alpn=-\n"), resp
    assert srv.wait() == 0, srv.output()


def test_python_client_alpn_no_overlap(poll_server, certs):
    """The client offers only h2, the server only http/1.1.  RFC 7301 section 3.2 and
    LibreSSL's libtls since 2025 (DESIGN v5; Debian's 3.7 still completes): the server ends
    the handshake with a fatal no_application_protocol alert, and says why."""
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    with pytest.raises(ssl.SSLError, match="no application protocol"):
        with py_connect(py_client_ctx(certs, alpn=("h2",)), port) as s:
            http_get(s)
    assert srv.wait() == 1, srv.output()   # -n: 1 when a connection failed
    assert "handshake failed" in srv.output() or "failed:" in srv.output(), srv.output()
    # The control: a client that sends no ALPN completes, with none selected.
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    with py_connect(py_client_ctx(certs, alpn=()), port) as s:
        assert s.selected_alpn_protocol() is None
        resp = http_get(s)
    assert resp.endswith("alpn=-\n"), resp
    assert srv.wait() == 0, srv.output()


def test_server_concurrent_clients(poll_server, certs):
    """Ten handshakes held open at once, then requests in reverse order: the server must
    serve every connection independently (a blocking server would hang on the first)."""
    n = 10
    srv, port = poll_server("-n", str(n), "-a", "http/1.1")
    ctx = py_client_ctx(certs)
    socks = [py_connect(ctx, port) for _ in range(n)]
    try:
        for s in reversed(socks):
            body = http_get(s).partition("\r\n\r\n")[2]
            assert body == "hello from nbtls: TLSv1.3 alpn=http/1.1\n"
    finally:
        for s in socks:
            s.close()
    assert srv.wait() == 0, srv.output()


@pytest.mark.parametrize("version", VERSIONS)
def test_server_echo(poll_server, certs, version):
    """--echo: chunks from 1 byte to well over one TLS record come back unchanged."""
    srv, port = poll_server("-n", "1", "--echo")
    with py_connect(py_client_ctx(certs, version, alpn=None), port) as s:
        for i, size in enumerate([1, 100, 16384, 16385, 70000, 3]):
            data = bytes((i * 7 + k) % 251 for k in range(size))
            s.sendall(data)
            got = b""
            while len(got) < size:
                b = s.recv(size - len(got))
                assert b, f"stream ended after {len(got)} of {size} bytes"
                got += b
            assert got == data
        s.unwrap()  # our close_notify ends the echo; the server answers with its own
    assert srv.wait() == 0, srv.output()


def test_server_echo_full_duplex_backpressure(poll_server, certs):
    """2 MiB through --echo while the client reads and writes at once through 4 KiB socket
    buffers: the server's tls_write() keeps hitting EAGAIN part-way and must be retried
    with the same data (libtls semantics) without losing, duplicating or reordering."""
    srv, port = poll_server("-n", "1", "--echo")
    data = os.urandom(2 * 1024 * 1024)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    raw.settimeout(STEP_TIMEOUT)
    raw.connect(("127.0.0.1", port))
    s = py_client_ctx(certs, alpn=None).wrap_socket(raw, server_hostname="localhost")
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent, got = 0, bytearray()
    while len(got) < len(data):
        events = sel.select(STEP_TIMEOUT)
        assert events, f"stalled: sent {sent}, received {len(got)} of {len(data)}"
        try:  # drain everything readable, including what OpenSSL already buffered
            while True:
                b = s.recv(65536)
                assert b, f"stream ended after {len(got)} bytes"
                got += b
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        if sent < len(data):
            try:
                sent += s.send(data[sent:sent + 16384])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        else:
            sel.modify(s, selectors.EVENT_READ)
    sel.close()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    s.setblocking(True)
    s.settimeout(STEP_TIMEOUT)
    s.unwrap()
    s.close()
    assert srv.wait() == 0, srv.output()


# --------------------------------------------------------------------------------------
# curl against poll-server

def curl_argv(certs, port, *opts):
    return ["curl", "-sS", "--http1.1", "--cacert", certs / "ca.pem",
            "--resolve", f"localhost:{port}:127.0.0.1", "--max-time", str(STEP_TIMEOUT), *opts]


@pytest.mark.parametrize("version", VERSIONS)
def test_curl_vs_server(poll_server, certs, version):
    require_tool("curl")
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    vopts = ["--tlsv1.3"] if version == "1.3" else ["--tlsv1.2", "--tls-max", "1.2"]
    r = run(curl_argv(certs, port, *vopts, "-w", "status=%{http_code}",
                      f"https://localhost:{port}/index.html"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"hello from nbtls: TLSv{version} alpn=http/1.1\nstatus=200", r.stdout
    assert srv.wait() == 0, srv.output()


def test_curl_parallel_vs_server(poll_server, certs):
    require_tool("curl")
    n = 6
    srv, port = poll_server("-n", str(n), "-a", "http/1.1")
    urls = [f"https://localhost:{port}/{i}" for i in range(n)]
    r = run(curl_argv(certs, port, "--parallel", "--parallel-max", str(n), *urls))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("hello from nbtls: TLSv1.3 alpn=http/1.1\n") == n, r.stdout
    assert srv.wait() == 0, srv.output()


# --------------------------------------------------------------------------------------
# the two examples against each other

@pytest.mark.parametrize("version", VERSIONS)
def test_client_vs_server(bins, certs, poll_server, version):
    srv, port = poll_server("-n", "1", "-a", "http/1.1")
    r = client(bins, certs, port, "-p", version, "-a", "h2,http/1.1", host="localhost",
               servername=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"hello from nbtls: TLSv{version} alpn=http/1.1\n"
    assert status_line(r.stderr)[0::2] == (f"TLSv{version}", "http/1.1")
    assert srv.wait() == 0, srv.output()
    assert "sni=localhost" in srv.output()
