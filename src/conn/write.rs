//! The write side: which queued bytes are out-of-turn, flushing the send queue up to a
//! scope, the one non-blocking attempt to send an answer the peer waits for, and
//! OPPORTUNISTIC's attempt to send held bytes.
use rustls::ProtocolVersion;

use super::transport::Output;
use super::{want, would_block, Conn, Scope, Step, Stop};
use crate::config::TicketPolicy;
use crate::error::{Code, Error};

impl Conn {
    /// A TLS 1.3 client's compatibility ChangeCipherSpec, queued alone while the server's
    /// flight is still arriving (rustls queues it on the ServerHello). It waits for the
    /// client's Finished so both leave in one write; the server never waits for it.
    pub(super) fn lone_ccs(&mut self) -> bool {
        !self.io.is_memory()
            && !self.is_server()
            && self.tls.is_handshaking()
            && self.tls.protocol_version() == Some(ProtocolVersion::TLSv1_3)
            && self.queued() == CCS_RECORD_LEN
    }

    /// Whether bytes the read path just queued are an answer the peer waits for: after a
    /// TLS 1.2 handshake that is only the no_renegotiation warning for a renegotiation
    /// ClientHello (TLS 1.2 has no KeyUpdate, and its tickets are in-turn).
    pub(super) fn peer_waits(&self, was_handshaking: bool) -> bool {
        !was_handshaking && self.tls.protocol_version() == Some(ProtocolVersion::TLSv1_2)
    }

    /// The one non-blocking attempt to send an answer the peer waits for (the README's
    /// "Out-of-turn writes"); what does not leave now is due output and goes first with
    /// the next call.
    pub(super) fn send_reply_now(&mut self) {
        for _ in 0..16 {
            let due = self.pending_write();
            if due == 0 {
                self.reply_due = false;
                return;
            }
            let mut out = Output { io: &mut *self.io, limit: due, now: true };
            if !matches!(self.tls.write_tls(&mut out), Ok(n) if n > 0) {
                return;
            }
        }
    }

    /// Which bytes are out-of-turn (the README's "Out-of-turn writes"): bytes queued by the step that completes the
    /// handshake are in-turn, except on a TLS 1.3 server (tickets); later ones are out-of-turn.
    pub(super) fn out_of_turn(&self, was_handshaking: bool) -> bool {
        if !was_handshaking {
            return true;
        }
        !self.tls.is_handshaking()
            && self.is_server()
            && self.tls.protocol_version() == Some(ProtocolVersion::TLSv1_3)
    }

    /// Writes queued bytes until `scope` is sent, or the transport would block.
    pub(super) fn flush_queue(&mut self, scope: Scope) -> Step<()> {
        loop {
            if !self.tls.wants_write() {
                self.sched.sent(0);
                return Ok(());
            }
            // The exact queue length is needed only while bytes are held back.
            let (limit, queued) = match (scope, self.sched.held()) {
                (Scope::All, _) | (Scope::Due, 0) => (usize::MAX, None),
                (Scope::Due, _) => {
                    let q = self.queued();
                    (self.sched.due(q), Some(q))
                }
            };
            if limit == 0 {
                return Ok(());
            }
            let mut out = Output { io: &mut *self.io, limit, now: false };
            match self.tls.write_tls(&mut out) {
                Ok(0) => return Err(self.fail(Error::new(Code::Io, "transport accepted no bytes"))),
                Ok(n) => {
                    if self.sched.held() > 0 {
                        let q = queued.map_or_else(|| self.queued(), |q| q - n.min(q));
                        self.sched.sent(q);
                    }
                }
                Err(e) if would_block(&e) => return Err(Stop::Want(want::blocked(true))),
                Err(e) => return Err(self.fail(Error::io("write to transport", &e))),
            }
        }
    }

    /// OPPORTUNISTIC's one non-blocking attempt to send held bytes; errors are ignored.
    pub(super) fn opportunistic(&mut self) {
        if self.sched.policy != TicketPolicy::Opportunistic
            || self.sched.held() == 0
            || !self.io.opportunistic()
        {
            return;
        }
        if self.io.is_memory() {
            // On the memory transport, sending means making them due for tls_drain.
            self.sched.release();
            return;
        }
        loop {
            let queued = self.queued();
            if queued == 0 {
                return;
            }
            let mut out = Output { io: &mut *self.io, limit: queued, now: true };
            match self.tls.write_tls(&mut out) {
                Ok(n) if n > 0 => self.sched.sent(queued - n.min(queued)),
                _ => return,
            }
        }
    }
}

/// The length of a ChangeCipherSpec record.
const CCS_RECORD_LEN: usize = 6;
