//! What a connection tells the accessors and the event-loop helpers: how the stream ended,
//! what was negotiated, the ticket policy, and what is pending in each direction.
use std::sync::Arc;

use rustls::{Connection, ServerConfig};

use super::{truncated, want, Conn, Eof, Info, Step};
use crate::config::TicketPolicy;
use crate::conn::state::Phase;
use crate::error::Error;

impl Conn {
    /// How the stream ended so far.
    pub fn eof(&self) -> Eof {
        self.eof
    }

    /// The error a 0 from `read` leaves behind: TRUNCATED after a bare EOF.
    pub fn end_of_stream_error(&self) -> Option<Error> {
        (self.eof == Eof::Truncated).then(truncated)
    }

    /// Runs [`Conn::read`] and says which error its result leaves behind: a 0 at the end of
    /// the stream after a bare EOF carries TRUNCATED (the read itself still succeeds unless
    /// strict EOF made it fail); anything else carries none.
    pub fn read_noting_eof(&mut self, buf: &mut [u8]) -> Step<(usize, Option<Error>)> {
        let n = self.read(buf)?;
        let note = if n == 0 && !buf.is_empty() { self.end_of_stream_error() } else { None };
        Ok((n, note))
    }

    /// What the handshake negotiated, once complete.
    pub fn info(&self) -> Option<Info<'_>> {
        self.handshake_done.then(|| self.negotiated())
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether this is a server connection.
    pub fn is_server(&self) -> bool {
        matches!(self.tls, Connection::Server(_))
    }

    /// The ticket policy in force.
    pub fn policy(&self) -> TicketPolicy {
        self.sched.policy
    }

    /// Sets this server connection's ticket policy: DEFERRED, OPPORTUNISTIC and IMMEDIATE
    /// until its handshake completes; NONE only before its first I/O call, with `quiet` the
    /// same server config issuing no tickets.
    pub fn set_policy(
        &mut self,
        policy: TicketPolicy,
        quiet: Option<Arc<ServerConfig>>,
    ) -> Result<(), Error> {
        if !self.is_server() {
            return Err(Error::state("a ticket policy applies to server connections only"));
        }
        if policy == TicketPolicy::None {
            if self.started {
                return Err(Error::state(
                    "TLS_TICKETS_NONE must be set before the connection's first I/O call",
                ));
            }
            let quiet = quiet.ok_or_else(|| Error::state("context is not configured"))?;
            let pending = self
                .pending
                .as_mut()
                .ok_or_else(|| Error::state("the ClientHello was already read"))?;
            pending.config = quiet;
        } else if self.phase != Phase::Handshaking {
            return Err(Error::state("the handshake is complete: the tickets' schedule is fixed"));
        } else if self.sched.policy == TicketPolicy::None {
            return Err(Error::state("this connection was set to issue no tickets"));
        }
        self.sched.policy = policy;
        Ok(())
    }

    /// TLS 1.3 tickets received (client), 0 on a server.
    pub fn tickets_received(&self) -> u32 {
        match &self.tls {
            Connection::Client(c) => c.tls13_tickets_received(),
            Connection::Server(_) => 0,
        }
    }

    /// Decrypted plaintext waiting to be read.
    pub fn pending_read(&mut self) -> usize {
        let plain = self.io_state().map(|s| s.plaintext_bytes_to_read()).unwrap_or(0);
        plain + self.ahead.as_ref().map_or(0, |a| a.remaining())
    }

    /// Ciphertext queued for the transport, held bytes excluded.
    pub fn pending_write(&mut self) -> usize {
        let q = self.queued();
        self.sched.due(q)
    }

    /// Out-of-turn bytes held back (0 once released).
    pub fn pending_deferred(&mut self) -> usize {
        let q = self.queued();
        self.sched.sent(q);
        self.sched.held()
    }

    /// The `poll(2)` needs: (POLLIN, POLLOUT).
    pub fn events(&mut self) -> (bool, bool) {
        let q = self.queued();
        let mut due = self.sched.due(q);
        if self.sched.policy == TicketPolicy::Opportunistic && self.io.opportunistic() {
            due = q;
        }
        if self.phase == Phase::Handshaking && self.lone_ccs() {
            // It waits for the client's Finished: no reason to wait for POLLOUT.
            due = 0;
        }
        let input = match self.phase {
            Phase::Handshaking => true,
            Phase::Open => self.eof == Eof::Open && self.pending_read() == 0,
            _ => false,
        };
        want::events(due, input)
    }
}
