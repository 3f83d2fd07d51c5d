//! The `tls_conn_*` accessors: what the handshake negotiated.
use std::ffi::{c_char, c_int, CString};

use crate::ffi::conn_util::fail_null;
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

/// Returns the symmetric key length in bits of the negotiated cipher suite (128 or 256), or 0
/// before the handshake is complete or for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_cipher_strength(ctx: *mut Tls) -> c_int {
    boundary!(
        0,
        match ctx_ref(ctx) {
            Ok(t) => t.conn().and_then(|c| c.info()).map_or(0, |i| i.cipher_bits),
            Err(e) => fail_null(e, 0),
        }
    )
}

/// Returns how many TLS 1.3 tickets this client connection has received so far (they arrive
/// as the client reads), 0 on a server, -1 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_tickets_received(ctx: *mut Tls) -> c_int {
    boundary!(
        -1,
        match ctx_ref(ctx) {
            Ok(t) => t.conn().map_or(0, |c| c.tickets_received() as c_int),
            Err(e) => fail_null(e, -1),
        }
    )
}

/// Returns 1 if this connection resumed an earlier session, 0 if not (or before the
/// handshake is complete), -1 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_session_resumed(ctx: *mut Tls) -> c_int {
    boundary!(
        -1,
        match ctx_ref(ctx) {
            Ok(t) => t.conn().and_then(|c| c.info()).map_or(0, |i| i.resumed as c_int),
            Err(e) => fail_null(e, -1),
        }
    )
}
