//! What each `tls_config_*` setter accepts and what it stores: the rules behind the
//! exports, which only turn C arguments into Rust ones and call these.
use std::io;
use std::path::PathBuf;

use crate::config::{pem, suites, tickets, Config, Settings, TicketPolicy};
use crate::error::{Error, Result};
use crate::policy;

/// The most tickets `tls_config_set_num_tickets` and `tls_config_set_max_tickets` allow.
const MAX_TICKETS: i32 = 16;
/// The longest session lifetime, in seconds: 7 days, RFC 8446's limit.
const MAX_SESSION_LIFETIME: i32 = 604_800;
/// The smallest outgoing buffer limit.
const MIN_BUFFER_LIMIT: usize = 1024;
/// The longest ALPN protocol name.
const MAX_ALPN_NAME: usize = 255;

/// `tls_config_parse_protocols`: the protocol bits a libtls protocol string names (`None`
/// means "default"); INVALID_ARGUMENT naming the string when it names none.
pub fn parse_protocols(s: Option<&str>) -> Result<u32> {
    let s = s.unwrap_or("default");
    policy::parse_protocols(s).ok_or_else(|| Error::arg(format!("invalid protocol string '{s}'")))
}

/// `tls_config_set_session_id`'s length rule, checked before the bytes are looked at: at
/// most [`tickets::SESSION_ID_SIZE`] bytes.
pub fn check_session_id_len(len: usize) -> Result<()> {
    if len > tickets::SESSION_ID_SIZE {
        return Err(Error::arg("session ID too large"));
    }
    Ok(())
}

/// What `tls_config_set_session_fd` learns of a file from the OS (`fstat`), and who asks.
pub struct FileFacts {
    /// A regular file.
    pub regular: bool,
    /// Its owner's user ID.
    pub owner: u32,
    /// Its mode (type and permission bits).
    pub mode: u32,
    /// The calling process's user ID.
    pub user: u32,
}

/// `tls_config_set_session_fd`'s rule, as libtls's: -1 unsets; any other fd must be a
/// regular file owned by the user with mode 0600. `facts` asks the OS about `fd`, only when
/// it is not -1. The file is then ignored (rustls cannot serialize a client session), so
/// nothing is stored.
pub fn check_session_fd(fd: i32, facts: impl FnOnce(i32) -> io::Result<FileFacts>) -> Result<()> {
    if fd == -1 {
        return Ok(());
    }
    let st = facts(fd).map_err(|e| Error::io("failed to stat session file", &e))?;
    if !st.regular {
        return Err(Error::arg("session file is not a regular file"));
    }
    if st.owner != st.user {
        return Err(Error::arg(format!(
            "session file has incorrect owner (uid {} != {})",
            st.owner, st.user
        )));
    }
    let mode = st.mode & 0o777;
    if mode != 0o600 {
        return Err(Error::arg(format!(
            "session file has incorrect permissions ({mode:o} != 600)"
        )));
    }
    Ok(())
}

/// A count of tickets in 0..=16, or INVALID_ARGUMENT with `what` in the message.
fn ticket_count(n: i32, what: &str) -> Result<usize> {
    if !(0..=MAX_TICKETS).contains(&n) {
        return Err(Error::arg(format!("{what} {n} is not in 0..{MAX_TICKETS}")));
    }
    Ok(n as usize)
}

impl Config {
    /// `tls_config_set_ca_*`: CA certificates in PEM, which must hold one (`what` names the
    /// source in the error).
    pub fn set_ca_pem(&self, bytes: Vec<u8>, what: &str) -> Result<()> {
        pem::certs(&bytes, what)?;
        self.edit(|s| {
            s.ca_pem = Some(bytes);
            Ok(())
        })
    }

    /// `tls_config_set_ca_path`: a directory of CA certificates, read by tls_configure.
    pub fn set_ca_path(&self, dir: PathBuf) -> Result<()> {
        self.edit(|s| {
            s.ca_path = Some(dir);
            Ok(())
        })
    }

    /// `tls_config_set_cert_*`: the certificate chain in PEM, which must hold one.
    pub fn set_cert_pem(&self, bytes: Vec<u8>, what: &str) -> Result<()> {
        pem::certs(&bytes, what)?;
        self.edit(|s| {
            s.cert_pem = Some(bytes);
            Ok(())
        })
    }

    /// `tls_config_set_key_*`: the private key in PEM, which must hold a usable one.
    pub fn set_key_pem(&self, bytes: Vec<u8>) -> Result<()> {
        pem::key(&bytes)?;
        self.edit(|s| {
            s.key_pem = Some(bytes);
            Ok(())
        })
    }

    /// `tls_config_set_protocols`: libtls protocol bits; bits libtls does not define are
    /// INVALID_ARGUMENT.
    pub fn set_protocols(&self, protocols: u32) -> Result<()> {
        if protocols & !policy::PROTOCOLS_ALL != 0 {
            return Err(Error::arg(format!("unknown protocol bits 0x{protocols:x}")));
        }
        self.edit(|s| {
            s.protocols = protocols;
            Ok(())
        })
    }

    /// `tls_config_set_alpn`: a comma-separated list of names of 1 to 255 bytes.
    pub fn set_alpn(&self, list: &str) -> Result<()> {
        let mut alpn = Vec::new();
        for p in list.split(',') {
            if p.is_empty() || p.len() > MAX_ALPN_NAME {
                return Err(Error::arg(format!("invalid ALPN list '{list}'")));
            }
            alpn.push(p.as_bytes().to_vec());
        }
        self.edit(|s| {
            s.alpn = alpn;
            Ok(())
        })
    }

    /// `tls_config_set_buffer_limit`: at least 1024 bytes.
    pub fn set_buffer_limit(&self, limit: usize) -> Result<()> {
        if limit < MIN_BUFFER_LIMIT {
            return Err(Error::arg("buffer limit must be at least 1024 bytes"));
        }
        self.edit(|s| {
            s.buffer_limit = limit;
            Ok(())
        })
    }

    /// `tls_config_set_ciphers`: a libtls keyword or OpenSSL cipher string (`None` means
    /// "secure").
    pub fn set_ciphers(&self, ciphers: Option<&str>) -> Result<()> {
        let list = suites::parse_ciphers(ciphers.unwrap_or("secure"))?;
        self.edit(|s| {
            s.ciphers = Some(list);
            Ok(())
        })
    }

    /// `tls_config_set_dheparams`: "none", "auto" or "legacy" in any case, or `None`; all
    /// are accepted and ignored (rustls has no finite-field DHE), so nothing is stored.
    pub fn set_dheparams(&self, params: Option<&str>) -> Result<()> {
        match params {
            None => Ok(()),
            Some(p) if ["none", "auto", "legacy"].iter().any(|k| p.eq_ignore_ascii_case(k)) => {
                Ok(())
            }
            Some(p) => Err(Error::arg(format!("invalid dhe param '{p}'"))),
        }
    }

    /// `tls_config_set_ecdhecurves`: a list of groups, see [`suites::parse_curves`].
    pub fn set_ecdhecurves(&self, curves: Option<&str>) -> Result<()> {
        let groups = suites::parse_curves(curves)?;
        self.edit(|s| {
            s.groups = groups;
            Ok(())
        })
    }

    /// `tls_config_set_ecdhecurve`: one group; `None`, "none" and "auto" mean the default
    /// groups, and a list (a ',' or ':') is INVALID_ARGUMENT.
    pub fn set_ecdhecurve(&self, curve: Option<&str>) -> Result<()> {
        let curve = match curve {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("none") || v.eq_ignore_ascii_case("auto") => None,
            Some(v) if v.contains([',', ':']) => {
                return Err(Error::arg(format!("invalid ecdhe curve '{v}'")))
            }
            Some(v) => Some(v),
        };
        self.set_ecdhecurves(curve)
    }

    /// `tls_config_set_ticket_policy`: a TLS_TICKETS_* value.
    pub fn set_ticket_policy(&self, policy: i32) -> Result<()> {
        let policy = TicketPolicy::parse(policy)?;
        self.edit(|s| {
            s.ticket_policy = policy;
            Ok(())
        })
    }

    /// `tls_config_set_num_tickets`: 0 to 16.
    pub fn set_num_tickets(&self, n: i32) -> Result<()> {
        let n = ticket_count(n, "number of tickets")?;
        self.edit(|s| {
            s.num_tickets = n;
            Ok(())
        })
    }

    /// `tls_config_set_max_tickets`: 0 to 16.
    pub fn set_max_tickets(&self, n: i32) -> Result<()> {
        let n = ticket_count(n, "maximum tickets")?;
        self.edit(|s| {
            s.max_tickets = n;
            Ok(())
        })
    }

    /// `tls_config_set_session_lifetime`: 0 to 604800 seconds.
    pub fn set_session_lifetime(&self, lifetime: i32) -> Result<()> {
        if !(0..=MAX_SESSION_LIFETIME).contains(&lifetime) {
            return Err(Error::arg(format!(
                "session lifetime {lifetime} is not in 0..{MAX_SESSION_LIFETIME} seconds"
            )));
        }
        self.edit(|s| {
            s.session_lifetime = lifetime as u32;
            Ok(())
        })
    }

    /// `tls_config_set_session_id`: at most 32 bytes, stored zero-padded.
    pub fn set_session_id(&self, id: &[u8]) -> Result<()> {
        check_session_id_len(id.len())?;
        let mut ctx = [0u8; tickets::SESSION_ID_SIZE];
        ctx[..id.len()].copy_from_slice(id);
        self.edit(|s| {
            s.session_id = ctx;
            Ok(())
        })
    }

    /// `tls_config_set_crl_*`: CRLs in PEM, which must hold one.
    pub fn set_crl_pem(&self, bytes: Vec<u8>) -> Result<()> {
        super::parse_crls(&bytes)?;
        self.edit(|s| {
            s.crl_pem = Some(bytes);
            Ok(())
        })
    }

    /// `tls_config_set_verify_depth`: not negative.
    pub fn set_verify_depth(&self, depth: i32) -> Result<()> {
        if depth < 0 {
            return Err(Error::arg(format!("invalid verify depth {depth}")));
        }
        self.edit(|s| {
            s.verify_depth = depth;
            Ok(())
        })
    }

    /// `tls_config_set_ocsp_staple_*`: the default keypair's OCSP staple (DER); empty means
    /// none.
    pub fn set_ocsp_staple(&self, staple: Vec<u8>) -> Result<()> {
        self.edit(|s| {
            s.ocsp_staple = Some(staple).filter(|o| !o.is_empty());
            Ok(())
        })
    }
}

impl Settings {
    /// `tls_config_clear_keys`: overwrites the private key, then drops it.
    pub fn clear_key(&mut self) {
        if let Some(mut k) = self.key_pem.take() {
            k.iter_mut().for_each(|b| *b = 0);
            std::hint::black_box(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_their_messages() {
        let c = Config::new().unwrap();
        assert_eq!(c.set_protocols(1 << 20).unwrap_err().msg, "unknown protocol bits 0x100000");
        assert_eq!(c.set_alpn("h2,").unwrap_err().msg, "invalid ALPN list 'h2,'");
        assert!(c.set_alpn(&"x".repeat(256)).is_err());
        c.set_alpn("h2,http/1.1").unwrap();
        assert_eq!(c.settings().alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert!(c.set_buffer_limit(1023).is_err());
        c.set_buffer_limit(1024).unwrap();
        assert_eq!(c.set_num_tickets(17).unwrap_err().msg, "number of tickets 17 is not in 0..16");
        assert_eq!(c.set_max_tickets(-1).unwrap_err().msg, "maximum tickets -1 is not in 0..16");
        assert_eq!(
            c.set_session_lifetime(604_801).unwrap_err().msg,
            "session lifetime 604801 is not in 0..604800 seconds"
        );
        assert_eq!(c.set_session_id(&[1; 33]).unwrap_err().msg, "session ID too large");
        c.set_session_id(&[1; 3]).unwrap();
        assert_eq!(c.settings().session_id[..4], [1, 1, 1, 0]);
        assert_eq!(c.set_verify_depth(-1).unwrap_err().msg, "invalid verify depth -1");
        assert_eq!(c.set_dheparams(Some("x")).unwrap_err().msg, "invalid dhe param 'x'");
        c.set_dheparams(Some("AUTO")).unwrap();
        assert_eq!(
            c.set_ecdhecurve(Some("X25519:P-256")).unwrap_err().msg,
            "invalid ecdhe curve 'X25519:P-256'"
        );
        assert_eq!(parse_protocols(Some("")).unwrap_err().msg, "invalid protocol string ''");
        assert_eq!(parse_protocols(None).unwrap(), policy::PROTOCOLS_DEFAULT);
        c.set_ocsp_staple(Vec::new()).unwrap();
        let file =
            |regular, owner, mode| move |_| Ok(FileFacts { regular, owner, mode, user: 1000 });
        check_session_fd(-1, |_| -> io::Result<FileFacts> { panic!("-1 is not looked at") })
            .unwrap();
        check_session_fd(3, file(true, 1000, 0o100600)).unwrap();
        let e = check_session_fd(3, file(false, 1000, 0o600)).unwrap_err();
        assert_eq!(e.msg, "session file is not a regular file");
        let e = check_session_fd(3, file(true, 0, 0o600)).unwrap_err();
        assert_eq!(e.msg, "session file has incorrect owner (uid 0 != 1000)");
        let e = check_session_fd(3, file(true, 1000, 0o100644)).unwrap_err();
        assert_eq!(e.msg, "session file has incorrect permissions (644 != 600)");
        let e = check_session_fd(3, |_| Err(io::Error::from_raw_os_error(libc::EBADF)));
        assert!(e.unwrap_err().msg.starts_with("failed to stat session file"));
        assert!(c.settings().ocsp_staple.is_none());
    }
}
