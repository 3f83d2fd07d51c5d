//! The safe nonblocking engine: one [`Conn`] per TLS connection, over rustls's buffered API.
//!
//! Every operation returns `Ok` on success or a [`Stop`]: a WANT (the transport would block;
//! call again when it is ready) or a failure. WANT is derived in [`want::derive`] only.
mod accept;
mod handshake;
pub mod hello;
mod hostnames;
mod memory;
pub mod peer;
mod read;
pub mod records;
pub mod schedule;
pub mod state;
mod status;
pub mod transport;
pub mod want;
mod write;

use std::borrow::Cow;
use std::io::{self, Read as _, Write as _};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, Connection, ProtocolVersion, ServerConfig, ServerConnection,
};

use crate::config::{Settings, TicketPolicy};
use crate::error::{Code, Error};
use accept::Pending;
use read::Ahead;
use records::Framer;
use schedule::Schedule;
use state::{Op, Phase};
use transport::{Io, Output};
pub use want::Want;

/// Why an operation did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The transport would block: call again once it is ready.
    Want(Want),
    /// The operation failed.
    Fail(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Fail(e)
    }
}

/// The result of an engine operation.
pub type Step<T> = std::result::Result<T, Stop>;

/// How the stream ended, as far as the reader has seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eof {
    /// Not ended.
    Open,
    /// The peer sent close_notify.
    CloseNotify,
    /// The transport ended without close_notify.
    Truncated,
}

/// What the handshake negotiated, for the `tls_conn_*` accessors: read from rustls when
/// asked (it keeps all of it), so a connection stores none of it twice.
#[derive(Clone, Debug, Default)]
pub struct Info<'a> {
    /// "TLSv1.2" or "TLSv1.3".
    pub version: &'static str,
    /// The suite's OpenSSL name.
    pub cipher: &'static str,
    /// The suite's symmetric key length in bits.
    pub cipher_bits: i32,
    /// The ALPN protocol selected, if any.
    pub alpn: Option<&'a [u8]>,
    /// The server name: the client's SNI as it sent it, case kept (server), or the name
    /// connected to (client).
    pub servername: Option<&'a str>,
    /// Whether this connection resumed an earlier session.
    pub resumed: bool,
    /// The key exchange group's name; `None` on a TLS 1.2 resumption (no key exchange).
    pub group: Option<&'static str>,
}

/// Which bytes to flush.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Only bytes that are due: the held tail stays.
    Due,
    /// Everything queued.
    All,
}

/// Where ciphertext comes from: the transport, or bytes handed to `feed`.
enum Source<'a, 'b> {
    Transport,
    Bytes(&'a mut &'b [u8]),
}

enum Got {
    Data,
    Eof,
    Blocked,
}

/// One TLS connection over one transport.
pub struct Conn {
    tls: Connection,
    io: Io,
    sched: Schedule,
    phase: Phase,
    /// Plaintext bytes of an unfinished `write`, already encrypted into the queue.
    taken: usize,
    eof: Eof,
    strict_eof: bool,
    close_notify_queued: bool,
    /// The failure that ended the connection (boxed: most connections never fail).
    failure: Option<Box<Error>>,
    /// Whether the handshake completed (what it negotiated is then [`Conn::info`]).
    handshake_done: bool,
    /// The name connected to (client), or the client's SNI as it sent it when that differs
    /// from rustls's lowercased copy (server).
    servername: Option<Cow<'static, str>>,
    /// Whether any I/O call has run (a connection's NONE policy must come before).
    started: bool,
    /// A fatal alert sent before any rustls connection existed (memory transport: handed out
    /// by `drain`).
    early_alert: Option<Box<[u8]>>,
    /// An answer the peer waits for (a no_renegotiation warning) did not leave at once: it
    /// goes first with the next call, `tls_read` included.
    reply_due: bool,
    /// A server before its ClientHello: rustls's Acceptor, and the config to continue with.
    pending: Option<Box<Pending>>,
    /// The peer's certificate, described once (see peer.rs).
    peer: peer::Cache,
    /// Where reading stands in the record stream (fd and callback transports).
    framer: Framer,
    /// The handshake ended on our own write: push the first write after it (see `write`).
    push_next_write: bool,
    /// `tls_config_set_read_ahead`: read what the transport has, not one record.
    read_ahead: bool,
    /// rustls may hold plaintext (or the end of the stream) not yet read: false only after
    /// its reader said it would block and before any new input was processed, so a read
    /// then goes straight to the transport.
    unread: bool,
    /// Ciphertext read ahead and not yet handed to rustls (read-ahead only; freed when
    /// empty, so an idle connection holds nothing).
    ahead: Option<Box<Ahead>>,
}

impl Conn {
    /// A client connection to `name` (the SNI and verification name; `None` sends no SNI).
    pub fn client(
        config: Arc<ClientConfig>,
        name: Option<&str>,
        io: impl Into<Io>,
        settings: &Settings,
    ) -> Result<Self, Error> {
        let (server_name, kept) = match name {
            Some(n) => {
                let checked = ServerName::try_from(n)
                    .map_err(|_| Error::arg(format!("invalid server name '{n}'")))?;
                // A name kept for the process costs this connection and rustls no copy.
                match hostnames::shared(n) {
                    Some(s) => (
                        ServerName::try_from(s).unwrap_or_else(|_| checked.to_owned()),
                        Some(Cow::Borrowed(s)),
                    ),
                    None => (checked.to_owned(), Some(Cow::Owned(n.to_owned()))),
                }
            }
            // No name to check (noverifyname): an address sends no SNI.
            None => (ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()), None),
        };
        let tls = ClientConnection::new(config, server_name).map_err(|e| Error::tls(&e))?;
        let mut conn = Self::new(Connection::Client(tls), io, settings, TicketPolicy::Deferred);
        conn.servername = kept;
        Ok(conn)
    }

    /// A server connection. Until the ClientHello is read it is an Acceptor; `self.tls` is a
    /// placeholder then (handshaking, nothing queued).
    pub fn server(
        config: Arc<ServerConfig>,
        io: impl Into<Io>,
        settings: &Settings,
    ) -> Result<Self, Error> {
        let tls = ServerConnection::new(config.clone()).map_err(|e| Error::tls(&e))?;
        let mut conn = Self::new(Connection::Server(tls), io, settings, settings.ticket_policy);
        let tls13 = settings.protocols & crate::policy::PROTO_TLS1_3 != 0;
        conn.pending = Some(Box::new(Pending {
            acceptor: rustls::server::Acceptor::default(),
            config,
            hello: hello::HelloName::new(),
            tls13,
            buffer_limit: settings.buffer_limit,
        }));
        Ok(conn)
    }

    fn new(
        mut tls: Connection,
        io: impl Into<Io>,
        settings: &Settings,
        policy: TicketPolicy,
    ) -> Self {
        tls.set_buffer_limit(Some(settings.buffer_limit));
        Self {
            tls,
            io: io.into(),
            sched: Schedule::new(policy),
            phase: Phase::Handshaking,
            taken: 0,
            eof: Eof::Open,
            strict_eof: settings.strict_eof,
            close_notify_queued: false,
            failure: None,
            handshake_done: false,
            servername: None,
            started: false,
            reply_due: false,
            early_alert: None,
            pending: None,
            peer: peer::Cache::default(),
            framer: Framer::default(),
            push_next_write: false,
            read_ahead: settings.read_ahead,
            unread: true,
            ahead: None,
        }
    }

    /// Replaces the transport (before any I/O).
    pub fn set_transport(&mut self, io: impl Into<Io>) {
        self.io = io.into();
    }

    // ----- the operations -----

    /// Drives the handshake. `Ok` once it is complete; a failure, leaving the connection
    /// usable, when it already was (libtls's "handshake already completed").
    pub fn handshake(&mut self) -> Step<()> {
        if self.enter(Op::Handshake)? {
            return Ok(());
        }
        self.drive_handshake()
    }

    /// Reads plaintext into `buf`: bytes > 0, or 0 at the end of the stream (see [`Conn::eof`]).
    pub fn read(&mut self, buf: &mut [u8]) -> Step<usize> {
        self.enter(Op::Read)?;
        if buf.is_empty() {
            return Ok(0);
        }
        self.drive_handshake()?;
        if self.reply_due && !self.io.is_memory() {
            self.flush_queue(Scope::Due)?;
            self.reply_due = false;
        }
        loop {
            // Nothing processed since rustls's reader last had nothing: straight to the
            // transport.
            if self.unread {
                match self.tls.reader().read(buf) {
                    Ok(n) if n > 0 => {
                        self.opportunistic();
                        return Ok(n);
                    }
                    Ok(_) => {
                        self.eof = Eof::CloseNotify;
                        return Ok(0);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.unread = false,
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        self.eof = Eof::Truncated;
                        if self.strict_eof {
                            return Err(Stop::Fail(truncated()));
                        }
                        return Ok(0);
                    }
                    Err(e) => return Err(self.fail(Error::io("read", &e))),
                }
            }
            match self.read_and_process()? {
                Got::Blocked => {
                    self.opportunistic();
                    return Err(Stop::Want(want::blocked(false)));
                }
                Got::Data | Got::Eof => {}
            }
        }
    }

    /// Writes `buf`: returns the count once the ciphertext carrying it is handed to the
    /// transport in full. An empty `buf` flushes.
    pub fn write(&mut self, buf: &[u8]) -> Step<usize> {
        self.enter(Op::Write)?;
        if buf.is_empty() {
            return self.flush().map(|()| 0);
        }
        self.drive_handshake()?;
        self.sched.release();
        if self.taken > 0 {
            if buf.len() < self.taken {
                return Err(Stop::Fail(Error::arg(format!(
                    "tls_write retried with {} bytes, fewer than the {} it already took; \
                     retry with the same data",
                    buf.len(),
                    self.taken
                ))));
            }
            self.flush_queue(Scope::All)?;
            if std::mem::take(&mut self.push_next_write) {
                self.io.push();
            }
            return Ok(std::mem::take(&mut self.taken));
        }
        let mut n = self.tls.writer().write(buf).map_err(|e| self.fail(Error::io("write", &e)))?;
        if n == 0 {
            // The queue is full (held tickets count against the limit): send, then retry.
            self.flush_queue(Scope::All)?;
            n = self.tls.writer().write(buf).map_err(|e| self.fail(Error::io("write", &e)))?;
            if n == 0 {
                return Err(self.fail(Error::new(Code::Internal, "rustls accepted no bytes")));
            }
        }
        if self.io.is_memory() {
            // Made due for tls_drain: that is "handed to the transport" here.
            return Ok(n);
        }
        self.taken = n;
        self.flush_queue(Scope::All)?;
        self.taken = 0;
        if std::mem::take(&mut self.push_next_write) {
            self.io.push();
        }
        Ok(n)
    }

    /// Sends every queued byte, held ones included, and any parked KeyUpdate answer.
    pub fn flush(&mut self) -> Step<()> {
        if self.enter(Op::Flush)? {
            return Ok(());
        }
        self.sched.release();
        if self.phase == Phase::Open {
            // rustls parks a KeyUpdate answer until the next record: an empty write emits it.
            let _ = self.tls.writer().write(&[]);
        }
        self.flush_queue(Scope::All)
    }

    /// Queues a KeyUpdate (which also asks the peer to update); it leaves with the next
    /// write-side call.
    pub fn key_update(&mut self) -> Step<()> {
        self.enter(Op::KeyUpdate)?;
        if self.phase != Phase::Open {
            return Err(Stop::Fail(Error::state("the handshake is not complete")));
        }
        if self.tls.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
            return Err(Stop::Fail(Error::unsupported("KeyUpdate needs TLS 1.3")));
        }
        let before = self.queued();
        self.tls.refresh_traffic_keys().map_err(|e| Stop::Fail(Error::tls(&e)))?;
        // It leaves with the next write-side call, as held tickets do; held bytes stay the
        // tail of the send queue (schedule.rs), so it joins them rather than going ahead.
        let after = self.queued();
        self.sched.hold(after.saturating_sub(before));
        Ok(())
    }

    /// Closes: sends held bytes, then close_notify. `Ok` again when called twice.
    pub fn close(&mut self) -> Step<()> {
        if self.enter(Op::Close)? {
            // Closed already: the same answer as the first time.
            return match self.eof {
                Eof::Truncated => Err(Stop::Fail(truncated_close())),
                _ => Ok(()),
            };
        }
        if self.phase == Phase::Handshaking {
            self.phase = Phase::Closed;
            return Ok(());
        }
        if !self.close_notify_queued {
            self.discard_arrived();
            self.sched.release();
            self.tls.send_close_notify();
            self.close_notify_queued = true;
            self.phase = Phase::Closing;
        }
        match self.flush_queue(Scope::All) {
            Ok(()) => {}
            Err(Stop::Fail(e)) if peer_gone(&e) => {
                // A peer that has gone needs no close_notify: not a failure of close.
                self.failure = None;
            }
            Err(Stop::Fail(e)) => {
                self.phase = Phase::Closed;
                return Err(Stop::Fail(e));
            }
            Err(want) => return Err(want),
        }
        self.phase = Phase::Closed;
        if self.eof == Eof::Truncated {
            return Err(Stop::Fail(truncated_close()));
        }
        Ok(())
    }

    // ----- internals -----

    /// Checks the transition table; `Ok(true)` means the call has nothing to do.
    #[inline]
    fn enter(&mut self, op: Op) -> Step<bool> {
        self.started = true;
        if let Some(f) = &self.failure {
            return Err(Stop::Fail(Error::clone(f)));
        }
        Ok(state::check(self.phase, op)?)
    }

    /// A reset-free close, on servers as on clients: reads and discards, without blocking,
    /// records that have already arrived (tickets; a client's close_notify or next request
    /// behind the one read), so closing does not turn them into a TCP reset.
    /// Unlike `ingest`, a protocol error here is ignored rather than failing the connection:
    /// the application is closing and close_notify should still go.
    fn discard_arrived(&mut self) {
        if self.eof != Eof::Open || self.pending.is_some() {
            return;
        }
        let mut scratch = [0u8; 4096];
        // A header and a body per record: up to 128 records.
        for _ in 0..256 {
            let before = self.queued();
            match self.read_record(true) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let closed = match self.tls.process_new_packets() {
                Ok(st) => {
                    let added = st.tls_bytes_to_write().saturating_sub(before);
                    self.sched.hold(added);
                    st.peer_has_closed()
                }
                Err(_) => return,
            };
            while matches!(self.tls.reader().read(&mut scratch), Ok(n) if n > 0) {}
            if closed {
                // Nothing may follow the peer's close_notify: no read to find that out.
                return;
            }
        }
    }

    /// A protocol failure: one non-blocking attempt to send the alert rustls queued, then
    /// the connection is failed (never WANT).
    fn fatal(&mut self, err: Error) -> Stop {
        // Everything queued goes (a TLS 1.3 client's CCS may sit before the alert), as long as
        // the transport takes it without blocking.
        for _ in 0..64 {
            if !self.tls.wants_write() {
                break;
            }
            let mut out = Output { io: &mut *self.io, limit: usize::MAX, now: true };
            if !matches!(self.tls.write_tls(&mut out), Ok(n) if n > 0) {
                break;
            }
        }
        self.fail(err)
    }

    fn fail(&mut self, err: Error) -> Stop {
        self.phase = Phase::Failed;
        self.failure = Some(Box::new(err.clone()));
        Stop::Fail(err)
    }

    fn io_state(&mut self) -> Option<rustls::IoState> {
        if self.failure.is_some() {
            return None;
        }
        self.tls.process_new_packets().ok()
    }

    /// Bytes in rustls's send queue. No input is pending when this runs (every read is
    /// processed at once), so asking rustls for its state processes nothing new.
    fn queued(&mut self) -> usize {
        if !self.tls.wants_write() {
            return 0;
        }
        self.io_state().map(|s| s.tls_bytes_to_write()).unwrap_or(0)
    }
}

fn would_block(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

fn peer_gone(e: &Error) -> bool {
    matches!(e.errno, libc::EPIPE | libc::ECONNRESET | libc::ENOTCONN)
}

fn truncated_close() -> Error {
    Error::new(Code::Truncated, "EOF without close_notify")
}

fn truncated() -> Error {
    Error::new(Code::Truncated, "EOF without close_notify")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_calls;
#[cfg(test)]
mod tests_conformance;
#[cfg(test)]
mod tests_pq;
#[cfg(test)]
mod tests_sessions;
