"""Sessions against real peers: resumption, ticket keys across processes, client
certificates, SNI, the peer certificate accessors and key logging.

poll-server (nbtls server) is driven by Python's ssl and `openssl s_client`; blocking-client
(nbtls client) talks to `openssl s_server`.  The flags used here (poll-server --ticket-key,
-V/--optional, --sni, --keylog; blocking-client -r, -c/-k, --peer, --keylog) are described
at the top of each program.  Everything that relies on TLS 1.3 resumption or on key logging
is nbtls-only and skipped under PEERS_LIBTLS=1.  See conftest.py for the environment.
"""

import datetime
import hmac
import os
import re
import secrets
import socket
import ssl
import struct
import subprocess

import pytest

from conftest import require_tool, run, STEP_TIMEOUT, USE_LIBTLS

VERSIONS = ["1.3", "1.2"]
REQUEST = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
nbtls_only = pytest.mark.skipif(USE_LIBTLS, reason="nbtls-only (client session cache, TLS 1.3 "
                                "resumption, key logging)")


# --------------------------------------------------------------------------------------
# helpers

@pytest.fixture(scope="module")
def pki(certs):
    """The test PKI, with wild.pem (DNS:*.wild.example) made if an older directory lacks it."""
    if not (certs / "wild.pem").exists():
        subprocess.run(["sh", "-c", WILD_SH, "sh", str(certs)], check=True, timeout=60)
    return certs


# The same leaf tests/gen-certs.sh makes (and src/conn/tests_sessions.rs, for old dirs).
WILD_SH = """set -e; cd "$1"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out wild.key
openssl req -new -key wild.key -subj '/C=XX/O=nbtls tests/CN=*.wild.example' -out wild.csr 2>/dev/null
printf 'subjectAltName=DNS:*.wild.example\\nextendedKeyUsage=serverAuth\\n' > wild.ext
openssl x509 -req -in wild.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
  -extfile wild.ext -out wild.pem.tmp 2>/dev/null
mv wild.pem.tmp wild.pem; rm -f wild.csr wild.ext
"""


def start_poll(spawn, bins, certs, *args, cert="server", env=None):
    """examples-c poll-server on a free port -> (Proc, port)."""
    kw = {} if env is None else {"env": {**os.environ, **env}}
    pr = spawn([bins["poll-server"], "-c", certs / f"{cert}.pem", "-k", certs / f"{cert}.key",
                *args, "0"], **kw)
    m = pr.wait_for(r"^listening on (\d+)$")
    assert m is not None, f"poll-server did not start:\n{pr.output()}"
    return pr, int(m.group(1))


def s_server(start_server, certs, *opts, cert="server"):
    require_tool("openssl")
    return start_server(
        lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                      "-cert", certs / f"{cert}.pem", "-key", certs / f"{cert}.key",
                      "-www", *opts],
        r"^ACCEPT$")


def client(bins, certs, port, *opts, servername="localhost", env=None):
    argv = [bins["blocking-client"], "-C", certs / "ca.pem", "-n", servername, *opts,
            "127.0.0.1", port, "/"]
    if env is None:
        return run(argv)
    argv = [str(a) for a in argv]
    return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          timeout=STEP_TIMEOUT, env={**os.environ, **env})


def s_client(certs, port, *opts, servername="localhost"):
    require_tool("openssl")
    sni = ["-servername", servername] if servername else ["-noservername"]
    return run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *sni,
                "-CAfile", certs / "ca.pem", "-ign_eof", *opts], input=REQUEST)


def py_ctx(certs, version):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    return ctx


def py_get(ctx, port, session=None):
    """One HTTP/1.0 GET read to the end -> (body, session, reused)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
    with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
        s.sendall(REQUEST.encode())
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except ssl.SSLZeroReturnError:
                break
            if not b:
                break
            data += b
        return data.decode(), s.session, s.session_reused


def resumed_lines(pr):
    return [int(x) for x in re.findall(r"conn \d+: resumed=(\d)", pr.output())]


def x509(path, *args):
    """`openssl x509 -noout ARGS` for one certificate, the text after the first '='."""
    out = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", *args],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out.split("=", 1)[1]


def gmt(s):
    t = datetime.datetime.strptime(s, "%b %d %H:%M:%S %Y GMT")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


def expected_peer(path):
    """What the tls_peer_cert_* accessors must say for a certificate: from openssl x509."""
    fp = x509(path, "-fingerprint", "-sha256").replace(":", "").lower()
    return {
        "subject": x509(path, "-subject", "-nameopt", "compat"),
        "issuer": x509(path, "-issuer", "-nameopt", "compat"),
        "hash": "SHA256:" + fp,
        "notbefore": gmt(x509(path, "-startdate")),
        "notafter": gmt(x509(path, "-enddate")),
    }


PEER_LINE = re.compile(r"peer (?:provided=(\d) )?subject=(.*) issuer=(.*) hash=(\S+) "
                       r"notbefore=(-?\d+) notafter=(-?\d+)$", re.M)


def peer_fields(m):
    return {"subject": m.group(2), "issuer": m.group(3), "hash": m.group(4),
            "notbefore": int(m.group(5)), "notafter": int(m.group(6))}


def pem_blocks(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n",
                      text, re.S)


# --------------------------------------------------------------------------------------
# resumption against the nbtls server

@nbtls_only
@pytest.mark.parametrize("version", VERSIONS)
def test_python_resumes_against_nbtls_server(spawn, bins, pki, version):
    srv, port = start_poll(spawn, bins, pki, "-p", version)
    ctx = py_ctx(pki, version)
    body, sess, reused = py_get(ctx, port)
    assert "200 OK" in body and not reused
    body, _, reused = py_get(ctx, port, session=sess)
    assert "200 OK" in body and reused, srv.output()
    srv.wait_for_count(r"resumed=", 2)
    assert resumed_lines(srv) == [0, 1], srv.output()


@nbtls_only
@pytest.mark.parametrize("version", VERSIONS)
def test_s_client_sess_out_in_against_nbtls_server(spawn, bins, pki, tmp_path, version):
    srv, port = start_poll(spawn, bins, pki, "-p", version)
    sess = tmp_path / "sess.pem"
    r1 = s_client(pki, port, f"-tls1_{version[-1]}", "-sess_out", sess)
    why = f"{r1.stdout}{r1.stderr}\n{srv.output()}"
    assert r1.returncode == 0 and f"New, TLSv{version}" in r1.stdout, why
    assert sess.exists() and sess.stat().st_size > 0, why
    r2 = s_client(pki, port, f"-tls1_{version[-1]}", "-sess_in", sess)
    why = f"{r2.stdout}{r2.stderr}\n{srv.output()}"
    assert r2.returncode == 0 and f"Reused, TLSv{version}" in r2.stdout, why
    assert "HTTP/1.0 200 OK" in r2.stdout, why
    srv.wait_for_count(r"resumed=", 2)
    assert resumed_lines(srv) == [0, 1], srv.output()


@nbtls_only  # libtls's client resumes only through tls_config_set_session_fd
@pytest.mark.parametrize("version", VERSIONS)
def test_nbtls_client_resumes_against_s_server(bins, pki, start_server, version):
    srv, port = s_server(start_server, pki, f"-tls1_{version[-1]}")
    r = client(bins, pki, port, "-r")
    assert r.returncode == 0, r.stderr
    assert re.findall(r"^nbtls: resumed=(\d)$", r.stderr, re.M) == ["0", "1"], r.stderr
    # s_server -www describes the session it negotiated, resumed or not.
    assert f"New, TLSv{version}" in r.stdout and f"Reused, TLSv{version}" in r.stdout


# --------------------------------------------------------------------------------------
# ticket keys shared by several server processes

@nbtls_only
@pytest.mark.parametrize("version", VERSIONS)
def test_ticket_keys_across_processes(spawn, bins, pki, tmp_path, version):
    """Two poll-server processes given one key file resume each other's sessions; a server
    with a foreign key falls back to a full handshake without error; a server that rotated
    to a new key still resumes tickets of the old one, while tickets under the new key do
    not resume where only the old key is known."""
    k1, k2, other = (secrets.token_hex(48) for _ in range(3))
    (tmp_path / "shared").write_text(k1 + "\n")
    (tmp_path / "rotated").write_text(k1 + "\n" + k2 + "\n")
    (tmp_path / "foreign").write_text(other + "\n")
    a, pa = start_poll(spawn, bins, pki, "-p", version, "--ticket-key", tmp_path / "shared")
    b, pb = start_poll(spawn, bins, pki, "-p", version, "--ticket-key", tmp_path / "shared")
    f, pf = start_poll(spawn, bins, pki, "-p", version, "--ticket-key", tmp_path / "foreign")
    r, pr = start_poll(spawn, bins, pki, "-p", version, "--ticket-key", tmp_path / "rotated")
    ctx = py_ctx(pki, version)
    why = lambda: "\n".join(p.output() for p in (a, b, f, r))  # noqa: E731

    _, sess_a, reused = py_get(ctx, pa)
    assert not reused
    body, _, reused = py_get(ctx, pb, session=sess_a)
    assert reused and "200 OK" in body, why()
    body, _, reused = py_get(ctx, pf, session=sess_a)
    assert not reused and "200 OK" in body, why()
    body, sess_r, reused = py_get(ctx, pr, session=sess_a)
    assert reused and "200 OK" in body, why()
    # sess_r's ticket is under k2, which a and b do not know.
    body, _, reused = py_get(ctx, pa, session=sess_r)
    assert not reused and "200 OK" in body, why()
    for p, want in ((a, [0, 0]), (b, [1]), (f, [0]), (r, [1])):
        p.wait_for_count(r"resumed=", len(want))
        assert resumed_lines(p) == want, why()
    assert "failed" not in why()


def test_ticket_key_file_errors(bins, pki, tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("abcd\n")
    r = run([bins["poll-server"], "-c", pki / "server.pem", "-k", pki / "server.key",
             "--ticket-key", bad, "0"])
    assert r.returncode == 1 and "96 hex digits" in r.stderr


# --------------------------------------------------------------------------------------
# client certificates

MTLS_CASES = [
    # (server mode, client cert, handshake succeeds)
    ("required", "client", True),
    ("required", None, False),
    ("required", "untrusted", False),
    ("optional", "client", True),
    ("optional", None, True),
    ("optional", "untrusted", False),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode,cert,ok", MTLS_CASES,
                         ids=[f"{m}-{c or 'none'}" for m, c, _ in MTLS_CASES])
def test_mtls_s_client_against_nbtls_server(spawn, bins, pki, version, mode, cert, ok):
    require_tool("openssl")
    srv, port = start_poll(spawn, bins, pki, "-n", "1", "-p", version, "-V", pki / "ca.pem",
                           *(["--optional"] if mode == "optional" else []))
    opts = ["-cert", pki / f"{cert}.pem", "-key", pki / f"{cert}.key"] if cert else []
    r = s_client(pki, port, f"-tls1_{version[-1]}", *opts)
    srv.wait()
    why = f"s_client:\n{r.stdout}{r.stderr}\npoll-server:\n{srv.output()}"
    if not ok:
        assert "HTTP/1.0 200 OK" not in r.stdout, why
        assert "handshake failed" in srv.output() or "tls_read failed" in srv.output(), why
        assert "peer subject=" not in srv.output(), why
        return
    assert "HTTP/1.0 200 OK" in r.stdout, why
    m = PEER_LINE.search(srv.output())
    if cert is None:
        assert m is None, why
        return
    # The server's tls_peer_cert_* accessors against openssl x509 for the client's cert.
    assert m is not None, why
    assert peer_fields(m) == expected_peer(pki / "client.pem"), why


MTLS_CLIENT_CASES = [
    # (s_server option, client cert, succeeds)
    ("-Verify", "client", True),
    ("-Verify", None, False),
    ("-Verify", "untrusted", False),
    ("-verify", None, True),
    ("-verify", "client", True),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("opt,cert,ok", MTLS_CLIENT_CASES,
                         ids=[f"{o[1:]}-{c or 'none'}" for o, c, _ in MTLS_CLIENT_CASES])
def test_mtls_nbtls_client_against_s_server(bins, pki, start_server, version, opt, cert, ok):
    """openssl s_server -Verify 1 requires a client certificate, -verify 1 only asks."""
    srv, port = s_server(start_server, pki, f"-tls1_{version[-1]}", opt, "1",
                         "-CAfile", pki / "ca.pem", "-verify_return_error")
    opts = ["-c", pki / f"{cert}.pem", "-k", pki / f"{cert}.key"] if cert else []
    r = client(bins, pki, port, *opts)
    why = f"client:\n{r.stdout}{r.stderr}\ns_server:\n{srv.output()}"
    if ok:
        assert r.returncode == 0, why
        # s_server -www names the client certificate it verified.
        if cert:
            assert "Client certificate" in r.stdout and "client.example" in r.stdout, why
        else:
            assert "no client certificate available" in r.stdout, why
    else:
        assert r.returncode == 1, why
        assert "200" not in r.stdout


# --------------------------------------------------------------------------------------
# SNI

SNI_CASES = [
    # (name sent, certificate expected)
    ("localhost", "server"),
    ("wrong.example", "wrongname"),
    ("www.wild.example", "wild"),
    ("api.wild.example", "wild"),
    ("a.b.wild.example", "server"),   # wildcards match one label: the default
    ("unknown.example", "server"),
    (None, "server"),                  # no SNI: the default
]


@pytest.mark.parametrize("version", VERSIONS)
def test_sni_chooses_certificate_for_s_client(spawn, bins, pki, version):
    """Three keypairs (default, a second name, a wildcard): s_client -servername gets the
    right certificate each time, and tls_conn_servername says what was asked."""
    require_tool("openssl")
    srv, port = start_poll(spawn, bins, pki, "-p", version,
                           "--sni", f"{pki / 'wrongname.pem'}:{pki / 'wrongname.key'}",
                           "--sni", f"{pki / 'wild.pem'}:{pki / 'wild.key'}")
    for name, want in SNI_CASES:
        r = s_client(pki, port, f"-tls1_{version[-1]}", servername=name)
        why = f"{name}: {r.stdout}{r.stderr}\n{srv.output()}"
        assert "HTTP/1.0 200 OK" in r.stdout, why
        got = pem_blocks(r.stdout)
        assert got and got[0] == (pki / f"{want}.pem").read_text(), why
        srv.wait_for(rf"sni={re.escape(name) if name else '-'}$")
    n = len(SNI_CASES)
    srv.wait_for_count(r"handshake done", n)
    sni = re.findall(r"handshake done: .* sni=(\S+)$", srv.output(), re.M)
    assert sni == [name or "-" for name, _ in SNI_CASES], srv.output()


# --------------------------------------------------------------------------------------
# peer certificate accessors against openssl x509

@pytest.mark.parametrize("cert,name", [
    ("server", "localhost"), ("server-rsa", "localhost"), ("wild", "www.wild.example"),
])
def test_peer_accessors_match_openssl_x509(bins, pki, start_server, cert, name):
    """blocking-client --peer prints tls_peer_cert_provided/_subject/_issuer/_hash/
    _notbefore/_notafter/_contains_name/_common_name/_chain_pem for s_server's certificate;
    each must be what openssl x509 says.  With -r, the resumed connection reports the same
    certificate."""
    srv, port = s_server(start_server, pki, cert=cert)
    r = client(bins, pki, port, "--peer", "-r", servername=name)
    assert r.returncode == 0, r.stderr
    ms = list(PEER_LINE.finditer(r.stderr))
    assert len(ms) == 2, r.stderr
    want = expected_peer(pki / f"{cert}.pem")
    for m in ms:
        assert m.group(1) == "1"
        assert peer_fields(m) == want, r.stderr
    assert r.stderr.count(f"nbtls: peer contains {name}=1") == 2, r.stderr
    pems = pem_blocks(r.stderr)
    assert pems == [(pki / f"{cert}.pem").read_text()] * 2, r.stderr
    if not USE_LIBTLS:
        cn = re.search(r"^ *commonName *= (.*)$", subprocess.run(
            ["openssl", "x509", "-in", str(pki / f"{cert}.pem"), "-noout", "-subject",
             "-nameopt", "multiline"], capture_output=True, text=True).stdout, re.M).group(1)
        assert r.stderr.count(f"nbtls: peer common_name={cn}\n") == 2, r.stderr
        assert re.findall(r"^nbtls: resumed=(\d)$", r.stderr, re.M) == ["0", "1"]


def test_peer_chain_pem_is_the_chain_sent(bins, pki, start_server):
    """s_server sends leaf + CA (-cert_chain): tls_peer_cert_chain_pem returns both."""
    srv, port = s_server(start_server, pki, "-cert_chain", pki / "ca.pem")
    r = client(bins, pki, port, "--peer")
    assert r.returncode == 0, r.stderr
    assert pem_blocks(r.stderr) == pem_blocks((pki / "chain.pem").read_text()), r.stderr


# --------------------------------------------------------------------------------------
# key logging

def keylog_lines(path, comments=False):
    """The lines of a key log file, each checked; OpenSSL's start with a "#" comment."""
    text = path.read_text() if path.exists() else ""
    assert text == "" or text.endswith("\n")
    lines = [l for l in text.splitlines() if not (comments and l.startswith("#"))]
    for line in lines:
        assert re.fullmatch(r"[A-Z_0-9]+ [0-9a-f]{64} (?:[0-9a-f]{2})+", line), line
    return lines


TLS13_LABELS = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}


@nbtls_only
@pytest.mark.parametrize("version", VERSIONS)
def test_keylog_client_matches_openssl_server(bins, pki, start_server, tmp_path, version):
    """blocking-client --keylog with SSLKEYLOGFILE, against s_server -keylogfile: the same
    connection, so the same client random and the same secrets, line for line."""
    ours, theirs = tmp_path / "nbtls.keys", tmp_path / "openssl.keys"
    srv, port = s_server(start_server, pki, f"-tls1_{version[-1]}", "-keylogfile", theirs)
    r = client(bins, pki, port, "--keylog", env={"SSLKEYLOGFILE": str(ours)})
    assert r.returncode == 0, r.stderr
    mine = keylog_lines(ours)
    labels = {line.split()[0] for line in mine}
    assert labels == (TLS13_LABELS if version == "1.3" else {"CLIENT_RANDOM"}), mine
    assert len({line.split()[1] for line in mine}) == 1   # one connection, one client random
    assert sorted(mine) == sorted(keylog_lines(theirs, comments=True))
    assert (ours.stat().st_mode & 0o777) == 0o600


@nbtls_only
@pytest.mark.parametrize("version", VERSIONS)
def test_keylog_server_matches_python_client(spawn, bins, pki, tmp_path, version):
    """poll-server --keylog against Python's ssl with keylog_filename (OpenSSL's key log):
    both sides log the same lines."""
    ours, theirs = tmp_path / "nbtls.keys", tmp_path / "python.keys"
    srv, port = start_poll(spawn, bins, pki, "-p", version, "--keylog",
                           env={"SSLKEYLOGFILE": str(ours)})
    ctx = py_ctx(pki, version)
    ctx.keylog_filename = str(theirs)
    body, _, _ = py_get(ctx, port)
    assert "200 OK" in body
    srv.wait_for(r"conn 1: done")
    theirs_lines = keylog_lines(theirs, comments=True)
    mine = keylog_lines(ours)
    assert mine and sorted(mine) == sorted(theirs_lines), (mine, theirs_lines)


def test_keylog_off_by_default(spawn, bins, pki, start_server, tmp_path):
    """SSLKEYLOGFILE set but no opt-in: neither program writes a line."""
    path = tmp_path / "keys"
    env = {"SSLKEYLOGFILE": str(path)}
    srv, port = start_poll(spawn, bins, pki, env=env)
    body, _, _ = py_get(py_ctx(pki, "1.3"), port)
    assert "200 OK" in body
    sp, sport = s_server(start_server, pki)
    r = client(bins, pki, sport, env=env)
    assert r.returncode == 0, r.stderr
    srv.wait_for(r"conn 1: done")
    assert not path.exists() or path.stat().st_size == 0


# Decrypting a captured TLS 1.3 exchange with the nbtls server's key log (RFC 8446 7.1-7.3).

def hkdf_expand_label(secret, label, length, hashname):
    info = struct.pack(">HB", length, 6 + len(label)) + b"tls13 " + label + b"\x00"
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), hashname).digest()
        out += block
        i += 1
    return out[:length]


def record_cipher(secret, suite):
    """(decrypt(seq, header, body) -> plaintext or None) for a TLS 1.3 traffic secret."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    hashname = "sha384" if suite.endswith("SHA384") else "sha256"
    klen = 16 if "AES_128" in suite else 32
    key = hkdf_expand_label(secret, b"key", klen, hashname)
    iv = hkdf_expand_label(secret, b"iv", 12, hashname)
    aead = ChaCha20Poly1305(key) if "CHACHA20" in suite else AESGCM(key)

    def decrypt(seq, header, body):
        nonce = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big")))
        try:
            return aead.decrypt(nonce, body, header)
        except InvalidTag:
            return None
    return decrypt


def tls12_prf(secret, label, seed, length, hashname):
    """RFC 5246 5: P_hash(secret, label + seed)."""
    out, a = b"", label + seed
    while len(out) < length:
        a = hmac.new(secret, a, hashname).digest()
        out += hmac.new(secret, a + label + seed, hashname).digest()
    return out[:length]


def capture_exchange(ctx, port):
    """An HTTP/1.0 GET by a Python client on memory BIOs -> (cipher suite, every byte the
    server sent, the plaintext response)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    sock = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
    captured = bytearray()

    def pump(fn):
        while True:
            try:
                return fn()
            except ssl.SSLWantReadError:
                if out.pending:
                    sock.sendall(out.read())
                data = sock.recv(65536)
                if not data:
                    inc.write_eof()
                captured.extend(data)
                inc.write(data)

    pump(obj.do_handshake)
    obj.write(REQUEST.encode())
    sock.sendall(out.read())
    plain = b""
    while True:
        try:
            b = pump(lambda: obj.read(65536))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
        if not b:
            break
        plain += b
    suite = obj.cipher()[0]
    sock.close()
    return suite, bytes(captured), plain


def records(data):
    off = 0
    while off + 5 <= len(data):
        ctype, _, length = struct.unpack(">BHH", data[off:off + 5])
        yield ctype, data[off:off + 5], data[off + 5:off + 5 + length]
        off += 5 + length


def decrypt_tls13(captured, suite, lines):
    """Decrypts the server's records with its logged handshake and traffic secrets: returns
    the inner content types of the handshake records and the application data."""
    hs = record_cipher(lines["SERVER_HANDSHAKE_TRAFFIC_SECRET"], suite)
    app = record_cipher(lines["SERVER_TRAFFIC_SECRET_0"], suite)
    hs_seq = app_seq = 0
    hs_types, app_data = [], b""
    for ctype, header, body in records(captured):
        if ctype != 23:
            continue
        p = hs(hs_seq, header, body) if app_seq == 0 else None
        if p is not None:
            hs_seq += 1
            hs_types.append(p.rstrip(b"\x00")[-1])
            continue
        p = app(app_seq, header, body)
        assert p is not None, f"record {hs_seq + app_seq} decrypts under neither secret"
        app_seq += 1
        p = p.rstrip(b"\x00")
        if p[-1] == 23:
            app_data += p[:-1]
    return hs_types, app_data


def decrypt_tls12(captured, suite, client_random, master):
    """Decrypts the server's records after its ChangeCipherSpec with the key block derived
    from the logged master secret (AES-GCM suites): returns (content type, plaintext)s."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    hashname = "sha384" if suite.endswith("SHA384") else "sha256"
    klen = 32 if "AES256" in suite else 16
    hello = next(body for ctype, _, body in records(captured) if ctype == 22 and body[0] == 2)
    server_random = hello[6:38]
    block = tls12_prf(master, b"key expansion", server_random + client_random,
                      2 * klen + 8, hashname)
    key, salt = block[klen:2 * klen], block[2 * klen + 4:2 * klen + 8]
    aead, seq, out, after_ccs = AESGCM(key), 0, [], False
    for ctype, header, body in records(captured):
        if ctype == 20:
            after_ccs = True
            continue
        if not after_ccs:
            continue
        aad = seq.to_bytes(8, "big") + header[:3] + (len(body) - 24).to_bytes(2, "big")
        out.append((ctype, aead.decrypt(salt + body[:8], body[8:], aad)))
        seq += 1
    return out


@nbtls_only
@pytest.mark.parametrize("version", VERSIONS)
def test_keylog_decrypts_captured_exchange(spawn, bins, pki, tmp_path, version):
    """A Python client on memory BIOs records every byte poll-server sends; the secrets in
    poll-server's key log decrypt them: TLS 1.3's handshake records and the HTTP response
    under the traffic secrets, TLS 1.2's Finished and response under the master secret."""
    pytest.importorskip("cryptography")
    keys = tmp_path / "keys"
    srv, port = start_poll(spawn, bins, pki, "--keylog", env={"SSLKEYLOGFILE": str(keys)})
    ctx = py_ctx(pki, version)
    if version == "1.2":
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    suite, captured, plain = capture_exchange(ctx, port)
    assert plain.startswith(b"HTTP/1.0 200 OK")
    srv.wait_for(r"conn 1: done")
    logged = [line.split() for line in keylog_lines(keys)]
    lines = {label: bytes.fromhex(secret) for label, _, secret in logged}
    if version == "1.3":
        assert set(lines) == TLS13_LABELS
        hs_types, app_data = decrypt_tls13(captured, suite, lines)
        assert hs_types and set(hs_types) == {22}   # EncryptedExtensions ... Finished
        assert app_data == plain
    else:
        assert set(lines) == {"CLIENT_RANDOM"}
        out = decrypt_tls12(captured, suite, bytes.fromhex(logged[0][1]),
                            lines["CLIENT_RANDOM"])
        assert out[0][0] == 22 and out[0][1][0] == 20       # Finished
        assert b"".join(p for t, p in out if t == 23) == plain
