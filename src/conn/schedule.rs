//! The out-of-turn write schedule: which queued bytes may leave with which call.
//!
//! rustls keeps one FIFO send queue. Out-of-turn bytes (a TLS 1.3 server's tickets, bytes the
//! read path queues after the handshake) are always its tail, because every write-side call
//! releases them before it queues anything. So the schedule is one number: how many bytes at
//! the tail are held back. Nothing is ever copied aside, dropped or reordered.
use crate::config::TicketPolicy;

/// The held tail of the send queue and the policy that governs it.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// The ticket policy in force for this connection.
    pub policy: TicketPolicy,
    held: usize,
}

impl Schedule {
    /// A schedule with nothing held.
    pub fn new(policy: TicketPolicy) -> Self {
        Self { policy, held: 0 }
    }

    /// Bytes just queued by the read path (or a TLS 1.3 server's completing step) are held.
    pub fn hold(&mut self, added: usize) {
        self.held += added;
    }

    /// A write-side call releases everything held.
    pub fn release(&mut self) {
        self.held = 0;
    }

    /// After bytes left the queue, at most what remains can still be held.
    pub fn sent(&mut self, queued_now: usize) {
        self.held = self.held.min(queued_now);
    }

    /// Bytes held back now.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Bytes of a queue of `queued` that may leave without a write-side call.
    pub fn due(&self, queued: usize) -> usize {
        queued.saturating_sub(self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_tail_shrinks_only_when_the_queue_does() {
        let mut s = Schedule::new(TicketPolicy::Deferred);
        s.hold(100);
        assert_eq!(s.due(100), 0);
        assert_eq!(s.due(130), 30);
        s.sent(60);
        assert_eq!(s.held(), 60);
        s.release();
        assert_eq!(s.due(60), 60);
    }
}
