//! A context's errors: `tls_error`, `tls_error_code`, `tls_error_errno`, `tls_error_alert`,
//! and the thread's `tls_last_error`.
use std::ffi::{c_char, c_int};

use crate::error::Code;
use crate::ffi::boundary::last_error_ptr;
use crate::ffi::ctx::Tls;
use crate::ffi::handle::ctx_ref;

/// Returns the message of the last failure on `ctx`, or NULL. Valid until the next I/O call
/// on `ctx` or its release; accessors never clear it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_error(ctx: *mut Tls) -> *const c_char {
    boundary!(std::ptr::null(), ctx_ref(ctx).map_or(std::ptr::null(), |t| t.error_ptr()))
}

/// Returns the code of the last failure on `ctx` (TLS_ERROR_*), TLS_ERROR_UNKNOWN when
/// there was none, or TLS_ERROR_INVALID_CONTEXT for NULL. Meaningful after a failure, or
/// after tls_read returned 0 (TLS_ERROR_TRUNCATED for a bare EOF).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_error_code(ctx: *mut Tls) -> c_int {
    boundary!(
        Code::InvalidContext as c_int,
        ctx_ref(ctx).map_or(Code::InvalidContext as c_int, |t| {
            t.error().map_or(Code::Unknown as c_int, |e| e.code as c_int)
        })
    )
}

/// Returns the errno of the transport failure behind the last failure on `ctx`, else 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_error_errno(ctx: *mut Tls) -> c_int {
    boundary!(0, ctx_ref(ctx).map_or(0, |t| t.error().map_or(0, |e| e.errno)))
}

/// Returns the TLS alert behind the last failure on `ctx` (received from the peer, or sent
/// for a certificate the peer presented), or -1 when there was none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_error_alert(ctx: *mut Tls) -> c_int {
    boundary!(
        -1,
        ctx_ref(ctx).map_or(-1, |t| t.error().and_then(|e| e.alert).map_or(-1, c_int::from))
    )
}

/// Returns this thread's last failure message from any nbtls call (useful after a call
/// that returned NULL, or failed on a listener shared between threads), or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_last_error() -> *const c_char {
    boundary!(std::ptr::null(), last_error_ptr())
}
