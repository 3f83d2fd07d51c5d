//! Small helpers shared by the context exports.
use crate::error::Error;
use crate::ffi::boundary::{set_errno, set_last_error};

/// Reports a failure that has no context to hold it.
pub fn fail_null<T>(e: Error, v: T) -> T {
    set_last_error(&e);
    v
}

/// Ends an I/O call: errno is 0 when it returns, as in libtls.
pub fn io_end<T>(v: T) -> T {
    set_errno(0);
    v
}
