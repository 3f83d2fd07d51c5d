//! The connection's states and its legal transitions, in one table.
use crate::error::{Error, Result};

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The handshake is under way.
    Handshaking,
    /// The handshake is complete; data flows.
    Open,
    /// `close` has begun: close_notify is queued or sent.
    Closing,
    /// `close` has finished.
    Closed,
    /// A fatal error happened; every later call fails with it.
    Failed,
}

/// The engine's operations, for the transition table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// handshake
    Handshake,
    /// read
    Read,
    /// write
    Write,
    /// flush
    Flush,
    /// close
    Close,
    /// key update
    KeyUpdate,
}

/// Whether `op` is legal in `phase`. `Ok(true)` means "already done: succeed without work".
pub fn check(phase: Phase, op: Op) -> Result<bool> {
    use Op::*;
    use Phase::*;
    match (phase, op) {
        (Failed, _) => Err(Error::state("connection has failed")),
        (Handshaking | Open, _) => Ok(false),
        (Closing, Close | Flush) => Ok(false),
        (Closed, Close) => Ok(true),
        (Closed | Closing, Handshake) => Ok(true),
        (Closing | Closed, Read | Write | Flush | KeyUpdate) => {
            Err(Error::state("connection is closed (tls_close was called)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert!(check(Phase::Failed, Op::Read).is_err());
        assert!(check(Phase::Closed, Op::Close).unwrap());
        assert!(check(Phase::Closed, Op::Write).is_err());
        assert!(!check(Phase::Open, Op::Write).unwrap());
    }
}
