"""The reset case against a real OpenSSL server (the README's "End of stream").

`openssl s_server` writes its TLS 1.3 tickets inside its handshake call, so they reach the
client before the client has read anything. A client that writes a request and closes
without reading leaves them unread in its receive queue, and the kernel then answers the
close with a TCP reset that can destroy the server's last received data. nbtls's client
close is reset-free: before close_notify it reads and discards, without blocking, records
that already arrived. Here the nbtls client (through ctypes, straight from libnbtls.so)
handshakes, waits until the tickets are in its receive queue (select, not a sleep), writes
60 KiB, calls tls_close() and closes the socket without ever calling tls_read(); the
server must print every byte it was sent.
"""

import ctypes
import os
import select
import socket
from pathlib import Path

import pytest

from conftest import ROOT, STEP_TIMEOUT, USE_LIBTLS, require_tool

LINE = b"x" * 63 + b"\n"
LINES = 960  # 60 KiB


def libnbtls():
    libdir = Path(os.environ.get("NBTLS_LIBDIR", ROOT / "target" / "release"))
    path = libdir / "libnbtls.so"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make lib` first")
    lib = ctypes.CDLL(str(path))
    P, I, S, Z = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    for name, res, args in [
        ("tls_config_new", P, []), ("tls_config_free", None, [P]),
        ("tls_config_set_ca_file", I, [P, S]), ("tls_config_set_protocols", I, [P, ctypes.c_uint32]),
        ("tls_config_error", S, [P]), ("tls_client", P, []), ("tls_configure", I, [P, P]),
        ("tls_connect_socket", I, [P, I, S]), ("tls_handshake", I, [P]),
        ("tls_write", ctypes.c_ssize_t, [P, ctypes.c_char_p, Z]), ("tls_close", I, [P]),
        ("tls_free", None, [P]), ("tls_error", S, [P]), ("tls_conn_tickets_received", I, [P]),
        ("tls_conn_version", S, [P]),
    ]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


@pytest.mark.skipif(USE_LIBTLS, reason="drives libnbtls.so itself")
def test_reset_free_close_against_openssl_s_server(start_server, certs):
    require_tool("openssl")
    srv, port = start_server(
        # s_server ends the connection when its stdin ends: give it one that stays open
        # (the whole process group is stopped when the test ends).
        lambda port: ["sh", "-c", 'tail -f /dev/null | exec "$@"', "sh",
                      "openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                      "-cert", certs / "server.pem", "-key", certs / "server.key",
                      "-tls1_3", "-num_tickets", "1", "-naccept", "1"],
        r"^ACCEPT$")
    lib = libnbtls()
    cfg = lib.tls_config_new()
    assert cfg
    assert lib.tls_config_set_ca_file(cfg, str(certs / "ca.pem").encode()) == 0, \
        lib.tls_config_error(cfg)
    assert lib.tls_config_set_protocols(cfg, 1 << 4) == 0  # TLS_PROTOCOL_TLSv1_3
    ctx = lib.tls_client()
    sock = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
    sock.settimeout(None)  # blocking, as an ordinary client
    try:
        assert lib.tls_configure(ctx, cfg) == 0, lib.tls_error(ctx)
        assert lib.tls_connect_socket(ctx, sock.fileno(), b"localhost") == 0, lib.tls_error(ctx)
        assert lib.tls_handshake(ctx) == 0, (lib.tls_error(ctx), srv.output())
        assert lib.tls_conn_version(ctx) == b"TLSv1.3"
        # s_server sent its ticket inside its handshake: wait until it has arrived. One
        # ticket is one record in one small segment, so "readable" means all of it is
        # here (with several, the later ones could still be on the way).
        readable, _, _ = select.select([sock], [], [], STEP_TIMEOUT)
        assert readable, "s_server's tickets never reached the client"
        assert lib.tls_conn_tickets_received(ctx) == 0  # nothing read yet
        data = LINE * LINES
        off = 0
        while off < len(data):
            n = lib.tls_write(ctx, data[off:], len(data) - off)
            assert n > 0, (n, lib.tls_error(ctx))
            off += n
        assert lib.tls_close(ctx) == 0, lib.tls_error(ctx)
        # the reset-free close read and discarded the tickets that had arrived
        assert lib.tls_conn_tickets_received(ctx) == 1
    finally:
        sock.close()
        lib.tls_free(ctx)
        lib.tls_config_free(cfg)
    srv.wait_for(r"^CONNECTION CLOSED$")
    rc = srv.p.poll()
    out = srv.output()
    got = sum(1 for line in out.splitlines() if line == LINE.decode().rstrip("\n"))
    assert got == LINES, f"s_server printed {got} of {LINES} lines (exit {rc}):\n{out[-2000:]}"
    assert "reset" not in out.lower(), out[-2000:]
