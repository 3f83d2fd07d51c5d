//! The peer's certificate, for the `tls_peer_cert_*` accessors: read once the handshake is
//! complete (a resumed session reports the certificate of the session it resumed).
use std::ffi::CString;

use once_cell::sync::OnceCell;
use rustls::pki_types::CertificateDer;

use crate::config::x509;
use crate::conn::Conn;
use crate::error::{Error, Result};

/// What is known of the peer's certificate, computed on first use after the handshake; one
/// pointer until then, so a connection that never asks holds nothing for it.
#[derive(Default)]
pub struct Cache(OnceCell<Box<std::result::Result<Option<Peer>, Error>>>);

/// The peer's leaf certificate, described, and its chain in PEM. The strings hold no NUL
/// and live as long as the connection.
pub struct Peer {
    /// The leaf certificate's fields.
    pub cert: x509::Described,
    /// `cert.subject` as a C string.
    pub subject: CString,
    /// `cert.issuer` as a C string.
    pub issuer: CString,
    /// `cert.common_name` as a C string.
    pub common_name: CString,
    /// `cert.hash` as a C string.
    pub hash: CString,
    /// Every certificate the peer sent, leaf first, in PEM.
    pub chain_pem: Vec<u8>,
}

impl Conn {
    /// The certificates the peer sent, leaf first, once the handshake is complete; `None`
    /// before, or when it sent none.
    pub fn peer_chain(&self) -> Option<&[CertificateDer<'static>]> {
        if !self.handshake_done {
            return None;
        }
        self.tls.peer_certificates().filter(|c| !c.is_empty())
    }

    /// The peer's certificate, described: `Ok(None)` before the handshake is complete or
    /// when the peer sent none, an error when it cannot be parsed.
    pub fn peer(&self) -> Result<Option<&Peer>> {
        let Some(chain) = self.peer_chain() else {
            return Ok(None);
        };
        let slot = self.peer.0.get_or_init(|| Box::new(describe(chain).map(Some)));
        match &**slot {
            Ok(p) => Ok(p.as_ref()),
            Err(e) => Err(e.clone()),
        }
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

fn describe(chain: &[CertificateDer<'static>]) -> Result<Peer> {
    let cert = x509::describe(chain[0].as_ref())?;
    let mut chain_pem = Vec::new();
    for c in chain {
        chain_pem.extend_from_slice(pem_encode(c.as_ref()).as_bytes());
    }
    Ok(Peer {
        subject: cstring(&cert.subject),
        issuer: cstring(&cert.issuer),
        common_name: cstring(&cert.common_name),
        hash: cstring(&cert.hash),
        cert,
        chain_pem,
    })
}

/// A certificate in PEM: base64 in lines of 64, as OpenSSL writes it.
fn pem_encode(der: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n =
            chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_round_trips() {
        use rustls::pki_types::pem::PemObject;
        for len in [1usize, 2, 3, 47, 48, 49, 200] {
            let der: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let pem = super::pem_encode(&der);
            let back = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
            assert_eq!(back.as_ref(), &der[..]);
        }
    }
}
