"""nbtls over real sockets against Python's ssl module: nonblocking with selectors, and
blocking."""

import selectors
import socket
import ssl
import threading

import pytest

import nbtls
from nbtls import ErrorCode

from test_memory import py_client_ctx, py_server_ctx

TIMEOUT = 20


def want(ctx, fn, *args):
    """Generator step: calls fn until it stops raising Want*, yielding the event to wait
    for in between (the selectors pattern; see run())."""
    while True:
        try:
            return fn(*args)
        except (nbtls.WantRead, nbtls.WantWrite) as e:
            yield nbtls.selector_events(e)


def run(tasks):
    """Drives generators, each bound to a nonblocking socket, with one selector."""
    sel = selectors.DefaultSelector()
    results = {}

    def advance(sock, gen):
        try:
            ev = next(gen)
        except StopIteration as stop:
            results[sock] = stop.value
            if sock in sel.get_map():
                sel.unregister(sock)
            return
        if sock in sel.get_map():
            sel.modify(sock, ev, gen)
        else:
            sel.register(sock, ev, gen)

    for sock, gen in tasks:
        advance(sock, gen)
    while sel.get_map():
        ready = sel.select(TIMEOUT)
        assert ready, "nothing became ready: stalled"
        for key, _ in ready:
            advance(key.fileobj, key.data)
    return results


def py_echo_server(certs, version=None):
    """A blocking Python ssl server in a thread: echoes until close_notify, closes."""
    ctx = py_server_ctx(certs, version=version)
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]
    errors = []

    def serve():
        try:
            raw, _ = lsock.accept()
            raw.settimeout(TIMEOUT)
            with ctx.wrap_socket(raw, server_side=True) as s:
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    s.sendall(data)
                s.unwrap()
        except Exception as e:   # reported by the test
            errors.append(e)
        finally:
            lsock.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return port, t, errors


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_nonblocking_client_selectors(certs, version):
    port, thread, errors = py_echo_server(certs, version)
    payload = bytes((i * 31) & 0xFF for i in range(1 << 20))
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.setblocking(False)
    with nbtls.Config(ca_file=certs / "ca.pem", alpn="http/1.1") as cfg, \
            nbtls.Context.client(cfg) as tls:
        tls.connect_socket(sock, "localhost")

        def client():
            yield from want(tls, tls.handshake)
            got, off = bytearray(), 0
            while len(got) < len(payload):
                # Write a chunk when there is one, then read what has come back: both
                # directions move, so neither side's buffers can fill up for good.
                if off < len(payload):
                    try:
                        off += tls.write(payload[off:off + 65536])
                    except nbtls.WantWrite:
                        pass
                try:
                    got += tls.read(65536)
                except nbtls.WantRead:
                    if off == len(payload) or tls.pending_write:
                        yield selectors.EVENT_READ if off == len(payload) else \
                            selectors.EVENT_READ | selectors.EVENT_WRITE
            yield from want(tls, tls.close)   # the Python server's unwrap() waits for it
            return bytes(got)

        got = run([(sock, client())])[sock]
        assert got == payload
        assert tls.version() == f"TLSv{version}"
        assert tls.selected_alpn_protocol() == "http/1.1"
    thread.join(TIMEOUT)
    assert not errors, errors
    sock.close()


def test_nonblocking_server_many_python_clients(certs):
    """An nbtls server over nonblocking sockets serving Python ssl clients in threads."""
    n = 8
    lsock = socket.create_server(("127.0.0.1", 0))
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    answers, errors = {}, []

    def client(i):
        try:
            ctx = py_client_ctx(certs)
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw, \
                    ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(f"hello {i}\n".encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(100)
                    assert chunk
                    data += chunk
                answers[i] = (data, s.version(), s.selected_alpn_protocol())
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()

    with nbtls.Config(cert_file=certs / "server.pem", key_file=certs / "server.key",
                      alpn="http/1.1") as cfg, nbtls.Context.server(cfg) as listener:
        conns = []

        def serve(conn, tls):
            with tls:
                line = b""
                while not line.endswith(b"\n"):
                    line += yield from want(tls, tls.read, 100)
                n_ = 0
                reply = line.upper()
                while n_ < len(reply):
                    n_ += yield from want(tls, tls.write, reply[n_:])
                # The client may close first; either way no failure here.
                try:
                    yield from want(tls, tls.close)
                except nbtls.TLSError:
                    pass
            return line

        def acceptor():
            while len(conns) < n:
                try:
                    conn, _ = lsock.accept()
                except BlockingIOError:
                    yield selectors.EVENT_READ
                    continue
                conn.setblocking(False)
                conns.append((conn, serve(conn, listener.accept_socket(conn))))
            return None

        run([(lsock, acceptor())])
        results = run(conns)
        for conn, _ in conns:
            conn.close()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors, errors
    assert sorted(results.values()) == sorted(f"hello {i}\n".encode() for i in range(n))
    for i in range(n):
        assert answers[i] == (f"HELLO {i}\n".encode(), "TLSv1.3", "http/1.1")
    lsock.close()


def test_socketpair_nbtls_both_sides(certs):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    with nbtls.Config(ca_file=certs / "ca.pem") as ccfg, \
            nbtls.Config(cert_file=certs / "server.pem", key_file=certs / "server.key") as scfg, \
            nbtls.Context.client(ccfg) as cli, nbtls.Context.server(scfg) as listener:
        cli.connect_socket(a, "localhost")
        srv = listener.accept_socket(b)

        def client():
            yield from want(cli, cli.write, b"ping")
            data = yield from want(cli, cli.read, 10)
            yield from want(cli, cli.close)
            return data

        def server():
            data = yield from want(srv, srv.read, 10)
            yield from want(srv, srv.write, data.upper())
            eof = yield from want(srv, srv.read, 10)
            return data, eof, srv.error_code

        res = run([(a, client()), (b, server())])
        assert res[a] == b"PING"
        assert res[b] == (b"ping", b"", ErrorCode.UNKNOWN)
        srv.free()
    a.close()
    b.close()


def test_blocking_client_never_wants(certs):
    port, thread, errors = py_echo_server(certs)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock, \
            nbtls.Config(ca_file=certs / "ca.pem") as cfg, nbtls.Context.client(cfg) as tls:
        sock.settimeout(None)   # a timeout makes Python's socket O_NONBLOCK underneath
        tls.connect_socket(sock, "localhost")
        tls.handshake()
        tls.sendall(b"x" * 100000)
        got = b""
        while len(got) < 100000:
            got += tls.read()
        assert got == b"x" * 100000
        tls.close()
    thread.join(TIMEOUT)
    assert not errors, errors


def test_verification_failure_over_socket(certs):
    ctx = py_server_ctx(certs, cert="untrusted")
    lsock = socket.create_server(("127.0.0.1", 0))

    def serve():
        raw, _ = lsock.accept()
        try:
            ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            pass
        raw.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with socket.create_connection(lsock.getsockname(), timeout=TIMEOUT) as sock, \
            nbtls.Context.client(nbtls.Config(ca_file=certs / "ca.pem")) as tls:
        sock.settimeout(None)
        tls.connect_socket(sock, "localhost")
        with pytest.raises(nbtls.TLSError) as ei:
            tls.handshake()
        assert ei.value.code == ErrorCode.CERT_UNKNOWN_CA
    t.join(TIMEOUT)
    lsock.close()
