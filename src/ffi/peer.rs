//! The `tls_peer_*` accessors (the peer's certificate) and the OCSP family
//! (`tls_ocsp_process_response`, `tls_peer_ocsp_*`). The README's "Sessions, client
//! certificates, SNI and the peer certificate" section is the reference.
use std::ffi::{c_char, c_int, c_uchar};

use crate::config;
use crate::conn::peer::Peer;
use crate::error::{Code, Error};
use crate::ffi::conn_util::fail_null;
use crate::ffi::ctx::Tls;
use crate::ffi::handle::{cstr, ctx_ref, out_ref};

// ----- the peer's certificate -----

/// The peer's certificate of a connection whose handshake is complete: `Ok(None)` when
/// there is none (or not yet). A parse failure goes to tls_last_error() only, as every
/// accessor's failure does, so the context's own error is kept.
fn with_peer<T>(ctx: *mut Tls, fail: T, f: impl FnOnce(&Peer) -> T) -> T {
    let t = match ctx_ref(ctx) {
        Ok(t) => t,
        Err(e) => return fail_null(e, fail),
    };
    match t.conn().map(|c| c.peer()) {
        Some(Ok(Some(p))) => f(p),
        Some(Err(e)) => fail_null(e, fail),
        _ => fail_null(Error::new(Code::InvalidArgument, "no peer certificate"), fail),
    }
}

/// Returns 1 if the peer presented a certificate (a server always does; a client when asked
/// by tls_config_verify_client(_optional); a resumed session reports the original one), 0
/// if not or before the handshake is complete; -1 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_provided(ctx: *mut Tls) -> c_int {
    boundary!(
        -1,
        match ctx_ref(ctx) {
            Ok(t) => c_int::from(t.conn().and_then(|c| c.peer_chain()).is_some()),
            Err(e) => fail_null(e, -1),
        }
    )
}

/// Checks whether the peer's certificate is valid for `name` by libtls's rules: its
/// subjectAltNames of the name's kind (DNS or IP address), or its commonName when it has
/// none; wildcards match one leftmost label.
///
/// Returns 1 if it is, 0 if not or without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_contains_name(ctx: *mut Tls, name: *const c_char) -> c_int {
    boundary!(
        0,
        match cstr(name, "name") {
            Ok(n) =>
                with_peer(ctx, 0, |p| c_int::from(config::x509::contains_name(&p.cert.names, n))),
            Err(e) => fail_null(e, 0),
        }
    )
}

/// Returns the hash of the peer's certificate: "SHA256:" and the lowercase hex of the
/// SHA-256 of its DER, as libtls. The string lives as long as the connection.
///
/// Returns NULL without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_hash(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), with_peer(ctx, std::ptr::null(), |p| p.hash.as_ptr()))
}

/// Returns the issuer of the peer's certificate in OpenSSL's one-line format
/// ("/C=US/O=Example CA/CN=Example CA", as `openssl x509 -noout -issuer -nameopt compat`
/// prints it; bytes outside printable ASCII as "\xHH"). The string lives as long as the
/// connection.
///
/// Returns NULL without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_issuer(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), with_peer(ctx, std::ptr::null(), |p| p.issuer.as_ptr()))
}

/// Returns the subject of the peer's certificate in the format of tls_peer_cert_issuer.
/// The string lives as long as the connection.
///
/// Returns NULL without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_subject(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), with_peer(ctx, std::ptr::null(), |p| p.subject.as_ptr()))
}

/// Returns the commonName of the peer's certificate's subject ("" when it has none), as
/// newer LibreSSL's libtls. The string lives as long as the connection.
///
/// Returns NULL without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_common_name(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), with_peer(ctx, std::ptr::null(), |p| p.common_name.as_ptr()))
}

/// Returns the notBefore time of the peer's certificate, in seconds since the epoch.
///
/// Returns -1 without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_notbefore(ctx: *mut Tls) -> libc::time_t {
    boundary!(-1, with_peer(ctx, -1, |p| p.cert.not_before as libc::time_t))
}

/// Returns the notAfter time of the peer's certificate, in seconds since the epoch.
///
/// Returns -1 without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_notafter(ctx: *mut Tls) -> libc::time_t {
    boundary!(-1, with_peer(ctx, -1, |p| p.cert.not_after as libc::time_t))
}

/// Returns every certificate the peer sent, leaf first, in PEM, and its length in `*len`.
/// The buffer lives as long as the connection.
///
/// Returns NULL (and `*len` 0 when `len` is not NULL) without a peer certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_cert_chain_pem(ctx: *mut Tls, len: *mut usize) -> *const u8 {
    boundary!(std::ptr::null(), {
        let len = match out_ref(len, "len") {
            Ok(l) => l,
            Err(e) => return fail_null(e, std::ptr::null()),
        };
        let (p, n) =
            with_peer(ctx, (std::ptr::null(), 0), |p| (p.chain_pem.as_ptr(), p.chain_pem.len()));
        *len = n;
        p
    })
}

// ----- the peer's OCSP response: not supported -----

fn no_ocsp(what: &str) -> Error {
    Error::unsupported(format!("{what}: OCSP responses are not processed by nbtls"))
}

fn ocsp_accessor<T>(ctx: *mut Tls, fail: T, what: &str) -> T {
    match ctx_ref(ctx) {
        Ok(_) => fail_null(no_ocsp(what), fail),
        Err(e) => fail_null(e, fail),
    }
}

/// Processes an OCSP response for the peer's certificate; not supported by nbtls.
///
/// Returns -1 (TLS_ERROR_UNSUPPORTED, in tls_error(ctx)).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_ocsp_process_response(
    ctx: *mut Tls,
    response: *const c_uchar,
    size: usize,
) -> c_int {
    boundary!(-1, {
        let _ = (response, size);
        match ctx_ref(ctx) {
            Ok(t) => t.track::<()>(Err(no_ocsp("tls_ocsp_process_response"))).map_or(-1, |_| 0),
            Err(e) => fail_null(e, -1),
        }
    })
}

/// Returns the OCSP certificate status (TLS_OCSP_CERT_*) of the peer's stapled response;
/// nbtls does not process OCSP responses, so there is never one.
///
/// Returns -1, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_cert_status(ctx: *mut Tls) -> c_int {
    boundary!(-1, ocsp_accessor(ctx, -1, "tls_peer_ocsp_cert_status"))
}

/// Returns the CRL reason (TLS_CRL_REASON_*) of the peer's stapled OCSP response; there is
/// never one.
///
/// Returns -1, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_crl_reason(ctx: *mut Tls) -> c_int {
    boundary!(-1, ocsp_accessor(ctx, -1, "tls_peer_ocsp_crl_reason"))
}

/// Returns the nextUpdate time of the peer's stapled OCSP response; there is never one.
///
/// Returns -1, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_next_update(ctx: *mut Tls) -> libc::time_t {
    boundary!(-1, ocsp_accessor(ctx, -1, "tls_peer_ocsp_next_update"))
}

/// Returns the response status (TLS_OCSP_RESPONSE_*) of the peer's stapled OCSP response;
/// there is never one.
///
/// Returns -1, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_response_status(ctx: *mut Tls) -> c_int {
    boundary!(-1, ocsp_accessor(ctx, -1, "tls_peer_ocsp_response_status"))
}

/// Returns a text summary of the peer's stapled OCSP response; there is never one.
///
/// Returns NULL, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_result(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), ocsp_accessor(ctx, std::ptr::null(), "tls_peer_ocsp_result"))
}

/// Returns the revocation time in the peer's stapled OCSP response; there is never one.
///
/// Returns -1, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_revocation_time(ctx: *mut Tls) -> libc::time_t {
    boundary!(-1, ocsp_accessor(ctx, -1, "tls_peer_ocsp_revocation_time"))
}

/// Returns the thisUpdate time of the peer's stapled OCSP response; there is never one.
///
/// Returns -1, as libtls does without a response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_this_update(ctx: *mut Tls) -> libc::time_t {
    boundary!(-1, ocsp_accessor(ctx, -1, "tls_peer_ocsp_this_update"))
}

/// Returns the OCSP responder URL of the peer's certificate; not supported by nbtls.
///
/// Returns NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_peer_ocsp_url(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), ocsp_accessor(ctx, std::ptr::null(), "tls_peer_ocsp_url"))
}
