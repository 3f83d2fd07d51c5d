//! The callback transport: libtls's read and write callbacks, called with the context.
use std::ffi::c_void;
use std::io::{self, IoSlice};

use crate::conn::transport::Transport;
use crate::ffi::consts::{TLS_WANT_POLLIN, TLS_WANT_POLLOUT};
use crate::ffi::ctx::Tls;

/// libtls's read callback.
pub type tls_read_cb = Option<
    unsafe extern "C" fn(
        ctx: *mut Tls,
        buf: *mut c_void,
        buflen: usize,
        cb_arg: *mut c_void,
    ) -> libc::ssize_t,
>;
/// libtls's write callback.
pub type tls_write_cb = Option<
    unsafe extern "C" fn(
        ctx: *mut Tls,
        buf: *const c_void,
        buflen: usize,
        cb_arg: *mut c_void,
    ) -> libc::ssize_t,
>;

/// The caller's callbacks. They are called on the thread that drives the context.
pub struct CbTransport {
    read_cb: tls_read_cb,
    write_cb: tls_write_cb,
    arg: *mut c_void,
    ctx: *mut Tls,
}

// SAFETY: the callbacks and their argument move with the context; the contract lets a
// connection move between threads (one at a time), as libtls does.
unsafe impl Send for CbTransport {}

impl CbTransport {
    /// A transport calling `read_cb`/`write_cb` with `arg` and the context pointer.
    pub fn new(
        read_cb: tls_read_cb,
        write_cb: tls_write_cb,
        arg: *mut c_void,
        ctx: *mut Tls,
    ) -> Self {
        Self { read_cb, write_cb, arg, ctx }
    }

    fn check(n: isize, len: usize, what: &str) -> io::Result<usize> {
        match n {
            n if n >= 0 && (n as usize) <= len => Ok(n as usize),
            n if n == TLS_WANT_POLLIN as isize || n == TLS_WANT_POLLOUT as isize => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            -1 => {
                let e = io::Error::last_os_error();
                if e.raw_os_error().unwrap_or(0) == 0 {
                    Err(io::Error::other(format!("{what} callback failed")))
                } else {
                    Err(e)
                }
            }
            n => Err(io::Error::other(format!(
                "{what} callback returned {n} for a {len}-byte buffer"
            ))),
        }
    }
}

impl Transport for CbTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let f = self.read_cb.ok_or_else(|| io::Error::other("no read callback"))?;
        super::boundary::set_errno(0);
        // SAFETY: the caller's callback, given a buffer of buf.len() writable bytes.
        let n = unsafe { f(self.ctx, buf.as_mut_ptr().cast(), buf.len(), self.arg) };
        Self::check(n, buf.len(), "read")
    }

    /// A batch of due ciphertext (a flight; released tickets and the record behind them)
    /// reaches the callback in one call, so a callback that does one write(2) per call sends
    /// it in one segment.
    fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let f = self.write_cb.ok_or_else(|| io::Error::other("no write callback"))?;
        let mut parts = bufs.iter().filter(|b| !b.is_empty());
        let mut joined = Vec::new();
        let data: &[u8] = match (parts.next(), parts.next()) {
            (None, _) => &[],
            (Some(one), None) => one,
            _ => {
                joined.reserve_exact(bufs.iter().map(|b| b.len()).sum());
                bufs.iter().for_each(|b| joined.extend_from_slice(b));
                &joined
            }
        };
        super::boundary::set_errno(0);
        // SAFETY: the caller's callback, given data.len() readable bytes.
        let n = unsafe { f(self.ctx, data.as_ptr().cast(), data.len(), self.arg) };
        Self::check(n, data.len(), "write")
    }
}
