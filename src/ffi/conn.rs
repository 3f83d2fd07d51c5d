//! Contexts and how they connect: `tls_init`, `tls_client`, `tls_server`, `tls_configure`,
//! `tls_reset`, `tls_free`, the `tls_connect_*` and `tls_accept_*` calls for sockets, fds,
//! callbacks and memory, and `tls_set_ticket_policy`.
use std::ffi::{c_char, c_int, c_void};

use crate::config::Config;
use crate::conn::transport::{Io, Memory};
use crate::context::TcpTarget;
use crate::error::Error;
use crate::ffi::callback::{tls_read_cb, tls_write_cb, CbTransport};
use crate::ffi::conn_util::fail_null;
use crate::ffi::ctx::{Kind, Tls};
use crate::ffi::handle::{config_ref, ctx_free, ctx_into_raw, ctx_mut, ctx_ref, opt_cstr, put_ctx};
use crate::sys::fd::FdTransport;

/// Initialises the library; kept for libtls compatibility (nbtls needs no initialisation).
///
/// Returns 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_init() -> c_int {
    boundary!(-1, 0)
}

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
            tls.configure(None)
        } else {
            config_ref(config).and_then(|c| tls.configure(Some(c)))
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

fn connect(ctx: *mut Tls, servername: *const c_char, make: impl FnOnce(*mut Tls) -> Io) -> c_int {
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
    boundary!(-1, connect(ctx, servername, |_| Io::from(FdTransport::new(s, s))))
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
    boundary!(-1, connect(ctx, servername, |_| Io::from(FdTransport::new(fd_read, fd_write))))
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
        connect(ctx, servername, |p| {
            Io::from(Box::new(CbTransport::new(read_cb, write_cb, cb_arg, p)))
        })
    })
}

fn accept(ctx: *mut Tls, cctx: *mut *mut Tls, make: impl FnOnce() -> Io) -> c_int {
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
    boundary!(-1, accept(ctx, cctx, || Io::from(FdTransport::new(s, s))))
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
    boundary!(-1, accept(ctx, cctx, || Io::from(FdTransport::new(fd_read, fd_write))))
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

fn connect_tcp(
    tls: &mut Tls,
    host: *const c_char,
    port: *const c_char,
    servername: *const c_char,
) -> crate::error::Result<()> {
    let host = crate::ffi::handle::cstr(host, "host")?;
    let target = TcpTarget::new(host, opt_cstr(port, "port")?)?;
    let name = target.servername(opt_cstr(servername, "servername")?);
    let fd = crate::sys::net::tcp_connect(target.host, target.port)?;
    tls.connect_owned_fd(fd, FdTransport::new(fd, fd), name)
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
            let r = connect_tcp(t, host, port, servername);
            t.track(r).map_or(-1, |()| 0)
        }
        Err(e) => fail_null(e, -1),
    }
}

/// Starts a client connection over the memory transport: no fd, no callbacks; ciphertext
/// goes in with tls_feed and comes out with tls_drain. `servername` as for
/// tls_connect_socket. Then TLS_WANT_POLLIN means "feed me" and TLS_WANT_POLLOUT "drain me"
/// (when both apply, POLLOUT comes first: drain, then feed).
///
/// Returns 0, or -1 (not a client, already connected, no server name).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_connect_mem(ctx: *mut Tls, servername: *const c_char) -> c_int {
    boundary!(
        -1,
        match ctx_mut(ctx) {
            Ok(t) => {
                let r = opt_cstr(servername, "servername")
                    .and_then(|n| t.connect(Box::<Memory>::default(), n));
                t.track(r).map_or(-1, |()| 0)
            }
            Err(e) => fail_null(e, -1),
        }
    )
}

/// Accepts a connection over the memory transport on the listener `ctx`, storing the new
/// context in `*cctx` (free it with tls_free).
///
/// Returns 0, or -1 (not a configured server, NULL `cctx`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_accept_mem(ctx: *mut Tls, cctx: *mut *mut Tls) -> c_int {
    boundary!(
        -1,
        match ctx_ref(ctx) {
            Ok(t) => {
                if cctx.is_null() {
                    return t
                        .track::<()>(Err(crate::ffi::boundary::null_arg("cctx")))
                        .map_or(-1, |_| 0);
                }
                match t.track(t.accept(Box::<Memory>::default())) {
                    Ok(conn) => put_ctx(cctx, conn).map_or(-1, |()| 0),
                    Err(_) => -1,
                }
            }
            Err(e) => fail_null(e, -1),
        }
    )
}

/// Sets the ticket policy of one accepted connection: DEFERRED, OPPORTUNISTIC and IMMEDIATE
/// until its handshake completes; NONE only before its first I/O call (rustls fixes the
/// ticket count when it reads the ClientHello).
///
/// Returns 0, or -1 (not an accepted connection, too late, unknown policy).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_set_ticket_policy(ctx: *mut Tls, ticket_policy: c_int) -> c_int {
    boundary!(
        -1,
        match ctx_mut(ctx) {
            Ok(t) => {
                let r = t.set_ticket_policy(ticket_policy);
                t.track(r).map_or(-1, |()| 0)
            }
            Err(e) => fail_null(e, -1),
        }
    )
}
