//! The `tls_config_*` family: making and freeing configs, their errors, and every setter:
//! trust, keys and keypairs, protocols, ALPN, verification, buffers, ciphers and curves,
//! tickets and sessions, client certificates, SNI keypairs, OCSP staples, CRLs, key logging.
use std::ffi::{c_char, c_int, c_uchar, c_void, CStr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::config::keylog::Sink;
use crate::config::sni::Keypair;
use crate::config::{
    self, pem, suites, tickets, ClientAuth, Config, TicketPolicy, DEFAULT_CA_FILE,
};
use crate::error::{Code, Error, Result};
use crate::ffi::boundary::set_last_error;
use crate::ffi::config_util::{edit_setter, file, setter, void_edit, void_refuse};
use crate::ffi::handle::{
    config_into_raw, config_ref, config_release, cstr, opt_cstr, out_ref, slice,
};
use crate::policy;

/// Creates a configuration with the defaults: TLS 1.2 and 1.3, certificates, names and times
/// verified against the system trust store, tickets on (policy DEFERRED, 2 tickets, 7200 s).
///
/// Returns a new configuration (free it with tls_config_free), or NULL on failure
/// (see tls_last_error). Configurations are reference counted: a context configured from
/// one keeps what it needs, so the config may be freed while contexts live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_new() -> *mut Config {
    boundary!(
        std::ptr::null_mut(),
        match Config::new() {
            Ok(c) => config_into_raw(Arc::new(c)),
            Err(e) => {
                set_last_error(&e);
                std::ptr::null_mut()
            }
        }
    )
}

/// Drops the caller's reference to `config`. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_free(config: *mut Config) {
    boundary!((), config_release(config))
}

/// Returns the message of the last failed call on `config`, or NULL when there was none.
/// The string stays valid until the next failing call on `config` or its release.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_error(config: *mut Config) -> *const c_char {
    boundary!(
        std::ptr::null(),
        match config_ref(config) {
            Ok(c) => c.last_error().map_or(std::ptr::null(), |(_, p)| p),
            Err(_) => std::ptr::null(),
        }
    )
}

/// Returns the code of the last failed call on `config` (TLS_ERROR_*), TLS_ERROR_UNKNOWN
/// when there was none, or TLS_ERROR_INVALID_CONTEXT for a NULL config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_error_code(config: *mut Config) -> c_int {
    boundary!(
        Code::InvalidContext as c_int,
        match config_ref(config) {
            Ok(c) => c.last_error().map_or(Code::Unknown as c_int, |(code, _)| code as c_int),
            Err(_) => Code::InvalidContext as c_int,
        }
    )
}

/// Sets the CA certificates from the PEM file `ca_file`, read now.
///
/// Returns 0, or -1 if the file cannot be read or holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ca_file(
    config: *mut Config,
    ca_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = file(ca_file, "CA file")?;
            pem::certs(&bytes, "CA file")?;
            c.edit(|s| Ok(s.ca_pem = Some(bytes)))
        })
    )
}

/// Sets the CA certificates from a directory: every file in it holding PEM certificates.
///
/// Returns 0, or -1 if `ca_path` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ca_path(
    config: *mut Config,
    ca_path: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let p = PathBuf::from(cstr(ca_path, "CA path")?);
            c.edit(|s| Ok(s.ca_path = Some(p)))
        })
    )
}

/// Sets the CA certificates from `len` bytes of PEM at `ca`.
///
/// Returns 0, or -1 if the buffer holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ca_mem(
    config: *mut Config,
    ca: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = slice(ca.cast::<c_void>(), len, "CA")?.to_vec();
            pem::certs(&bytes, "CA")?;
            c.edit(|s| Ok(s.ca_pem = Some(bytes)))
        })
    )
}

/// Sets the certificate chain (leaf first) from the PEM file `cert_file`, read now.
///
/// Returns 0, or -1 if the file cannot be read or holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_cert_file(
    config: *mut Config,
    cert_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = file(cert_file, "certificate file")?;
            pem::certs(&bytes, "certificate file")?;
            c.edit(|s| Ok(s.cert_pem = Some(bytes)))
        })
    )
}

/// Sets the certificate chain (leaf first) from `len` bytes of PEM at `cert`.
///
/// Returns 0, or -1 if the buffer holds no certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_cert_mem(
    config: *mut Config,
    cert: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = slice(cert.cast::<c_void>(), len, "certificate")?.to_vec();
            pem::certs(&bytes, "certificate")?;
            c.edit(|s| Ok(s.cert_pem = Some(bytes)))
        })
    )
}

/// Sets the private key from the PEM file `key_file` (PKCS#8, PKCS#1 or SEC1; not
/// encrypted), read now.
///
/// Returns 0, or -1 if the file cannot be read or holds no usable key.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_key_file(
    config: *mut Config,
    key_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = file(key_file, "key file")?;
            pem::key(&bytes)?;
            c.edit(|s| Ok(s.key_pem = Some(bytes)))
        })
    )
}

/// Sets the private key from `len` bytes of PEM at `key`.
///
/// Returns 0, or -1 if the buffer holds no usable key.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_key_mem(
    config: *mut Config,
    key: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = slice(key.cast::<c_void>(), len, "key")?.to_vec();
            pem::key(&bytes)?;
            c.edit(|s| Ok(s.key_pem = Some(bytes)))
        })
    )
}

/// Sets certificate and key from two PEM files. Whether they match is checked by
/// tls_configure.
///
/// Returns 0, or -1 if either cannot be read or parsed (then neither is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = file(cert_file, "certificate file")?;
            pem::certs(&cert, "certificate file")?;
            let key = file(key_file, "key file")?;
            pem::key(&key)?;
            c.set_cert_and_key(cert, key)
        })
    )
}

/// Sets certificate and key from two PEM buffers.
///
/// Returns 0, or -1 if either cannot be parsed (then neither is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            pem::certs(&cert, "certificate")?;
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            pem::key(&key)?;
            c.set_cert_and_key(cert, key)
        })
    )
}

/// Sets the protocol versions allowed (TLS_PROTOCOL_* bits). nbtls has TLS 1.2 and 1.3
/// only: the TLSv1_0/TLSv1_1 bits are accepted and ignored, so a mask naming only them
/// makes tls_configure fail.
///
/// Returns 0, or -1 for bits libtls does not define.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_protocols(config: *mut Config, protocols: u32) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            if protocols & !policy::PROTOCOLS_ALL != 0 {
                return Err(Error::arg(format!("unknown protocol bits 0x{protocols:x}")));
            }
            c.edit(|s| Ok(s.protocols = protocols))
        })
    )
}

/// Parses a libtls protocol string into `*protocols`, exactly as libtls does: names
/// ("secure", "default", "legacy", "all", "tlsv1", "tlsv1.0" … "tlsv1.3", any case)
/// separated by "," or ":", leading blanks skipped, "!" before a name removes it; a list
/// that starts with a removal starts from all protocols ("!tlsv1.0" is all but TLS 1.0).
/// NULL means "default".
///
/// Returns 0, or -1 for an empty string, an empty element ("tlsv1.2,"), a "-" or "+"
/// prefix, an unknown name or a NULL `protocols`; `*protocols` is then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_parse_protocols(
    protocols: *mut u32,
    protostr: *const c_char,
) -> c_int {
    boundary!(-1, {
        let r = (|| -> Result<(&mut u32, u32)> {
            let out = out_ref(protocols, "protocols")?;
            let s = opt_cstr(protostr, "protocol string")?.unwrap_or("default");
            let v = policy::parse_protocols(s)
                .ok_or_else(|| Error::arg(format!("invalid protocol string '{s}'")))?;
            Ok((out, v))
        })();
        match r {
            Ok((out, v)) => {
                *out = v;
                0
            }
            Err(e) => {
                set_last_error(&e);
                -1
            }
        }
    })
}

/// Sets the ALPN protocols offered (client) or accepted (server), in preference order, as a
/// comma-separated list such as "h2,http/1.1".
///
/// Returns 0, or -1 for NULL, an empty name or a name over 255 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_alpn(config: *mut Config, alpn: *const c_char) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let s = cstr(alpn, "ALPN")?;
            let mut list = Vec::new();
            for p in s.split(',') {
                if p.is_empty() || p.len() > 255 {
                    return Err(Error::arg(format!("invalid ALPN list '{s}'")));
                }
                list.push(p.as_bytes().to_vec());
            }
            c.edit(|st| Ok(st.alpn = list))
        })
    )
}

/// Turns off certificate verification, as libtls: a client accepts any chain and validity
/// time but still checks the server's name unless tls_config_insecure_noverifyname is also
/// set; a server that asks for client certificates (tls_config_verify_client or _optional)
/// accepts any one (self-signed, unknown issuer, expired) and loads no CA, leaving the
/// check to the program (tls_peer_cert_hash). Handshake signatures are still checked.
/// Insecure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_insecure_noverifycert(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.checks.cert = false))
}

/// Forgives only a name mismatch, on a client (a server checks no names): an untrusted or
/// expired certificate still fails. With it a client may connect with a NULL server name.
/// Insecure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_insecure_noverifyname(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.checks.name = false))
}

/// Forgives only a validity-time failure, of a server's certificate on a client and of a
/// client's certificate on a server: an untrusted chain or a wrong name still fails.
/// Insecure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_insecure_noverifytime(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.checks.time = false))
}

/// Turns certificate, name and time verification back on (the default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_verify(config: *mut Config) {
    boundary!(
        (),
        void_edit(config, |s| {
            s.checks.cert = true;
            s.checks.name = true;
            s.checks.time = true;
        })
    )
}

/// Sets the most ciphertext nbtls queues per connection and direction (default 65536).
///
/// Returns 0, or -1 for a limit under 1024 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_buffer_limit(config: *mut Config, limit: usize) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            if limit < 1024 {
                return Err(Error::arg("buffer limit must be at least 1024 bytes"));
            }
            c.edit(|s| Ok(s.buffer_limit = limit))
        })
    )
}

/// Makes a bare EOF (the peer's transport ends without close_notify) fail tls_read with -1
/// and TLS_ERROR_TRUNCATED, instead of reading as 0 (libtls's behaviour, the default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_strict_eof(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.strict_eof = true))
}

/// Sets whether reads take ahead: with `read_ahead` non-zero a read from the transport takes
/// what is there (up to 64 KiB), as OpenSSL's SSL_CTX_set_read_ahead does; with 0, the
/// default, nbtls never takes a byte beyond the record it needs now, so after
/// tls_handshake() returns 0 the peer's next bytes are still in the transport, and a
/// tls_read() that returned data has read no further record. Read-ahead saves system calls
/// for programs that always call tls_read() until TLS_WANT_POLLIN; it breaks programs that
/// wait for the fd to become readable before reading (level-triggered poll(2) or libevent
/// loops), because ciphertext read ahead is no longer in the kernel: such programs must
/// check tls_pending_read(), which counts it. The memory transport is unaffected.
/// Returns 0, or -1 when `config` is NULL. Affects contexts configured afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_read_ahead(
    config: *mut Config,
    read_ahead: c_int,
) -> c_int {
    boundary!(-1, setter(config, |c| c.edit(|s| Ok(s.read_ahead = read_ahead != 0))))
}

pub(super) fn parse_policy(v: c_int) -> crate::error::Result<TicketPolicy> {
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

/// A staple file: NULL means none, as in libtls.
fn opt_file(path: *const c_char, what: &str) -> Result<Option<Vec<u8>>> {
    if path.is_null() {
        return Ok(None);
    }
    file(path, what).map(Some)
}

// ----- sessions and ticket keys -----

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
    boundary!(-1, setter(config, |_| check_session_fd(session_fd)))
}

fn check_session_fd(fd: c_int) -> Result<()> {
    if fd == -1 {
        return Ok(());
    }
    // SAFETY: st is a plain struct fstat fills; fstat only reads the fd number.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid, writable stat.
    if unsafe { libc::fstat(fd, &mut st) } == -1 {
        return Err(Error::io("failed to stat session file", &std::io::Error::last_os_error()));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Error::arg("session file is not a regular file"));
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if st.st_uid != uid {
        return Err(Error::arg(format!(
            "session file has incorrect owner (uid {} != {uid})",
            st.st_uid
        )));
    }
    let mode = st.st_mode & 0o777;
    if mode != 0o600 {
        return Err(Error::arg(format!(
            "session file has incorrect permissions ({mode:o} != 600)"
        )));
    }
    Ok(())
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
            if len > tickets::SESSION_ID_SIZE {
                return Err(Error::arg("session ID too large"));
            }
            let id = slice(session_id.cast::<c_void>(), len, "session ID")?;
            let mut ctx = [0u8; tickets::SESSION_ID_SIZE];
            ctx[..len].copy_from_slice(id);
            c.edit(|s| {
                s.session_id = ctx;
                Ok(())
            })
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

// ----- client certificates -----

/// Makes a server require a client certificate, verified against the config's CA
/// certificates (and CRLs) within the verify depth; the handshake fails without one. With
/// tls_config_insecure_noverifycert any certificate is accepted (still required) and the
/// program checks it (tls_peer_cert_hash). The CertificateRequest names no CAs, as libtls.
/// Sessions resume only where these settings are the same; a resumed session does not
/// verify its stored certificate again (README, "Server resumption").
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_verify_client(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.client_auth = ClientAuth::Required))
}

/// Makes a server ask for a client certificate: a client may send none, but one that is
/// sent must verify, unless tls_config_insecure_noverifycert: then any certificate
/// (self-signed, unknown issuer) is accepted and left to the program, which compares
/// tls_peer_cert_hash; tls_peer_cert_provided tells whether one was sent.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_verify_client_optional(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.client_auth = ClientAuth::Optional))
}

// ----- keypairs (SNI) and OCSP stapling -----

/// Adds a certificate and key for SNI from two PEM files: a server chooses the first keypair
/// whose certificate's own names (subjectAltNames, else commonName; libtls's wildcard rules)
/// match the client's server name, else the first keypair. Several keypairs for one name (an
/// RSA and an ECDSA certificate, as dual-certificate servers have) are chosen by the
/// client's signature schemes: the ECDSA one when the client can verify it, else the first
/// whose signatures it can verify. When the client can verify none of the chosen key's
/// signatures the handshake fails before ServerHello with a fatal handshake_failure alert.
/// On a config without a keypair this sets the default one.
///
/// Returns 0, or -1 if either cannot be read or parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let kp = Keypair::from_pem(
                file(cert_file, "certificate file")?,
                file(key_file, "key file")?,
                None,
            )?;
            c.add_keypair(kp)
        })
    )
}

/// Adds a certificate and key for SNI from two PEM buffers, as tls_config_add_keypair_file.
///
/// Returns 0, or -1 if either cannot be parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            c.add_keypair(Keypair::from_pem(cert, key, None)?)
        })
    )
}

/// Adds an SNI keypair from files with a DER OCSP response to staple (NULL: none).
///
/// Returns 0, or -1 if a file cannot be read or parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_ocsp_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
    ocsp_staple_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let (cert, key) = (file(cert_file, "certificate file")?, file(key_file, "key file")?);
            let kp = Keypair::from_pem(cert, key, opt_file(ocsp_staple_file, "OCSP staple file")?)?;
            c.add_keypair(kp)
        })
    )
}

/// Adds an SNI keypair from buffers with a DER OCSP response to staple (empty: none).
///
/// Returns 0, or -1 if a buffer cannot be parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_add_keypair_ocsp_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
    staple: *const u8,
    staple_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            let staple = slice(staple.cast::<c_void>(), staple_len, "OCSP staple")?.to_vec();
            c.add_keypair(Keypair::from_pem(cert, key, Some(staple))?)
        })
    )
}

/// Sets the default certificate, key and OCSP staple (DER; NULL: none) from files.
///
/// Returns 0, or -1 if a file cannot be read or parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_ocsp_file(
    config: *mut Config,
    cert_file: *const c_char,
    key_file: *const c_char,
    staple_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let (cert, key) = (file(cert_file, "certificate file")?, file(key_file, "key file")?);
            c.set_keypair(Keypair::from_pem(cert, key, opt_file(staple_file, "OCSP staple file")?)?)
        })
    )
}

/// Sets the default certificate, key and OCSP staple (DER; empty: none) from buffers.
///
/// Returns 0, or -1 if a buffer cannot be parsed (nothing is changed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keypair_ocsp_mem(
    config: *mut Config,
    cert: *const u8,
    cert_len: usize,
    key: *const u8,
    key_len: usize,
    staple: *const u8,
    staple_len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let cert = slice(cert.cast::<c_void>(), cert_len, "certificate")?.to_vec();
            let key = slice(key.cast::<c_void>(), key_len, "key")?.to_vec();
            let staple = slice(staple.cast::<c_void>(), staple_len, "OCSP staple")?.to_vec();
            c.set_keypair(Keypair::from_pem(cert, key, Some(staple))?)
        })
    )
}

/// Sets the OCSP response (DER, as `openssl ocsp -respout` writes it) a server staples with
/// its default certificate, from a file. nbtls staples it as it is, without checking it.
///
/// Returns 0, or -1 if the file cannot be read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ocsp_staple_file(
    config: *mut Config,
    staple_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let staple = file(staple_file, "OCSP staple file")?;
            c.edit(|s| {
                s.ocsp_staple = Some(staple).filter(|o| !o.is_empty());
                Ok(())
            })
        })
    )
}

/// Sets the OCSP response (DER) a server staples with its default certificate, from a buffer
/// (empty: none).
///
/// Returns 0, or -1 for a NULL buffer with a non-zero length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ocsp_staple_mem(
    config: *mut Config,
    staple: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let staple = slice(staple.cast::<c_void>(), len, "OCSP staple")?.to_vec();
            c.edit(|s| {
                s.ocsp_staple = Some(staple).filter(|o| !o.is_empty());
                Ok(())
            })
        })
    )
}

/// Requires the server's certificate to come with a valid stapled OCSP response; not
/// supported by nbtls (rustls does not check OCSP responses): the error is sticky and makes
/// tls_configure fail.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_ocsp_require_stapling(config: *mut Config) {
    boundary!(
        (),
        void_refuse(
            config,
            Error::unsupported(
                "tls_config_ocsp_require_stapling: OCSP checking is not supported by nbtls"
            )
        )
    )
}

// ----- CRLs -----

/// Sets certificate revocation lists from a PEM file, checked (with webpki) for every
/// certificate of a peer's chain, as libtls does: a certificate revoked, or issued by a CA
/// without a CRL here, fails verification.
///
/// Returns 0, or -1 if the file cannot be read or holds no CRL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_crl_file(
    config: *mut Config,
    crl_file: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = file(crl_file, "CRL file")?;
            config::parse_crls(&bytes)?;
            c.edit(|s| {
                s.crl_pem = Some(bytes);
                Ok(())
            })
        })
    )
}

/// Sets certificate revocation lists from a PEM buffer, as tls_config_set_crl_file.
///
/// Returns 0, or -1 if the buffer holds no CRL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_crl_mem(
    config: *mut Config,
    crl: *const u8,
    len: usize,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let bytes = slice(crl.cast::<c_void>(), len, "CRL")?.to_vec();
            config::parse_crls(&bytes)?;
            c.edit(|s| {
                s.crl_pem = Some(bytes);
                Ok(())
            })
        })
    )
}

/// A key log callback: `line` is one NSS key log line, "LABEL <client random> <secret>" in
/// lowercase hex, NUL-terminated, without a newline, valid only during the call.
pub type tls_keylog_cb = Option<unsafe extern "C" fn(line: *const c_char, arg: *mut c_void)>;

/// The C callback and its argument, owned by the caller; the lock serializes its calls
/// (every generation and role of the config shares it).
struct Callback {
    cb: unsafe extern "C" fn(line: *const c_char, arg: *mut c_void),
    arg: *mut c_void,
    lock: Mutex<()>,
}

// SAFETY: the header makes the caller responsible for `arg` being usable from every thread
// that runs a handshake of a context configured with it; nbtls only passes it back.
unsafe impl Send for Callback {}
// SAFETY: as above; calls are serialized by `lock`.
unsafe impl Sync for Callback {}

impl Callback {
    fn call(&self, line: &CStr) {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: cb is the caller's function with the documented signature; line is a valid
        // NUL-terminated string for the duration of the call.
        unsafe { (self.cb)(line.as_ptr(), self.arg) }
    }
}

/// Sets a callback that receives the secrets of every handshake of the contexts configured
/// from `config` afterwards (clients and servers), one NSS key log line per call:
/// "LABEL <client random hex> <secret hex>", NUL-terminated, without a newline — CLIENT_RANDOM
/// for TLS 1.2; CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
/// CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 and EXPORTER_SECRET for TLS 1.3 (and
/// CLIENT_EARLY_TRAFFIC_SECRET on a server resuming a session; 0-RTT stays off). Anyone
/// who sees these lines can decrypt the connections: this is for debugging (the key log
/// file of Wireshark and OpenSSL's `-keylogfile`). A NULL `cb` turns the callback off. Key
/// logging is off by default.
///
/// The callback runs inside tls_handshake (or the tls_read/tls_write that drives the
/// handshake), on the calling thread; its calls are serialized, never concurrent, even when
/// several threads run handshakes, so it must not run a handshake itself.
/// `line` is valid only during the call; `arg` is passed back unchanged and must stay valid
/// until every context configured with it has been freed.
///
/// Returns 0, or -1 for a NULL config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keylog_cb(
    config: *mut Config,
    cb: tls_keylog_cb,
    arg: *mut c_void,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let sink: Option<Sink> = cb.map(|cb| {
                let f = Callback { cb, arg, lock: Mutex::new(()) };
                Arc::new(move |line: &CStr| f.call(line)) as Sink
            });
            c.edit(|s| {
                s.keylog_sink = sink;
                Ok(())
            })
        })
    )
}

/// Opts in to the SSLKEYLOGFILE convention: after this call, when the environment variable
/// SSLKEYLOGFILE names a file at the tls_configure that first uses `config` after a change,
/// the secrets of every handshake of the contexts configured from it are appended to that
/// file, one NSS key log line each, ending with a newline (the format of
/// tls_config_set_keylog_cb; the file is created with mode 0600). Without this call
/// SSLKEYLOGFILE is ignored: key logging is off by default. An unset or empty SSLKEYLOGFILE
/// logs nothing. A callback, if set, receives the same lines.
///
/// Returns 0, or -1 for a NULL config. tls_configure fails, naming the file, when the file
/// cannot be opened; a failed write later never fails a handshake.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keylog_file_from_env(config: *mut Config) -> c_int {
    boundary!(
        -1,
        setter(config, |c| c.edit(|s| {
            s.keylog_from_env = true;
            Ok(())
        }))
    )
}

/// Returns the path of the default CA bundle nbtls verifies against,
/// "/etc/ssl/certs/ca-certificates.crt". The string is static.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_default_ca_cert_file() -> *const c_char {
    boundary!(std::ptr::null(), {
        static FILE: once_cell::sync::Lazy<std::ffi::CString> =
            once_cell::sync::Lazy::new(|| crate::ffi::boundary::to_cstring(DEFAULT_CA_FILE));
        FILE.as_ptr()
    })
}

/// Sets the cipher suites allowed, in preference order. libtls's keywords "secure" (alias
/// "default"), "compat", "legacy" and "insecure" (alias "all") all select every suite nbtls
/// has (rustls offers only AEAD suites with ECDHE, so there are no weaker ones to add);
/// OpenSSL cipher strings ("ECDHE-RSA-AES128-GCM-SHA256:!CHACHA20", "HIGH:!aNULL", IANA
/// names) narrow that set. TLS 1.3 suites are governed by the string only when it names TLS
/// 1.3 ("TLSv1.3" or a TLS 1.3 suite); otherwise all three stay on, as with OpenSSL-based
/// libtls, except those excluded with '!'. NULL means "secure".
///
/// Returns 0, or -1 for an unknown cipher name or keyword, or a string that selects no suite
/// nbtls has (TLS_ERROR_UNSUPPORTED).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ciphers(
    config: *mut Config,
    ciphers: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let list = suites::parse_ciphers(opt_cstr(ciphers, "ciphers")?.unwrap_or("secure"))?;
            c.edit(|s| {
                s.ciphers = Some(list);
                Ok(())
            })
        })
    )
}

/// Accepts libtls's DHE parameter choices ("none", "auto", "legacy"; NULL means "none") and
/// ignores them: rustls has no finite-field DHE suites, so none is ever used.
///
/// Returns 0, or -1 for any other string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_dheparams(
    config: *mut Config,
    params: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |_| match opt_cstr(params, "DHE parameters")? {
            None => Ok(()),
            Some(p) if ["none", "auto", "legacy"].iter().any(|k| p.eq_ignore_ascii_case(k)) =>
                Ok(()),
            Some(p) => Err(Error::arg(format!("invalid dhe param '{p}'"))),
        })
    )
}

/// Sets the key exchange groups allowed, in preference order, from a list separated by ','
/// or ':', names in any case: "X25519MLKEM768" (hybrid post-quantum, TLS 1.3 only),
/// "X25519", "P-256" (also "prime256v1", "secp256r1"), "P-384" ("secp384r1"). NULL,
/// "default" or "secure" means the default, X25519MLKEM768, X25519, P-256 and P-384. Curves
/// OpenSSL knows but nbtls lacks (P-521, P-224, X448) are skipped.
///
/// Returns 0, or -1 for an unknown curve name or a list naming none nbtls supports.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ecdhecurves(
    config: *mut Config,
    curves: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let groups = suites::parse_curves(opt_cstr(curves, "curves")?)?;
            c.edit(|s| {
                s.groups = groups;
                Ok(())
            })
        })
    )
}

/// Sets one key exchange group (deprecated in libtls for tls_config_set_ecdhecurves). NULL,
/// "none" and "auto" mean the default groups.
///
/// Returns 0, or -1 for an unknown curve or a list (a ',' or ':' in `curve`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_ecdhecurve(
    config: *mut Config,
    curve: *const c_char,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let curve = match opt_cstr(curve, "curve")? {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("none") || v.eq_ignore_ascii_case("auto") => None,
                Some(v) if v.contains([',', ':']) => {
                    return Err(Error::arg(format!("invalid ecdhe curve '{v}'")))
                }
                Some(v) => Some(v),
            };
            let groups = suites::parse_curves(curve)?;
            c.edit(|s| {
                s.groups = groups;
                Ok(())
            })
        })
    )
}

/// Makes a server choose the cipher suite by the client's preference order.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_prefer_ciphers_client(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.prefer_server_ciphers = false))
}

/// Makes a server choose the cipher suite by its own preference order (the default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_prefer_ciphers_server(config: *mut Config) {
    boundary!((), void_edit(config, |s| s.prefer_server_ciphers = true))
}

/// Sets the most intermediate CA certificates a server's chain may have, as OpenSSL counts
/// them (default 6; a trust anchor the server sends along does not count). rustls's webpki
/// also caps a path at 6 intermediates, so depths over 6 act as 6.
///
/// Returns 0, or -1 for a negative depth.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_verify_depth(
    config: *mut Config,
    verify_depth: c_int,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            if verify_depth < 0 {
                return Err(Error::arg(format!("invalid verify depth {verify_depth}")));
            }
            c.edit(|s| {
                s.verify_depth = verify_depth;
                Ok(())
            })
        })
    )
}

/// Wipes the private key from `config` (overwritten, then freed). Contexts already
/// configured keep working; a later tls_configure of a server fails for want of a key, as
/// with libtls.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_clear_keys(config: *mut Config) {
    boundary!(
        (),
        void_edit(config, |s| {
            if let Some(mut k) = s.key_pem.take() {
                k.iter_mut().for_each(|b| *b = 0);
                std::hint::black_box(&k);
            }
        })
    )
}

/// Accepted and ignored, as its libtls counterpart's purpose (a key held elsewhere, e.g.
/// by a privilege-separated process) does not arise: nbtls always checks that the key
/// matches the certificate.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_skip_private_key_check(config: *mut Config) {
    boundary!((), void_edit(config, |_| ()))
}

/// Asks for a fake private key (libtls's privilege separation); not supported by nbtls: the
/// error is sticky and makes tls_configure fail.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_use_fake_private_key(config: *mut Config) {
    boundary!(
        (),
        void_refuse(config, Error::unsupported("fake private keys are not supported by nbtls"))
    )
}
