//! PEM parsing of certificates, keys and CA bundles.
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        let mut err = Error::io(&format!("failed to read {what} '{}'", path.display()), &e);
        err.code = crate::error::Code::InvalidArgument;
        err
    })
}

/// `tls_load_file`: the contents of the file at `path`. With a password (`password`) the
/// file must hold a private key (an unencrypted one: nbtls does not decrypt PEM keys), and
/// its contents are returned as they are.
///
/// Returns INVALID_ARGUMENT, with the OS error's errno, when the file cannot be read, and
/// the key's error prefixed with `path` when it holds no usable key.
pub fn load_file(path: &str, password: bool) -> Result<Vec<u8>> {
    let bytes = std::fs::read(Path::new(path)).map_err(|e| {
        let mut err = Error::io(&format!("failed to open {path}"), &e);
        err.code = crate::error::Code::InvalidArgument;
        err
    })?;
    if password {
        key(&bytes).map_err(|e| Error::new(e.code, format!("{path}: {}", e.msg)))?;
    }
    Ok(bytes)
}

/// Parses every certificate in a PEM buffer; at least one is required.
pub fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: std::result::Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    match certs {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(Error::arg(format!("{what}: no PEM certificate found"))),
        Err(e) => Err(Error::arg(format!("{what}: invalid PEM: {e}"))),
    }
}

/// Parses the first private key (PKCS#8, PKCS#1 or SEC1) in a PEM buffer.
pub fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>> {
    if contains(pem, b"ENCRYPTED") {
        return Err(Error::unsupported(
            "private key: encrypted PEM keys are not supported; decrypt it first",
        ));
    }
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| Error::arg(format!("private key: invalid PEM: {e}")))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_rejected_with_a_message() {
        let err = certs(b"not a certificate", "certificate").unwrap_err();
        assert_eq!(err.code, crate::Code::InvalidArgument);
        assert!(err.msg.contains("no PEM certificate"), "{}", err.msg);
        assert!(key(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n").is_err());
    }
}
