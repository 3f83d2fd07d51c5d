//! The part of nbtls's C API (include/nbtls.h) these examples use, declared by hand as an
//! external user of the shared library would, plus a tiny safe wrapper for errors.
//!
//! Everything here is plain C ABI: `struct tls` and `struct tls_config` are opaque, strings
//! are NUL-terminated, and the return conventions are libtls's (see the header).
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void, CStr};

/// `struct tls` (opaque).
#[repr(C)]
pub struct tls {
    _private: [u8; 0],
}

/// `struct tls_config` (opaque).
#[repr(C)]
pub struct tls_config {
    _private: [u8; 0],
}

pub const TLS_WANT_POLLIN: isize = -2;
pub const TLS_WANT_POLLOUT: isize = -3;
pub const TLS_ERROR_CERT_UNKNOWN_CA: c_int = 0x8012;
pub const TLS_ERROR_TRUNCATED: c_int = 0x8003;

extern "C" {
    pub fn tls_config_new() -> *mut tls_config;
    pub fn tls_config_free(config: *mut tls_config);
    pub fn tls_config_error(config: *mut tls_config) -> *const c_char;
    pub fn tls_config_set_ca_file(config: *mut tls_config, ca_file: *const c_char) -> c_int;
    pub fn tls_config_set_keypair_file(
        config: *mut tls_config,
        cert_file: *const c_char,
        key_file: *const c_char,
    ) -> c_int;
    pub fn tls_config_set_alpn(config: *mut tls_config, alpn: *const c_char) -> c_int;
    pub fn tls_client() -> *mut tls;
    pub fn tls_server() -> *mut tls;
    pub fn tls_configure(ctx: *mut tls, config: *mut tls_config) -> c_int;
    pub fn tls_free(ctx: *mut tls);
    pub fn tls_connect_socket(ctx: *mut tls, s: c_int, servername: *const c_char) -> c_int;
    pub fn tls_accept_socket(ctx: *mut tls, cctx: *mut *mut tls, s: c_int) -> c_int;
    pub fn tls_connect_mem(ctx: *mut tls, servername: *const c_char) -> c_int;
    pub fn tls_accept_mem(ctx: *mut tls, cctx: *mut *mut tls) -> c_int;
    pub fn tls_feed(ctx: *mut tls, buf: *const c_void, len: usize) -> isize;
    pub fn tls_feed_eof(ctx: *mut tls) -> c_int;
    pub fn tls_drain(ctx: *mut tls, buf: *mut c_void, len: usize) -> isize;
    pub fn tls_handshake(ctx: *mut tls) -> c_int;
    pub fn tls_read(ctx: *mut tls, buf: *mut c_void, buflen: usize) -> isize;
    pub fn tls_write(ctx: *mut tls, buf: *const c_void, buflen: usize) -> isize;
    pub fn tls_close(ctx: *mut tls) -> c_int;
    pub fn tls_error(ctx: *mut tls) -> *const c_char;
    pub fn tls_error_code(ctx: *mut tls) -> c_int;
    pub fn tls_conn_version(ctx: *mut tls) -> *const c_char;
    pub fn tls_conn_alpn_selected(ctx: *mut tls) -> *const c_char;
}

/// Copies a C string the library returned (NULL becomes None).
pub fn c_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: nbtls returns NUL-terminated strings that live at least until the next call
    // on the same object; we copy at once.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// What a TLS I/O call returned, in Rust terms.
#[derive(Debug, PartialEq, Eq)]
pub enum Io {
    Done(usize),
    WantRead,
    WantWrite,
    Failed,
}

/// Classifies a `tls_read`/`tls_write`/`tls_handshake`/... return value.
pub fn io(rv: isize) -> Io {
    match rv {
        TLS_WANT_POLLIN => Io::WantRead,
        TLS_WANT_POLLOUT => Io::WantWrite,
        n if n >= 0 => Io::Done(n as usize),
        _ => Io::Failed,
    }
}
