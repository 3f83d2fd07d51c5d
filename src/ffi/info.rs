//! Exports of the `tls_conn_*` accessors.
use std::ffi::{c_char, CString};

use crate::ffi::ctx::{InfoC, Tls};
use crate::ffi::handle::ctx_ref;

fn field(ctx: *mut Tls, f: impl FnOnce(&InfoC) -> Option<&CString>) -> *const c_char {
    ctx_ref(ctx).ok().and_then(|t| t.info_c()).and_then(f).map_or(std::ptr::null(), |c| c.as_ptr())
}

/// Returns the negotiated protocol version ("TLSv1.2" or "TLSv1.3"), or NULL before the
/// handshake is complete. The string lives as long as the connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_version(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), field(ctx, |i| i.version.as_ref()))
}

/// Returns the negotiated cipher suite by its OpenSSL name (e.g. "TLS_AES_256_GCM_SHA384",
/// "ECDHE-ECDSA-AES128-GCM-SHA256"), or NULL before the handshake is complete.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_cipher(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), field(ctx, |i| i.cipher.as_ref()))
}

/// Returns the ALPN protocol selected, or NULL when none was (or before the handshake is
/// complete).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_alpn_selected(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), field(ctx, |i| i.alpn.as_ref()))
}

/// Returns the server name: on a server, the name the client asked for (SNI), exactly as
/// it sent it (case kept, as libtls; keypairs are chosen ignoring case); on a client, the
/// name it connected to. NULL when there is none or before the handshake is complete.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_servername(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), field(ctx, |i| i.servername.as_ref()))
}

/// Returns the name of the key exchange group the handshake used, as OpenSSL and LibreSSL
/// spell it: "X25519MLKEM768" (hybrid post-quantum), "X25519", "P-256" or "P-384".
///
/// Returns NULL before the handshake is complete, and on a TLS 1.2 resumption, which has no
/// key exchange (a TLS 1.3 resumption has one). The string lives as long as the connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_group(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), field(ctx, |i| i.group.as_ref()))
}
