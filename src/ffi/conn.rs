//! Exports of the context family: creation, configuration, connecting, accepting and I/O.
use std::ffi::{c_char, c_int, c_void};

use crate::config::Config;
use crate::error::{Code, Error};
use crate::ffi::boundary::last_error_ptr;
use crate::ffi::ctx::{Kind, Tls, DEFAULT_CONFIG};
use crate::ffi::handle::{
    config_ref, ctx_free, ctx_into_raw, ctx_mut, ctx_ref, opt_cstr, put_ctx, slice, slice_mut,
};
use crate::ffi::transport::{tls_read_cb, tls_write_cb, CbTransport, FdTransport};

use crate::ffi::conn_util::{fail_null, io_end};

/// Creates a client context, usable at once with the default configuration.
///
/// Returns the context (free it with tls_free), or NULL on failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_client() -> *mut Tls {
    boundary!(std::ptr::null_mut(), ctx_into_raw(Tls::new(Kind::Client)))
}

/// Creates a server context: a listener that tls_accept_* turns into connections. It must be
/// configured with a certificate and key before it accepts.
///
/// Returns the context (free it with tls_free), or NULL on failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_server() -> *mut Tls {
    boundary!(std::ptr::null_mut(), ctx_into_raw(Tls::new(Kind::Server)))
}

/// Configures `ctx` from `config` (NULL: the default configuration). The config is frozen
/// into a snapshot shared by every context configured from the same state of it, so later
/// setters affect only later tls_configure calls; reconfiguring a listener swaps its
/// snapshot atomically (how certificates are reloaded).
///
/// Returns 0, or -1 if the config is unusable (missing or mismatched key, no usable
/// protocol, a sticky error from a setter), if `ctx` is a client that has connected, or an
/// accepted connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_configure(ctx: *mut Tls, config: *mut Config) -> c_int {
    boundary!(-1, {
        let tls = match ctx_ref(ctx) {
            Ok(t) => t,
            Err(e) => return fail_null(e, -1),
        };
        let r = if config.is_null() {
            tls.configure(&DEFAULT_CONFIG)
        } else {
            config_ref(config).and_then(|c| tls.configure(c))
        };
        tls.track(r).map_or(-1, |()| 0)
    })
}

/// Returns `ctx` to the unconfigured state of its kind, dropping any connection (an fd the
/// caller supplied is not closed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_reset(ctx: *mut Tls) {
    boundary!(
        (),
        if let Ok(t) = ctx_mut(ctx) {
            t.reset()
        }
    )
}

/// Frees `ctx` and everything it holds. NULL is a no-op. An fd the caller supplied is never
/// closed; a socket tls_connect created is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_free(ctx: *mut Tls) {
    boundary!((), ctx_free(ctx))
}

fn connect(
    ctx: *mut Tls,
    servername: *const c_char,
    make: impl FnOnce(*mut Tls) -> Box<dyn crate::conn::transport::Transport>,
) -> c_int {
    let tls = match ctx_mut(ctx) {
        Ok(t) => t,
        Err(e) => return fail_null(e, -1),
    };
    let r = opt_cstr(servername, "servername").and_then(|name| tls.connect(make(ctx), name));
    tls.track(r).map_or(-1, |()| 0)
}

/// Starts a client connection over the connected socket `s` with `servername` for SNI and
/// verification (NULL only with tls_config_insecure_noverifyname). The handshake runs on
/// the first I/O call. The socket stays the caller's: nbtls never closes it.
///
/// Returns 0, or -1 (not a client, already connected, no server name, invalid name).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_connect_socket(
    ctx: *mut Tls,
    s: c_int,
    servername: *const c_char,
) -> c_int {
    boundary!(-1, connect(ctx, servername, |_| Box::new(FdTransport::new(s, s))))
}

/// As tls_connect_socket, reading from `fd_read` and writing to `fd_write`.
///
/// Returns 0 or -1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_connect_fds(
    ctx: *mut Tls,
    fd_read: c_int,
    fd_write: c_int,
    servername: *const c_char,
) -> c_int {
    boundary!(-1, connect(ctx, servername, |_| Box::new(FdTransport::new(fd_read, fd_write))))
}

/// As tls_connect_socket over callbacks: `read_cb`/`write_cb` return bytes moved, 0 for
/// EOF, TLS_WANT_POLLIN/TLS_WANT_POLLOUT when they would block, or -1 with errno set.
/// Anything else (more than the buffer, another negative value) fails the I/O call with
/// TLS_ERROR_IO and a message naming the value, as does -1 with errno 0 ("callback
/// failed"); the connection then stays failed and the callbacks are not called again.
///
/// Returns 0 or -1 (also when a callback is NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_connect_cbs(
    ctx: *mut Tls,
    read_cb: tls_read_cb,
    write_cb: tls_write_cb,
    cb_arg: *mut c_void,
    servername: *const c_char,
) -> c_int {
    boundary!(-1, {
        if read_cb.is_none() || write_cb.is_none() {
            return match ctx_ref(ctx) {
                Ok(t) => t
                    .track::<()>(Err(Error::arg("read and write callbacks are required")))
                    .map_or(-1, |_| 0),
                Err(e) => fail_null(e, -1),
            };
        }
        connect(ctx, servername, |p| Box::new(CbTransport::new(read_cb, write_cb, cb_arg, p)))
    })
}

fn accept(
    ctx: *mut Tls,
    cctx: *mut *mut Tls,
    make: impl FnOnce() -> Box<dyn crate::conn::transport::Transport>,
) -> c_int {
    let tls = match ctx_ref(ctx) {
        Ok(t) => t,
        Err(e) => return fail_null(e, -1),
    };
    if cctx.is_null() {
        return tls.track::<()>(Err(crate::ffi::boundary::null_arg("cctx"))).map_or(-1, |_| 0);
    }
    let r = tls.accept(make());
    match tls.track(r) {
        Ok(conn) => {
            let conn_ptr: *mut Tls = Box::as_ref(&conn) as *const Tls as *mut Tls;
            let _ = conn_ptr;
            put_ctx(cctx, conn).map_or(-1, |()| 0)
        }
        Err(_) => -1,
    }
}

/// Accepts a connection on the listener `ctx` over the socket `s`, storing a new context in
/// `*cctx` (free it with tls_free). Several threads may accept on one listener at once. The
/// handshake runs on the first I/O call; the socket stays the caller's.
///
/// Returns 0, or -1 (not a configured server, NULL `cctx`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_accept_socket(ctx: *mut Tls, cctx: *mut *mut Tls, s: c_int) -> c_int {
    boundary!(-1, accept(ctx, cctx, || Box::new(FdTransport::new(s, s))))
}

/// As tls_accept_socket, reading from `fd_read` and writing to `fd_write`.
///
/// Returns 0 or -1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_accept_fds(
    ctx: *mut Tls,
    cctx: *mut *mut Tls,
    fd_read: c_int,
    fd_write: c_int,
) -> c_int {
    boundary!(-1, accept(ctx, cctx, || Box::new(FdTransport::new(fd_read, fd_write))))
}

/// As tls_accept_socket over callbacks (see tls_connect_cbs); the callbacks receive the new
/// connection's context.
///
/// Returns 0 or -1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_accept_cbs(
    ctx: *mut Tls,
    cctx: *mut *mut Tls,
    read_cb: tls_read_cb,
    write_cb: tls_write_cb,
    cb_arg: *mut c_void,
) -> c_int {
    boundary!(-1, {
        let tls = match ctx_ref(ctx) {
            Ok(t) => t,
            Err(e) => return fail_null(e, -1),
        };
        if read_cb.is_none() || write_cb.is_none() {
            return tls
                .track::<()>(Err(Error::arg("read and write callbacks are required")))
                .map_or(-1, |_| 0);
        }
        if cctx.is_null() {
            return tls.track::<()>(Err(crate::ffi::boundary::null_arg("cctx"))).map_or(-1, |_| 0);
        }
        // The callbacks get the accepted context, whose address is known once it is boxed.
        let placeholder = CbTransport::new(read_cb, write_cb, cb_arg, std::ptr::null_mut());
        match tls.track(tls.accept(Box::new(placeholder))) {
            Ok(mut conn) => {
                let p: *mut Tls = &mut *conn;
                conn.set_transport(Box::new(CbTransport::new(read_cb, write_cb, cb_arg, p)));
                put_ctx(cctx, conn).map_or(-1, |()| 0)
            }
            Err(_) => -1,
        }
    })
}

/// Runs the handshake.
///
/// Returns 0 once it is complete, TLS_WANT_POLLIN or TLS_WANT_POLLOUT when the transport
/// would block (call again when it is ready), or -1 on failure. As in libtls, a call after
/// the handshake completed (a tls_handshake, tls_read or tls_write returned success) is -1
/// with TLS_ERROR_UNKNOWN and "handshake already completed", and the connection stays
/// usable; a WANT_POLLOUT while an IMMEDIATE server's tickets go out is not completion. A TLS 1.3 server returns 0 with its tickets still queued
/// under the default ticket policy; they leave with the next write-side call.
/// Over an fd or callbacks nbtls reads no further than the peer's last handshake record: when
/// this returns 0, whatever the peer sent after it is still in the transport, so a program
/// may wait for the fd to become readable before its first tls_read()
/// (tls_config_set_read_ahead changes that).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_handshake(ctx: *mut Tls) -> c_int {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => t.io(|c| c.handshake().map(|()| 0)) as c_int,
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Reads up to `buflen` bytes of plaintext into `buf`, running the handshake first if needed.
///
/// Returns the bytes read (> 0); 0 at the end of the stream (after close_notify, or after a
/// bare EOF: then tls_error_code() is TLS_ERROR_TRUNCATED; with
/// tls_config_set_strict_eof a bare EOF is -1) or when `buflen` is 0; TLS_WANT_POLLIN /
/// TLS_WANT_POLLOUT (the latter only while it drives the handshake); or -1 on failure.
/// Records without application data (tickets, KeyUpdate) never make it return WANT alone.
/// Over an fd or callbacks it reads records one at a time (the 5-byte header, then exactly
/// the body) until one yields application data, and reads no further: the next record stays
/// in the transport, where poll(2) sees it. When plaintext of an earlier record is still
/// waiting (`buflen` was smaller than the record) it returns that without touching the
/// transport; tls_pending_read() tells how much is left.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_read(ctx: *mut Tls, buf: *mut c_void, buflen: usize) -> libc::ssize_t {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => match slice_mut(buf, buflen, "buf") {
                Ok(b) => {
                    let n = t.io(|c| c.read(b).map(|n| n as isize));
                    if n == 0 && buflen > 0 {
                        if let Some(e) = t.conn().and_then(|c| c.end_of_stream_error()) {
                            t.set_error(e);
                        }
                    }
                    n
                }
                Err(e) => {
                    t.clear_error();
                    t.track::<()>(Err(e)).map_or(-1, |_| 0)
                }
            },
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Writes up to `buflen` bytes of `buf`, running the handshake first if needed.
///
/// Returns the bytes written (> 0) once the ciphertext carrying them has been handed to the
/// transport in full; TLS_WANT_POLLOUT / TLS_WANT_POLLIN when the transport would block
/// (call again with the same data: bytes already taken are reported then, never sent
/// twice; fewer bytes than were taken is -1); with `buflen` 0, as tls_flush (0 once nothing
/// is queued); or -1 on failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_write(
    ctx: *mut Tls,
    buf: *const c_void,
    buflen: usize,
) -> libc::ssize_t {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => match slice(buf, buflen, "buf") {
                Ok(b) => t.io(|c| c.write(b).map(|n| n as isize)),
                Err(e) => {
                    t.clear_error();
                    t.track::<()>(Err(e)).map_or(-1, |_| 0)
                }
            },
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Sends every queued byte, out-of-turn ones (deferred tickets, a KeyUpdate answer)
/// included.
///
/// Returns 0 when nothing is left to send, TLS_WANT_POLLOUT when the transport would block,
/// or -1 on failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_flush(ctx: *mut Tls) -> c_int {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => t.io(|c| c.flush().map(|()| 0)) as c_int,
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Closes the connection: sends any deferred bytes, then close_notify (a client first reads
/// and discards, without blocking, records that already arrived, so its close causes no TCP
/// reset). A peer that has gone (EPIPE, ECONNRESET, ENOTCONN) does not make it fail. The
/// socket is closed only if tls_connect created it.
///
/// Returns 0 once close_notify is sent (0 again when called twice), TLS_WANT_POLLOUT when
/// the transport would block (call again), or -1 on failure, including "EOF without
/// close_notify" after the peer's bare EOF (TLS_ERROR_TRUNCATED, again on every later
/// call). After tls_close, the connection reads and writes nothing more: tls_read,
/// tls_write and tls_feed fail with TLS_ERROR_WRONG_STATE.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_close(ctx: *mut Tls) -> c_int {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => {
                let r = t.io(|c| c.close().map(|()| 0)) as c_int;
                if r == 0 || r == -1 {
                    t.after_close();
                }
                r
            }
            Err(e) => fail_null(e, -1),
        })
    )
}

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

/// Returns the bytes waiting inside `ctx` for tls_read(): decrypted plaintext, plus, with
/// tls_config_set_read_ahead, ciphertext read ahead from the transport. A loop must call
/// tls_read again, not wait on the fd, while this is non-zero. 0 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_pending_read(ctx: *mut Tls) -> usize {
    boundary!(0, ctx_mut(ctx).ok().and_then(|t| t.conn_mut()).map_or(0, |c| c.pending_read()))
}

/// Returns the ciphertext bytes queued for the transport, deferred bytes excluded. 0 for
/// NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_pending_write(ctx: *mut Tls) -> usize {
    boundary!(0, ctx_mut(ctx).ok().and_then(|t| t.conn_mut()).map_or(0, |c| c.pending_write()))
}

/// Returns the out-of-turn bytes (deferred tickets, KeyUpdate answers, a tls_key_update) held
/// back until the next write-side call; 0 once released. 0 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_pending_deferred(ctx: *mut Tls) -> usize {
    boundary!(0, ctx_mut(ctx).ok().and_then(|t| t.conn_mut()).map_or(0, |c| c.pending_deferred()))
}

/// Returns the poll(2) events (POLLIN, POLLOUT) the connection needs now: POLLOUT while
/// bytes are due (deferred bytes count only under TLS_TICKETS_OPPORTUNISTIC), POLLIN while
/// it can use input. 0 for NULL or an unconnected context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_events(ctx: *mut Tls) -> c_int {
    boundary!(
        0,
        ctx_mut(ctx).ok().and_then(|t| t.conn_mut()).map_or(0, |c| {
            let (input, output) = c.events();
            (if input { libc::POLLIN as c_int } else { 0 })
                | (if output { libc::POLLOUT as c_int } else { 0 })
        })
    )
}

/// Splits libtls's "host:port" / "[v6]:port" form used when `port` is NULL.
fn split_host_port(host: &str) -> Option<(&str, &str)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        return Some((h, p));
    }
    let (h, p) = host.rsplit_once(':')?;
    (!h.contains(':')).then_some((h, p))
}

fn connect_tcp(
    tls: &mut Tls,
    ctx: *mut Tls,
    host: *const c_char,
    port: *const c_char,
    servername: *const c_char,
) -> crate::error::Result<()> {
    let host = crate::ffi::handle::cstr(host, "host")?;
    let (host, port) = match opt_cstr(port, "port")? {
        Some(p) => (host, p),
        None => split_host_port(host)
            .ok_or_else(|| Error::arg(format!("no port given and '{host}' is not host:port")))?,
    };
    let name = match opt_cstr(servername, "servername")? {
        Some(n) => Some(n.to_owned()),
        None => Some(host.to_owned()),
    };
    let fd = crate::ffi::transport::tcp_connect(host, port)?;
    let _ = ctx;
    let r = tls.connect(Box::new(FdTransport::new(fd, fd)), name.as_deref());
    match r {
        Ok(()) => {
            tls.own_fd(fd);
            Ok(())
        }
        Err(e) => {
            crate::ffi::transport::close_fd(fd);
            Err(e)
        }
    }
}

/// Resolves `host` and connects a blocking TCP socket to `port` (a number or a service
/// name; NULL: `host` is "host:port"), then starts a client connection over it with `host`
/// as the server name. The socket belongs to nbtls: tls_close and tls_free close it.
///
/// Returns 0, or -1 if resolution or every connection attempt fails.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_connect(
    ctx: *mut Tls,
    host: *const c_char,
    port: *const c_char,
) -> c_int {
    boundary!(-1, connect_host(ctx, host, port, std::ptr::null()))
}

/// As tls_connect, verifying and sending `servername` (NULL: `host`) instead of `host`.
///
/// Returns 0 or -1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_connect_servername(
    ctx: *mut Tls,
    host: *const c_char,
    port: *const c_char,
    servername: *const c_char,
) -> c_int {
    boundary!(-1, connect_host(ctx, host, port, servername))
}

/// The body of tls_connect and tls_connect_servername.
fn connect_host(
    ctx: *mut Tls,
    host: *const c_char,
    port: *const c_char,
    servername: *const c_char,
) -> c_int {
    match ctx_mut(ctx) {
        Ok(t) => {
            t.clear_error();
            let r = connect_tcp(t, ctx, host, port, servername);
            t.track(r).map_or(-1, |()| 0)
        }
        Err(e) => fail_null(e, -1),
    }
}
