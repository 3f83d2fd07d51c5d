//! A server's certificates chosen by the client's server name (SNI), as libtls chooses: the
//! first keypair whose certificate is valid for the name by its own subjectAltNames (or,
//! without DNS names, its commonName), with libtls's wildcard rules; the first keypair (the
//! one `tls_config_set_keypair_*` set) when none is, or when the client sent no name.
use std::collections::HashMap;
use std::net::IpAddr;
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
    /// Which keypairs may be valid for a name, so that a handshake looks at those only,
    /// however many keypairs there are: every dNSName and commonName, lower case
    /// (wildcards as written, "*.example.com"), and every iPAddress, to the keypairs'
    /// positions in order. A candidate is confirmed by [`x509::NameQuery::matches`].
    by_name: HashMap<Box<str>, Vec<usize>>,
    by_ip: HashMap<IpAddr, Vec<usize>>,
}

/// The most candidates kept on the stack while choosing; more (many keypairs for one
/// name) fall back to looking at every keypair.
const CANDIDATES: usize = 16;

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
        let mut by_name: HashMap<Box<str>, Vec<usize>> = HashMap::new();
        let mut by_ip: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        for (i, (_, names)) in keys.iter().enumerate() {
            for n in names.dns.iter().chain(names.common_name.iter()) {
                let v = by_name.entry(n.to_ascii_lowercase().into_boxed_str()).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
            for ip in &names.ips {
                let v = by_ip.entry(*ip).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
        Ok(Self { keys, by_name, by_ip })
    }

    /// The positions of the keypairs valid for `q`, in order, into `out`; `None` when there
    /// are more than `out` holds.
    fn matching<'o>(
        &self,
        q: &x509::NameQuery<'_>,
        out: &'o mut [usize; CANDIDATES],
    ) -> Option<&'o [usize]> {
        let name = q.name();
        let mut lower = [0u8; 256];
        if name.len() > lower.len() {
            return None;
        }
        lower[..name.len()].copy_from_slice(name.as_bytes());
        lower[..name.len()].make_ascii_lowercase();
        let lower = std::str::from_utf8(&lower[..name.len()]).ok()?;
        let mut wild = [0u8; 257];
        let wildcard = lower.find('.').map(|d| {
            wild[0] = b'*';
            wild[1..=lower.len() - d].copy_from_slice(&lower.as_bytes()[d..]);
            &wild[..=lower.len() - d]
        });
        let lists = [
            self.by_name.get(lower),
            wildcard.and_then(|w| std::str::from_utf8(w).ok()).and_then(|w| self.by_name.get(w)),
            q.ip().and_then(|ip| self.by_ip.get(&ip)),
        ];
        let mut n = 0;
        for &i in lists.iter().flatten().flat_map(|v| v.iter()) {
            if out[..n].contains(&i) || !q.matches(&self.keys[i].1) {
                continue;
            }
            if n == CANDIDATES {
                return None;
            }
            out[n] = i;
            n += 1;
        }
        out[..n].sort_unstable();
        Some(&out[..n])
    }

    /// The keypair for `name` (the default for `None` or no match). Among several for the
    /// name, as dual-certificate servers choose: an ECDSA one the client can verify
    /// (`schemes`), else the first any of whose signatures it can verify, else the first.
    pub fn choose(&self, name: Option<&str>, schemes: &[SignatureScheme]) -> Arc<CertifiedKey> {
        let Some(name) = name else { return self.keys[0].0.clone() };
        let q = x509::NameQuery::new(name);
        let mut buf = [0usize; CANDIDATES];
        match self.matching(&q, &mut buf) {
            Some(found) => self.among(found.iter().map(|&i| &self.keys[i]), schemes),
            None => self.among(self.keys.iter().filter(|k| q.matches(&k.1)), schemes),
        }
    }

    /// The keypair at `i` in the order they were added (the default first).
    #[cfg(test)]
    pub fn choose_by_position(&self, i: usize) -> Arc<CertifiedKey> {
        self.keys[i].0.clone()
    }

    /// The choice among the keypairs valid for the name, in order: the only one; else an
    /// ECDSA one the client can verify, else the first it can verify, else the first; the
    /// default keypair when there is none.
    fn among<'k>(
        &'k self,
        valid: impl Iterator<Item = &'k (Arc<CertifiedKey>, x509::Names)> + Clone,
        schemes: &[SignatureScheme],
    ) -> Arc<CertifiedKey> {
        let mut it = valid.clone();
        let Some(first) = it.next() else { return self.keys[0].0.clone() };
        if it.next().is_none() {
            return first.0.clone();
        }
        let usable =
            |k: &&(Arc<CertifiedKey>, x509::Names)| k.0.key.choose_scheme(schemes).is_some();
        let ecdsa = |k: &&(Arc<CertifiedKey>, x509::Names)| {
            usable(k) && k.0.key.algorithm() == SignatureAlgorithm::ECDSA
        };
        let chosen = valid.clone().find(ecdsa).or_else(|| valid.clone().find(usable));
        chosen.unwrap_or(first).0.clone()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(hello.server_name(), hello.signature_schemes()))
    }
}
