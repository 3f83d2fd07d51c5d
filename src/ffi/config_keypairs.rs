//! The `tls_config_*` keypair setters beyond the default one: SNI keypairs
//! (`tls_config_add_keypair_*`), keypairs with OCSP staples and the staples themselves.
use std::ffi::{c_char, c_int, c_void};

use crate::config::sni::Keypair;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ffi::config_util::{file, setter, void_refuse};
use crate::ffi::handle::slice;

/// The keypair in the caller's PEM buffers, with the DER OCSP staple in `staple` if given.
fn keypair_mem(
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
    staple: Option<(*const u8, usize)>,
) -> Result<Keypair> {
    let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
    let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
    let staple = match staple {
        Some((p, len)) => Some(slice(p.cast::<c_void>(), len, "OCSP staple")?.to_vec()),
        None => None,
    };
    Keypair::from_pem(cert, key, staple)
}

/// A staple file: NULL means none, as in libtls.
fn opt_file(path: *const c_char, what: &str) -> Result<Option<Vec<u8>>> {
    if path.is_null() {
        return Ok(None);
    }
    file(path, what).map(Some)
}

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
            let kp = Keypair::from_pem(
                file(cert_file, "certificate file")?,
                file(key_file, "key file")?,
                None,
            )?;
            c.add_keypair(kp)
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
        setter(config, |c| { c.add_keypair(keypair_mem(cert, cert_len, key, key_len, None)?) })
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
            let kp = Keypair::from_pem(cert, key, opt_file(ocsp_staple_file, "OCSP staple file")?)?;
            c.add_keypair(kp)
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
            c.add_keypair(keypair_mem(cert, cert_len, key, key_len, Some((staple, staple_len)))?)
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
            c.set_keypair(Keypair::from_pem(cert, key, opt_file(staple_file, "OCSP staple file")?)?)
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
            c.set_keypair(keypair_mem(cert, cert_len, key, key_len, Some((staple, staple_len)))?)
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
    boundary!(-1, setter(config, |c| c.set_ocsp_staple(file(staple_file, "OCSP staple file")?)))
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
            c.set_ocsp_staple(slice(staple.cast::<c_void>(), len, "OCSP staple")?.to_vec())
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
