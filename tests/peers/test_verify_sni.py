"""Verification switches and SNI against real peers: client certificates the program checks itself
(optional verification with noverifycert), the SNI name in the client's case, and the size
of a server's first flight when it asks for a client certificate with the system's roots.

poll-server (the nbtls server; -V CAFILE|-, --optional, --noverifycert, --sni are described
at the top of examples-c/poll-server.c) is driven by `openssl s_client` and Python's ssl.
Every test also runs against Debian's libtls (PEERS_LIBTLS=1, examples-c/build-libtls/), the
reference for what nbtls must do.
"""

import re
import socket
import ssl
import subprocess

import pytest

from conftest import require_tool, run, STEP_TIMEOUT, ROOT

VERSIONS = ["1.3", "1.2"]
REQUEST = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
PEER_LINE = re.compile(r"conn \d+: peer subject=(.*) issuer=(.*) hash=(\S+) ")


@pytest.fixture(scope="module")
def extra(certs, tmp_path_factory):
    """tests/gen-extra-certs.sh's certificates: selfclient (self-signed), clientexp."""
    d = tmp_path_factory.mktemp("extra-certs")
    subprocess.run(["sh", str(ROOT / "tests" / "gen-extra-certs.sh"), str(certs), str(d)],
                   check=True, timeout=120)
    return d


def start_poll(spawn, bins, certs, *args, cert="server"):
    pr = spawn([bins["poll-server"], "-c", certs / f"{cert}.pem", "-k", certs / f"{cert}.key",
                *args, "0"])
    m = pr.wait_for(r"^listening on (\d+)$")
    assert m is not None, f"poll-server did not start:\n{pr.output()}"
    return pr, int(m.group(1))


def s_client(certs, port, *opts, servername="localhost"):
    require_tool("openssl")
    return run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                "-servername", servername, "-CAfile", certs / "ca.pem", "-ign_eof", *opts],
               input=REQUEST)


def sha256_hash(pem):
    out = subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-fingerprint",
                          "-sha256"], capture_output=True, text=True, check=True).stdout
    return "SHA256:" + out.strip().split("=", 1)[1].replace(":", "").lower()


# --------------------------------------------------------------------------------------
# item 3: client certificates checked by the program

CERT_CASES = [
    # (server mode, --noverifycert, client certificate, handshake succeeds)
    ("optional", True, "selfclient", True),
    ("optional", True, "clientexp", True),
    ("optional", True, "client", True),
    ("optional", True, None, True),
    ("optional", False, "selfclient", False),   # the negative control
    ("required", True, "selfclient", True),     # any certificate, but one is required
    ("required", True, None, False),
    ("required", False, "selfclient", False),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode,nocert,cert,ok", CERT_CASES,
                         ids=[f"{m}{'-noverifycert' if n else ''}-{c or 'none'}"
                              for m, n, c, _ in CERT_CASES])
def test_program_checks_client_certificate(spawn, bins, certs, extra, version, mode, nocert,
                                           cert, ok):
    """s_client -cert with a self-signed (or expired) certificate: accepted with
    noverifycert, and the server's tls_peer_cert_hash is the certificate's SHA-256."""
    require_tool("openssl")
    srv, port = start_poll(spawn, bins, certs, "-n", "1", "-p", version, "-V",
                           certs / "ca.pem", *(["--optional"] if mode == "optional" else []),
                           *(["--noverifycert"] if nocert else []))
    d = certs if cert == "client" else extra
    opts = ["-cert", d / f"{cert}.pem", "-key", d / f"{cert}.key"] if cert else []
    r = s_client(certs, port, f"-tls1_{version[-1]}", *opts)
    srv.wait()
    why = f"s_client:\n{r.stdout}{r.stderr}\npoll-server:\n{srv.output()}"
    if not ok:
        assert "HTTP/1.0 200 OK" not in r.stdout, why
        assert "handshake failed" in srv.output() or "tls_read failed" in srv.output(), why
        assert PEER_LINE.search(srv.output()) is None, why
        return
    assert "HTTP/1.0 200 OK" in r.stdout, why
    m = PEER_LINE.search(srv.output())
    if cert is None:
        assert m is None and "no peer certificate" in srv.output(), why
        return
    assert m is not None, why
    assert m.group(3) == sha256_hash(d / f"{cert}.pem"), why


# --------------------------------------------------------------------------------------
# item 4: SNI in the client's case

@pytest.mark.parametrize("version", VERSIONS)
def test_servername_keeps_the_clients_case(spawn, bins, certs, version):
    """tls_conn_servername is the name as s_client and Python sent it; keypairs are still
    chosen regardless of case."""
    require_tool("openssl")
    srv, port = start_poll(spawn, bins, certs, "-p", version,
                           "--sni", f"{certs / 'wrongname.pem'}:{certs / 'wrongname.key'}")
    n = 0
    for name, want in [("LocalHost", "server"), ("Wrong.EXAMPLE", "wrongname"),
                       ("localhost", "server")]:
        r = s_client(certs, port, f"-tls1_{version[-1]}", "-showcerts", servername=name)
        why = f"{name}: {r.stdout}{r.stderr}\n{srv.output()}"
        assert "HTTP/1.0 200 OK" in r.stdout, why
        pem = re.search(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n",
                        r.stdout, re.S)
        assert pem and pem.group(0) == (certs / f"{want}.pem").read_text(), why
        n += 1
        srv.wait_for_count(r"handshake done", n)
        assert re.findall(r"sni=(\S+)$", srv.output(), re.M)[-1] == name, why
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    ctx.check_hostname = False  # the certificate says localhost; the name is LocalHost.Test
    for name in ["LocalHost", "LOCALHOST.test"]:
        raw = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            s.sendall(REQUEST.encode())
            assert s.recv(65536).startswith(b"HTTP/1.0 200 OK")
        n += 1
        srv.wait_for_count(r"handshake done", n)
        assert re.findall(r"sni=(\S+)$", srv.output(), re.M)[-1] == name, srv.output()


# --------------------------------------------------------------------------------------
# item 5: the first flight with client verification and the system roots

def first_flight(port, version):
    """The bytes the server sends before it waits for the client's second flight: a Python
    ClientHello through a MemoryBIO, the reply fed back until the client has answered."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT) as sock:
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        sock.sendall(out.read())
        got = 0
        while True:
            data = sock.recv(65536)
            assert data, f"the server closed after {got} bytes"
            got += len(data)
            inc.write(data)
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            if out.pending:
                return got  # the client answers: the server's flight is complete


@pytest.mark.parametrize("version", VERSIONS)
def test_first_flight_names_no_cas(spawn, bins, certs, version):
    """With verify_client and the system's roots (138 CAs here) the first flight is small:
    the CertificateRequest names no CA, as with libtls."""
    srv, port = start_poll(spawn, bins, certs, "-p", version, "-V", "-", "--optional")
    size = first_flight(port, version)
    print(f"first flight, TLS {version}, verify_client with the system roots: {size} bytes")
    assert size < 4096, f"{size} bytes\n{srv.output()}"


@pytest.mark.parametrize("version", VERSIONS)
def test_client_certificate_works_without_ca_names(spawn, bins, certs, version):
    """s_client sees no CA names and still sends its certificate, which verifies."""
    require_tool("openssl")
    srv, port = start_poll(spawn, bins, certs, "-n", "1", "-p", version, "-V",
                           certs / "ca.pem")
    r = s_client(certs, port, f"-tls1_{version[-1]}", "-cert", certs / "client.pem",
                 "-key", certs / "client.key")
    srv.wait()
    why = f"s_client:\n{r.stdout}{r.stderr}\npoll-server:\n{srv.output()}"
    assert "No client certificate CA names sent" in r.stdout, why
    assert "HTTP/1.0 200 OK" in r.stdout, why
    m = PEER_LINE.search(srv.output())
    assert m is not None and m.group(3) == sha256_hash(certs / "client.pem"), why
