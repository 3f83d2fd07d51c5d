//! Small helpers shared by the context exports.
use crate::conn::{Conn, Step};
use crate::error::Error;
use crate::ffi::boundary::{set_errno, set_last_error};
use crate::ffi::ctx::Tls;
use crate::ffi::handle::ctx_mut;

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

/// The shape the I/O exports share: borrow the context (NULL fails), run one engine call
/// through [`Tls::io`], set errno to 0 on the way out. Returns the C value.
pub fn io_call(ctx: *mut Tls, op: impl FnOnce(&mut Conn) -> Step<isize>) -> isize {
    io_end(match ctx_mut(ctx) {
        Ok(t) => t.io(op),
        Err(e) => fail_null(e, -1),
    })
}
