//! The mutable settings that `tls_config_*` edits, and their frozen form.
//!
//! A [`Config`] is shared (`Arc`) and thread-safe. Every setter bumps a generation; the first
//! `tls_configure` of a generation builds the rustls config for its role once, and every
//! context configured from the same generation shares it (and so the session cache).
pub mod pem;
pub mod suites;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::client::ClientSessionMemoryCache;
use rustls::server::{ProducesTickets, ServerSessionMemoryCache};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};

use crate::error::{Code, Error, Result};
use crate::policy;

/// The default outgoing buffer limit per direction.
pub const DEFAULT_BUFFER_LIMIT: usize = 64 * 1024;
/// The system CA bundle, as `tls_default_ca_cert_file()` reports it.
pub const DEFAULT_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// libtls's default verification depth.
pub const DEFAULT_VERIFY_DEPTH: i32 = 6;

/// When a TLS 1.3 server's NewSessionTickets leave (DESIGN.md "Ticket policy").
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
    /// X25519, P-256, P-384.
    pub groups: Option<Vec<&'static dyn SupportedKxGroup>>,
    /// A server picks the suite by its own preference (libtls's default) or the client's.
    pub prefer_server_ciphers: bool,
    /// The most intermediate certificates a server's chain may have.
    pub verify_depth: i32,
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
            ticket_policy: TicketPolicy::Deferred,
            num_tickets: 2,
            max_tickets: 0,
            session_lifetime: 7200,
            ciphers: None,
            groups: None,
            prefer_server_ciphers: true,
            verify_depth: DEFAULT_VERIFY_DEPTH,
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

struct State {
    settings: Settings,
    generation: u64,
    client: Option<(u64, Arc<Snapshot>)>,
    server: Option<(u64, Arc<Snapshot>)>,
    /// A setter's error that must make `tls_configure` fail (fail closed).
    sticky: Option<Error>,
}

/// A `tls_config`: settings plus the long-lived state every generation shares.
pub struct Config {
    state: Mutex<State>,
    last_error: Mutex<Option<(Error, std::ffi::CString)>>,
    client_cache: Arc<ClientSessionMemoryCache>,
    server_cache: Arc<ServerSessionMemoryCache>,
    ticketer: Arc<dyn ProducesTickets>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new().expect("ticketer")
    }
}

impl Config {
    /// A config with libtls's defaults (and nbtls's: tickets on, lifetime 7200 s).
    pub fn new() -> Result<Self> {
        let ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| Error::new(Code::Unknown, format!("ticket key generation failed: {e}")))?;
        Ok(Self {
            state: Mutex::new(State {
                settings: Settings::default(),
                generation: 0,
                client: None,
                server: None,
                sticky: None,
            }),
            last_error: Mutex::new(None),
            client_cache: Arc::new(ClientSessionMemoryCache::new(256)),
            server_cache: ServerSessionMemoryCache::new(1024),
            ticketer,
        })
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
        let mut st = self.lock();
        if let Some(e) = &st.sticky {
            return Err(e.clone());
        }
        if let Some((g, s)) = &st.client {
            if *g == st.generation {
                return Ok(s.clone());
            }
        }
        let snap = Arc::new(Snapshot {
            client: Some(Arc::new(self.build_client(&st.settings)?)),
            server: None,
            server_no_tickets: None,
            settings: st.settings.clone(),
        });
        st.client = Some((st.generation, snap.clone()));
        Ok(snap)
    }

    /// The snapshot for a server context: built once per generation.
    pub fn server_snapshot(&self) -> Result<Arc<Snapshot>> {
        let mut st = self.lock();
        if let Some(e) = &st.sticky {
            return Err(e.clone());
        }
        if let Some((g, s)) = &st.server {
            if *g == st.generation {
                return Ok(s.clone());
            }
        }
        let server = self.build_server(&st.settings)?;
        let mut quiet = server.clone();
        quiet.send_tls13_tickets = 0;
        quiet.max_tls13_tickets = 0;
        let snap = Arc::new(Snapshot {
            client: None,
            server: Some(Arc::new(server)),
            server_no_tickets: Some(Arc::new(quiet)),
            settings: st.settings.clone(),
        });
        st.server = Some((st.generation, snap.clone()));
        Ok(snap)
    }

    fn build_client(&self, s: &Settings) -> Result<ClientConfig> {
        let provider = provider(s);
        let versions = versions(s, &provider)?;
        let roots = if s.checks.cert { roots(s)? } else { RootCertStore::empty() };
        let verifier = verify::Verifier::new(roots, s.checks, provider.clone())?
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
        cfg.resumption = rustls::client::Resumption::store(self.client_cache.clone());
        Ok(cfg)
    }

    fn build_server(&self, s: &Settings) -> Result<ServerConfig> {
        let provider = provider(s);
        let versions = versions(s, &provider)?;
        let cert = s
            .cert_pem
            .as_deref()
            .ok_or_else(|| Error::arg("server certificate not set (tls_config_set_cert_file)"))?;
        let key = s
            .key_pem
            .as_deref()
            .ok_or_else(|| Error::arg("server private key not set (tls_config_set_key_file)"))?;
        let mut cfg = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| Error::arg(format!("protocols: {e}")))?
            .with_no_client_auth()
            .with_single_cert(pem::certs(cert, "certificate")?, pem::key(key)?)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    Error::arg("private key does not match the certificate")
                }
                other => Error::arg(format!("server keypair: {other}")),
            })?;
        cfg.alpn_protocols = s.alpn.clone();
        cfg.ignore_client_order = s.prefer_server_ciphers;
        let no_tickets =
            s.ticket_policy == TicketPolicy::None || s.num_tickets == 0 || s.session_lifetime == 0;
        cfg.send_tls13_tickets = if no_tickets { 0 } else { s.num_tickets };
        cfg.max_tls13_tickets = if no_tickets { 0 } else { s.max_tickets };
        if !no_tickets {
            cfg.ticketer = Arc::new(Lifetime { inner: self.ticketer.clone(), seconds: s.session_lifetime });
        }
        cfg.session_storage = self.server_cache.clone();
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
            store.add(c).map_err(|e| Error::arg(format!("{what}: unusable CA certificate: {e}")))?;
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

/// The config's ticket keys with the session lifetime of one generation.
#[derive(Debug)]
struct Lifetime {
    inner: Arc<dyn ProducesTickets>,
    seconds: u32,
}

impl ProducesTickets for Lifetime {
    fn enabled(&self) -> bool {
        self.inner.enabled()
    }
    fn lifetime(&self) -> u32 {
        self.seconds
    }
    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.inner.encrypt(plain)
    }
    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.inner.decrypt(cipher)
    }
}
