//! The server-certificate verifier: webpki, with each `insecure_*` switch forgiving only
//! its own check.
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, RootCertStore,
    SignatureScheme,
};

/// Which checks are on.
#[derive(Clone, Copy, Debug)]
pub struct Checks {
    /// Verify the chain to a trusted root.
    pub cert: bool,
    /// Verify that the certificate names the server.
    pub name: bool,
    /// Verify validity times.
    pub time: bool,
}

/// Verifies server certificates for a client config.
#[derive(Debug)]
pub struct Verifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    checks: Checks,
    provider: Arc<CryptoProvider>,
    depth: usize,
    /// The trust anchors' public keys, to tell a sent-along root from an intermediate.
    anchor_keys: Vec<Vec<u8>>,
}

impl Verifier {
    /// Builds a verifier over `roots` and `crls` (`tls_config_set_crl_*`: every certificate of
    /// the chain must then be covered by a CRL, as with libtls); with `checks.cert` off the
    /// roots may be empty.
    pub fn new(
        roots: RootCertStore,
        checks: Checks,
        provider: Arc<CryptoProvider>,
        crls: Vec<CertificateRevocationListDer<'static>>,
    ) -> crate::error::Result<Self> {
        let anchor_keys = anchor_keys(&roots);
        let inner = if checks.cert {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .with_crls(crls)
                    .build()
                    .map_err(|e| crate::Error::arg(format!("CA certificates: {e}")))?,
            )
        } else {
            None
        };
        Ok(Self { inner, checks, provider, depth: usize::MAX, anchor_keys })
    }

    /// Limits the intermediates a server may present (`tls_config_set_verify_depth`), as
    /// OpenSSL counts them: depth d allows the leaf, d intermediates and the trust anchor.
    pub fn with_depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }
}

fn anchor_keys(roots: &RootCertStore) -> Vec<Vec<u8>> {
    roots.roots.iter().map(|a| a.subject_public_key_info.to_vec()).collect()
}

/// With noverifytime, the time to verify again at: inside the validity window webpki
/// reported for an expired or not-yet-valid certificate, so only time failures are
/// forgiven. Any other failure, or the time check on, is the error itself.
fn forgiven_time(checks: Checks, e: CertificateError) -> Result<UnixTime, Error> {
    match e {
        CertificateError::ExpiredContext { not_after, .. } if !checks.time => Ok(not_after),
        CertificateError::NotValidYetContext { not_before, .. } if !checks.time => Ok(not_before),
        other => Err(Error::InvalidCertificate(other)),
    }
}

/// Whether `cert` carries a trust anchor's public key (only limits the depth count).
fn is_anchor(keys: &[Vec<u8>], cert: &CertificateDer<'_>) -> bool {
    let der = cert.as_ref();
    keys.iter().any(|k| !k.is_empty() && der.windows(k.len()).any(|w| w == k.as_slice()))
}

/// The error of a chain with more intermediates than `depth` allows, if it has.
fn check_depth(
    keys: &[Vec<u8>],
    intermediates: &[CertificateDer<'_>],
    depth: usize,
) -> Result<(), Error> {
    let found = intermediates.iter().filter(|c| !is_anchor(keys, c)).count();
    if found > depth {
        let e = ChainTooLong { depth, found };
        return Err(Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(e),
        ))));
    }
    Ok(())
}

/// The error of a certificate whose own names (libtls's rules) do not include `name`.
fn check_name(cert: &CertificateDer<'_>, name: &ServerName<'_>) -> Result<(), Error> {
    let name = match name {
        ServerName::DnsName(d) => d.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => return Err(Error::InvalidCertificate(CertificateError::NotValidForName)),
    };
    let names = crate::config::x509::names(cert.as_ref())
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
    if crate::config::x509::contains_name(&names, &name) {
        Ok(())
    } else {
        Err(Error::InvalidCertificate(CertificateError::NotValidForName))
    }
}

/// A chain longer than the verification depth allows.
struct ChainTooLong {
    depth: usize,
    found: usize,
}

impl std::fmt::Debug for ChainTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "certificate chain too long: {} intermediates, verify depth {}",
            self.found, self.depth
        )
    }
}

impl std::fmt::Display for ChainTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for ChainTooLong {}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(inner) = &self.inner else {
            // noverifycert: neither the chain nor the times are checked, but the name is
            // unless noverifyname (libtls checks it after the handshake either way).
            if self.checks.name {
                check_name(end_entity, server_name)?;
            }
            return Ok(ServerCertVerified::assertion());
        };
        // A trust anchor the server sends along is not an intermediate.
        check_depth(&self.anchor_keys, intermediates, self.depth)?;
        let mut now = now;
        // Each retry moves the clock into the validity window webpki reported, so that with
        // noverifytime only time failures are forgiven; the chain is still checked in full.
        for _ in 0..8 {
            match inner.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(v) => return Ok(v),
                Err(Error::InvalidCertificate(e)) => match e {
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. }
                        if !self.checks.name =>
                    {
                        return Ok(ServerCertVerified::assertion())
                    }
                    other => now = forgiven_time(self.checks, other)?,
                },
                Err(other) => return Err(other),
            }
        }
        Err(Error::InvalidCertificate(CertificateError::Expired))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Verifies client certificates for a server config (`tls_config_verify_client` and
/// `_optional`), with libtls's meaning of the switches on a server: webpki against the
/// config's CA certificates and CRLs within the verify depth; `noverifytime` forgives only a
/// validity-time failure; `noverifycert` accepts any certificate (self-signed, unknown
/// issuer, expired) and leaves checking to the program (`tls_peer_cert_hash`); the client's
/// handshake signature is checked always. `noverifyname` has no meaning on a server.
#[derive(Debug)]
pub struct ClientVerifier {
    /// `None` with `noverifycert`.
    inner: Option<Arc<dyn ClientCertVerifier>>,
    mandatory: bool,
    checks: Checks,
    provider: Arc<CryptoProvider>,
    depth: usize,
    anchor_keys: Vec<Vec<u8>>,
}

impl ClientVerifier {
    /// Requires a client certificate, or only checks one that is sent when `optional`. With
    /// `checks.cert` off the roots may be empty and are not used.
    pub fn new(
        roots: RootCertStore,
        provider: Arc<CryptoProvider>,
        crls: Vec<CertificateRevocationListDer<'static>>,
        optional: bool,
        checks: Checks,
        depth: usize,
    ) -> crate::error::Result<Self> {
        let anchor_keys = anchor_keys(&roots);
        let inner = if checks.cert {
            let mut b =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .with_crls(crls);
            if optional {
                b = b.allow_unauthenticated();
            }
            Some(b.build().map_err(|e| crate::Error::arg(format!("client CA certificates: {e}")))?)
        } else {
            None
        };
        Ok(Self { inner, mandatory: !optional, checks, provider, depth, anchor_keys })
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    /// None, as libtls (which never sets a client CA list): naming every trusted CA made a
    /// server with the system roots send a 17 KB CertificateRequest, and clients choose
    /// their certificate without the list.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let Some(inner) = &self.inner else {
            return Ok(ClientCertVerified::assertion());
        };
        check_depth(&self.anchor_keys, intermediates, self.depth)?;
        let mut now = now;
        // As for servers: with noverifytime each retry moves the clock into the validity
        // window webpki reported, so only time failures are forgiven.
        for _ in 0..8 {
            match inner.verify_client_cert(end_entity, intermediates, now) {
                Ok(v) => return Ok(v),
                Err(Error::InvalidCertificate(e)) => now = forgiven_time(self.checks, e)?,
                Err(other) => return Err(other),
            }
        }
        Err(Error::InvalidCertificate(CertificateError::Expired))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
