//! The rest of libtls's surface: cipher and curve selection, verification depth, key
//! clearing, file loading and the remaining `tls_conn_*` accessors. Sessions, ticket keys,
//! client certificates, SNI keypairs, OCSP, CRLs and the peer certificate are in
//! [`crate::ffi::sessions`].
use std::ffi::{c_char, c_int, c_void};
use std::path::Path;

use crate::config::{pem, suites, Config, DEFAULT_CA_FILE};
use crate::error::{Error, Result};
use crate::ffi::boundary::{null_arg, set_errno};
use crate::ffi::conn_util::fail_null;
use crate::ffi::ctx::Tls;
use crate::ffi::handle::{cstr, ctx_ref, opt_cstr};

use crate::ffi::config_util::{setter, void_edit, void_refuse};

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
/// libtls, except those excluded with '!'. NULL means "secure".
///
/// Returns 0, or -1 for an unknown cipher name or keyword, or a string that selects no suite
/// nbtls has (TLS_ERROR_UNSUPPORTED).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ciphers(
    config: *mut Config,
    ciphers: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let list = suites::parse_ciphers(opt_cstr(ciphers, "ciphers")?.unwrap_or("secure"))?;
            c.edit(|s| {
                s.ciphers = Some(list);
                Ok(())
            })
        })
    )
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
    boundary!(
        -1,
        setter(config, |_| match opt_cstr(params, "DHE parameters")? {
            None => Ok(()),
            Some(p) if ["none", "auto", "legacy"].iter().any(|k| p.eq_ignore_ascii_case(k)) =>
                Ok(()),
            Some(p) => Err(Error::arg(format!("invalid dhe param '{p}'"))),
        })
    )
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
    boundary!(
        -1,
        setter(config, |c| {
            let groups = suites::parse_curves(opt_cstr(curves, "curves")?)?;
            c.edit(|s| {
                s.groups = groups;
                Ok(())
            })
        })
    )
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
    boundary!(
        -1,
        setter(config, |c| {
            let curve = match opt_cstr(curve, "curve")? {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("none") || v.eq_ignore_ascii_case("auto") => None,
                Some(v) if v.contains([',', ':']) => {
                    return Err(Error::arg(format!("invalid ecdhe curve '{v}'")))
                }
                Some(v) => Some(v),
            };
            let groups = suites::parse_curves(curve)?;
            c.edit(|s| {
                s.groups = groups;
                Ok(())
            })
        })
    )
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
    boundary!(
        -1,
        setter(config, |c| {
            if verify_depth < 0 {
                return Err(Error::arg(format!("invalid verify depth {verify_depth}")));
            }
            c.edit(|s| {
                s.verify_depth = verify_depth;
                Ok(())
            })
        })
    )
}

/// Wipes the private key from `config` (overwritten, then freed). Contexts already
/// configured keep working; a later tls_configure of a server fails for want of a key, as
/// with libtls.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_clear_keys(config: *mut Config) {
    boundary!(
        (),
        void_edit(config, |s| {
            if let Some(mut k) = s.key_pem.take() {
                k.iter_mut().for_each(|b| *b = 0);
                std::hint::black_box(&k);
            }
        })
    )
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

/// Reads `file`. With `password` NULL the contents are returned as they are; with a
/// password the file must hold a private key, returned in PEM: an unencrypted key is
/// returned as it is, an encrypted one fails (nbtls does not decrypt PEM keys: decrypt it
/// first, e.g. `openssl pkey -in key.pem -out plain.pem`).
///
/// Returns a buffer of `*len` bytes, allocated with malloc (release it with tls_unload_file,
/// which wipes it), or NULL on failure with errno set by the failed system call and the
/// message in tls_last_error().
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_load_file(
    file: *const c_char,
    len: *mut usize,
    password: *mut c_char,
) -> *mut u8 {
    boundary!(std::ptr::null_mut(), {
        let r = (|| -> Result<Vec<u8>> {
            if len.is_null() {
                return Err(null_arg("len"));
            }
            let path = cstr(file, "file")?;
            let bytes = std::fs::read(Path::new(path)).map_err(|e| {
                let mut err = Error::io(&format!("failed to open {path}"), &e);
                err.code = crate::error::Code::InvalidArgument;
                err
            })?;
            if !password.is_null() {
                pem::key(&bytes).map_err(|e| Error::new(e.code, format!("{path}: {}", e.msg)))?;
            }
            Ok(bytes)
        })();
        match r {
            Ok(bytes) => {
                // SAFETY: malloc of at least one byte; a NULL result is checked.
                let p = unsafe { libc::malloc(bytes.len().max(1)) }.cast::<u8>();
                if p.is_null() {
                    set_errno(libc::ENOMEM);
                    return fail_null(
                        Error::new(crate::error::Code::OutOfMemory, "out of memory"),
                        std::ptr::null_mut(),
                    );
                }
                // SAFETY: p has room for bytes.len() bytes; len was checked non-NULL.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
                    *len = bytes.len();
                }
                p
            }
            Err(e) => {
                if e.errno != 0 {
                    set_errno(e.errno);
                }
                fail_null(e, std::ptr::null_mut())
            }
        }
    })
}

/// Wipes and frees a buffer tls_load_file returned (`len` is its length). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_unload_file(buf: *mut u8, len: usize) {
    boundary!((), {
        if buf.is_null() {
            return;
        }
        // SAFETY: buf came from tls_load_file (malloc) with len bytes; wiped, then freed once.
        unsafe {
            std::ptr::write_bytes(buf, 0, len);
            libc::free(buf.cast::<c_void>());
        }
    })
}
