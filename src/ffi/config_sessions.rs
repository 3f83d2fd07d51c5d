//! The `tls_config_*` ticket and session setters: the ticket policy, counts and lifetime,
//! the session caches, session fd and ID, and ticket keys.
use std::ffi::{c_int, c_uchar, c_void};

use crate::config::{setters, Config};
use crate::ffi::config_util::setter;
use crate::ffi::handle::slice;
use crate::sys;

/// Sets when a TLS 1.3 server's NewSessionTickets leave: TLS_TICKETS_DEFERRED (default:
/// ahead of the first byte of the next tls_write, tls_flush or tls_close; never deadlocks,
/// never causes a reset), TLS_TICKETS_OPPORTUNISTIC (as DEFERRED, plus one non-blocking send
/// attempt per call on sockets and the memory transport), TLS_TICKETS_IMMEDIATE (the
/// handshake call returns 0 only once they are sent, as OpenSSL; can deadlock a client that
/// writes a large request before reading) or TLS_TICKETS_NONE (no tickets).
///
/// Returns 0, or -1 for an unknown policy.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ticket_policy(
    config: *mut Config,
    ticket_policy: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_ticket_policy(ticket_policy)))
}

/// Sets how many tickets a full TLS 1.3 handshake issues (default 2; 0: none).
///
/// Returns 0, or -1 for a negative count or one over 16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_num_tickets(
    config: *mut Config,
    num_tickets: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_num_tickets(num_tickets)))
}

/// Sets the most tickets a client's RFC 9149 ticket_request is granted (default 0: requests
/// are ignored and num_tickets apply).
///
/// Returns 0, or -1 for a negative count or one over 16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_max_tickets(
    config: *mut Config,
    max_tickets: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_max_tickets(max_tickets)))
}

/// Sets the session lifetime in seconds that tickets announce (default 7200; libtls's
/// default is 0). 0 means no tickets are issued at all.
///
/// Returns 0, or -1 for a negative lifetime or one over 7 days (RFC 8446's limit).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_lifetime(
    config: *mut Config,
    lifetime: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_session_lifetime(lifetime)))
}

/// Sets how many sessions the config's caches hold: a client's (one entry per server name)
/// and a server's session-ID cache (TLS 1.2 clients without tickets). Default 1024; 0 turns
/// both off. The caches are emptied; contexts configured afterwards use the new ones.
///
/// Returns 0, or -1 for a NULL config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_cache_size(
    config: *mut Config,
    size: usize,
) -> c_int {
    boundary!(-1, setter(config, |c| c.set_session_cache_size(size)))
}

/// Checks a file in which libtls keeps a client's session: `session_fd` must be a regular
/// file owned by the user with mode 0600, as libtls requires (-1 unsets it). The file is then
/// ignored: rustls cannot serialize a client session, so sessions stay in the config's
/// memory cache, shared by every context configured from it.
///
/// Returns 0, or -1 if the fd cannot be examined or fails those checks.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_fd(
    config: *mut Config,
    session_fd: c_int,
) -> c_int {
    boundary!(-1, setter(config, |_| setters::check_session_fd(session_fd, sys::file::facts)))
}

/// Sets a server's session ID context (at most 32 bytes, zero-padded, as in libtls):
/// sessions and tickets are resumed only by a server with the same context.
///
/// Returns 0, or -1 if `len` is over 32 (TLS_ERROR_INVALID_ARGUMENT).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_session_id(
    config: *mut Config,
    session_id: *const c_uchar,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            // The length is checked first: (NULL, 33) is "too large", as in libtls.
            setters::check_session_id_len(len)?;
            c.set_session_id(slice(session_id.cast::<c_void>(), len, "session ID")?)
        })
    )
}

/// Adds a session ticket key of TLS_TICKET_KEY_SIZE (48) bytes, named by `keyrev`, so that
/// servers given the same keys resume each other's sessions. The newest key encrypts
/// tickets, up to 3 older ones only decrypt; each is valid for the session lifetime after it
/// was added, and with no valid key no ticket is issued. Adding a key turns the config's
/// automatic rekeying off. It takes effect at once, also for contexts already configured.
/// A ticket resumes only on a server whose session ID context and client-certificate
/// settings (mode, CAs, CRLs, verify depth, insecure flags) equal those it was issued
/// under; elsewhere a full handshake follows. Tickets are nbtls's own format (README,
/// "Server resumption"), not libtls's or OpenSSL's.
///
/// Returns 0 (also when re-adding the newest key), or -1 for a wrong length or another key
/// with the same `keyrev`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_ticket_key(
    config: *mut Config,
    keyrev: u32,
    key: *mut c_uchar,
    keylen: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let k = slice(key.cast_const().cast::<c_void>(), keylen, "ticket key")?;
            c.add_ticket_key(keyrev, k)
        })
    )
}
