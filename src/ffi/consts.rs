//! The constants of `tls.h` (libtls's values) and nbtls's own.
use std::ffi::c_int;

/// The libtls API version this header implements.
pub const TLS_API: c_int = 20200120;

/// TLS 1.0: not supported by nbtls (ignored in a protocol mask).
pub const TLS_PROTOCOL_TLSv1_0: u32 = 1 << 1;
/// TLS 1.1: not supported by nbtls (ignored in a protocol mask).
pub const TLS_PROTOCOL_TLSv1_1: u32 = 1 << 2;
/// TLS 1.2.
pub const TLS_PROTOCOL_TLSv1_2: u32 = 1 << 3;
/// TLS 1.3.
pub const TLS_PROTOCOL_TLSv1_3: u32 = 1 << 4;
/// Every TLS version libtls names.
pub const TLS_PROTOCOL_TLSv1: u32 =
    TLS_PROTOCOL_TLSv1_0 | TLS_PROTOCOL_TLSv1_1 | TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3;
/// Every TLS version libtls names.
pub const TLS_PROTOCOLS_ALL: u32 = TLS_PROTOCOL_TLSv1;
/// The default: TLS 1.2 and TLS 1.3.
pub const TLS_PROTOCOLS_DEFAULT: u32 = TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3;

/// Returned by an I/O call that needs the transport readable (memory transport: feed me).
pub const TLS_WANT_POLLIN: c_int = -2;
/// Returned by an I/O call that needs the transport writable (memory transport: drain me).
pub const TLS_WANT_POLLOUT: c_int = -3;
/// Alias of TLS_WANT_POLLIN.
pub const TLS_WANT_READ: c_int = TLS_WANT_POLLIN;
/// Alias of TLS_WANT_POLLOUT.
pub const TLS_WANT_WRITE: c_int = TLS_WANT_POLLOUT;

/// OCSP response status (RFC 6960 2.3): successful.
pub const TLS_OCSP_RESPONSE_SUCCESSFUL: c_int = 0;
/// OCSP response status: malformed request.
pub const TLS_OCSP_RESPONSE_MALFORMED: c_int = 1;
/// OCSP response status: internal error.
pub const TLS_OCSP_RESPONSE_INTERNALERROR: c_int = 2;
/// OCSP response status: try later.
pub const TLS_OCSP_RESPONSE_TRYLATER: c_int = 3;
/// OCSP response status: signature required.
pub const TLS_OCSP_RESPONSE_SIGREQUIRED: c_int = 4;
/// OCSP response status: unauthorized.
pub const TLS_OCSP_RESPONSE_UNAUTHORIZED: c_int = 5;
/// OCSP certificate status (RFC 6960 2.2): good.
pub const TLS_OCSP_CERT_GOOD: c_int = 0;
/// OCSP certificate status: revoked.
pub const TLS_OCSP_CERT_REVOKED: c_int = 1;
/// OCSP certificate status: unknown.
pub const TLS_OCSP_CERT_UNKNOWN: c_int = 2;
/// CRL reason (RFC 5280 5.3.1): unspecified.
pub const TLS_CRL_REASON_UNSPECIFIED: c_int = 0;
/// CRL reason: key compromise.
pub const TLS_CRL_REASON_KEY_COMPROMISE: c_int = 1;
/// CRL reason: CA compromise.
pub const TLS_CRL_REASON_CA_COMPROMISE: c_int = 2;
/// CRL reason: affiliation changed.
pub const TLS_CRL_REASON_AFFILIATION_CHANGED: c_int = 3;
/// CRL reason: superseded.
pub const TLS_CRL_REASON_SUPERSEDED: c_int = 4;
/// CRL reason: cessation of operation.
pub const TLS_CRL_REASON_CESSATION_OF_OPERATION: c_int = 5;
/// CRL reason: certificate hold.
pub const TLS_CRL_REASON_CERTIFICATE_HOLD: c_int = 6;
/// CRL reason: remove from CRL.
pub const TLS_CRL_REASON_REMOVE_FROM_CRL: c_int = 8;
/// CRL reason: privilege withdrawn.
pub const TLS_CRL_REASON_PRIVILEGE_WITHDRAWN: c_int = 9;
/// CRL reason: AA compromise.
pub const TLS_CRL_REASON_AA_COMPROMISE: c_int = 10;

/// The longest session ID `tls_config_set_session_id` takes.
pub const TLS_MAX_SESSION_ID_LENGTH: c_int = 32;
/// The size of a key for `tls_config_add_ticket_key`.
pub const TLS_TICKET_KEY_SIZE: c_int = 48;

/// Ticket policy: tickets wait for the next write-side call (the default).
pub const TLS_TICKETS_DEFERRED: c_int = 0;
/// Ticket policy: as DEFERRED, plus one non-blocking send attempt per call (sockets, memory).
pub const TLS_TICKETS_OPPORTUNISTIC: c_int = 1;
/// Ticket policy: the handshake call returns 0 only once the tickets are sent (OpenSSL's way).
pub const TLS_TICKETS_IMMEDIATE: c_int = 2;
/// Ticket policy: no tickets are issued.
pub const TLS_TICKETS_NONE: c_int = 3;

/// Error code: nothing more precise applies.
pub const TLS_ERROR_UNKNOWN: c_int = 0x0000;
/// Error code: out of memory.
pub const TLS_ERROR_OUT_OF_MEMORY: c_int = 0x1000;
/// Error code: the context or config cannot be used for this call.
pub const TLS_ERROR_INVALID_CONTEXT: c_int = 0x2000;
/// Error code: an argument was NULL, too long or out of range.
pub const TLS_ERROR_INVALID_ARGUMENT: c_int = 0x2001;
/// Error code: the transport failed; see tls_error_errno().
pub const TLS_ERROR_IO: c_int = 0x8001;
/// Error code: the connection is closed.
pub const TLS_ERROR_CLOSED: c_int = 0x8002;
/// Error code: the peer ended the stream without close_notify.
pub const TLS_ERROR_TRUNCATED: c_int = 0x8003;
/// Error code: the peer sent a fatal alert; see tls_error_alert().
pub const TLS_ERROR_PEER_ALERT: c_int = 0x8004;
/// Error code: the peer violated the protocol.
pub const TLS_ERROR_PROTOCOL: c_int = 0x8005;
/// Error code: the peer's certificate has expired.
pub const TLS_ERROR_CERT_EXPIRED: c_int = 0x8010;
/// Error code: the peer's certificate is not valid yet.
pub const TLS_ERROR_CERT_NOT_YET_VALID: c_int = 0x8011;
/// Error code: the peer's certificate does not chain to a trusted CA.
pub const TLS_ERROR_CERT_UNKNOWN_CA: c_int = 0x8012;
/// Error code: the peer's certificate does not name the server.
pub const TLS_ERROR_CERT_NAME_MISMATCH: c_int = 0x8013;
/// Error code: the peer's certificate may not be used for this purpose.
pub const TLS_ERROR_CERT_BAD_USAGE: c_int = 0x8014;
/// Error code: another certificate failure.
pub const TLS_ERROR_CERT_OTHER: c_int = 0x801f;
/// Error code: the call is not allowed in the context's state.
pub const TLS_ERROR_WRONG_STATE: c_int = 0x8020;
/// Error code: the option is not supported by nbtls.
pub const TLS_ERROR_UNSUPPORTED: c_int = 0x8021;
/// Error code: internal error (a caught panic); the context stays failed.
pub const TLS_ERROR_INTERNAL: c_int = 0x80ff;

// Each value above that the core also knows is checked against the core's one at compile
// time (tests/header.rs checks the header's C values against the core's at run time).
const _: () = {
    use crate::config::{tickets, TicketPolicy};
    use crate::error::Code;
    use crate::policy;
    assert!(TLS_PROTOCOL_TLSv1_0 == policy::PROTO_TLS1_0);
    assert!(TLS_PROTOCOL_TLSv1_1 == policy::PROTO_TLS1_1);
    assert!(TLS_PROTOCOL_TLSv1_2 == policy::PROTO_TLS1_2);
    assert!(TLS_PROTOCOL_TLSv1_3 == policy::PROTO_TLS1_3);
    assert!(TLS_PROTOCOLS_ALL == policy::PROTOCOLS_ALL);
    assert!(TLS_PROTOCOLS_DEFAULT == policy::PROTOCOLS_DEFAULT);
    assert!(TLS_MAX_SESSION_ID_LENGTH as usize == tickets::SESSION_ID_SIZE);
    assert!(TLS_TICKET_KEY_SIZE as usize == tickets::KEY_SIZE);
    assert!(TLS_TICKETS_DEFERRED == TicketPolicy::Deferred as c_int);
    assert!(TLS_TICKETS_OPPORTUNISTIC == TicketPolicy::Opportunistic as c_int);
    assert!(TLS_TICKETS_IMMEDIATE == TicketPolicy::Immediate as c_int);
    assert!(TLS_TICKETS_NONE == TicketPolicy::None as c_int);
    assert!(TLS_ERROR_UNKNOWN == Code::Unknown as c_int);
    assert!(TLS_ERROR_OUT_OF_MEMORY == Code::OutOfMemory as c_int);
    assert!(TLS_ERROR_INVALID_CONTEXT == Code::InvalidContext as c_int);
    assert!(TLS_ERROR_INVALID_ARGUMENT == Code::InvalidArgument as c_int);
    assert!(TLS_ERROR_IO == Code::Io as c_int);
    assert!(TLS_ERROR_CLOSED == Code::Closed as c_int);
    assert!(TLS_ERROR_TRUNCATED == Code::Truncated as c_int);
    assert!(TLS_ERROR_PEER_ALERT == Code::PeerAlert as c_int);
    assert!(TLS_ERROR_PROTOCOL == Code::Protocol as c_int);
    assert!(TLS_ERROR_CERT_EXPIRED == Code::CertExpired as c_int);
    assert!(TLS_ERROR_CERT_NOT_YET_VALID == Code::CertNotYetValid as c_int);
    assert!(TLS_ERROR_CERT_UNKNOWN_CA == Code::CertUnknownCa as c_int);
    assert!(TLS_ERROR_CERT_NAME_MISMATCH == Code::CertNameMismatch as c_int);
    assert!(TLS_ERROR_CERT_BAD_USAGE == Code::CertBadUsage as c_int);
    assert!(TLS_ERROR_CERT_OTHER == Code::CertOther as c_int);
    assert!(TLS_ERROR_WRONG_STATE == Code::WrongState as c_int);
    assert!(TLS_ERROR_UNSUPPORTED == Code::Unsupported as c_int);
    assert!(TLS_ERROR_INTERNAL == Code::Internal as c_int);
};
