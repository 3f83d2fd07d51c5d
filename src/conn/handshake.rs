//! Driving the handshake: each flight in one write, reading while a write would block, and
//! what completion does (in-turn bytes sent, a TLS 1.3 server's tickets held or sent per
//! policy, the Nagle push) and records (the negotiated parameters).
use rustls::{Connection, ProtocolVersion};

use super::state::Phase;
use super::{peer_gone, want, Conn, Got, Info, Scope, Step, Stop};
use crate::config::TicketPolicy;
use crate::error::{Code, Error};

impl Conn {
    /// Drives the handshake while it is under way; nothing to do (one comparison) once open.
    #[inline]
    pub(super) fn drive_handshake(&mut self) -> Step<()> {
        if self.phase != Phase::Handshaking {
            return Ok(());
        }
        self.drive_handshake_on()
    }

    fn drive_handshake_on(&mut self) -> Step<()> {
        loop {
            if !self.tls.is_handshaking() {
                return self.complete_handshake();
            }
            // Each flight leaves in one write: queued bytes go before the next read, except
            // a TLS 1.3 client's lone compatibility CCS, which waits for its Finished.
            let write_blocked = match self.lone_ccs() {
                true => false,
                false => match self.flush_queue(Scope::Due) {
                    Ok(()) => false,
                    Err(Stop::Want(_)) => true,
                    Err(f) => return Err(f),
                },
            };
            // Keep reading while a handshake write would block: the peer may need us to
            // read before it can read our flight (rustls queues a client's CCS mid-flight).
            let read_blocked = match self.read_and_process()? {
                Got::Blocked => true,
                Got::Data => false,
                Got::Eof => {
                    if self.tls.is_handshaking() {
                        return Err(self.fail(Error::new(
                            Code::Closed,
                            "handshake failed: the peer closed the connection",
                        )));
                    }
                    false
                }
            };
            // No progress unless the read brought something: wait, output first.
            if read_blocked {
                if let Some(w) = want::derive(write_blocked, read_blocked) {
                    return Err(Stop::Want(w));
                }
            }
        }
    }

    /// The step that completed the handshake queued in-turn bytes (sent now) or, on a TLS 1.3
    /// server, tickets (held per policy; IMMEDIATE sends them before returning).
    pub(super) fn complete_handshake(&mut self) -> Step<()> {
        let queued = self.queued();
        self.flush_queue(Scope::Due)?;
        if self.sched.policy == TicketPolicy::Immediate && self.sched.held() > 0 {
            // Released, they are due: sent here, drained from the memory transport.
            self.sched.release();
            match self.flush_queue(Scope::All) {
                Ok(()) => {}
                // As in OpenSSL: a peer that has gone counts as having been sent the tickets.
                Err(Stop::Fail(e)) if peer_gone(&e) => {
                    self.failure = None;
                    self.phase = Phase::Handshaking;
                    self.sched.release();
                }
                Err(other) => return Err(other),
            }
        }
        self.phase = Phase::Open;
        self.handshake_done = true;
        self.opportunistic();
        if self.queued() == queued {
            // The handshake ended on a read and nothing followed it: the peer's last flight
            // is un-ACKed, and its next small write would wait for a delayed ACK under Nagle.
            self.io.quick_ack();
        } else if self.tls.protocol_version() == Some(ProtocolVersion::TLSv1_2) {
            // A TLS 1.2 handshake that ended on our write (a client's resumption, a server's
            // full handshake): the peer has nothing to send back, so it delays its ACK, and
            // our next small write would wait for it under Nagle: push that write. (After
            // a TLS 1.3 client's Finished servers send tickets, which carry the ACK, and a
            // request sent at once would cross them and delay the answer instead.)
            self.push_next_write = true;
        }
        Ok(())
    }

    /// What the handshake negotiated (rustls keeps it once the handshake is complete).
    pub(super) fn negotiated(&self) -> Info<'_> {
        let (version, cipher, cipher_bits) = crate::names::suite(&self.tls);
        let servername = match &self.tls {
            Connection::Server(s) => self.servername.as_deref().or_else(|| s.server_name()),
            Connection::Client(_) => self.servername.as_deref(),
        };
        Info {
            version,
            cipher,
            cipher_bits,
            alpn: self.tls.alpn_protocol(),
            servername,
            resumed: matches!(self.tls.handshake_kind(), Some(rustls::HandshakeKind::Resumed)),
            group: crate::names::group(&self.tls),
        }
    }
}
