"""Loads libnbtls and declares the C prototypes (include/nbtls.h) for ctypes.

The library is looked up, in order, in
  1. $NBTLS_LIBDIR (libnbtls.so.0, then libnbtls.so),
  2. target/release/ of the source tree this package sits in (bindings/python/nbtls/),
  3. the system's library path (libnbtls.so.0 through the dynamic loader).
"""

import ctypes
import ctypes.util
import os
from pathlib import Path

_NAMES = ("libnbtls.so.0", "libnbtls.so")


def _candidates():
    env = os.environ.get("NBTLS_LIBDIR")
    if env:
        for name in _NAMES:
            yield Path(env) / name
    repo = Path(__file__).resolve().parents[3]
    for name in _NAMES:
        yield repo / "target" / "release" / name
    found = ctypes.util.find_library("nbtls")
    yield from (_NAMES[0], found) if found else (_NAMES[0],)


def _load():
    errors = []
    for cand in _candidates():
        if isinstance(cand, Path) and not cand.exists():
            continue
        try:
            return ctypes.CDLL(str(cand)), str(cand)
        except OSError as e:
            errors.append(f"{cand}: {e}")
    raise ImportError("nbtls: cannot load libnbtls (set NBTLS_LIBDIR, or run `make lib`): "
                      + "; ".join(errors or ["not found"]))


lib, path = _load()

_p = ctypes.c_void_p
_s = ctypes.c_char_p
_i = ctypes.c_int
_z = ctypes.c_size_t
_ss = ctypes.c_ssize_t
_u32 = ctypes.c_uint32
_buf = ctypes.c_void_p

# name: (restype, argtypes)
_PROTOTYPES = {
    "tls_init": (_i, []),
    "tls_config_new": (_p, []),
    "tls_config_free": (None, [_p]),
    "tls_config_error": (_s, [_p]),
    "tls_config_error_code": (_i, [_p]),
    "tls_config_set_ca_file": (_i, [_p, _s]),
    "tls_config_set_ca_mem": (_i, [_p, _buf, _z]),
    "tls_config_set_keypair_file": (_i, [_p, _s, _s]),
    "tls_config_set_keypair_mem": (_i, [_p, _buf, _z, _buf, _z]),
    "tls_config_set_protocols": (_i, [_p, _u32]),
    "tls_config_set_alpn": (_i, [_p, _s]),
    "tls_config_set_ecdhecurves": (_i, [_p, _s]),
    "tls_config_insecure_noverifycert": (None, [_p]),
    "tls_config_insecure_noverifyname": (None, [_p]),
    "tls_config_insecure_noverifytime": (None, [_p]),
    "tls_config_set_ticket_policy": (_i, [_p, _i]),
    "tls_config_set_num_tickets": (_i, [_p, _i]),
    "tls_config_set_session_lifetime": (_i, [_p, _i]),
    "tls_config_set_strict_eof": (None, [_p]),
    "tls_client": (_p, []),
    "tls_server": (_p, []),
    "tls_configure": (_i, [_p, _p]),
    "tls_free": (None, [_p]),
    "tls_connect_socket": (_i, [_p, _i, _s]),
    "tls_accept_socket": (_i, [_p, ctypes.POINTER(_p), _i]),
    "tls_connect_mem": (_i, [_p, _s]),
    "tls_accept_mem": (_i, [_p, ctypes.POINTER(_p)]),
    "tls_feed": (_ss, [_p, _buf, _z]),
    "tls_feed_eof": (_i, [_p]),
    "tls_drain": (_ss, [_p, _buf, _z]),
    "tls_handshake": (_i, [_p]),
    "tls_read": (_ss, [_p, _buf, _z]),
    "tls_write": (_ss, [_p, _buf, _z]),
    "tls_flush": (_i, [_p]),
    "tls_close": (_i, [_p]),
    "tls_error": (_s, [_p]),
    "tls_error_code": (_i, [_p]),
    "tls_error_errno": (_i, [_p]),
    "tls_error_alert": (_i, [_p]),
    "tls_last_error": (_s, []),
    "tls_pending_read": (_z, [_p]),
    "tls_pending_write": (_z, [_p]),
    "tls_pending_deferred": (_z, [_p]),
    "tls_events": (_i, [_p]),
    "tls_key_update": (_i, [_p]),
    "tls_conn_version": (_s, [_p]),
    "tls_conn_cipher": (_s, [_p]),
    "tls_conn_alpn_selected": (_s, [_p]),
    "tls_conn_group": (_s, [_p]),
    "tls_conn_servername": (_s, [_p]),
    "tls_conn_tickets_received": (_i, [_p]),
    "tls_conn_session_resumed": (_i, [_p]),
    "tls_peer_cert_provided": (_i, [_p]),
    "tls_peer_cert_subject": (_s, [_p]),
}

missing = []
for _name, (_res, _args) in _PROTOTYPES.items():
    try:
        _f = getattr(lib, _name)
    except AttributeError:   # an older library: calling it raises AttributeError then
        missing.append(_name)
        continue
    _f.restype = _res
    _f.argtypes = _args
