//! Exports of the ticket policy and KeyUpdate family (the README's "Out-of-turn writes").
use std::ffi::c_int;

use crate::config::{Config, TicketPolicy};
use crate::error::Error;
use crate::ffi::config_util::edit_setter;
use crate::ffi::conn_util::{fail_null, io_end};
use crate::ffi::ctx::Tls;
use crate::ffi::handle::{ctx_mut, ctx_ref};

fn parse_policy(v: c_int) -> crate::error::Result<TicketPolicy> {
    TicketPolicy::from_int(v).ok_or_else(|| Error::arg(format!("unknown ticket policy {v}")))
}

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
    boundary!(
        -1,
        edit_setter(config, |s| {
            s.ticket_policy = parse_policy(ticket_policy)?;
            Ok(())
        })
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
                let r = parse_policy(ticket_policy).and_then(|p| t.set_ticket_policy(p));
                t.track(r).map_or(-1, |()| 0)
            }
            Err(e) => fail_null(e, -1),
        }
    )
}

/// Sets how many tickets a full TLS 1.3 handshake issues (default 2; 0: none).
///
/// Returns 0, or -1 for a negative count or one over 16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_num_tickets(
    config: *mut Config,
    num_tickets: c_int,
) -> c_int {
    boundary!(
        -1,
        edit_setter(config, |s| {
            if !(0..=16).contains(&num_tickets) {
                return Err(Error::arg(format!("number of tickets {num_tickets} is not in 0..16")));
            }
            s.num_tickets = num_tickets as usize;
            Ok(())
        })
    )
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
    boundary!(
        -1,
        edit_setter(config, |s| {
            if !(0..=16).contains(&max_tickets) {
                return Err(Error::arg(format!("maximum tickets {max_tickets} is not in 0..16")));
            }
            s.max_tickets = max_tickets as usize;
            Ok(())
        })
    )
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
    boundary!(
        -1,
        edit_setter(config, |s| {
            if !(0..=604_800).contains(&lifetime) {
                return Err(Error::arg(format!(
                    "session lifetime {lifetime} is not in 0..604800 seconds"
                )));
            }
            s.session_lifetime = lifetime as u32;
            Ok(())
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
    boundary!(
        poison ctx,
        -1,
        io_end(match ctx_mut(ctx) {
            Ok(t) => t.io(|c| c.key_update().map(|()| 0)) as c_int,
            Err(e) => fail_null(e, -1),
        })
    )
}

/// Returns how many TLS 1.3 tickets this client connection has received so far (they arrive
/// as the client reads), 0 on a server, -1 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_tickets_received(ctx: *mut Tls) -> c_int {
    boundary!(
        -1,
        match ctx_ref(ctx) {
            Ok(t) => t.conn().map_or(0, |c| c.tickets_received() as c_int),
            Err(e) => fail_null(e, -1),
        }
    )
}

/// Returns 1 if this connection resumed an earlier session, 0 if not (or before the
/// handshake is complete), -1 for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_conn_session_resumed(ctx: *mut Tls) -> c_int {
    boundary!(
        -1,
        match ctx_ref(ctx) {
            Ok(t) => t.conn().and_then(|c| c.info()).map_or(0, |i| i.resumed as c_int),
            Err(e) => fail_null(e, -1),
        }
    )
}
