//! The `tls_config_*` family, making and freeing configs, their errors, and the setters of
//! trust (CA files), the default certificate and key, protocols, ALPN, buffers, EOF and read
//! ahead, ciphers and curves. Its sub-families have files of their own: `config_verify`
//! (verification switches, client certificates, CRLs), `config_sessions` (tickets and
//! sessions), `config_keypairs` (SNI keypairs, OCSP staples), `config_keylog` (key logging).
use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{pem, setters, Config, Settings, DEFAULT_CA_FILE};
use crate::error::{Code, Error, Result};
use crate::ffi::boundary::set_last_error;
use crate::ffi::config_util::{file, setter, void_edit, void_refuse};
use crate::ffi::handle::{
    config_into_raw, config_ref, config_release, cstr, opt_cstr, out_ref, slice,
};

/// Creates a configuration with the defaults: TLS 1.2 and 1.3, certificates, names and times
/// verified against the system trust store, tickets on (policy DEFERRED, 2 tickets, 7200 s).
///
/// Returns a new configuration (free it with tls_config_free), or NULL on failure
/// (see tls_last_error). Configurations are reference counted: a context configured from
/// one keeps what it needs, so the config may be freed while contexts live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_new() -> *mut Config {
    boundary!(
        std::ptr::null_mut(),
        match Config::new() {
            Ok(c) => config_into_raw(Arc::new(c)),
            Err(e) => {
                set_last_error(&e);
                std::ptr::null_mut()
            }
        }
    )
}

/// Drops the caller's reference to `config`. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_free(config: *mut Config) {
    boundary!((), config_release(config))
}

/// Returns the message of the last failed call on `config`, or NULL when there was none.
/// The string stays valid until the next failing call on `config` or its release.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_error(config: *mut Config) -> *const c_char {
    boundary!(
        std::ptr::null(),
        match config_ref(config) {
            Ok(c) => c.last_error().map_or(std::ptr::null(), |(_, p)| p),
            Err(_) => std::ptr::null(),
        }
    )
}

/// Returns the code of the last failed call on `config` (TLS_ERROR_*), TLS_ERROR_UNKNOWN
/// when there was none, or TLS_ERROR_INVALID_CONTEXT for a NULL config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_error_code(config: *mut Config) -> c_int {
    boundary!(
        Code::InvalidContext as c_int,
        match config_ref(config) {
            Ok(c) => c.last_error().map_or(Code::Unknown as c_int, |(code, _)| code as c_int),
            Err(_) => Code::InvalidContext as c_int,
        }
    )
}

/// Sets the CA certificates from the PEM file `ca_file`, read now.
///
/// Returns 0, or -1 if the file cannot be read or holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ca_file(
    config: *mut Config,
    ca_file: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_ca_pem(file(ca_file, "CA file")?, "CA file")))
}

/// Sets the CA certificates from a directory: every file in it holding PEM certificates.
///
/// Returns 0, or -1 if `ca_path` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ca_path(
    config: *mut Config,
    ca_path: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_ca_path(PathBuf::from(cstr(ca_path, "CA path")?))))
}

/// Sets the CA certificates from `len` bytes of PEM at `ca`.
///
/// Returns 0, or -1 if the buffer holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ca_mem(
    config: *mut Config,
    ca: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| c.set_ca_pem(slice(ca.cast::<c_void>(), len, "CA")?.to_vec(), "CA"))
    )
}

/// Sets the certificate chain (leaf first) from the PEM file `cert_file`, read now.
///
/// Returns 0, or -1 if the file cannot be read or holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_cert_file(
    config: *mut Config,
    cert_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            c.set_cert_pem(file(cert_file, "certificate file")?, "certificate file")
        })
    )
}

/// Sets the certificate chain (leaf first) from `len` bytes of PEM at `cert`.
///
/// Returns 0, or -1 if the buffer holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_cert_mem(
    config: *mut Config,
    cert: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            c.set_cert_pem(
                slice(cert.cast::<c_void>(), len, "certificate")?.to_vec(),
                "certificate",
            )
        })
    )
}

/// Sets the private key from the PEM file `key_file` (PKCS#8, PKCS#1 or SEC1; not
/// encrypted), read now.
///
/// Returns 0, or -1 if the file cannot be read or holds no usable key.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_key_file(
    config: *mut Config,
    key_file: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_key_pem(file(key_file, "key file")?)))
}

/// Sets the private key from `len` bytes of PEM at `key`.
///
/// Returns 0, or -1 if the buffer holds no usable key.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_key_mem(
    config: *mut Config,
    key: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| c.set_key_pem(slice(key.cast::<c_void>(), len, "key")?.to_vec()))
    )
}

/// Sets certificate and key from two PEM files. Whether they match is checked by
/// tls_configure.
///
/// Returns 0, or -1 if either cannot be read or parsed (then neither is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = file(cert_file, "certificate file")?;
            pem::certs(&cert, "certificate file")?;
            let key = file(key_file, "key file")?;
            pem::key(&key)?;
            c.set_cert_and_key(cert, key)
        })
    )
}

/// Sets certificate and key from two PEM buffers.
///
/// Returns 0, or -1 if either cannot be parsed (then neither is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_mem(
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
            pem::certs(&cert, "certificate")?;
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            pem::key(&key)?;
            c.set_cert_and_key(cert, key)
        })
    )
}

/// Sets the protocol versions allowed (TLS_PROTOCOL_* bits). nbtls has TLS 1.2 and 1.3
/// only: the TLSv1_0/TLSv1_1 bits are accepted and ignored, so a mask naming only them
/// makes tls_configure fail.
///
/// Returns 0, or -1 for bits libtls does not define.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_protocols(config: *mut Config, protocols: u32) -> c_int {
    boundary!(-1, setter(config, |c| c.set_protocols(protocols)))
}

/// Parses a libtls protocol string into `*protocols`, exactly as libtls does: names
/// ("secure", "default", "legacy", "all", "tlsv1", "tlsv1.0" … "tlsv1.3", any case)
/// separated by "," or ":", leading blanks skipped, "!" before a name removes it; a list
/// that starts with a removal starts from all protocols ("!tlsv1.0" is all but TLS 1.0).
/// NULL means "default".
///
/// Returns 0, or -1 for an empty string, an empty element ("tlsv1.2,"), a "-" or "+"
/// prefix, an unknown name or a NULL `protocols`; `*protocols` is then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_parse_protocols(
    protocols: *mut u32,
    protostr: *const c_char,
) -> c_int {
    boundary!(-1, {
        let r = (|| -> Result<(&mut u32, u32)> {
            let out = out_ref(protocols, "protocols")?;
            let v = setters::parse_protocols(opt_cstr(protostr, "protocol string")?)?;
            Ok((out, v))
        })();
        match r {
            Ok((out, v)) => {
                *out = v;
                0
            }
            Err(e) => {
                set_last_error(&e);
                -1
            }
        }
    })
}

/// Sets the ALPN protocols offered (client) or accepted (server), in preference order, as a
/// comma-separated list such as "h2,http/1.1".
///
/// Returns 0, or -1 for NULL, an empty name or a name over 255 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_alpn(config: *mut Config, alpn: *const c_char) -> c_int {
    boundary!(-1, setter(config, |c| c.set_alpn(cstr(alpn, "ALPN")?)))
}

/// Sets the most ciphertext nbtls queues per connection and direction (default 65536).
///
/// Returns 0, or -1 for a limit under 1024 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_buffer_limit(config: *mut Config, limit: usize) -> c_int {
    boundary!(-1, setter(config, |c| c.set_buffer_limit(limit)))
}

/// Makes a bare EOF (the peer's transport ends without close_notify) fail tls_read with -1
/// and TLS_ERROR_TRUNCATED, instead of reading as 0 (libtls's behaviour, the default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_strict_eof(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.strict_eof = true))
}

/// Sets whether reads take ahead: with `read_ahead` non-zero a read from the transport takes
/// what is there (up to 64 KiB), as OpenSSL's SSL_CTX_set_read_ahead does; with 0, the
/// default, nbtls never takes a byte beyond the record it needs now, so after
/// tls_handshake() returns 0 the peer's next bytes are still in the transport, and a
/// tls_read() that returned data has read no further record. Read-ahead saves system calls
/// for programs that always call tls_read() until TLS_WANT_POLLIN; it breaks programs that
/// wait for the fd to become readable before reading (level-triggered poll(2) or libevent
/// loops), because ciphertext read ahead is no longer in the kernel: such programs must
/// check tls_pending_read(), which counts it. The 64 KiB buffer belongs to the thread: a
/// connection holds one only while bytes it read ahead are unread, and each thread that
/// reads ahead keeps one spare. The memory transport is unaffected.
/// Returns 0, or -1 when `config` is NULL. Affects contexts configured afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_read_ahead(
    config: *mut Config,
    read_ahead: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.edit(|s| Ok(s.read_ahead = read_ahead != 0))))
}

/// Returns the path of the default CA bundle nbtls verifies against,
/// "/etc/ssl/certs/ca-certificates.crt". The string is static.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_default_ca_cert_file() -> *const c_char {
    boundary!(std::ptr::null(), {
        static FILE: once_cell::sync::Lazy<std::ffi::CString> =
            once_cell::sync::Lazy::new(|| crate::ffi::boundary::to_cstring(DEFAULT_CA_FILE));
        FILE.as_ptr()
    })
}

/// Sets the cipher suites allowed, in preference order. libtls's keywords "secure" (alias
/// "default"), "compat", "legacy" and "insecure" (alias "all") all select every suite nbtls
/// has (rustls offers only AEAD suites with ECDHE, so there are no weaker ones to add);
/// OpenSSL cipher strings ("ECDHE-RSA-AES128-GCM-SHA256:!CHACHA20", "HIGH:!aNULL", IANA
/// names) narrow that set. TLS 1.3 suites are governed by the string only when it names TLS
/// 1.3 ("TLSv1.3" or a TLS 1.3 suite); otherwise all three stay on, as with OpenSSL-based
/// libtls, except those excluded with '!'. NULL means "secure". The TLS 1.3 order is
/// TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 (libtls on
/// OpenSSL puts AES-256 first: SHA-256 runs in hardware where SHA-384 does not, which makes
/// handshakes cheaper); "TLS_AES_256_GCM_SHA384:TLSv1.3:TLSv1.2" restores libtls's order.
///
/// Returns 0, or -1 for an unknown cipher name or keyword, or a string that selects no suite
/// nbtls has (TLS_ERROR_UNSUPPORTED).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ciphers(
    config: *mut Config,
    ciphers: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_ciphers(opt_cstr(ciphers, "ciphers")?)))
}

/// Accepts libtls's DHE parameter choices ("none", "auto", "legacy"; NULL means "none") and
/// ignores them: rustls has no finite-field DHE suites, so none is ever used.
///
/// Returns 0, or -1 for any other string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_dheparams(
    config: *mut Config,
    params: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_dheparams(opt_cstr(params, "DHE parameters")?)))
}

/// Sets the key exchange groups allowed, in preference order, from a list separated by ','
/// or ':', names in any case: "X25519MLKEM768" (hybrid post-quantum, TLS 1.3 only),
/// "X25519", "P-256" (also "prime256v1", "secp256r1"), "P-384" ("secp384r1"). NULL,
/// "default" or "secure" means the default, X25519MLKEM768, X25519, P-256 and P-384. Curves
/// OpenSSL knows but nbtls lacks (P-521, P-224, X448) are skipped.
///
/// Returns 0, or -1 for an unknown curve name or a list naming none nbtls supports.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ecdhecurves(
    config: *mut Config,
    curves: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_ecdhecurves(opt_cstr(curves, "curves")?)))
}

/// Sets one key exchange group (deprecated in libtls for tls_config_set_ecdhecurves). NULL,
/// "none" and "auto" mean the default groups.
///
/// Returns 0, or -1 for an unknown curve or a list (a ',' or ':' in `curve`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ecdhecurve(
    config: *mut Config,
    curve: *const c_char,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_ecdhecurve(opt_cstr(curve, "curve")?)))
}

/// Makes a server choose the cipher suite by the client's preference order.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_prefer_ciphers_client(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.prefer_server_ciphers = false))
}

/// Makes a server choose the cipher suite by its own preference order (the default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_prefer_ciphers_server(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.prefer_server_ciphers = true))
}

/// Wipes the private key from `config` (overwritten, then freed). Contexts already
/// configured keep working; a later tls_configure of a server fails for want of a key, as
/// with libtls.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_clear_keys(config: *mut Config) {
    boundary!((), void_edit(config, Settings::clear_key))
}

/// Accepted and ignored, as its libtls counterpart's purpose (a key held elsewhere, e.g.
/// by a privilege-separated process) does not arise: nbtls always checks that the key
/// matches the certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_skip_private_key_check(config: *mut Config) {
    boundary!((), void_edit(config, |_| ()))
}

/// Asks for a fake private key (libtls's privilege separation); not supported by nbtls: the
/// error is sticky and makes tls_configure fail.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_use_fake_private_key(config: *mut Config) {
    boundary!(
        (),
        void_refuse(config, Error::unsupported("fake private keys are not supported by nbtls"))
    )
}
