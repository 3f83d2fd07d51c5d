//! The one error type of nbtls and the one mapping from rustls and I/O errors to stable codes.
use std::fmt;
use std::io;

use rustls::{AlertDescription, CertificateError};

/// A stable error code, as returned by `tls_error_code()`; numbered explicitly, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    /// No more precise code applies.
    Unknown = 0x0000,
    /// An allocation failed.
    OutOfMemory = 0x1000,
    /// The context or config is not usable for this call.
    InvalidContext = 0x2000,
    /// An argument was NULL, too long or out of range.
    InvalidArgument = 0x2001,
    /// The transport failed; `tls_error_errno()` has the errno.
    Io = 0x8001,
    /// The connection is closed.
    Closed = 0x8002,
    /// The peer ended the stream without close_notify.
    Truncated = 0x8003,
    /// The peer sent a fatal alert; `tls_error_alert()` has it.
    PeerAlert = 0x8004,
    /// The peer violated the TLS protocol.
    Protocol = 0x8005,
    /// The peer's certificate has expired.
    CertExpired = 0x8010,
    /// The peer's certificate is not valid yet.
    CertNotYetValid = 0x8011,
    /// The peer's certificate chains to no trusted root.
    CertUnknownCa = 0x8012,
    /// The peer's certificate is not valid for the expected name.
    CertNameMismatch = 0x8013,
    /// The peer's certificate may not be used for this purpose.
    CertBadUsage = 0x8014,
    /// Any other certificate failure.
    CertOther = 0x801f,
    /// The call is not allowed in the context's current state.
    WrongState = 0x8020,
    /// The option asked for is not supported by nbtls.
    Unsupported = 0x8021,
    /// An internal error (a caught panic); the context stays failed.
    Internal = 0x80ff,
}

/// A failure: a stable code, a message for humans, and the transport errno / TLS alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The stable code.
    pub code: Code,
    /// What went wrong, in words.
    pub msg: String,
    /// The errno of a transport failure, else 0.
    pub errno: i32,
    /// The TLS alert received (or sent for a local verification failure), if any.
    pub alert: Option<u8>,
}

/// Shorthand for results inside nbtls.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Makes an error with a code and a message.
    pub fn new(code: Code, msg: impl Into<String>) -> Self {
        Self { code, msg: msg.into(), errno: 0, alert: None }
    }

    /// An invalid-argument error.
    pub fn arg(msg: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, msg)
    }

    /// A wrong-state error.
    pub fn state(msg: impl Into<String>) -> Self {
        Self::new(Code::WrongState, msg)
    }

    /// An unsupported-option error.
    pub fn unsupported(msg: impl Into<String>) -> Self {
        Self::new(Code::Unsupported, msg)
    }

    /// A transport failure, keeping its errno.
    pub fn io(what: &str, e: &io::Error) -> Self {
        let errno = e.raw_os_error().unwrap_or(match e.kind() {
            io::ErrorKind::BrokenPipe => libc::EPIPE,
            io::ErrorKind::ConnectionReset => libc::ECONNRESET,
            io::ErrorKind::NotConnected => libc::ENOTCONN,
            _ => 0,
        });
        let mut err = Self::new(Code::Io, format!("{what}: {e}"));
        err.errno = errno;
        err
    }

    /// Maps a rustls error (the one place that does).
    pub fn tls(e: &rustls::Error) -> Self {
        use rustls::Error as E;
        let (code, alert) = match e {
            E::InvalidCertificate(c) => (cert_code(c), Some(cert_alert(c))),
            E::AlertReceived(d) => (Code::PeerAlert, Some(d.to_array()[0])),
            E::NoCertificatesPresented => (Code::CertOther, None),
            E::PeerIncompatible(_) => {
                (Code::Protocol, Some(alert_u8(AlertDescription::HandshakeFailure)))
            }
            E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
                (Code::Protocol, Some(alert_u8(AlertDescription::UnexpectedMessage)))
            }
            E::NoApplicationProtocol => {
                (Code::Protocol, Some(alert_u8(AlertDescription::NoApplicationProtocol)))
            }
            E::DecryptError | E::PeerSentOversizedRecord => (Code::Protocol, None),
            E::General(_)
            | E::FailedToGetCurrentTime
            | E::FailedToGetRandomBytes
            | E::EncryptError => (Code::Unknown, None),
            _ => (Code::Protocol, None),
        };
        let msg = match e {
            E::InvalidCertificate(c) => {
                format!("certificate verification failed: {}", cert_words(c))
            }
            E::AlertReceived(d) => format!("received fatal alert from peer: {d:?}"),
            other => format!("TLS error: {other}"),
        };
        let mut err = Self::new(code, msg);
        err.alert = alert;
        err
    }
}

fn alert_u8(d: AlertDescription) -> u8 {
    d.to_array()[0]
}

fn cert_code(c: &CertificateError) -> Code {
    use CertificateError as C;
    match c {
        C::Expired | C::ExpiredContext { .. } => Code::CertExpired,
        C::NotValidYet | C::NotValidYetContext { .. } => Code::CertNotYetValid,
        C::UnknownIssuer => Code::CertUnknownCa,
        C::NotValidForName | C::NotValidForNameContext { .. } => Code::CertNameMismatch,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => Code::CertBadUsage,
        _ => Code::CertOther,
    }
}

fn cert_alert(c: &CertificateError) -> u8 {
    use CertificateError as C;
    alert_u8(match c {
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            AlertDescription::CertificateExpired
        }
        C::UnknownIssuer => AlertDescription::UnknownCA,
        C::Revoked => AlertDescription::CertificateRevoked,
        _ => AlertDescription::BadCertificate,
    })
}

fn cert_words(c: &CertificateError) -> String {
    use CertificateError as C;
    match c {
        C::Expired | C::ExpiredContext { .. } => "certificate has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not yet valid".into(),
        C::UnknownIssuer => "unknown issuer: the chain does not end at a trusted CA".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "certificate name does not match the server name".into()
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "certificate is not valid for this purpose (extended key usage)".into()
        }
        other => format!("{other:?}"),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}
