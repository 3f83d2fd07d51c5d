//! The panic boundary every export opens, the thread-local last error, and errno.
use std::cell::RefCell;
use std::ffi::{c_char, CString};

use crate::error::{Code, Error};

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Runs an export's body; a panic becomes the export's failure value and a message. The one
/// `catch_unwind` of nbtls.
///
/// `boundary!(poison ctx, fail, body)`, used by the I/O calls, also poisons the context
/// (every later I/O call on it fails with TLS_ERROR_INTERNAL) and sets errno to 0, as the
/// I/O calls do when they return.
macro_rules! boundary {
    (poison $ctx:ident, $fail:expr, $body:expr) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => {
                $crate::ffi::handle::ctx_poison($ctx);
                $crate::ffi::boundary::set_errno(0);
                $fail
            }
        }
    };
    ($fail:expr, $body:expr) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => {
                $crate::ffi::boundary::set_last_error(&$crate::error::Error::new(
                    $crate::error::Code::Internal,
                    "internal error: nbtls caught a panic",
                ));
                $fail
            }
        }
    };
}

/// Records `err` as this thread's last error (`tls_last_error()`).
pub fn set_last_error(err: &Error) {
    let c = to_cstring(&err.msg);
    LAST_ERROR.with(|l| *l.borrow_mut() = Some(c));
}

/// The last error message of this thread, or NULL.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|l| l.borrow().as_ref().map_or(std::ptr::null(), |c| c.as_ptr()))
}

/// A message as a C string (interior NULs replaced).
pub fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// The error for a NULL where a pointer is required.
pub fn null_arg(what: &str) -> Error {
    Error::new(Code::InvalidArgument, format!("{what} is NULL"))
}

/// Sets `errno`, as the I/O calls do (to 0) when they return.
pub fn set_errno(v: i32) {
    // SAFETY: __errno_location returns this thread's errno, always valid to write.
    unsafe { *libc::__errno_location() = v };
}
