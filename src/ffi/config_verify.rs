//! The `tls_config_*` verification setters: the insecure switches and `tls_config_verify`,
//! client certificates (`tls_config_verify_client*`), the verify depth and CRLs.
use std::ffi::{c_char, c_int, c_void};

use crate::config::{ClientAuth, Config};
use crate::ffi::config_util::{file, setter, void_edit};
use crate::ffi::handle::slice;

/// Turns off certificate verification, as libtls: a client accepts any chain and validity
/// time but still checks the server's name unless tls_config_insecure_noverifyname is also
/// set; a server that asks for client certificates (tls_config_verify_client or _optional)
/// accepts any one (self-signed, unknown issuer, expired) and loads no CA, leaving the
/// check to the program (tls_peer_cert_hash). Handshake signatures are still checked.
/// Insecure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_insecure_noverifycert(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.checks.cert = false))
}

/// Forgives only a name mismatch, on a client (a server checks no names): an untrusted or
/// expired certificate still fails. With it a client may connect with a NULL server name.
/// Insecure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_insecure_noverifyname(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.checks.name = false))
}

/// Forgives only a validity-time failure, of a server's certificate on a client and of a
/// client's certificate on a server: an untrusted chain or a wrong name still fails.
/// Insecure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_insecure_noverifytime(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.checks.time = false))
}

/// Turns certificate, name and time verification back on (the default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_verify(config: *mut Config) {
    boundary!(
        (),
        void_edit(config, |s| {
            s.checks.cert = true;
            s.checks.name = true;
            s.checks.time = true;
        })
    )
}

/// Makes a server require a client certificate, verified against the config's CA
/// certificates (and CRLs) within the verify depth; the handshake fails without one. With
/// tls_config_insecure_noverifycert any certificate is accepted (still required) and the
/// program checks it (tls_peer_cert_hash). The CertificateRequest names no CAs, as libtls.
/// Sessions resume only where these settings are the same; a resumed session does not
/// verify its stored certificate again (README, "Server resumption").
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_verify_client(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.client_auth = ClientAuth::Required))
}

/// Makes a server ask for a client certificate: a client may send none, but one that is
/// sent must verify, unless tls_config_insecure_noverifycert: then any certificate
/// (self-signed, unknown issuer) is accepted and left to the program, which compares
/// tls_peer_cert_hash; tls_peer_cert_provided tells whether one was sent.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_verify_client_optional(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.client_auth = ClientAuth::Optional))
}

/// Sets certificate revocation lists from a PEM file, checked (with webpki) for every
/// certificate of a peer's chain, as libtls does: a certificate revoked, or issued by a CA
/// without a CRL here, fails verification.
///
/// Returns 0, or -1 if the file cannot be read or holds no CRL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_crl_file(
    config: *mut Config,
    crl_file: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_crl_pem(file(crl_file, "CRL file")?)))
}

/// Sets certificate revocation lists from a PEM buffer, as tls_config_set_crl_file.
///
/// Returns 0, or -1 if the buffer holds no CRL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_crl_mem(
    config: *mut Config,
    crl: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| c.set_crl_pem(slice(crl.cast::<c_void>(), len, "CRL")?.to_vec()))
    )
}

/// Sets the most intermediate CA certificates a server's chain may have, as OpenSSL counts
/// them (default 6; a trust anchor the server sends along does not count). rustls's webpki
/// also caps a path at 6 intermediates, so depths over 6 act as 6.
///
/// Returns 0, or -1 for a negative depth.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_verify_depth(
    config: *mut Config,
    verify_depth: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_verify_depth(verify_depth)))
}
