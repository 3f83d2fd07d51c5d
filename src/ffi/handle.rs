//! The only casts between C handles and Rust objects, and the pointer-to-slice conversions.
//!
//! Ownership, declared once per handle type:
//! - `struct tls_config *` is an `Arc<Config>` turned into a raw pointer
//!   (`tls_config_new` = `Arc::into_raw`, `tls_config_free` = one `Arc::from_raw`).
//! - `struct tls *` is a `Box<Tls>` (`tls_client`/`tls_server`/accept = `Box::into_raw`,
//!   `tls_free` = `Box::from_raw`).
use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ffi::ctx::Tls;

/// A new config handle owning one reference.
pub fn config_into_raw(cfg: Arc<Config>) -> *mut Config {
    Arc::into_raw(cfg) as *mut Config
}

/// Borrows a config handle.
pub fn config_ref<'a>(p: *mut Config) -> Result<&'a Config> {
    // SAFETY: a non-NULL handle came from config_into_raw and is live until tls_config_free.
    unsafe { p.cast_const().as_ref() }.ok_or_else(|| super::boundary::null_arg("config"))
}

/// Drops the reference a handle owns.
pub fn config_release(p: *mut Config) {
    if !p.is_null() {
        // SAFETY: p came from Arc::into_raw; tls_config_free gives its reference back once.
        drop(unsafe { Arc::from_raw(p.cast_const()) });
    }
}

/// A new context handle.
pub fn ctx_into_raw(t: Box<Tls>) -> *mut Tls {
    Box::into_raw(t)
}

/// Borrows a context handle shared (listeners may be used by several threads at once).
pub fn ctx_ref<'a>(p: *mut Tls) -> Result<&'a Tls> {
    // SAFETY: a non-NULL handle came from ctx_into_raw and is live until tls_free.
    unsafe { p.cast_const().as_ref() }.ok_or_else(|| super::boundary::null_arg("context"))
}

/// Borrows a context handle exclusively (a connection is used by one thread at a time).
pub fn ctx_mut<'a>(p: *mut Tls) -> Result<&'a mut Tls> {
    // SAFETY: as ctx_ref; the contract gives the calling thread sole use of a connection.
    unsafe { p.as_mut() }.ok_or_else(|| super::boundary::null_arg("context"))
}

/// After a panic in an export on `p`: the context stays failed (or, for NULL, the thread's
/// last error says what happened).
pub fn ctx_poison(p: *mut Tls) {
    match ctx_mut(p) {
        Ok(t) => t.poison(),
        Err(_) => super::boundary::set_last_error(&Error::new(
            crate::error::Code::Internal,
            "internal error: nbtls caught a panic",
        )),
    }
}

/// Frees a context handle.
pub fn ctx_free(p: *mut Tls) {
    if !p.is_null() {
        // SAFETY: p came from ctx_into_raw; tls_free is its one release.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// A C string argument; NULL is an error naming `what`.
pub fn cstr<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    opt_cstr(p, what)?.ok_or_else(|| super::boundary::null_arg(what))
}

/// A C string argument where NULL is allowed.
pub fn opt_cstr<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL C strings passed to nbtls are NUL-terminated and live for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|_| Error::arg(format!("{what} is not valid UTF-8")))
}

/// A read-only buffer: (NULL, 0) is empty, (NULL, n) an error, n over SSIZE_MAX an error.
pub fn slice<'a>(p: *const c_void, len: usize, what: &str) -> Result<&'a [u8]> {
    check_len(len, what)?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(super::boundary::null_arg(what));
    }
    // SAFETY: the caller passes a buffer of len readable bytes, live for the call.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// A writable buffer, with the same rules as [`slice`].
pub fn slice_mut<'a>(p: *mut c_void, len: usize, what: &str) -> Result<&'a mut [u8]> {
    check_len(len, what)?;
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(super::boundary::null_arg(what));
    }
    // SAFETY: the caller passes a buffer of len writable bytes, live for the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), len) })
}

fn check_len(len: usize, what: &str) -> Result<()> {
    if len > isize::MAX as usize {
        return Err(Error::arg(format!("{what}: length exceeds SSIZE_MAX")));
    }
    Ok(())
}

/// The caller's variable behind the out-pointer `p` (`what` names it in the error), to be
/// written once the call succeeds.
///
/// Returns INVALID_ARGUMENT for NULL.
pub fn out_ref<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: a non-NULL out-pointer points to the caller's variable of type T, valid for the
    // call's duration; NULL is refused.
    unsafe { p.as_mut() }.ok_or_else(|| super::boundary::null_arg(what))
}

/// Stores a new context handle through an out-pointer.
pub fn put_ctx(out: *mut *mut Tls, t: Box<Tls>) -> Result<()> {
    *out_ref(out, "cctx")? = ctx_into_raw(t);
    Ok(())
}
