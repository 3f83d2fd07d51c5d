//! The mutable settings that `tls_config_*` edits, and their frozen form.
//!
//! A [`Config`] is shared (`Arc`) and thread-safe. Every setter bumps a generation; the first
//! `tls_configure` of a generation builds the rustls config for its role once, and every
//! context configured from the same generation shares it (and so the session cache).
pub mod binding;
pub mod keylog;
pub mod pem;
pub mod setters;
pub mod sni;
pub mod suites;
pub mod tickets;
pub mod verify;
pub mod x509;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::client::ClientSessionMemoryCache;
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateRevocationListDer;
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};

use crate::error::{Code, Error, Result};
use crate::policy;

/// The default outgoing buffer limit per direction.
pub const DEFAULT_BUFFER_LIMIT: usize = 64 * 1024;
/// The system CA bundle, as `tls_default_ca_cert_file()` reports it.
pub const DEFAULT_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// libtls's default verification depth.
pub const DEFAULT_VERIFY_DEPTH: i32 = 6;
/// The default size of the session caches (`tls_config_set_session_cache_size`).
pub(crate) const DEFAULT_SESSION_CACHE_SIZE: usize = 1024;

/// Whether a server asks for a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// No (the default).
    Off,
    /// Yes, and the handshake fails without one (`tls_config_verify_client`); it must be
    /// valid unless `noverifycert`.
    Required,
    /// Yes; one that is sent must be valid unless `noverifycert`
    /// (`tls_config_verify_client_optional`).
    Optional,
}

/// When a TLS 1.3 server's NewSessionTickets leave (the README's "Out-of-turn writes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketPolicy {
    /// Held until the next write-side call (the default).
    Deferred = 0,
    /// Held, plus one non-blocking attempt per call where the transport allows.
    Opportunistic = 1,
    /// Sent before the handshake call returns 0 (OpenSSL's behaviour).
    Immediate = 2,
    /// No tickets.
    None = 3,
}

impl TicketPolicy {
    /// The policy for a C integer, if it names one.
    pub fn from_int(v: i32) -> Option<Self> {
        Some(match v {
            0 => Self::Deferred,
            1 => Self::Opportunistic,
            2 => Self::Immediate,
            3 => Self::None,
            _ => return None,
        })
    }

    /// The policy a TLS_TICKETS_* value names; INVALID_ARGUMENT for any other value.
    pub fn parse(v: i32) -> Result<Self> {
        Self::from_int(v).ok_or_else(|| Error::arg(format!("unknown ticket policy {v}")))
    }
}

/// What a `tls_config` holds; edited by the setters.
#[derive(Clone)]
pub struct Settings {
    /// CA certificates in PEM (from a file or memory); `None` means the system store.
    pub ca_pem: Option<Vec<u8>>,
    /// A directory of CA certificates.
    pub ca_path: Option<PathBuf>,
    /// The certificate chain in PEM.
    pub cert_pem: Option<Vec<u8>>,
    /// The private key in PEM.
    pub key_pem: Option<Vec<u8>>,
    /// libtls protocol bits.
    pub protocols: u32,
    /// ALPN protocols in preference order.
    pub alpn: Vec<Vec<u8>>,
    /// Certificate, name and time checks.
    pub checks: verify::Checks,
    /// The outgoing buffer limit.
    pub buffer_limit: usize,
    /// A bare EOF fails `tls_read` instead of reading as 0.
    pub strict_eof: bool,
    /// Reads take what the transport has, not one record (`tls_config_set_read_ahead`).
    pub read_ahead: bool,
    /// The server's ticket policy.
    pub ticket_policy: TicketPolicy,
    /// Tickets a full handshake issues.
    pub num_tickets: usize,
    /// The most tickets a client's RFC 9149 request is granted (0: ignore requests).
    pub max_tickets: usize,
    /// Session lifetime in seconds (0: no tickets).
    pub session_lifetime: u32,
    /// Cipher suites in preference order (`tls_config_set_ciphers`); `None`: all of ring's.
    pub ciphers: Option<Vec<SupportedCipherSuite>>,
    /// Key exchange groups in preference order (`tls_config_set_ecdhecurves`); `None`:
    /// X25519MLKEM768, X25519, P-256, P-384 (`policy::kx_groups`).
    pub groups: Option<Vec<&'static dyn SupportedKxGroup>>,
    /// A server picks the suite by its own preference (libtls's default) or the client's.
    pub prefer_server_ciphers: bool,
    /// The most intermediate certificates a peer's chain may have.
    pub verify_depth: i32,
    /// The OCSP response stapled with the default keypair (DER).
    pub ocsp_staple: Option<Vec<u8>>,
    /// Further keypairs a server chooses from by SNI (`tls_config_add_keypair_*`).
    pub keypairs: Vec<sni::Keypair>,
    /// Whether a server asks for client certificates.
    pub client_auth: ClientAuth,
    /// CRLs in PEM (`tls_config_set_crl_*`).
    pub crl_pem: Option<Vec<u8>>,
    /// A server's session ID context (`tls_config_set_session_id`), zero-padded.
    pub session_id: [u8; tickets::SESSION_ID_SIZE],
    /// Where key log lines go (`tls_config_set_keylog_cb`); `None`: nowhere.
    pub keylog_sink: Option<keylog::Sink>,
    /// Append key log lines to `SSLKEYLOGFILE` (`tls_config_set_keylog_file_from_env`).
    pub keylog_from_env: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ca_pem: None,
            ca_path: None,
            cert_pem: None,
            key_pem: None,
            protocols: policy::PROTOCOLS_DEFAULT,
            alpn: Vec::new(),
            checks: verify::Checks { cert: true, name: true, time: true },
            buffer_limit: DEFAULT_BUFFER_LIMIT,
            strict_eof: false,
            read_ahead: false,
            ticket_policy: TicketPolicy::Deferred,
            num_tickets: 2,
            max_tickets: 0,
            session_lifetime: 7200,
            ciphers: None,
            groups: None,
            prefer_server_ciphers: true,
            verify_depth: DEFAULT_VERIFY_DEPTH,
            ocsp_staple: None,
            keypairs: Vec::new(),
            client_auth: ClientAuth::Off,
            crl_pem: None,
            session_id: [0; tickets::SESSION_ID_SIZE],
            keylog_sink: None,
            keylog_from_env: false,
        }
    }
}

/// The frozen form of one config generation for one role, shared by every context
/// configured from it.
pub struct Snapshot {
    /// The rustls client config, for client contexts.
    pub client: Option<Arc<ClientConfig>>,
    /// The rustls server config, for server contexts.
    pub server: Option<Arc<ServerConfig>>,
    /// The same server config issuing no tickets (a connection's `TLS_TICKETS_NONE`).
    pub server_no_tickets: Option<Arc<ServerConfig>>,
    /// The settings it was built from.
    pub settings: Settings,
}

/// A snapshot and the config generation it was built from.
type Cached = Option<(u64, Arc<Snapshot>)>;

struct State {
    settings: Settings,
    generation: u64,
    client: Cached,
    server: Cached,
    /// A setter's error that must make `tls_configure` fail (fail closed).
    sticky: Option<Error>,
}

/// A `tls_config`: settings plus the long-lived state every generation shares.
pub struct Config {
    state: Mutex<State>,
    last_error: Mutex<Option<(Error, std::ffi::CString)>>,
    caches: Mutex<Caches>,
    tickets: Arc<tickets::TicketKeys>,
}

/// The session caches every generation shares; `None` when the size is 0.
struct Caches {
    client: Option<Arc<ClientSessionMemoryCache>>,
    server: Option<Arc<ServerSessionMemoryCache>>,
}

impl Caches {
    fn new(size: usize) -> Self {
        if size == 0 {
            return Self { client: None, server: None };
        }
        Self {
            client: Some(Arc::new(ClientSessionMemoryCache::new(size))),
            server: Some(ServerSessionMemoryCache::new(size)),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new().expect("ticketer")
    }
}

impl Config {
    /// A config with libtls's defaults (and nbtls's: tickets on, lifetime 7200 s).
    pub fn new() -> Result<Self> {
        Ok(Self {
            state: Mutex::new(State {
                settings: Settings::default(),
                generation: 0,
                client: None,
                server: None,
                sticky: None,
            }),
            last_error: Mutex::new(None),
            caches: Mutex::new(Caches::new(DEFAULT_SESSION_CACHE_SIZE)),
            tickets: Arc::new(tickets::TicketKeys::new()?),
        })
    }

    /// `tls_config_add_ticket_key`: adds a ticket key shared by every generation (at once,
    /// also for contexts already configured); automatic rekeying is then off.
    pub fn add_ticket_key(&self, keyrev: u32, key: &[u8]) -> Result<()> {
        self.tickets.add(keyrev, key)
    }

    /// Replaces both session caches with empty ones of `size` entries (0: none); later
    /// generations use them.
    pub fn set_session_cache_size(&self, size: usize) -> Result<()> {
        *self.caches.lock().unwrap_or_else(|p| p.into_inner()) = Caches::new(size);
        self.edit(|_| Ok(()))
    }

    /// The ticket keys, for tests that move the clock.
    #[cfg(test)]
    pub fn tickets_for_tests(&self) -> &tickets::TicketKeys {
        &self.tickets
    }

    fn caches(
        &self,
    ) -> (Option<Arc<ClientSessionMemoryCache>>, Option<Arc<ServerSessionMemoryCache>>) {
        let c = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        (c.client.clone(), c.server.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a setter; any change starts a new generation.
    pub fn edit<T>(&self, f: impl FnOnce(&mut Settings) -> Result<T>) -> Result<T> {
        let mut st = self.lock();
        let r = f(&mut st.settings)?;
        st.generation += 1;
        Ok(r)
    }

    /// Records an error that makes the next `tls_configure` fail (for `void` setters).
    pub fn set_sticky(&self, err: Error) {
        self.lock().sticky = Some(err);
    }

    /// A copy of the current settings.
    pub fn settings(&self) -> Settings {
        self.lock().settings.clone()
    }

    /// Records the failure of a config call, for `tls_config_error()`.
    pub fn set_error(&self, err: Error) {
        let c = std::ffi::CString::new(err.msg.replace('\0', "?")).unwrap_or_default();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some((err, c));
    }

    /// The last failure of a config call: its code and its message as a C string pointer,
    /// valid until the next failure on this config.
    pub fn last_error(&self) -> Option<(Code, *const std::ffi::c_char)> {
        let slot = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|(e, c)| (e.code, c.as_ptr()))
    }

    /// The snapshot for a client context: built once per generation.
    pub fn client_snapshot(&self) -> Result<Arc<Snapshot>> {
        self.snapshot(
            |st| &mut st.client,
            |s| {
                Ok(Snapshot {
                    client: Some(Arc::new(self.build_client(s)?)),
                    server: None,
                    server_no_tickets: None,
                    settings: s.clone(),
                })
            },
        )
    }

    /// The snapshot for a server context: built once per generation.
    pub fn server_snapshot(&self) -> Result<Arc<Snapshot>> {
        self.snapshot(
            |st| &mut st.server,
            |s| {
                let server = self.build_server(s)?;
                let mut quiet = server.clone();
                quiet.send_tls13_tickets = 0;
                quiet.max_tls13_tickets = 0;
                Ok(Snapshot {
                    client: None,
                    server: Some(Arc::new(server)),
                    server_no_tickets: Some(Arc::new(quiet)),
                    settings: s.clone(),
                })
            },
        )
    }

    /// The snapshot cached in `slot` if it is of the current generation, else a new one from
    /// `build` (which then replaces it). A sticky setter error fails it.
    fn snapshot(
        &self,
        slot: fn(&mut State) -> &mut Cached,
        build: impl FnOnce(&Settings) -> Result<Snapshot>,
    ) -> Result<Arc<Snapshot>> {
        let mut st = self.lock();
        if let Some(e) = &st.sticky {
            return Err(e.clone());
        }
        let generation = st.generation;
        if let Some((g, s)) = slot(&mut st) {
            if *g == generation {
                return Ok(s.clone());
            }
        }
        let snap = Arc::new(build(&st.settings)?);
        *slot(&mut st) = Some((generation, snap.clone()));
        Ok(snap)
    }

    fn build_client(&self, s: &Settings) -> Result<ClientConfig> {
        let provider = provider(s);
        let versions = versions(s, &provider)?;
        let roots = if s.checks.cert { roots(s)? } else { RootCertStore::empty() };
        let verifier = verify::Verifier::new(roots, s.checks, provider.clone(), crls(s)?)?
            .with_depth(s.verify_depth.max(0) as usize);
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| Error::arg(format!("protocols: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let mut cfg = match (&s.cert_pem, &s.key_pem) {
            (Some(c), Some(k)) => builder
                .with_client_auth_cert(pem::certs(c, "certificate")?, pem::key(k)?)
                .map_err(|e| Error::arg(format!("client keypair: {e}")))?,
            _ => builder.with_no_client_auth(),
        };
        cfg.alpn_protocols = s.alpn.clone();
        if let Some(k) = keylog::KeyLogger::new(s.keylog_sink.clone(), s.keylog_from_env)? {
            cfg.key_log = k;
        }
        cfg.resumption = match self.caches().0 {
            Some(cache) => rustls::client::Resumption::store(cache),
            None => rustls::client::Resumption::disabled(),
        };
        Ok(cfg)
    }

    fn build_server(&self, s: &Settings) -> Result<ServerConfig> {
        let provider = provider(s);
        let versions = versions(s, &provider)?;
        let cert = s
            .cert_pem
            .clone()
            .ok_or_else(|| Error::arg("server certificate not set (tls_config_set_cert_file)"))?;
        let key = s
            .key_pem
            .clone()
            .ok_or_else(|| Error::arg("server private key not set (tls_config_set_key_file)"))?;
        let mut pairs =
            vec![sni::Keypair { cert_pem: cert, key_pem: key, ocsp: s.ocsp_staple.clone() }];
        pairs.extend(s.keypairs.iter().cloned());
        let resolver = sni::Resolver::new(&pairs, &provider)?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| Error::arg(format!("protocols: {e}")))?;
        // The client CAs and CRLs are loaded once, for the verifier and for the binding
        // that keeps sessions made under other client-certificate settings from resuming.
        // With noverifycert none are loaded (as libtls): any certificate is accepted.
        let client = match s.client_auth {
            ClientAuth::Off => None,
            ClientAuth::Required | ClientAuth::Optional if !s.checks.cert => {
                Some((RootCertStore::empty(), Vec::new()))
            }
            ClientAuth::Required | ClientAuth::Optional => Some((roots(s)?, crls(s)?)),
        };
        let binding = binding::digest(s, client.as_ref().map(|(r, c)| (r, &c[..])));
        let builder = match client {
            None => builder.with_no_client_auth(),
            Some((roots, crls)) => {
                builder.with_client_cert_verifier(Arc::new(verify::ClientVerifier::new(
                    roots,
                    provider,
                    crls,
                    s.client_auth == ClientAuth::Optional,
                    s.checks,
                    s.verify_depth.max(0) as usize,
                )?))
            }
        };
        let mut cfg = builder.with_cert_resolver(Arc::new(resolver));
        cfg.alpn_protocols = s.alpn.clone();
        cfg.ignore_client_order = s.prefer_server_ciphers;
        if let Some(k) = keylog::KeyLogger::new(s.keylog_sink.clone(), s.keylog_from_env)? {
            cfg.key_log = k;
        }
        let no_tickets =
            s.ticket_policy == TicketPolicy::None || s.num_tickets == 0 || s.session_lifetime == 0;
        cfg.send_tls13_tickets = if no_tickets { 0 } else { s.num_tickets };
        cfg.max_tls13_tickets = if no_tickets { 0 } else { s.max_tickets };
        if !no_tickets {
            cfg.ticketer =
                Arc::new(tickets::Ticketer::new(self.tickets.clone(), s.session_lifetime, binding));
        }
        cfg.session_storage = match self.caches().1 {
            Some(cache) if s.session_lifetime > 0 => {
                Arc::new(binding::BoundSessions::new(cache, binding))
            }
            _ => Arc::new(NoServerSessionStorage {}),
        };
        Ok(cfg)
    }
}

/// The ring provider narrowed to the configured suites and groups.
fn provider(s: &Settings) -> Arc<CryptoProvider> {
    let base = policy::provider();
    if s.ciphers.is_none() && s.groups.is_none() {
        return base;
    }
    let mut p = (*base).clone();
    if let Some(c) = &s.ciphers {
        p.cipher_suites = c.clone();
    }
    if let Some(g) = &s.groups {
        p.kx_groups = g.clone();
    }
    Arc::new(p)
}

/// The enabled versions that have at least one configured suite.
fn versions(
    s: &Settings,
    provider: &CryptoProvider,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>> {
    let v = policy::versions(s.protocols);
    if v.is_empty() {
        return Err(Error::unsupported(
            "no usable protocol version: nbtls supports TLS 1.2 and TLS 1.3 only",
        ));
    }
    let usable: Vec<_> = v
        .into_iter()
        .filter(|ver| provider.cipher_suites.iter().any(|c| c.version() == *ver))
        .collect();
    if usable.is_empty() {
        return Err(Error::unsupported(
            "no cipher suite selected by tls_config_set_ciphers is usable with the enabled protocols",
        ));
    }
    Ok(usable)
}

fn roots(s: &Settings) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let mut add = |pem_bytes: &[u8], what: &str| -> Result<()> {
        for c in pem::certs(pem_bytes, what)? {
            store
                .add(c)
                .map_err(|e| Error::arg(format!("{what}: unusable CA certificate: {e}")))?;
        }
        Ok(())
    };
    if let Some(pem_bytes) = &s.ca_pem {
        add(pem_bytes, "CA certificates")?;
    }
    if let Some(dir) = &s.ca_path {
        add_dir(dir, &mut add)?;
    }
    if s.ca_pem.is_none() && s.ca_path.is_none() {
        let bytes = pem::read_file(Path::new(DEFAULT_CA_FILE), "default CA")?;
        // The system bundle may hold certificates webpki cannot use; skip those.
        let certs = pem::certs(&bytes, "default CA")?;
        let _ = store.add_parsable_certificates(certs);
    }
    if store.is_empty() {
        return Err(Error::arg("no usable CA certificate"));
    }
    Ok(store)
}

fn add_dir(dir: &Path, add: &mut dyn FnMut(&[u8], &str) -> Result<()>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        let mut err = Error::io(&format!("failed to read CA directory '{}'", dir.display()), &e);
        err.code = Code::InvalidArgument;
        err
    })?;
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_file() {
            if let Ok(bytes) = std::fs::read(&p) {
                // Files without certificates (hash links to non-PEM, READMEs) are skipped.
                if pem::certs(&bytes, "CA").is_ok() {
                    add(&bytes, &format!("CA file '{}'", p.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// The CRLs of `tls_config_set_crl_*`.
fn crls(s: &Settings) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    let Some(pem_bytes) = &s.crl_pem else { return Ok(Vec::new()) };
    parse_crls(pem_bytes)
}

/// Parses every CRL in a PEM buffer; at least one is required.
pub fn parse_crls(pem_bytes: &[u8]) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    let v: std::result::Result<Vec<_>, _> =
        CertificateRevocationListDer::pem_slice_iter(pem_bytes).collect();
    match v {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(Error::arg("CRL: no PEM X509 CRL found")),
        Err(e) => Err(Error::arg(format!("CRL: invalid PEM: {e}"))),
    }
}
