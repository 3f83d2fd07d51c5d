"""nbtls for Python: a small ctypes binding over libnbtls's libtls-style C API.

    import nbtls

    with nbtls.Config(ca_file="ca.pem", alpn="http/1.1") as cfg, \\
         nbtls.Context.client(cfg) as tls:
        tls.connect_socket(sock, "example.org")   # a connected, possibly nonblocking socket
        tls.handshake()                           # may raise nbtls.WantRead / nbtls.WantWrite
        tls.write(b"GET / HTTP/1.0\\r\\n\\r\\n")
        data = tls.read(16384)                    # b"" at the end of the stream

Nonblocking use follows Python's ``ssl`` module: a call that would block raises
``WantRead`` (wait until the socket is readable, then call it again) or ``WantWrite``
(wait until it is writable); both derive from ``TLSError``, like ``ssl.SSLWantReadError``
from ``ssl.SSLError``.  After ``WantWrite`` from ``write()``, call it again with the same
data.  Any other failure raises ``TLSError`` with ``.code`` (``tls_error_code``, one of the
``TLS_ERROR_*`` constants), ``.errno`` and ``.alert``.

The memory transport (``connect_mem`` / ``accept_mem``) has no socket: ``feed()`` hands
received ciphertext in, ``drain()`` takes ciphertext to send, ``feed_eof()`` says the peer
closed.  There ``WantRead`` means "feed me" and ``WantWrite`` "drain me".

``close()`` is ``tls_close`` (sends close_notify; may raise Want*); ``free()`` releases the
context, as does leaving its ``with`` block.  The library is libnbtls.so.0 from
$NBTLS_LIBDIR when set, else target/release of a source checkout, else the installed one
(see _lib.py); importing nbtls raises ImportError, saying where it looked, when none loads.
"""

import ctypes
import enum
from . import _lib

__all__ = [
    "Config", "Context", "TLSError", "WantRead", "WantWrite", "ErrorCode", "TicketPolicy",
    "PROTOCOL_TLSv1_2", "PROTOCOL_TLSv1_3", "POLLIN", "POLLOUT", "library_path",
]

_c = _lib.lib
library_path = _lib.path

WANT_POLLIN = -2
WANT_POLLOUT = -3
POLLIN = 0x001
POLLOUT = 0x004
PROTOCOL_TLSv1_2 = 1 << 3
PROTOCOL_TLSv1_3 = 1 << 4


class ErrorCode(enum.IntEnum):
    """tls_error_code() values (include/nbtls.h)."""
    UNKNOWN = 0x0000
    OUT_OF_MEMORY = 0x1000
    INVALID_CONTEXT = 0x2000
    INVALID_ARGUMENT = 0x2001
    IO = 0x8001
    CLOSED = 0x8002
    TRUNCATED = 0x8003
    PEER_ALERT = 0x8004
    PROTOCOL = 0x8005
    CERT_EXPIRED = 0x8010
    CERT_NOT_YET_VALID = 0x8011
    CERT_UNKNOWN_CA = 0x8012
    CERT_NAME_MISMATCH = 0x8013
    CERT_BAD_USAGE = 0x8014
    CERT_OTHER = 0x801F
    WRONG_STATE = 0x8020
    UNSUPPORTED = 0x8021
    INTERNAL = 0x80FF


class TicketPolicy(enum.IntEnum):
    """When a TLS 1.3 server's session tickets leave (tls_config_set_ticket_policy)."""
    DEFERRED = 0
    OPPORTUNISTIC = 1
    IMMEDIATE = 2
    NONE = 3


def _code(value):
    try:
        return ErrorCode(value)
    except ValueError:
        return value


class TLSError(Exception):
    """A failed nbtls call.  ``code`` is tls_error_code() (an ErrorCode when known),
    ``errno`` the transport's errno (0 if none), ``alert`` the TLS alert (-1 if none)."""

    def __init__(self, message, code=ErrorCode.UNKNOWN, errno=0, alert=-1):
        super().__init__(message)
        self.message = message
        self.code = _code(code)
        self.errno = errno
        self.alert = alert

    def __str__(self):
        code = self.code.name if isinstance(self.code, ErrorCode) else hex(self.code)
        return f"{self.message} [{code}]"


class WantRead(TLSError):
    """The call would block until the transport is readable (memory transport: feed me)."""

    def __init__(self, message="the operation would block until readable"):
        super().__init__(message)


class WantWrite(TLSError):
    """The call would block until the transport is writable (memory transport: drain me)."""

    def __init__(self, message="the operation would block until writable"):
        super().__init__(message)


def _str(value):
    return value.decode("utf-8", "replace") if value is not None else None


def _fd(sock):
    return sock if isinstance(sock, int) else sock.fileno()


class Config:
    """A tls_config.  Keyword arguments are applied in order through the setters below."""

    def __init__(self, *, cert_file=None, key_file=None, cert=None, key=None, ca_file=None,
                 ca=None, alpn=None, protocols=None, ticket_policy=None, num_tickets=None,
                 verify=True, strict_eof=False, ecdhecurves=None):
        h = _c.tls_config_new()
        if not h:
            raise TLSError(_str(_c.tls_last_error()) or "tls_config_new failed",
                           ErrorCode.OUT_OF_MEMORY)
        self._h = h
        try:
            if cert_file is not None or key_file is not None:
                self.set_keypair_file(cert_file, key_file)
            if cert is not None or key is not None:
                self.set_keypair_mem(cert, key)
            if ca_file is not None:
                self.set_ca_file(ca_file)
            if ca is not None:
                self.set_ca_mem(ca)
            if alpn is not None:
                self.set_alpn(alpn)
            if protocols is not None:
                self.set_protocols(protocols)
            if ecdhecurves is not None:
                self.set_ecdhecurves(ecdhecurves)
            if ticket_policy is not None:
                self.set_ticket_policy(ticket_policy)
            if num_tickets is not None:
                self.set_num_tickets(num_tickets)
            if not verify:
                self.insecure_noverify()
            if strict_eof:
                _c.tls_config_set_strict_eof(self._h)
        except BaseException:
            self.free()
            raise

    @property
    def handle(self):
        if self._h is None:
            raise ValueError("the Config was freed")
        return self._h

    def _check(self, rv):
        if rv == -1:
            raise TLSError(_str(_c.tls_config_error(self._h)) or "tls_config failure",
                           _c.tls_config_error_code(self._h))
        return rv

    def set_keypair_file(self, cert_file, key_file):
        return self._check(_c.tls_config_set_keypair_file(
            self.handle, str(cert_file).encode(), str(key_file).encode()))

    def set_keypair_mem(self, cert, key):
        cert, key = bytes(cert), bytes(key)
        return self._check(_c.tls_config_set_keypair_mem(self.handle, cert, len(cert), key,
                                                         len(key)))

    def set_ca_file(self, ca_file):
        return self._check(_c.tls_config_set_ca_file(self.handle, str(ca_file).encode()))

    def set_ca_mem(self, ca):
        ca = bytes(ca)
        return self._check(_c.tls_config_set_ca_mem(self.handle, ca, len(ca)))

    def set_alpn(self, alpn):
        """alpn: "h2,http/1.1" or a list of protocol names."""
        if not isinstance(alpn, str):
            alpn = ",".join(alpn)
        return self._check(_c.tls_config_set_alpn(self.handle, alpn.encode()))

    def set_ecdhecurves(self, curves):
        """curves: "X25519MLKEM768,X25519,P-256,P-384" (the default) or a part of it."""
        return self._check(_c.tls_config_set_ecdhecurves(self.handle, curves.encode()))

    def set_protocols(self, protocols):
        """protocols: a PROTOCOL_* bit mask, or "1.2" / "1.3"."""
        if isinstance(protocols, str):
            protocols = {"1.2": PROTOCOL_TLSv1_2, "1.3": PROTOCOL_TLSv1_3}[protocols]
        return self._check(_c.tls_config_set_protocols(self.handle, protocols))

    def set_ticket_policy(self, policy):
        if isinstance(policy, str):
            policy = TicketPolicy[policy.upper()]
        return self._check(_c.tls_config_set_ticket_policy(self.handle, int(policy)))

    def set_num_tickets(self, n):
        return self._check(_c.tls_config_set_num_tickets(self.handle, n))

    def insecure_noverify(self):
        """Turns off certificate, name and time verification.  Insecure: tests only."""
        _c.tls_config_insecure_noverifycert(self.handle)
        _c.tls_config_insecure_noverifyname(self.handle)
        _c.tls_config_insecure_noverifytime(self.handle)

    def free(self):
        """Releases this reference (contexts configured from it keep working)."""
        if self._h is not None:
            _c.tls_config_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass


class Context:
    """A struct tls: a client, a server listener, or an accepted connection."""

    def __init__(self, handle, kind, keep=()):
        self._h = handle
        self.kind = kind
        self._keep = list(keep)   # sockets and listeners this context relies on

    @classmethod
    def client(cls, config=None):
        """A client context, configured from config (None: the default config)."""
        return cls._new(_c.tls_client(), "client", config)

    @classmethod
    def server(cls, config):
        """A server listener; accept_socket/accept_mem make connections from it."""
        return cls._new(_c.tls_server(), "server", config)

    @classmethod
    def _new(cls, h, kind, config):
        if not h:
            raise TLSError(_str(_c.tls_last_error()) or f"tls_{kind} failed",
                           ErrorCode.OUT_OF_MEMORY)
        ctx = cls(h, kind)
        try:
            ctx.configure(config)
        except BaseException:
            ctx.free()
            raise
        return ctx

    @property
    def handle(self):
        if self._h is None:
            raise ValueError("the Context was freed")
        return self._h

    def _error(self):
        h = self._h
        return TLSError(_str(_c.tls_error(h)) or "nbtls failure", _c.tls_error_code(h),
                        _c.tls_error_errno(h), _c.tls_error_alert(h))

    def _check(self, rv):
        if rv >= 0:
            return rv
        if rv == WANT_POLLIN:
            raise WantRead()
        if rv == WANT_POLLOUT:
            raise WantWrite()
        raise self._error()

    def configure(self, config=None):
        return self._check(_c.tls_configure(self.handle, config.handle if config else None))

    # -- starting a connection ---------------------------------------------------------

    def connect_socket(self, sock, servername):
        """Starts a client connection over a connected socket (or fd), which stays the
        caller's: nbtls never closes it.  Blocking or nonblocking sockets both work."""
        self._check(_c.tls_connect_socket(self.handle, _fd(sock),
                                          servername.encode() if servername else None))
        self._keep.append(sock)
        return self

    def connect_mem(self, servername):
        """Starts a client connection over the memory transport (feed/drain)."""
        self._check(_c.tls_connect_mem(self.handle, servername.encode()))
        return self

    def accept_socket(self, sock):
        """Returns a new server connection Context over an accepted socket (or fd)."""
        out = ctypes.c_void_p()
        self._check(_c.tls_accept_socket(self.handle, ctypes.byref(out), _fd(sock)))
        return Context(out.value, "connection", keep=(self, sock))

    def accept_mem(self):
        """Returns a new server connection Context over the memory transport."""
        out = ctypes.c_void_p()
        self._check(_c.tls_accept_mem(self.handle, ctypes.byref(out)))
        return Context(out.value, "connection", keep=(self,))

    # -- I/O: every call may raise WantRead / WantWrite --------------------------------

    def handshake(self):
        """Runs the handshake (also done implicitly by read and write)."""
        self._check(_c.tls_handshake(self.handle))

    do_handshake = handshake   # the ssl module's name

    def read(self, n=16384):
        """Returns up to n bytes of plaintext; b"" at the end of the stream (check
        error_code for ErrorCode.TRUNCATED: a bare EOF without close_notify)."""
        buf = ctypes.create_string_buffer(max(n, 1))
        got = self._check(_c.tls_read(self.handle, buf, n))
        return buf.raw[:got]

    recv = read

    def write(self, data):
        """Writes data; returns the bytes written (possibly fewer).  After WantWrite, call
        again with the same data: bytes already taken are reported then, never sent twice."""
        data = bytes(data)
        return self._check(_c.tls_write(self.handle, data, len(data)))

    def sendall(self, data, wait=None):
        """Writes all of data; on Want*, calls wait(event) (POLLIN/POLLOUT) if given, else
        re-raises."""
        view = memoryview(bytes(data))
        while view:
            try:
                n = self.write(view)
            except (WantRead, WantWrite) as e:
                if wait is None:
                    raise
                wait(POLLIN if isinstance(e, WantRead) else POLLOUT)
                continue
            view = view[n:]

    def flush(self):
        """Sends every queued byte, deferred tickets and KeyUpdate answers included."""
        self._check(_c.tls_flush(self.handle))

    def close(self):
        """tls_close: sends close_notify.  Does not release the context (see free)."""
        self._check(_c.tls_close(self.handle))

    def key_update(self):
        self._check(_c.tls_key_update(self.handle))

    # -- memory transport ------------------------------------------------------------

    def feed(self, data):
        """Hands received ciphertext in; returns how many bytes were taken (maybe fewer:
        read plaintext, then feed the rest)."""
        data = bytes(data)
        return self._check(_c.tls_feed(self.handle, data, len(data)))

    def feed_eof(self):
        """The peer closed its side: no more ciphertext will come."""
        self._check(_c.tls_feed_eof(self.handle))

    def drain(self, n=65536):
        """Returns ciphertext due to the peer (b"" when nothing is due)."""
        buf = ctypes.create_string_buffer(n)
        got = self._check(_c.tls_drain(self.handle, buf, n))
        return buf.raw[:got]

    # -- state ----------------------------------------------------------------------

    @property
    def pending_read(self):
        return _c.tls_pending_read(self.handle)

    @property
    def pending_write(self):
        return _c.tls_pending_write(self.handle)

    @property
    def pending_deferred(self):
        return _c.tls_pending_deferred(self.handle)

    @property
    def events(self):
        """POLLIN/POLLOUT bits the connection needs now."""
        return _c.tls_events(self.handle)

    @property
    def error_code(self):
        return _code(_c.tls_error_code(self.handle))

    def version(self):
        return _str(_c.tls_conn_version(self.handle))

    def cipher(self):
        return _str(_c.tls_conn_cipher(self.handle))

    def selected_alpn_protocol(self):
        return _str(_c.tls_conn_alpn_selected(self.handle))

    def group(self):
        """The key exchange group's name ("X25519MLKEM768", "X25519", ...), or None before
        the handshake and on a TLS 1.2 resumption."""
        return _str(_c.tls_conn_group(self.handle))

    def servername(self):
        return _str(_c.tls_conn_servername(self.handle))

    @property
    def tickets_received(self):
        return _c.tls_conn_tickets_received(self.handle)

    @property
    def session_resumed(self):
        return bool(_c.tls_conn_session_resumed(self.handle))

    def peer_cert_subject(self):
        return _str(_c.tls_peer_cert_subject(self.handle))

    # -- lifetime -------------------------------------------------------------------

    def free(self):
        """Releases the context (tls_free).  Never closes a socket you passed in."""
        if self._h is not None:
            _c.tls_free(self._h)
            self._h = None
            self._keep = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass


def selector_events(exc):
    """The selectors event (EVENT_READ / EVENT_WRITE) a WantRead / WantWrite asks for."""
    import selectors
    return selectors.EVENT_READ if isinstance(exc, WantRead) else selectors.EVENT_WRITE


__all__.append("selector_events")
