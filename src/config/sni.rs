//! A server's certificates chosen by the client's server name (SNI), as libtls chooses: the
//! first keypair whose certificate is valid for the name by its own subjectAltNames (or,
//! without DNS names, its commonName), with libtls's wildcard rules; the first keypair (the
//! one `tls_config_set_keypair_*` set) when none is, or when the client sent no name.
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::{pem, x509};
use crate::error::{Error, Result};

/// One certificate chain, its key and its OCSP staple, in PEM (the staple in DER).
#[derive(Clone)]
pub struct Keypair {
    /// The chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The private key.
    pub key_pem: Vec<u8>,
    /// The OCSP response to staple, if any.
    pub ocsp: Option<Vec<u8>>,
}

/// Chooses a certificate by server name.
#[derive(Debug)]
pub struct Resolver {
    keys: Vec<(Arc<CertifiedKey>, x509::Names)>,
}

impl Resolver {
    /// Loads every keypair (the default first); fails on a key that does not match its
    /// certificate, naming which.
    pub fn new(pairs: &[Keypair], provider: &CryptoProvider) -> Result<Self> {
        let mut keys = Vec::with_capacity(pairs.len());
        for (i, p) in pairs.iter().enumerate() {
            let which = if i == 0 {
                "server keypair".to_owned()
            } else {
                format!("keypair {i} (tls_config_add_keypair)")
            };
            let certs = pem::certs(&p.cert_pem, "certificate")?;
            let names = x509::names(certs[0].as_ref())
                .map_err(|e| Error::arg(format!("{which}: {}", e.msg)))?;
            let mut ck = CertifiedKey::from_der(certs, pem::key(&p.key_pem)?, provider).map_err(
                |e| match e {
                    rustls::Error::InconsistentKeys(_) => {
                        Error::arg(format!("{which}: private key does not match the certificate"))
                    }
                    other => Error::arg(format!("{which}: {other}")),
                },
            )?;
            ck.ocsp = p.ocsp.clone().filter(|o| !o.is_empty());
            keys.push((Arc::new(ck), names));
        }
        if keys.is_empty() {
            return Err(Error::arg("server certificate not set (tls_config_set_keypair_file)"));
        }
        Ok(Self { keys })
    }

    /// The keypair for `name` (the default for `None` or no match).
    pub fn choose(&self, name: Option<&str>) -> Arc<CertifiedKey> {
        name.and_then(|n| self.keys.iter().find(|(_, names)| x509::contains_name(names, n)))
            .unwrap_or(&self.keys[0])
            .0
            .clone()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(hello.server_name()))
    }
}
