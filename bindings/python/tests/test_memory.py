"""nbtls's memory transport against Python's ssl module over ssl.MemoryBIO: no sockets."""

import ssl

import pytest

import nbtls
from nbtls import ErrorCode


def py_server_ctx(certs, cert="server", version=None, alpn=("http/1.1",)):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs / f"{cert}.pem"), str(certs / f"{cert}.key"))
    if version:
        v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = v
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def py_client_ctx(certs, version=None, alpn=("http/1.1",)):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if version:
        v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = v
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class PyPeer:
    """Python's ssl over a pair of MemoryBIOs."""

    def __init__(self, ctx, server_side, server_hostname=None):
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=server_side,
                                server_hostname=server_hostname)

    def try_(self, fn, *args):
        try:
            return fn(*args)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None


class Wire:
    """Moves ciphertext between an nbtls memory context and a PyPeer, counting it."""

    def __init__(self, nb, py):
        self.nb, self.py = nb, py
        self.backlog = b""   # what nbtls has not taken yet (tls_feed may take less)
        self.to_py = self.to_nb = 0

    def pump(self):
        moved = 0
        while True:
            data = self.nb.drain()
            if not data:
                break
            self.py.inc.write(data)
            self.to_py += len(data)
            moved += len(data)
        self.backlog += self.py.out.read()
        if self.backlog:
            n = self.nb.feed(self.backlog)
            self.backlog = self.backlog[n:]
            self.to_nb += n
            moved += n
        return moved


def nb_try(fn, *args):
    try:
        return fn(*args)
    except (nbtls.WantRead, nbtls.WantWrite):
        return None


def handshake_both(wire, rounds=100):
    nb_done = py_done = False
    for _ in range(rounds):
        if not nb_done:
            nb_done = _handshake_done(wire.nb)   # once: a second call after success fails
        if not py_done:
            py_done = wire.py.try_(wire.py.obj.do_handshake) is not None or \
                _py_done(wire.py)
        moved = wire.pump()
        if nb_done and py_done and moved == 0:
            return
    raise AssertionError("handshake did not complete")


def _handshake_done(nb):
    try:
        nb.handshake()
        return True
    except (nbtls.WantRead, nbtls.WantWrite):
        return False


def _py_done(py):
    try:
        py.obj.do_handshake()
        return True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False


def nb_read_exactly(wire, n):
    got = b""
    for _ in range(10000):
        try:
            chunk = wire.nb.read(65536)
        except nbtls.WantRead:
            if wire.pump() == 0:
                raise AssertionError(f"stalled after {len(got)} of {n} bytes")
            continue
        assert chunk, "unexpected end of stream"
        got += chunk
        if len(got) >= n:
            return got
    raise AssertionError("too many rounds")


def py_read_exactly(wire, n):
    got = b""
    for _ in range(10000):
        try:
            chunk = wire.py.obj.read(65536)
        except ssl.SSLWantReadError:
            if wire.pump() == 0:
                raise AssertionError(f"stalled after {len(got)} of {n} bytes")
            continue
        assert chunk, "unexpected end of stream"
        got += chunk
        if len(got) >= n:
            return got
    raise AssertionError("too many rounds")


def nb_close(wire):
    """tls_close on the memory transport: WantWrite means "drain the close_notify"."""
    for _ in range(10):
        try:
            wire.nb.close()
            wire.pump()
            return
        except nbtls.WantWrite:
            wire.pump()
    raise AssertionError("close did not finish")


def nb_write_all(wire, data):
    view = memoryview(data)
    while view:
        try:
            view = view[wire.nb.write(view):]
        except nbtls.WantWrite:   # "drain me"
            wire.pump()


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_nbtls_client_python_server(certs, version):
    with nbtls.Config(ca_file=certs / "ca.pem", alpn="h2,http/1.1") as cfg, \
            nbtls.Context.client(cfg) as nb:
        nb.connect_mem("localhost")
        py = PyPeer(py_server_ctx(certs, version=version), server_side=True)
        wire = Wire(nb, py)
        handshake_both(wire)
        assert nb.version() == f"TLSv{version}"
        assert py.obj.version() == f"TLSv{version}"
        assert nb.selected_alpn_protocol() == "http/1.1" == py.obj.selected_alpn_protocol()
        assert nb.servername() == "localhost"
        # OpenSSL 3.0 has no ML-KEM: it takes the X25519 share nbtls sends beside the hybrid.
        assert nb.group() == "X25519"

        nb_write_all(wire, b"ping" * 1000)
        wire.pump()
        assert py_read_exactly(wire, 4000) == b"ping" * 1000

        big = bytes(range(256)) * 4096   # 1 MiB from the server
        py.obj.write(big)
        assert nb_read_exactly(wire, len(big)) == big
        if version == "1.3":
            assert nb.tickets_received >= 1

        # The Python server closes: nbtls reads a clean end of stream.
        assert py.try_(py.obj.unwrap) is None   # waits for our close_notify
        wire.pump()
        assert nb.read() == b""
        assert nb.error_code != ErrorCode.TRUNCATED
        nb_close(wire)
        py.obj.unwrap()   # now it has our close_notify


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("policy", ["deferred", "immediate", "none"])
def test_nbtls_server_python_client(certs, version, policy):
    with nbtls.Config(cert_file=certs / "server.pem", key_file=certs / "server.key",
                      alpn="http/1.1", ticket_policy=policy) as cfg, \
            nbtls.Context.server(cfg) as listener, listener.accept_mem() as nb:
        py = PyPeer(py_client_ctx(certs, version=version), server_side=False,
                    server_hostname="localhost")
        wire = Wire(nb, py)
        handshake_both(wire)
        assert nb.version() == py.obj.version() == f"TLSv{version}"
        assert nb.selected_alpn_protocol() == "http/1.1"
        assert nb.servername() == "localhost"
        assert nb.group() == "X25519"
        if version == "1.3" and policy == "deferred":
            assert nb.pending_deferred > 0, "DEFERRED holds the tickets after the handshake"
            assert not py.obj.session.has_ticket
        py.obj.write(b"GET / HTTP/1.0\r\n\r\n")
        wire.pump()
        assert nb_read_exactly(wire, 18) == b"GET / HTTP/1.0\r\n\r\n"
        nb_write_all(wire, b"HTTP/1.0 200 OK\r\n\r\nhi")
        wire.pump()
        assert nb.pending_deferred == 0
        assert py_read_exactly(wire, 21) == b"HTTP/1.0 200 OK\r\n\r\nhi"
        if version == "1.3":
            assert py.obj.session.has_ticket == (policy != "none")
        # Python's client closes first; nbtls sees close_notify, not a truncation.
        py.try_(py.obj.unwrap)
        wire.pump()
        assert nb.read() == b""
        assert nb.error_code == ErrorCode.UNKNOWN
        nb_close(wire)


def test_feed_partial_acceptance(certs):
    """tls_feed may take fewer bytes than offered; read plaintext, then feed the rest."""
    with nbtls.Config(ca_file=certs / "ca.pem") as cfg, nbtls.Context.client(cfg) as nb:
        nb.connect_mem("localhost")
        py = PyPeer(py_server_ctx(certs, alpn=None), server_side=True)
        wire = Wire(nb, py)
        handshake_both(wire)
        payload = bytes((i * 7) & 0xFF for i in range(2 * 1024 * 1024))
        py.obj.write(payload)
        ciphertext = py.out.read()
        taken = nb.feed(ciphertext)
        assert 0 < taken < len(ciphertext), "2 MiB at once must exceed nbtls's buffers"
        got = b""
        rest = ciphertext[taken:]
        while len(got) < len(payload):
            try:
                got += nb.read(65536)
            except nbtls.WantRead:
                assert rest, "nbtls wants input but everything was fed"
                n = nb.feed(rest)
                rest = rest[n:]
        assert got == payload and not rest


def test_truncation_and_feed_eof(certs):
    with nbtls.Config(ca_file=certs / "ca.pem") as cfg, nbtls.Context.client(cfg) as nb:
        nb.connect_mem("localhost")
        py = PyPeer(py_server_ctx(certs), server_side=True)
        wire = Wire(nb, py)
        handshake_both(wire)
        with pytest.raises(nbtls.WantRead):
            nb.read()
        nb.feed_eof()   # the peer vanished without close_notify
        assert nb.read() == b""
        assert nb.error_code == ErrorCode.TRUNCATED
        # tls_close queues close_notify first ("drain me"), then reports the truncation.
        with pytest.raises(nbtls.TLSError) as ei:
            for _ in range(5):
                try:
                    nb.close()
                except nbtls.WantWrite:
                    nb.drain()
        assert not isinstance(ei.value, nbtls.WantWrite)
        assert ei.value.code == ErrorCode.TRUNCATED


@pytest.mark.parametrize("cert,code", [("untrusted", ErrorCode.CERT_UNKNOWN_CA),
                                       ("wrongname", ErrorCode.CERT_NAME_MISMATCH),
                                       ("expired", ErrorCode.CERT_EXPIRED)])
def test_verification_errors(certs, cert, code):
    with nbtls.Config(ca_file=certs / "ca.pem") as cfg, nbtls.Context.client(cfg) as nb:
        nb.connect_mem("localhost")
        py = PyPeer(py_server_ctx(certs, cert=cert), server_side=True)
        wire = Wire(nb, py)
        with pytest.raises(nbtls.TLSError) as ei:
            for _ in range(50):
                try:
                    nb.handshake()
                except (nbtls.WantRead, nbtls.WantWrite):
                    pass
                py.try_(py.obj.do_handshake)
                wire.pump()
        assert not isinstance(ei.value, (nbtls.WantRead, nbtls.WantWrite))
        assert ei.value.code == code, ei.value
        # the alert nbtls sent makes Python's server fail too
        py.inc.write(nb.drain())
        with pytest.raises(ssl.SSLError):
            py.obj.do_handshake()


def test_want_exceptions_are_tls_errors():
    assert issubclass(nbtls.WantRead, nbtls.TLSError)
    assert issubclass(nbtls.WantWrite, nbtls.TLSError)
    with nbtls.Context.client() as nb:
        nb.connect_mem("localhost")
        with pytest.raises(nbtls.WantWrite):   # the ClientHello is due: drain me
            nb.handshake()
        assert nb.events & nbtls.POLLOUT
        hello = nb.drain()
        assert hello[:1] == b"\x16" and len(hello) > 100
        with pytest.raises(nbtls.WantRead):    # now: feed me
            nb.handshake()
        assert nb.drain() == b""


def test_config_errors_and_lifetime(certs, tmp_path):
    with pytest.raises(nbtls.TLSError) as ei:
        nbtls.Config(ca_file=tmp_path / "missing.pem")
    assert isinstance(ei.value.code, int)
    cfg = nbtls.Config(cert_file=certs / "server.pem", key_file=certs / "server.key")
    listener = nbtls.Context.server(cfg)
    cfg.free()   # contexts keep their snapshot
    conn = listener.accept_mem()
    listener.free()
    with pytest.raises(nbtls.WantRead):
        conn.handshake()
    conn.free()
    conn.free()   # twice is fine
    with pytest.raises(ValueError):
        conn.handshake()
    with pytest.raises(nbtls.TLSError) as ei:
        with nbtls.Context.client() as c:
            c.feed(b"x")   # not connected: wrong state
    assert ei.value.code != ErrorCode.UNKNOWN


def test_second_handshake_fails_as_in_libtls(certs):
    with nbtls.Config(ca_file=certs / "ca.pem") as cfg, nbtls.Context.client(cfg) as nb:
        nb.connect_mem("localhost")
        assert nb.group() is None   # before the handshake
        py = PyPeer(py_server_ctx(certs), server_side=True)
        wire = Wire(nb, py)
        handshake_both(wire)
        with pytest.raises(nbtls.TLSError) as ei:
            nb.handshake()
        assert not isinstance(ei.value, (nbtls.WantRead, nbtls.WantWrite))
        assert ei.value.code == ErrorCode.UNKNOWN
        assert "handshake already completed" in str(ei.value)
        nb_write_all(wire, b"still usable")
        wire.pump()
        assert py_read_exactly(wire, 12) == b"still usable"
