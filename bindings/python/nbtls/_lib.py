"""Loads libnbtls and declares the C prototypes (include/nbtls.h) for ctypes.

The library is looked up, in order:
  1. $NBTLS_LIBDIR, when set: libnbtls.so.0, then libnbtls.so, in that directory and
     nowhere else (a wrong setting fails rather than loading some other copy);
  2. target/release/ of the source tree, when this package is imported from a checkout
     (bindings/python/nbtls/ beside the crate's Cargo.toml), not once it is installed;
  3. the installed library: libnbtls.so.0 through the dynamic loader (LD_LIBRARY_PATH and
     the ld.so cache), then in /usr/local/lib and /usr/lib (`make install` with a PREFIX of
     /usr/local or /usr, before ldconfig has run).
When none loads, importing nbtls raises ImportError saying where it looked.
"""

import ctypes
import os
from pathlib import Path

_NAMES = ("libnbtls.so.0", "libnbtls.so")
_PREFIXES = ("/usr/local/lib", "/usr/lib")


def _source_tree():
    """The checkout this package sits in, or None when it is installed."""
    here = Path(__file__).resolve().parent
    repo = here.parents[2] if len(here.parents) > 2 else None
    if here.parent.name == "python" and repo and (repo / "Cargo.toml").is_file():
        return repo
    return None


def _candidates():
    env = os.environ.get("NBTLS_LIBDIR")
    if env:
        yield from (Path(env) / name for name in _NAMES)
        return
    repo = _source_tree()
    if repo:
        yield from (repo / "target" / "release" / name for name in _NAMES)
    yield _NAMES[0]
    yield from (Path(d) / _NAMES[0] for d in _PREFIXES)


def _load():
    tried = []
    for cand in _candidates():
        if isinstance(cand, Path) and not cand.exists():
            tried.append(f"{cand} (no such file)")
            continue
        try:
            return ctypes.CDLL(str(cand)), str(cand)
        except OSError as e:
            tried.append(f"{cand} ({e})")
    if os.environ.get("NBTLS_LIBDIR"):
        hint = "NBTLS_LIBDIR names a directory without a loadable libnbtls.so.0"
    else:
        hint = ("install the nbtls C library (`make install`, then `ldconfig`), or set "
                "NBTLS_LIBDIR to the directory holding libnbtls.so.0")
    raise ImportError("nbtls: cannot load libnbtls.so.0, the nbtls C library: " + hint
                      + ". Tried: " + "; ".join(tried))


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
