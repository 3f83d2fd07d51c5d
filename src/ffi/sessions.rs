//! Session caches and ticket keys, client certificates, SNI keypairs, OCSP stapling, CRLs
//! and the `tls_peer_*` accessors. The README's "Sessions, client certificates, SNI and the
//! peer certificate" section is the reference.
use std::ffi::{c_char, c_int, c_uchar, c_void};

use crate::config::sni::Keypair;
use crate::config::{self, pem, tickets, ClientAuth, Config};
use crate::conn::peer::Peer;
use crate::error::{Code, Error, Result};
use crate::ffi::boundary::null_arg;
use crate::ffi::config_util::{file, setter, void_edit, void_refuse};
use crate::ffi::conn_util::fail_null;
use crate::ffi::ctx::Tls;
use crate::ffi::handle::{cstr, ctx_ref, slice};

/// A staple file: NULL means none, as in libtls.
fn opt_file(path: *const c_char, what: &str) -> Result<Option<Vec<u8>>> {
    if path.is_null() {
        return Ok(None);
    }
    file(path, what).map(Some)
}

/// A certificate chain and key from PEM, checked for parsing (their match is checked by
/// tls_configure).
fn keypair(cert_pem: Vec<u8>, key_pem: Vec<u8>, ocsp: Option<Vec<u8>>) -> Result<Keypair> {
    pem::certs(&cert_pem, "certificate")?;
    pem::key(&key_pem)?;
    Ok(Keypair { cert_pem, key_pem, ocsp: ocsp.filter(|o| !o.is_empty()) })
}

fn add_keypair(cfg: &Config, kp: Keypair) -> Result<()> {
    cfg.edit(|s| {
        if s.cert_pem.is_none() {
            // libtls: the first keypair is the default one.
            s.cert_pem = Some(kp.cert_pem);
            s.key_pem = Some(kp.key_pem);
            s.ocsp_staple = kp.ocsp;
        } else {
            s.keypairs.push(kp);
        }
        Ok(())
    })
}

fn set_keypair(cfg: &Config, kp: Keypair) -> Result<()> {
    cfg.edit(|s| {
        s.cert_pem = Some(kp.cert_pem);
        s.key_pem = Some(kp.key_pem);
        s.ocsp_staple = kp.ocsp;
        Ok(())
    })
}

// ----- sessions and ticket keys -----

/// Sets how many sessions the config's caches hold: a client's (one entry per server name)
/// and a server's session-ID cache (TLS 1.2 clients without tickets). Default 1024; 0 turns
/// both off. The caches are emptied; contexts configured afterwards use the new ones.
///
/// Returns 0, or -1 for a NULL config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_cache_size(
    config: *mut Config,
    size: usize,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_session_cache_size(size)))
}

/// Checks a file in which libtls keeps a client's session: `session_fd` must be a regular
/// file owned by the user with mode 0600, as libtls requires (-1 unsets it). The file is then
/// ignored: rustls cannot serialize a client session, so sessions stay in the config's
/// memory cache, shared by every context configured from it.
///
/// Returns 0, or -1 if the fd cannot be examined or fails those checks.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_fd(
    config: *mut Config,
    session_fd: c_int,
) -> c_int {
    boundary!(-1, setter(config, |_| check_session_fd(session_fd)))
}

fn check_session_fd(fd: c_int) -> Result<()> {
    if fd == -1 {
        return Ok(());
    }
    // SAFETY: st is a plain struct fstat fills; fstat only reads the fd number.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid, writable stat.
    if unsafe { libc::fstat(fd, &mut st) } == -1 {
        return Err(Error::io("failed to stat session file", &std::io::Error::last_os_error()));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Error::arg("session file is not a regular file"));
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if st.st_uid != uid {
        return Err(Error::arg(format!(
            "session file has incorrect owner (uid {} != {uid})",
            st.st_uid
        )));
    }
    let mode = st.st_mode & 0o777;
    if mode != 0o600 {
        return Err(Error::arg(format!(
            "session file has incorrect permissions ({mode:o} != 600)"
        )));
    }
    Ok(())
}

/// Sets a server's session ID context (at most 32 bytes, zero-padded, as in libtls):
/// sessions and tickets are resumed only by a server with the same context.
///
/// Returns 0, or -1 if `len` is over 32 (TLS_ERROR_INVALID_ARGUMENT).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_id(
    config: *mut Config,
    session_id: *const c_uchar,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            if len > tickets::SESSION_ID_SIZE {
                return Err(Error::arg("session ID too large"));
            }
            let id = slice(session_id.cast::<c_void>(), len, "session ID")?;
            let mut ctx = [0u8; tickets::SESSION_ID_SIZE];
            ctx[..len].copy_from_slice(id);
            c.edit(|s| {
                s.session_id = ctx;
                Ok(())
            })
        })
    )
}

/// Adds a session ticket key of TLS_TICKET_KEY_SIZE (48) bytes, named by `keyrev`, so that
/// servers given the same keys resume each other's sessions. The newest key encrypts
/// tickets, up to 3 older ones only decrypt; each is valid for the session lifetime after it
/// was added, and with no valid key no ticket is issued. Adding a key turns the config's
/// automatic rekeying off. It takes effect at once, also for contexts already configured.
/// A ticket resumes only on a server whose session ID context and client-certificate
/// settings (mode, CAs, CRLs, verify depth, insecure flags) equal those it was issued
/// under; elsewhere a full handshake follows. Tickets are nbtls's own format (README,
/// "Server resumption"), not libtls's or OpenSSL's.
///
/// Returns 0 (also when re-adding the newest key), or -1 for a wrong length or another key
/// with the same `keyrev`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_ticket_key(
    config: *mut Config,
    keyrev: u32,
    key: *mut c_uchar,
    keylen: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let k = slice(key.cast_const().cast::<c_void>(), keylen, "ticket key")?;
            c.add_ticket_key(keyrev, k)
        })
    )
}

// ----- client certificates -----

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

// ----- keypairs (SNI) and OCSP stapling -----

/// Adds a certificate and key for SNI from two PEM files: a server chooses the first keypair
/// whose certificate's own names (subjectAltNames, else commonName; libtls's wildcard rules)
/// match the client's server name, else the first keypair. Several keypairs for one name (an
/// RSA and an ECDSA certificate, as dual-certificate servers have) are chosen by the
/// client's signature schemes: the ECDSA one when the client can verify it, else the first
/// whose signatures it can verify. When the client can verify none of the chosen key's
/// signatures the handshake fails before ServerHello with a fatal handshake_failure alert.
/// On a config without a keypair this sets the default one.
///
/// Returns 0, or -1 if either cannot be read or parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let kp =
                keypair(file(cert_file, "certificate file")?, file(key_file, "key file")?, None)?;
            add_keypair(c, kp)
        })
    )
}

/// Adds a certificate and key for SNI from two PEM buffers, as tls_config_add_keypair_file.
///
/// Returns 0, or -1 if either cannot be parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            add_keypair(c, keypair(cert, key, None)?)
        })
    )
}

/// Adds an SNI keypair from files with a DER OCSP response to staple (NULL: none).
///
/// Returns 0, or -1 if a file cannot be read or parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_ocsp_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
    ocsp_staple_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let (cert, key) = (file(cert_file, "certificate file")?, file(key_file, "key file")?);
            let kp = keypair(cert, key, opt_file(ocsp_staple_file, "OCSP staple file")?)?;
            add_keypair(c, kp)
        })
    )
}

/// Adds an SNI keypair from buffers with a DER OCSP response to staple (empty: none).
///
/// Returns 0, or -1 if a buffer cannot be parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_ocsp_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
    staple: *const u8,
    staple_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            let staple = slice(staple.cast::<c_void>(), staple_len, "OCSP staple")?.to_vec();
            add_keypair(c, keypair(cert, key, Some(staple))?)
        })
    )
}

/// Sets the default certificate, key and OCSP staple (DER; NULL: none) from files.
///
/// Returns 0, or -1 if a file cannot be read or parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_ocsp_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
    staple_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let (cert, key) = (file(cert_file, "certificate file")?, file(key_file, "key file")?);
            set_keypair(c, keypair(cert, key, opt_file(staple_file, "OCSP staple file")?)?)
        })
    )
}

/// Sets the default certificate, key and OCSP staple (DER; empty: none) from buffers.
///
/// Returns 0, or -1 if a buffer cannot be parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_ocsp_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
    staple: *const u8,
    staple_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            let staple = slice(staple.cast::<c_void>(), staple_len, "OCSP staple")?.to_vec();
            set_keypair(c, keypair(cert, key, Some(staple))?)
        })
    )
}

/// Sets the OCSP response (DER, as `openssl ocsp -respout` writes it) a server staples with
/// its default certificate, from a file. nbtls staples it as it is, without checking it.
///
/// Returns 0, or -1 if the file cannot be read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ocsp_staple_file(
    config: *mut Config,
    staple_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let staple = file(staple_file, "OCSP staple file")?;
            c.edit(|s| {
                s.ocsp_staple = Some(staple).filter(|o| !o.is_empty());
                Ok(())
            })
        })
    )
}

/// Sets the OCSP response (DER) a server staples with its default certificate, from a buffer
/// (empty: none).
///
/// Returns 0, or -1 for a NULL buffer with a non-zero length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ocsp_staple_mem(
    config: *mut Config,
    staple: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let staple = slice(staple.cast::<c_void>(), len, "OCSP staple")?.to_vec();
            c.edit(|s| {
                s.ocsp_staple = Some(staple).filter(|o| !o.is_empty());
                Ok(())
            })
        })
    )
}

/// Requires the server's certificate to come with a valid stapled OCSP response; not
/// supported by nbtls (rustls does not check OCSP responses): the error is sticky and makes
/// tls_configure fail.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_ocsp_require_stapling(config: *mut Config) {
    boundary!(
        (),
        void_refuse(
            config,
            Error::unsupported(
                "tls_config_ocsp_require_stapling: OCSP checking is not supported by nbtls"
            )
        )
    )
}

// ----- CRLs -----

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
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = file(crl_file, "CRL file")?;
            config::parse_crls(&bytes)?;
            c.edit(|s| {
                s.crl_pem = Some(bytes);
                Ok(())
            })
        })
    )
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
        setter(config, |c| {
            let bytes = slice(crl.cast::<c_void>(), len, "CRL")?.to_vec();
            config::parse_crls(&bytes)?;
            c.edit(|s| {
                s.crl_pem = Some(bytes);
                Ok(())
            })
        })
    )
}

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
        if len.is_null() {
            return fail_null(null_arg("len"), std::ptr::null());
        }
        let (p, n) =
            with_peer(ctx, (std::ptr::null(), 0), |p| (p.chain_pem.as_ptr(), p.chain_pem.len()));
        // SAFETY: len is non-NULL and points to the caller's size_t.
        unsafe { *len = n };
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
