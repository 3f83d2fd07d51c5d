"""Post-quantum key exchange, protocol strings, ALPN without overlap and a second handshake,
against real peers.

nbtls is driven through its Python binding (bindings/python) over blocking sockets, and the
group it negotiated is read with tls_conn_group (Context.group()).

- X25519MLKEM768 both directions with two independent implementations: rustls with its
  aws-lc-rs provider (tests/pq-peer, `make pq-peer`) and tlslite-ng with kyber-py.
- OpenSSL 3.0 (no ML-KEM) as the classical peer: X25519 with no HelloRetryRequest (counted
  as ClientHellos in `-msg` output), and one HelloRetryRequest when the share it sends is
  not the server's.
- ALPN with no overlap: `openssl s_client -alpn` gets a no_application_protocol alert.

Under CI a missing peer is a failure, never a skip (conftest.in_ci).
"""

import socket
import subprocess
import sys
import threading

import pytest

from conftest import ROOT, STEP_TIMEOUT, in_ci, require_tool, run

sys.path.insert(0, str(ROOT / "bindings" / "python"))
import nbtls  # noqa: E402

PQ_PEER = ROOT / "tests" / "pq-peer" / "target" / "release" / "nbtls-pq-peer"


def missing(msg):
    if in_ci():
        pytest.fail(f"CI must skip nothing: {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def pq_peer():
    """The rustls + aws-lc-rs peer, built with cargo when `make pq-peer` has not run."""
    if not PQ_PEER.exists():
        r = subprocess.run(["cargo", "build", "--release", "--locked", "--manifest-path",
                            str(ROOT / "tests" / "pq-peer" / "Cargo.toml")],
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            missing(f"tests/pq-peer does not build:\n{r.stderr[-2000:]}")
    return PQ_PEER


@pytest.fixture(scope="session")
def tlslite():
    try:
        import tlslite.api
        from tlslite.utils.compat import ML_KEM_AVAILABLE
    except ImportError:
        missing("tlslite-ng is not installed (pip install tlslite-ng kyber-py)")
    if not ML_KEM_AVAILABLE:
        missing("tlslite-ng has no ML-KEM: pip install kyber-py")
    return tlslite.api


def nbtls_client(certs, port, curves=None, alpn=None, echo=b"ping\n"):
    """Connects, handshakes, sends "ping\\n" and reads the echo; returns the group."""
    with socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT) as sock, \
            nbtls.Config(ca_file=certs / "ca.pem", ecdhecurves=curves, alpn=alpn) as cfg, \
            nbtls.Context.client(cfg) as tls:
        sock.settimeout(None)
        tls.connect_socket(sock, "localhost")
        tls.handshake()
        group = tls.group()
        tls.sendall(b"ping\n")
        got = b""
        while not got.endswith(b"\n"):
            chunk = tls.read()
            assert chunk, "end of stream before the echo"
            got += chunk
        assert got == echo
        try:
            tls.close()
        except nbtls.TLSError:
            pass   # a peer that closed first
        return group


class NbtlsServer:
    """One nbtls server connection on a free loopback port, in a thread: handshake, then
    echo one line. `result` has the group (or the error)."""

    def __init__(self, certs, curves=None, alpn=None):
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.lsock.settimeout(STEP_TIMEOUT)
        self.port = self.lsock.getsockname()[1]
        self.cfg = nbtls.Config(cert_file=certs / "server.pem", key_file=certs / "server.key",
                                ecdhecurves=curves, alpn=alpn)
        self.result = {}
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        try:
            raw, _ = self.lsock.accept()
        except OSError as e:
            self.result["error"] = e
            return
        raw.settimeout(None)
        with raw, nbtls.Context.server(self.cfg) as listener, \
                listener.accept_socket(raw) as tls:
            try:
                tls.handshake()
                self.result["group"] = tls.group()
                self.result["alpn"] = tls.selected_alpn_protocol()
                line = b""
                while not line.endswith(b"\n"):
                    chunk = tls.read()
                    if not chunk:
                        break
                    line += chunk
                tls.sendall(line)
                tls.close()
            except nbtls.TLSError as e:
                self.result.setdefault("error", e)

    def join(self):
        self.t.join(STEP_TIMEOUT)
        assert not self.t.is_alive(), "the nbtls server did not finish"
        self.lsock.close()
        self.cfg.free()
        return self.result


# --- rustls with aws-lc-rs --------------------------------------------------------------

@pytest.mark.parametrize("peer_groups, want", [
    (None, "X25519MLKEM768"),
    ("X25519,P-256", "X25519"),
])
def test_nbtls_client_to_rustls_aws_lc_rs(pq_peer, certs, spawn, peer_groups, want):
    argv = [pq_peer, "server", certs / "server.pem", certs / "server.key"]
    srv = spawn(argv + ([peer_groups] if peer_groups else []))
    m = srv.wait_for(r"^listening on (\d+)$")
    assert m, srv.output()
    assert nbtls_client(certs, int(m.group(1))) == want
    assert srv.wait() == 0, srv.output()
    assert f"group={want} hrr=0" in srv.output()


@pytest.mark.parametrize("peer_groups, want, hrr", [
    (None, "X25519MLKEM768", 0),
    ("P-256,X25519MLKEM768", "X25519MLKEM768", 1),   # a P-256 share to a hybrid-only server
])
def test_rustls_aws_lc_rs_client_to_nbtls(pq_peer, certs, peer_groups, want, hrr):
    curves = "X25519MLKEM768" if hrr else None
    srv = NbtlsServer(certs, curves=curves)
    argv = [pq_peer, "client", certs / "ca.pem", srv.port] + ([peer_groups] if peer_groups
                                                               else [])
    r = run(argv)
    res = srv.join()
    assert r.returncode == 0, r.stdout + r.stderr + repr(res)
    assert f"group={want} hrr={hrr}" in r.stdout
    assert res.get("group") == want, res


# --- tlslite-ng with kyber-py ---------------------------------------------------------

def tlslite_settings(api, shares):
    s = api.HandshakeSettings()
    s.minVersion = (3, 4)
    s.maxVersion = (3, 4)
    s.keyShares = list(shares)
    s.eccCurves = ["x25519mlkem768", "x25519", "secp256r1"]
    return s


def test_tlslite_client_to_nbtls(tlslite, certs):
    srv = NbtlsServer(certs)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=STEP_TIMEOUT) as sock:
        conn = tlslite.TLSConnection(sock)
        conn.handshakeClientCert(settings=tlslite_settings(tlslite, ["x25519mlkem768"]),
                                 serverName="localhost")
        conn.write(b"ping\n")
        assert conn.read(max=100, min=5) == b"ping\n"
        conn.close()
    res = srv.join()
    assert res.get("group") == "X25519MLKEM768", res


def test_nbtls_client_to_tlslite(tlslite, certs):
    lsock = socket.create_server(("127.0.0.1", 0))
    lsock.settimeout(STEP_TIMEOUT)
    chain = tlslite.X509CertChain()
    chain.parsePemList((certs / "server-rsa.pem").read_text())
    key = tlslite.parsePEMKey((certs / "server-rsa.key").read_text(), private=True)
    errors = []

    def serve():
        try:
            raw, _ = lsock.accept()
            conn = tlslite.TLSConnection(raw)
            conn.handshakeServer(certChain=chain, privateKey=key,
                                 settings=tlslite_settings(tlslite, ["x25519mlkem768"]))
            line = conn.read(max=100, min=5)
            conn.write(line)
            conn.close()
        except Exception as e:   # reported in the main thread
            errors.append(e)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    group = nbtls_client(certs, lsock.getsockname()[1])
    t.join(STEP_TIMEOUT)
    lsock.close()
    assert not errors, errors
    assert group == "X25519MLKEM768"


# --- OpenSSL 3.0: the classical peer --------------------------------------------------

def client_hellos(text):
    return sum(1 for line in text.splitlines() if ">>>" in line and "ClientHello" in line)


@pytest.mark.parametrize("groups, server_curves, want, hellos", [
    ("X25519:P-256", None, "X25519", 1),           # X25519 share: no HelloRetryRequest
    ("P-256:X25519", None, "P-256", 1),            # nbtls takes a P-256 share as it is
    ("X25519:P-256", "X25519MLKEM768,P-256", "P-256", 2),   # one HelloRetryRequest
])
def test_s_client_to_nbtls(certs, groups, server_curves, want, hellos):
    require_tool("openssl")
    srv = NbtlsServer(certs, curves=server_curves)
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}", "-servername",
             "localhost", "-CAfile", certs / "ca.pem", "-verify_return_error", "-tls1_3",
             "-groups", groups, "-msg", "-ign_eof"], input="ping\n")
    res = srv.join()
    assert res.get("group") == want, (res, r.stdout[-2000:], r.stderr[-2000:])
    assert client_hellos(r.stdout) == hellos, r.stdout


def test_nbtls_client_to_s_server(certs, start_server):
    require_tool("openssl")
    srv, port = start_server(
        lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
                      certs / "server.pem", "-key", certs / "server.key", "-naccept", "1",
                      "-msg", "-rev"],
        r"^ACCEPT")
    group = nbtls_client(certs, port, echo=b"gnip\n")   # -rev reverses lines
    srv.wait()
    # The hybrid and X25519 shares went in one ClientHello: no HelloRetryRequest.
    assert group == "X25519"
    assert sum(1 for line in srv.lines if "<<<" in line and "ClientHello" in line) == 1, \
        srv.output()


# --- ALPN without overlap, against OpenSSL --------------------------------------------

@pytest.mark.parametrize("client_alpn, fails", [("h2", True), (None, False),
                                                ("h2,http/1.1", False)])
def test_alpn_no_overlap_alert_to_s_client(certs, client_alpn, fails):
    require_tool("openssl")
    srv = NbtlsServer(certs, alpn="http/1.1")
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}", "-servername",
            "localhost", "-CAfile", certs / "ca.pem", "-verify_return_error", "-ign_eof"]
    if client_alpn:
        argv += ["-alpn", client_alpn]
    r = run(argv, input="ping\n")
    res = srv.join()
    if fails:
        assert "no application protocol" in r.stderr + r.stdout, r.stderr
        assert "alert number 120" in r.stderr + r.stdout, r.stderr
        assert isinstance(res.get("error"), nbtls.TLSError), res
    else:
        assert "error" not in res, res
        assert res.get("alpn") == ("http/1.1" if client_alpn else None)
