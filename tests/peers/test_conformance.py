"""Protocol conformance at the edges, against OpenSSL's s_client and raw sockets.

- A TLS 1.2 renegotiation ClientHello (s_client's "R" command, also with
  -legacy_renegotiation) gets its warning no_renegotiation alert at once from a server
  that only reads; before, the alert waited for the server's next write and the client
  stalled.
- A client whose signature schemes the server's key cannot make (rsa_pss_pss_* against an
  rsaEncryption key; ecdsa_sha1 for TLS 1.3) gets a plaintext fatal handshake_failure
  before any ServerHello.
- With an RSA and an ECDSA keypair for one name the server presents the ECDSA one when the
  client can verify it, else the RSA one.
- A first handshake message that is well formed but not a ClientHello gets a plaintext
  fatal unexpected_message.
"""

import re
import socket
import subprocess

import pytest

from conftest import USE_LIBTLS, require_tool, run

pytestmark = pytest.mark.skipif(USE_LIBTLS, reason="nbtls's conformance fixes")

S_CLIENT_WAIT = 10  # a bound on an answer that must come at once, never a verdict


def s_client(certs, port, *args):
    return ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
            "localhost", "-CAfile", certs / "ca.pem", *args]


@pytest.mark.parametrize("legacy", [False, True], ids=["secure", "legacy"])
def test_renegotiation_is_refused_at_once(poll_server, spawn, certs, legacy):
    require_tool("openssl")
    srv, port = poll_server("-p", "1.2", "--echo")
    argv = s_client(certs, port, "-tls1_2", *(["-legacy_renegotiation"] if legacy else []))
    cl = spawn([str(a) for a in argv], stdin=subprocess.PIPE)
    cl.wait_for(r"^---$", timeout=S_CLIENT_WAIT)
    cl.send("hello\n")
    cl.wait_for(r"^hello$", timeout=S_CLIENT_WAIT)
    # a line of its own: s_client takes "R" as a command only at the start of a read
    cl.send("R\n")
    cl.wait_for(r"RENEGOTIATING", timeout=S_CLIENT_WAIT)
    # the server only reads: the refusal must come from its read path, now
    cl.wait_for(r"no renegotiation", timeout=S_CLIENT_WAIT)


def handshake_messages(output):
    return re.findall(r"<<< TLS [0-9.]+, (?:Handshake|Alert).*?, (\w+)", output)


@pytest.mark.parametrize("cert,version,sigalgs,ok", [
    ("server-rsa", "1.3", "rsa_pss_pss_sha256", False),
    ("server-rsa", "1.2", "rsa_pss_pss_sha256", False),
    # ecdsa_sha1 is not for TLS 1.3, and an ECDSA key makes no RSA-PSS signature
    ("server", "1.3", "ECDSA+SHA1:rsa_pss_rsae_sha256", False),
    ("server-rsa", "1.3", "rsa_pss_rsae_sha256", True),
    ("server", "1.3", "ecdsa_secp256r1_sha256", True),
])
def test_no_usable_signature_scheme(poll_server, certs, cert, version, sigalgs, ok):
    require_tool("openssl")
    srv, port = poll_server("-p", version, cert=cert)
    argv = s_client(certs, port, f"-tls1_{version[-1]}", "-sigalgs", sigalgs, "-msg",
                    "-verify_return_error")
    r = run(argv, input="GET / HTTP/1.0\r\n\r\n")
    out = r.stdout + r.stderr
    if ok:
        assert "ServerHello" in out and "Verify return code: 0" in out, out
        return
    assert "ServerHello" not in out, f"the server answered with a ServerHello:\n{out}"
    assert re.search(r"Alert .*\n.*02 28", out) or "handshake failure" in out, out
    srv.wait_for(r"no signature scheme", timeout=S_CLIENT_WAIT)


@pytest.mark.parametrize("default,extra,sigalgs,want", [
    ("server-rsa", "server", "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256", "ECDSA"),
    ("server-rsa", "server", "rsa_pss_rsae_sha256", "RSA-PSS"),
    ("server", "server-rsa", "rsa_pss_rsae_sha256", "RSA-PSS"),
    ("server", "server-rsa", "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256", "ECDSA"),
])
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_dual_keypairs_follow_the_clients_schemes(poll_server, certs, default, extra,
                                                  sigalgs, want, version):
    require_tool("openssl")
    srv, port = poll_server("-p", version, "--sni",
                            f"{certs / (extra + '.pem')}:{certs / (extra + '.key')}",
                            cert=default)
    r = run(s_client(certs, port, f"-tls1_{version[-1]}", "-sigalgs", sigalgs,
                     "-verify_return_error"), input="GET / HTTP/1.0\r\n\r\n")
    out = r.stdout + r.stderr
    m = re.search(r"Peer signature type: (\S+)", out)
    assert m is not None, out
    assert m.group(1) == want, out


@pytest.mark.parametrize("message", [
    bytes([22, 3, 3, 0, 8, 20, 0, 0, 4, 1, 2, 3, 4]),   # Finished
    bytes([22, 3, 1, 0, 4, 14, 0, 0, 0]),               # ServerHelloDone
], ids=["finished", "server_hello_done"])
def test_a_first_message_that_is_not_a_client_hello(poll_server, message):
    srv, port = poll_server()
    with socket.create_connection(("127.0.0.1", port), timeout=S_CLIENT_WAIT) as s:
        s.sendall(message)
        got = b""
        while len(got) < 7:
            chunk = s.recv(64)
            if not chunk:
                break
            got += chunk
    assert got == bytes([21, 3, 3, 0, 2, 2, 10]), got


@pytest.mark.parametrize("priority,ok", [
    ("NORMAL:-SIGN-ALL:+SIGN-RSA-PSS-SHA256", False),       # rsa_pss_pss_sha256 only
    ("NORMAL:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256", True),   # control
])
def test_gnutls_signature_schemes_against_an_rsa_key(poll_server, certs, priority, ok):
    require_tool("gnutls-cli")
    srv, port = poll_server(cert="server-rsa")
    r = run(["gnutls-cli", "-p", str(port), "--x509cafile", certs / "ca.pem",
             "--priority", priority, "localhost"], input="")
    out = r.stdout + r.stderr
    if ok:
        assert "Handshake was completed" in out, out
        return
    assert "Received alert [40]" in out, out
    srv.wait_for(r"no signature scheme", timeout=S_CLIENT_WAIT)
