//! The connection's states and its legal transitions, in one table.
use crate::error::{Code, Error, Result};

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
/// Every I/O call asks, so the common answer (go on) costs a comparison.
#[inline]
pub fn check(phase: Phase, op: Op) -> Result<bool> {
    match (phase, op) {
        (Phase::Handshaking, _) => Ok(false),
        (Phase::Open, op) if op != Op::Handshake => Ok(false),
        _ => check_table(phase, op),
    }
}

fn check_table(phase: Phase, op: Op) -> Result<bool> {
    use Op::*;
    use Phase::*;
    match (phase, op) {
        (Failed, _) => Err(Error::state("connection has failed")),
        (Open, Handshake) => Err(already_completed()),
        (Handshaking | Open, _) => Ok(false),
        (Closing, Close | Flush) => Ok(false),
        (Closed, Close) => Ok(true),
        // libtls: a tls_handshake after completion fails and leaves the connection usable.
        (Closing, Handshake) => Err(already_completed()),
        (Closed, Handshake) => Err(Error::state("connection is closed (tls_close was called)")),
        (Closing | Closed, Read | Write | Flush | KeyUpdate) => {
            Err(Error::state("connection is closed (tls_close was called)"))
        }
    }
}

/// libtls's answer to a second `tls_handshake`: TLS_ERROR_UNKNOWN, its exact message.
fn already_completed() -> Error {
    Error::new(Code::Unknown, "handshake already completed")
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
        let again = check(Phase::Open, Op::Handshake).unwrap_err();
        assert_eq!(
            (again.code, again.msg.as_str()),
            (Code::Unknown, "handshake already completed")
        );
        assert!(check(Phase::Closing, Op::Handshake).is_err());
        assert!(check(Phase::Closed, Op::Handshake).is_err());
    }
}
