//! The rules of a context's life: which calls a client, a server listener and an accepted
//! connection may make, and when; and [`Context`], a context without its C face: the
//! snapshot it was configured with, its connection and the socket nbtls made for it. The C
//! layer (`ffi/ctx.rs`) wraps a `Context` with its error slot and C strings, and only
//! reports the answers.
use std::sync::{Arc, Mutex};

use once_cell::sync::Lazy;

use crate::config::{Config, Snapshot, TicketPolicy};
use crate::conn::transport::Io;
use crate::conn::Conn;
use crate::error::{Error, Result};

/// libtls's default config, used by `tls_configure(ctx, NULL)` and unconfigured clients.
pub static DEFAULT_CONFIG: Lazy<Arc<Config>> = Lazy::new(|| Arc::new(Config::default()));

/// What a context is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Made by `tls_client()`.
    Client,
    /// Made by `tls_server()`: a listener.
    Server,
    /// Made by `tls_accept_*()`.
    Accepted,
}

/// Which side of a config a context takes when it is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The client snapshot.
    Client,
    /// The server snapshot.
    Server,
}

impl Kind {
    /// Whether this context may be configured now (`connected`: it has a connection).
    ///
    /// Returns the side of the config it takes, or WRONG_STATE for an accepted connection
    /// and for a client that has already connected.
    pub fn configure(self, connected: bool) -> Result<Side> {
        match self {
            Kind::Accepted => Err(Error::state("cannot configure an accepted connection")),
            Kind::Client if connected => {
                Err(Error::state("cannot configure a client after it has connected"))
            }
            Kind::Client => Ok(Side::Client),
            Kind::Server => Ok(Side::Server),
        }
    }

    /// Whether this context may start a client connection.
    ///
    /// Returns WRONG_STATE unless it is a client that is not connected yet.
    pub fn connect(self, connected: bool) -> Result<()> {
        if self != Kind::Client {
            return Err(Error::state("not a client context"));
        }
        if connected {
            return Err(Error::state("context is already connected (tls_reset it first)"));
        }
        Ok(())
    }

    /// Whether this context may accept connections.
    ///
    /// Returns WRONG_STATE unless it is a server listener.
    pub fn accept(self) -> Result<()> {
        if self != Kind::Server {
            return Err(Error::state("not a server context"));
        }
        Ok(())
    }

    /// Whether this context may take a ticket policy of its own.
    ///
    /// Returns WRONG_STATE unless it is an accepted connection.
    pub fn ticket_policy(self) -> Result<()> {
        if self != Kind::Accepted {
            return Err(Error::state("a ticket policy is set on an accepted connection"));
        }
        Ok(())
    }

    /// The error of an I/O call on this context while it has no connection.
    pub fn not_connected(self) -> Error {
        Error::state(match self {
            Kind::Server => "a server listener does no I/O: use tls_accept_* first",
            _ => "context is not connected",
        })
    }
}

/// One context (client, server listener or accepted connection): its kind, the snapshot
/// it was configured with, its connection once it has one, and the socket `tls_connect`
/// made for it (closed when the context is reset, closed or dropped).
pub struct Context {
    kind: Kind,
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    conn: Option<Conn>,
    /// The socket `tls_connect` made, or -1 (4 bytes beside `kind`, not an 8-byte Option).
    owned_fd: i32,
}

impl Context {
    /// A new context of `kind`, unconfigured.
    pub fn new(kind: Kind) -> Self {
        Self { kind, snapshot: Mutex::new(None), conn: None, owned_fd: -1 }
    }

    /// What this context is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// `tls_configure`: takes the snapshot of `cfg` (`None`: the default config) for this
    /// context's role.
    pub fn configure(&self, cfg: Option<&Config>) -> Result<()> {
        let cfg = cfg.unwrap_or(&DEFAULT_CONFIG);
        let snap = match self.kind.configure(self.conn.is_some())? {
            Side::Client => cfg.client_snapshot()?,
            Side::Server => cfg.server_snapshot()?,
        };
        self.set_snapshot(Some(snap));
        Ok(())
    }

    fn current_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Swaps the snapshot whole (an accept racing it gets the old or the new one).
    fn set_snapshot(&self, snap: Option<Arc<Snapshot>>) {
        *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) = snap;
    }

    /// `tls_reset`: back to an unconfigured context of the same kind.
    pub fn reset(&mut self) {
        self.conn = None;
        self.set_snapshot(None);
        self.close_owned_fd();
    }

    /// Closes the socket nbtls created, if any (after `tls_close` finished, and on reset).
    pub fn close_owned_fd(&mut self) {
        let fd = std::mem::replace(&mut self.owned_fd, -1);
        if fd >= 0 {
            crate::sys::fd::close_fd(fd);
        }
    }

    /// Starts a client connection over `io` (the handshake runs on the first I/O call); an
    /// unconfigured client takes the default config.
    pub fn connect(&mut self, io: impl Into<Io>, servername: Option<&str>) -> Result<()> {
        self.kind.connect(self.conn.is_some())?;
        let snap = match self.current_snapshot() {
            Some(s) => s,
            None => {
                let s = DEFAULT_CONFIG.client_snapshot()?;
                self.set_snapshot(Some(s.clone()));
                s
            }
        };
        check_servername(servername, snap.settings.checks.name)?;
        let client =
            snap.client.clone().ok_or_else(|| Error::state("context is not configured"))?;
        self.conn = Some(Conn::client(client, servername, io, &snap.settings)?);
        Ok(())
    }

    /// Starts a client connection over `io` on the socket `fd` nbtls created itself: the
    /// context owns it from then on, and it is closed at once if the connection cannot start.
    pub fn connect_owned_fd(&mut self, fd: i32, io: impl Into<Io>, servername: &str) -> Result<()> {
        match self.connect(io, Some(servername)) {
            Ok(()) => {
                self.owned_fd = fd;
                Ok(())
            }
            Err(e) => {
                crate::sys::fd::close_fd(fd);
                Err(e)
            }
        }
    }

    /// Accepts a connection over `io` on this listener: a new accepted context sharing the
    /// listener's current snapshot.
    pub fn accept(&self, io: impl Into<Io>) -> Result<Context> {
        self.kind.accept()?;
        let snap = self
            .current_snapshot()
            .ok_or_else(|| Error::state("server context is not configured (tls_configure)"))?;
        let server =
            snap.server.clone().ok_or_else(|| Error::state("context is not configured"))?;
        let conn = Conn::server(server, io, &snap.settings)?;
        Ok(Context {
            kind: Kind::Accepted,
            snapshot: Mutex::new(Some(snap)),
            conn: Some(conn),
            owned_fd: -1,
        })
    }

    /// Replaces the transport of a connection not yet used (accept over callbacks).
    pub fn set_transport(&mut self, io: impl Into<Io>) {
        if let Some(c) = self.conn.as_mut() {
            c.set_transport(io);
        }
    }

    /// `tls_set_ticket_policy` on an accepted connection: `policy` is a TLS_TICKETS_* value.
    pub fn set_ticket_policy(&mut self, policy: i32) -> Result<()> {
        let policy = TicketPolicy::parse(policy)?;
        self.kind.ticket_policy()?;
        let quiet = self.current_snapshot().and_then(|s| s.server_no_tickets.clone());
        let conn = self.conn.as_mut().ok_or_else(|| Error::state("context is not connected"))?;
        conn.set_policy(policy, quiet)
    }

    /// The connection, once there is one.
    pub fn conn(&self) -> Option<&Conn> {
        self.conn.as_ref()
    }

    /// The connection, mutably.
    pub fn conn_mut(&mut self) -> Option<&mut Conn> {
        self.conn.as_mut()
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        self.close_owned_fd();
    }
}

/// Whether a client may connect with `servername` when names are checked (`check_name`):
/// as in libtls, a missing name needs noverifyname (noverifycert alone still checks names).
///
/// Returns INVALID_ARGUMENT ("server name not specified") for a missing name that would be
/// checked.
pub fn check_servername(servername: Option<&str>, check_name: bool) -> Result<()> {
    if servername.is_none() && check_name {
        return Err(Error::arg("server name not specified"));
    }
    Ok(())
}

/// Where `tls_connect` goes and which name it verifies.
#[derive(Debug, PartialEq, Eq)]
pub struct TcpTarget<'a> {
    /// The host to resolve.
    pub host: &'a str,
    /// The port: a number or a service name.
    pub port: &'a str,
}

impl<'a> TcpTarget<'a> {
    /// The target of `tls_connect(host, port)`: with no `port`, `host` is libtls's
    /// "host:port" or "[v6]:port".
    ///
    /// Returns INVALID_ARGUMENT when there is no port and `host` is not of that form.
    pub fn new(host: &'a str, port: Option<&'a str>) -> Result<Self> {
        let (host, port) = match port {
            Some(p) => (host, p),
            None => split_host_port(host).ok_or_else(|| {
                Error::arg(format!("no port given and '{host}' is not host:port"))
            })?,
        };
        Ok(Self { host, port })
    }

    /// The server name to send and verify: `servername` when given, else the host.
    pub fn servername(&self, servername: Option<&'a str>) -> &'a str {
        servername.unwrap_or(self.host)
    }
}

/// Splits libtls's "host:port" / "[v6]:port" form used when `port` is NULL.
fn split_host_port(host: &str) -> Option<(&str, &str)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        return Some((h, p));
    }
    let (h, p) = host.rsplit_once(':')?;
    (!h.contains(':')).then_some((h, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn each_kind_makes_only_its_own_calls() {
        assert_eq!(Kind::Client.configure(false).unwrap(), Side::Client);
        assert_eq!(Kind::Server.configure(true).unwrap(), Side::Server);
        assert_eq!(Kind::Client.configure(true).unwrap_err().code, Code::WrongState);
        assert_eq!(Kind::Accepted.configure(false).unwrap_err().code, Code::WrongState);
        assert!(Kind::Client.connect(false).is_ok());
        assert_eq!(Kind::Client.connect(true).unwrap_err().code, Code::WrongState);
        assert_eq!(Kind::Server.connect(false).unwrap_err().code, Code::WrongState);
        assert!(Kind::Server.accept().is_ok());
        assert_eq!(Kind::Client.accept().unwrap_err().code, Code::WrongState);
        assert!(Kind::Accepted.ticket_policy().is_ok());
        assert_eq!(Kind::Server.ticket_policy().unwrap_err().code, Code::WrongState);
        assert!(Kind::Server.not_connected().msg.contains("listener"));
        assert_eq!(check_servername(None, true).unwrap_err().code, Code::InvalidArgument);
        assert!(check_servername(None, false).is_ok());
    }

    #[test]
    fn tcp_targets_follow_libtls() {
        let t = |h, p| TcpTarget::new(h, p).map(|t| (t.host, t.port));
        assert_eq!(t("example.org", Some("443")).unwrap(), ("example.org", "443"));
        assert_eq!(t("example.org:443", None).unwrap(), ("example.org", "443"));
        assert_eq!(t("[::1]:8443", None).unwrap(), ("::1", "8443"));
        assert_eq!(t("::1", None).unwrap_err().code, Code::InvalidArgument);
        assert_eq!(t("example.org", None).unwrap_err().code, Code::InvalidArgument);
        let target = TcpTarget::new("a.example:1", None).unwrap();
        assert_eq!(target.servername(None), "a.example");
        assert_eq!(target.servername(Some("b.example")), "b.example");
    }
}
