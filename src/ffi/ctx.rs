//! `struct tls`: a [`Context`] with its C face: the error slot `tls_error` reads, the C
//! strings the `tls_conn_*` accessors return, the poisoning after a caught panic, and the
//! mapping of each I/O result to its C value. What a context may do, and when, is
//! `context.rs`'s. Safe code: the exports hand it references.
use std::ffi::{c_char, CString};
use std::sync::{Mutex, MutexGuard};

use once_cell::sync::OnceCell;

use crate::config::Config;
use crate::conn::transport::Io;
use crate::conn::{Conn, Step, Stop, Want};
use crate::context::Context;
pub use crate::context::Kind;
use crate::error::{Code, Error, Result};
use crate::ffi::boundary::{set_last_error, to_cstring};
use crate::ffi::consts::{TLS_WANT_POLLIN, TLS_WANT_POLLOUT};

/// The C strings the `tls_conn_*` accessors return; they live as long as the connection.
#[derive(Default)]
pub struct InfoC {
    /// ALPN.
    pub alpn: Option<CString>,
    /// Server name.
    pub servername: Option<CString>,
    /// Version.
    pub version: Option<CString>,
    /// Cipher.
    pub cipher: Option<CString>,
    /// Key exchange group.
    pub group: Option<CString>,
}

/// A `struct tls`.
pub struct Tls {
    ctx: Context,
    /// The last failure and its message as a C string; boxed, so a context without one
    /// holds a pointer.
    error: Mutex<Option<Box<(Error, CString)>>>,
    /// Whether `error` holds something: lets the I/O calls skip the lock when it is empty.
    has_error: std::sync::atomic::AtomicBool,
    /// Made on the first accessor call that needs a C string.
    info_c: OnceCell<Box<InfoC>>,
    poisoned: bool,
}

impl Tls {
    /// A new context of `kind`, unconfigured.
    pub fn new(kind: Kind) -> Box<Self> {
        Self::wrap(Context::new(kind))
    }

    fn wrap(ctx: Context) -> Box<Self> {
        Box::new(Self {
            ctx,
            error: Mutex::new(None),
            has_error: std::sync::atomic::AtomicBool::new(false),
            info_c: OnceCell::new(),
            poisoned: false,
        })
    }

    fn err_slot(&self) -> MutexGuard<'_, Option<Box<(Error, CString)>>> {
        self.error.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a failure on this context and as the thread's last error.
    pub fn set_error(&self, err: Error) {
        set_last_error(&err);
        let c = to_cstring(&err.msg);
        *self.err_slot() = Some(Box::new((err, c)));
        self.has_error.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Clears the error (the I/O calls do this when they start).
    pub fn clear_error(&self) {
        // A plain load first: the common case (no error) costs no locked instruction.
        if self.has_error.load(std::sync::atomic::Ordering::Acquire) {
            self.has_error.store(false, std::sync::atomic::Ordering::Release);
            *self.err_slot() = None;
        }
    }

    /// The error message, or NULL.
    pub fn error_ptr(&self) -> *const c_char {
        self.err_slot().as_deref().map_or(std::ptr::null(), |(_, c)| c.as_ptr())
    }

    /// The current error, if any.
    pub fn error(&self) -> Option<Error> {
        self.err_slot().as_deref().map(|(e, _)| e.clone())
    }

    /// Records `r`'s error, if any, and passes the value on.
    pub fn track<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.set_error(e.clone());
        }
        r
    }

    // ----- configuration and connecting: the decisions are [`Context`]'s -----

    /// `tls_configure` from `cfg` (`None`: the default config).
    pub fn configure(&self, cfg: Option<&Config>) -> Result<()> {
        self.ctx.configure(cfg)
    }

    /// `tls_reset`: back to an unconfigured context of the same kind, without an error.
    pub fn reset(&mut self) {
        self.ctx.reset();
        self.poisoned = false;
        self.info_c = OnceCell::new();
        self.clear_error();
    }

    /// Starts a client connection over `io` (see [`Context::connect`]).
    pub fn connect(&mut self, io: impl Into<Io>, servername: Option<&str>) -> Result<()> {
        self.ctx.connect(io, servername)
    }

    /// Accepts a connection over `io` on this listener (see [`Context::accept`]).
    pub fn accept(&self, io: impl Into<Io>) -> Result<Box<Tls>> {
        self.ctx.accept(io).map(Tls::wrap)
    }

    /// Replaces the transport of a connection not yet used (accept over callbacks).
    pub fn set_transport(&mut self, io: impl Into<Io>) {
        self.ctx.set_transport(io);
    }

    /// `tls_set_ticket_policy` with a TLS_TICKETS_* value.
    pub fn set_ticket_policy(&mut self, policy: i32) -> Result<()> {
        self.ctx.set_ticket_policy(policy)
    }

    /// Starts a client connection on the socket `fd` nbtls created itself (see
    /// [`Context::connect_owned_fd`]).
    pub fn connect_owned_fd(&mut self, fd: i32, io: impl Into<Io>, servername: &str) -> Result<()> {
        self.ctx.connect_owned_fd(fd, io, servername)
    }

    // ----- I/O -----

    /// The connection, for accessors.
    pub fn conn(&self) -> Option<&Conn> {
        self.ctx.conn()
    }

    /// The connection, mutably, for accessors that ask rustls.
    pub fn conn_mut(&mut self) -> Option<&mut Conn> {
        self.ctx.conn_mut()
    }

    /// Marks the context failed after a panic the export's boundary caught: every later I/O
    /// call fails with TLS_ERROR_INTERNAL.
    pub fn poison(&mut self) {
        self.poisoned = true;
        self.set_error(Error::new(Code::Internal, "internal error: nbtls caught a panic"));
    }

    /// Runs one I/O operation: clears the error, maps WANT to its C value and records a
    /// failure. Returns the C value. A panic unwinds to the export's boundary, which poisons
    /// the context ([`Tls::poison`]).
    pub fn io(&mut self, op: impl FnOnce(&mut Conn) -> Step<isize>) -> isize {
        self.clear_error();
        if self.poisoned {
            self.set_error(Error::new(Code::Internal, "context failed after an internal error"));
            return -1;
        }
        let Some(conn) = self.ctx.conn_mut() else {
            self.set_error(self.ctx.kind().not_connected());
            return -1;
        };
        #[cfg(test)]
        tests::panic_if_asked();
        match op(conn) {
            Ok(n) => n,
            Err(Stop::Want(Want::Read)) => TLS_WANT_POLLIN as isize,
            Err(Stop::Want(Want::Write)) => TLS_WANT_POLLOUT as isize,
            Err(Stop::Fail(e)) => {
                self.set_error(e);
                -1
            }
        }
    }

    /// As [`Tls::io`], for an operation whose success may leave an error behind (a 0 from
    /// `tls_read` after a bare EOF): records that error after the call. Returns the C value.
    pub fn io_noted(
        &mut self,
        op: impl FnOnce(&mut Conn) -> Step<(isize, Option<Error>)>,
    ) -> isize {
        let mut note = None;
        let n = self.io(|c| {
            op(c).map(|(n, e)| {
                note = e;
                n
            })
        });
        if let Some(e) = note {
            self.set_error(e);
        }
        n
    }

    /// `tls_drain`: works on a failed connection too (a queued alert may still go out), so
    /// it does not go through [`Tls::io`]'s failure check.
    pub fn drain(&mut self, buf: &mut [u8]) -> isize {
        self.clear_error();
        let Some(conn) = self.ctx.conn_mut() else {
            self.set_error(Error::state("context is not connected"));
            return -1;
        };
        match conn.drain(buf) {
            Ok(n) => n as isize,
            Err(Stop::Fail(e)) => {
                self.set_error(e);
                -1
            }
            Err(Stop::Want(_)) => 0,
        }
    }

    /// After `tls_close` finished: closes the socket nbtls created.
    pub fn after_close(&mut self) {
        self.ctx.close_owned_fd();
    }

    /// The accessor strings, made once the handshake is complete.
    pub fn info_c(&self) -> Option<&InfoC> {
        let info = self.ctx.conn()?.info()?;
        Some(self.info_c.get_or_init(|| {
            Box::new(InfoC {
                alpn: info.alpn.map(|a| CString::new(a).unwrap_or_default()),
                servername: info.servername.map(to_cstring),
                version: Some(to_cstring(info.version)),
                cipher: Some(to_cstring(info.cipher)),
                group: info.group.map(to_cstring),
            })
        }))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::ffi::CStr;

    use crate::ffi::config::{tls_config_free, tls_config_new};
    use crate::ffi::config_verify::tls_config_insecure_noverifycert;
    use crate::ffi::conn::{tls_client, tls_configure, tls_connect_mem, tls_free};
    use crate::ffi::consts::TLS_ERROR_INTERNAL;
    use crate::ffi::error::{tls_error, tls_error_code};
    use crate::ffi::io::{tls_handshake, tls_read, tls_write};

    thread_local! {
        static PANIC_NEXT_IO: Cell<bool> = const { Cell::new(false) };
    }

    /// Panics once when a test asked for it: the stand-in for a bug inside the engine.
    pub(crate) fn panic_if_asked() {
        if PANIC_NEXT_IO.with(|p| p.replace(false)) {
            panic!("a panic injected by a test");
        }
    }

    /// A panic inside an I/O export is caught by its boundary, and the context then fails
    /// every I/O call cleanly with TLS_ERROR_INTERNAL.
    #[test]
    fn a_panic_in_an_export_poisons_the_context() {
        // SAFETY: every pointer passed comes from the calls before it and is freed once.
        unsafe {
            let cfg = tls_config_new();
            tls_config_insecure_noverifycert(cfg);
            let ctx = tls_client();
            assert_eq!(tls_configure(ctx, cfg), 0);
            assert_eq!(tls_connect_mem(ctx, c"localhost".as_ptr()), 0);
            PANIC_NEXT_IO.with(|p| p.set(true));
            assert_eq!(tls_handshake(ctx), -1);
            assert_eq!(tls_error_code(ctx), TLS_ERROR_INTERNAL);
            let msg = CStr::from_ptr(tls_error(ctx)).to_str().unwrap();
            assert!(msg.contains("caught a panic"), "{msg}");
            assert_eq!(tls_handshake(ctx), -1);
            assert_eq!(tls_error_code(ctx), TLS_ERROR_INTERNAL);
            let mut buf = [0u8; 16];
            assert_eq!(tls_read(ctx, buf.as_mut_ptr().cast(), buf.len()), -1);
            assert_eq!(tls_error_code(ctx), TLS_ERROR_INTERNAL);
            assert_eq!(tls_write(ctx, buf.as_ptr().cast(), buf.len()), -1);
            assert_eq!(tls_error_code(ctx), TLS_ERROR_INTERNAL);
            tls_free(ctx);
            tls_config_free(cfg);
        }
    }
}
