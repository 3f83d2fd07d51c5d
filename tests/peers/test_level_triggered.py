"""A level-triggered server (poll-server --level) against a client whose Finished and first
request arrive in one TCP segment.

poll-server --level finishes tls_handshake() and then waits for POLLIN before every
tls_read(), as libevent servers and naive poll loops do.  That works only if the library
leaves every record after the client's Finished in the socket (the README, "Reading: never
past the record in hand"): a library that took the request in with the Finished holds it
where poll() cannot see it, and the server waits forever.  The client here is Python's ssl
over a MemoryBIO, so the test decides what goes into each send(): the client's last flight
and its request leave in ONE send().  TLS 1.3 puts the request behind the client Finished
after a full handshake and on resumption; TLS 1.2 can do so only on resumption (in a full handshake the
client waits for the server's Finished), so the 1.2 case first makes a full handshake for
a session and then resumes it with CCS + Finished + request in one send().

A missing reply is a failure after REPLY_TIMEOUT seconds, never a hang.  The tests also run
against the server built on Debian's libtls (PEERS_LIBTLS=1) as a control; that libtls
server offers no resumption without a session setup, so the TLS 1.2 case checks nbtls only.
"""

import socket
import ssl

import pytest

from conftest import USE_LIBTLS

REPLY_TIMEOUT = 5  # seconds; the reply takes about a millisecond when nothing is held back
REQUEST = b"GET /one-segment HTTP/1.0\r\nHost: localhost\r\n\r\n"


def client_ctx(certs, version):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v
    return ctx


def exchange(ctx, port, session=None):
    """One connection through a MemoryBIO: handshake, then the client's last flight and
    REQUEST in one send(), then the reply. -> (reply text, SSLObject)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
    try:
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="localhost", session=session)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                if out.pending:
                    sock.sendall(out.read())
                data = sock.recv(65536)
                assert data, "the server closed the connection during the handshake"
                inc.write(data)
        obj.write(REQUEST)
        flight = out.read()  # the client's Finished (TLS 1.2: CCS + Finished) and the request
        assert len(flight) > len(REQUEST), "the request was not encrypted behind the Finished"
        assert sock.send(flight) == len(flight), "send() took only part of the flight"

        reply = b""
        while b"\r\n\r\n" not in reply:
            try:
                reply += obj.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            try:
                data = sock.recv(65536)
            except socket.timeout:
                data = None
            if data is None:
                pytest.fail(f"no reply within {REPLY_TIMEOUT} s: the server never saw the "
                            "request that came in the segment of the client's Finished "
                            f"(got so far: {reply!r})")
            if not data:
                break
            inc.write(data)
        return reply.decode(errors="replace"), obj
    finally:
        sock.close()


def check_reply(reply):
    assert reply.startswith("HTTP/1.0 200 OK\r\n"), reply


@pytest.mark.parametrize("policy", [None, "opportunistic", "immediate", "none"],
                         ids=["default", "opportunistic", "immediate", "none"])
def test_tls13_finished_and_request_in_one_segment(poll_server, certs, policy):
    if policy is not None and USE_LIBTLS:
        pytest.skip("ticket policies are nbtls's")
    srv, port = poll_server("-n", "1", "--level", "-p", "1.3",
                            *(["-t", policy] if policy else []))
    reply, obj = exchange(client_ctx(certs, "1.3"), port)
    check_reply(reply)
    assert obj.version() == "TLSv1.3"
    assert srv.wait() == 0, srv.output()


def test_tls12_resumed_finished_and_request_in_one_segment(poll_server, certs):
    if USE_LIBTLS:
        pytest.skip("Debian's libtls server offers no resumption without session-id/"
                    "ticket-key setup; this checks nbtls's default")
    srv, port = poll_server("-n", "2", "--level", "-p", "1.2")
    ctx = client_ctx(certs, "1.2")
    reply, first = exchange(ctx, port)
    check_reply(reply)
    assert not first.session_reused
    assert first.session is not None
    reply, second = exchange(ctx, port, session=first.session)
    assert second.session_reused, "the second connection did not resume: the case is not tested"
    check_reply(reply)
    assert srv.wait() == 0, srv.output()
    assert "conn 2: resumed=1" in srv.output(), srv.output()


def test_tls13_resumed_finished_and_request_in_one_segment(poll_server, certs):
    """A TLS 1.3 resumption (PSK) ends the same way: the request behind the Finished."""
    if USE_LIBTLS:
        pytest.skip("Debian's libtls does no TLS 1.3 resumption")
    srv, port = poll_server("-n", "2", "--level", "-p", "1.3")
    ctx = client_ctx(certs, "1.3")
    reply, first = exchange(ctx, port)
    check_reply(reply)
    assert first.session is not None and first.session.has_ticket, \
        "no ticket arrived with the first reply"
    reply, second = exchange(ctx, port, session=first.session)
    assert second.session_reused, "the second connection did not resume: the case is not tested"
    check_reply(reply)
    assert srv.wait() == 0, srv.output()
