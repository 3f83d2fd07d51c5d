//! The I/O calls: `tls_handshake`, `tls_read`, `tls_write`, `tls_flush`, `tls_close`,
//! `tls_key_update`, the memory transport's `tls_feed`, `tls_feed_eof` and `tls_drain`, and
//! the event-loop helpers `tls_pending_*` and `tls_events`.
use std::ffi::{c_int, c_void};

use crate::ffi::conn_util::{fail_null, io_call, io_end};
use crate::ffi::ctx::Tls;
use crate::ffi::handle::{ctx_mut, slice, slice_mut};

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
    boundary!(poison ctx, -1, io_call(ctx, |c| c.handshake().map(|()| 0)) as c_int)
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
                Ok(b) => t.io_noted(|c| c.read_noting_eof(b).map(|(n, e)| (n as isize, e))),
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
    boundary!(poison ctx, -1, io_call(ctx, |c| c.flush().map(|()| 0)) as c_int)
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
    boundary!(poison ctx, -1, io_call(ctx, |c| c.feed_eof().map(|()| 0)) as c_int)
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

/// Queues a TLS 1.3 KeyUpdate that also asks the peer to update its keys; it leaves with the
/// next write-side call (tls_write, tls_flush, tls_close), behind any tickets still held
/// back and with them: until then it counts in tls_pending_deferred(). A peer (rustls-based ones
/// included) accepts at most 32 KeyUpdates without application data in between and then
/// fails the connection, so call it sparingly.
///
/// Returns 0, or -1 before the handshake is complete, on TLS 1.2, or after a failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_key_update(ctx: *mut Tls) -> c_int {
    boundary!(poison ctx, -1, io_call(ctx, |c| c.key_update().map(|()| 0)) as c_int)
}
