//! A server's certificates chosen by the client's server name (SNI), as libtls chooses: the
//! first keypair whose certificate is valid for the name by its own subjectAltNames (or,
//! without DNS names, its commonName), with libtls's wildcard rules; the first keypair (the
//! one `tls_config_set_keypair_*` set) when none is, or when the client sent no name.
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::config::{pem, x509, Config};
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

impl Keypair {
    /// A certificate chain and key from PEM, checked for parsing (whether they match is
    /// checked when a server config is built); an empty staple is none.
    pub fn from_pem(cert_pem: Vec<u8>, key_pem: Vec<u8>, ocsp: Option<Vec<u8>>) -> Result<Self> {
        pem::certs(&cert_pem, "certificate")?;
        pem::key(&key_pem)?;
        Ok(Self { cert_pem, key_pem, ocsp: ocsp.filter(|o| !o.is_empty()) })
    }
}

impl Config {
    /// Adds a keypair a server chooses by SNI; as in libtls, the first keypair of a config
    /// without one becomes its default keypair.
    pub fn add_keypair(&self, kp: Keypair) -> Result<()> {
        self.edit(|s| {
            if s.cert_pem.is_none() {
                s.cert_pem = Some(kp.cert_pem);
                s.key_pem = Some(kp.key_pem);
                s.ocsp_staple = kp.ocsp;
            } else {
                s.keypairs.push(kp);
            }
            Ok(())
        })
    }

    /// Replaces the default keypair, its staple included.
    pub fn set_keypair(&self, kp: Keypair) -> Result<()> {
        self.edit(|s| {
            s.cert_pem = Some(kp.cert_pem);
            s.key_pem = Some(kp.key_pem);
            s.ocsp_staple = kp.ocsp;
            Ok(())
        })
    }

    /// Replaces the default certificate and key, leaving its staple as it is.
    pub fn set_cert_and_key(&self, cert_pem: Vec<u8>, key_pem: Vec<u8>) -> Result<()> {
        self.edit(|s| {
            s.cert_pem = Some(cert_pem);
            s.key_pem = Some(key_pem);
            Ok(())
        })
    }
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

    /// The keypair for `name` (the default for `None` or no match). Among several for the
    /// name, as dual-certificate servers choose: an ECDSA one the client can verify
    /// (`schemes`), else the first any of whose signatures it can verify, else the first.
    pub fn choose(&self, name: Option<&str>, schemes: &[SignatureScheme]) -> Arc<CertifiedKey> {
        let for_name = |k: &&(Arc<CertifiedKey>, x509::Names)| {
            name.is_some_and(|n| x509::contains_name(&k.1, n))
        };
        let first = self.keys.iter().find(for_name).unwrap_or(&self.keys[0]);
        if self.keys.iter().filter(for_name).nth(1).is_none() {
            return first.0.clone();
        }
        let usable = |k: &&(Arc<CertifiedKey>, x509::Names)| {
            for_name(k) && k.0.key.choose_scheme(schemes).is_some()
        };
        let ecdsa = |k: &&(Arc<CertifiedKey>, x509::Names)| {
            usable(k) && k.0.key.algorithm() == SignatureAlgorithm::ECDSA
        };
        let chosen = self.keys.iter().find(ecdsa).or_else(|| self.keys.iter().find(usable));
        chosen.unwrap_or(first).0.clone()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(hello.server_name(), hello.signature_schemes()))
    }
}
