//! The one place that derives WANT_POLLIN / WANT_POLLOUT.

/// What a call that would block needs before it can make progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Input is needed: wait for POLLIN (memory transport: feed me).
    Read,
    /// Output is due: wait for POLLOUT (memory transport: drain me).
    Write,
}

/// Derives the WANT of a call from what blocked in its last round: when bytes are due and
/// input is also needed, output comes first (drain, then feed). `None` means progress is
/// possible without waiting.
pub fn derive(write_blocked: bool, read_blocked: bool) -> Option<Want> {
    if write_blocked {
        Some(Want::Write)
    } else if read_blocked {
        Some(Want::Read)
    } else {
        None
    }
}

/// The WANT of a call that stopped on one blocked direction: its write (`write_blocked`) or
/// else its read. The same answer as [`derive`], for calls that know which one blocked.
pub fn blocked(write_blocked: bool) -> Want {
    derive(write_blocked, !write_blocked).unwrap_or(Want::Read)
}

/// The `poll(2)` bits a connection needs now.
pub fn events(due_bytes: usize, wants_input: bool) -> (bool, bool) {
    (wants_input, due_bytes > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_comes_first() {
        assert_eq!(derive(true, true), Some(Want::Write));
        assert_eq!(derive(true, false), Some(Want::Write));
        assert_eq!(derive(false, true), Some(Want::Read));
        assert_eq!(derive(false, false), None);
        assert_eq!(blocked(true), Want::Write);
        assert_eq!(blocked(false), Want::Read);
    }
}
