//! Exports of the memory transport: the application owns the bytes on the wire.
use std::ffi::{c_char, c_int, c_void};

use crate::conn::transport::Memory;
use crate::ffi::conn_util::{fail_null, io_end};
use crate::ffi::ctx::Tls;
use crate::ffi::handle::{ctx_mut, ctx_ref, opt_cstr, put_ctx, slice, slice_mut};

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

/// Hands `len` bytes of ciphertext received from the peer to a memory-transport connection,
/// which processes them at once (decrypted data then waits for tls_read).
///
/// Returns the bytes accepted — fewer than `len` when nbtls's buffers are full (read
/// plaintext with tls_read, then feed the rest) — or -1 on failure (not a memory transport,
/// a protocol error: tls_drain may then hold an alert for the peer).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_feed(ctx: *mut Tls, buf: *const c_void, len: usize) -> libc::ssize_t {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => match slice(buf, len, "buf") {
                Ok(b) => t.io(|c| c.feed(b).map(|n| n as isize)),
                Err(e) => {
                    t.clear_error();
                    t.track::<()>(Err(e)).map_or(-1, |_| 0)
                }
            },
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Tells a memory-transport connection that the peer closed its side (no more ciphertext
/// will come), so a clean close_notify and a truncation can be told apart.
///
/// Returns 0, or -1 (not a memory transport).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_feed_eof(ctx: *mut Tls) -> c_int {
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => t.io(|c| c.feed_eof().map(|()| 0)) as c_int,
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Copies up to `len` bytes of ciphertext that is due to the peer into `buf`. Deferred
/// out-of-turn bytes (tickets under TLS_TICKETS_DEFERRED) are not due until a write-side
/// call (tls_write, tls_flush, tls_close) released them.
///
/// Returns the bytes copied, 0 when nothing is due, or -1 (not a memory transport, NULL
/// `buf` with a non-zero `len`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_drain(ctx: *mut Tls, buf: *mut c_void, len: usize) -> libc::ssize_t {
    boundary!(
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => match slice_mut(buf, len, "buf") {
                Ok(b) => t.drain(b),
                Err(e) => {
                    t.clear_error();
                    t.track::<()>(Err(e)).map_or(-1, |_| 0)
                }
            },
            Err(e) => fail_null(e, -1),
        })
    )
}
