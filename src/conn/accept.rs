//! Accepting: a server connection reads its ClientHello through rustls's Acceptor, refuses
//! what it cannot serve before ServerHello (with a plaintext alert), then continues with the
//! config chosen for the name asked for.
use std::io;
use std::sync::Arc;

use rustls::{Connection, ServerConfig};

use super::transport::Output;
use super::{hello, Conn, Step, Stop};
use crate::error::{Code, Error};

/// A server connection waiting for its ClientHello, and the config to continue with once it
/// is read. ALPN lists that share nothing end the handshake with rustls's fatal
/// no_application_protocol alert (RFC 7301 §3.2, as newer libtls does).
pub(super) struct Pending {
    pub(super) acceptor: rustls::server::Acceptor,
    pub(super) config: Arc<ServerConfig>,
    /// The SNI as sent (and whether TLS 1.3 is offered): fed every byte the Acceptor reads
    /// (see `read_tls_into`).
    pub(super) hello: hello::HelloName,
    /// Whether the config enables TLS 1.3.
    pub(super) tls13: bool,
    /// The connection's buffer limit, for the rustls connection made from the Acceptor.
    pub(super) buffer_limit: usize,
}

impl Conn {
    /// Once the whole ClientHello is in, continues with the config chosen for it.
    pub(super) fn try_accept(&mut self) -> Step<()> {
        let Some(p) = self.pending.as_mut() else { return Ok(()) };
        match p.acceptor.accept() {
            Ok(None) => Ok(()),
            Ok(Some(accepted)) => {
                let tls13 = p.tls13 && p.hello.offers_tls13();
                if let Err(e) = usable_signature_scheme(&accepted, &p.config, tls13) {
                    self.pending = None;
                    self.plaintext_alert(rustls::AlertDescription::HandshakeFailure);
                    return Err(self.fail(e));
                }
                let p = self.pending.take().expect("pending");
                let hello = accepted.client_hello();
                // The name as sent, if it is the one rustls accepted (which it lowercased) in
                // another case; when it is the same, rustls's copy serves.
                self.servername = p
                    .hello
                    .server_name()
                    .filter(|raw| {
                        hello
                            .server_name()
                            .is_some_and(|n| n != *raw && n.eq_ignore_ascii_case(raw))
                    })
                    .map(|raw| raw.to_owned().into());
                let (config, buffer_limit) = (p.config, p.buffer_limit);
                match accepted.into_connection(config) {
                    Ok(conn) => {
                        self.tls = Connection::Server(conn);
                        self.tls.set_buffer_limit(Some(buffer_limit));
                        // The reply to the ClientHello is in-turn; records that came with it
                        // are processed now.
                        self.process(true, 0)
                    }
                    Err((e, alert)) => Err(self.fatal_accept(e, alert)),
                }
            }
            Err((e, alert)) => {
                self.pending = None;
                Err(self.fatal_accept(e, alert))
            }
        }
    }

    pub(super) fn fatal_accept(
        &mut self,
        e: rustls::Error,
        mut alert: rustls::server::AcceptedAlert,
    ) -> Stop {
        // Every chunk: the queue may hold several (a TLS 1.3 ServerHello before the encrypted
        // alert) and a transport may take one per call.
        let mut queued = 0;
        loop {
            let r = if self.io.is_memory() {
                let mut v = self.early_alert.take().map(Vec::from).unwrap_or_default();
                let r = alert.write(&mut v);
                self.early_alert = (!v.is_empty()).then(|| v.into_boxed_slice());
                r
            } else {
                alert.write(&mut Output { io: &mut *self.io, limit: usize::MAX, now: true })
            };
            match r {
                Ok(n) if n > 0 => queued += n,
                _ => break,
            }
        }
        if queued == 0
            && matches!(
                e,
                rustls::Error::InappropriateHandshakeMessage { .. }
                    | rustls::Error::InappropriateMessage { .. }
            )
        {
            // rustls's Acceptor queues no alert for a first message that is not a
            // ClientHello; RFC 8446 §4 and RFC 5246 §7.2.2 want a fatal unexpected_message.
            self.plaintext_alert(rustls::AlertDescription::UnexpectedMessage);
        }
        self.fail(Error::tls(&e))
    }

    /// One non-blocking attempt to send a fatal alert in plaintext (before ServerHello).
    pub(super) fn plaintext_alert(&mut self, what: rustls::AlertDescription) {
        let record = [21, 3, 3, 0, 2, 2, u8::from(what)];
        if self.io.is_memory() {
            let mut v = self.early_alert.take().map(Vec::from).unwrap_or_default();
            v.extend_from_slice(&record);
            self.early_alert = Some(v.into_boxed_slice());
        } else {
            let _ = self.io.write_now(&[io::IoSlice::new(&record)]);
        }
    }
}

/// Whether the key the server would present for this ClientHello can sign with one of the
/// client's signature schemes (only TLS 1.3's when `tls13`, TLS 1.3 will be chosen). rustls
/// would find out only after ServerHello; RFC 8446 §4.1.1 wants the handshake refused before.
fn usable_signature_scheme(
    accepted: &rustls::server::Accepted,
    config: &ServerConfig,
    tls13: bool,
) -> Result<(), Error> {
    let hello = accepted.client_hello();
    let offered = hello.signature_schemes();
    let usable = |s: &rustls::SignatureScheme| !tls13 || usable_in_tls13(*s);
    // The usual list fits on the stack; a longer one goes to the heap.
    let mut on_stack = [rustls::SignatureScheme::Unknown(0); 64];
    let on_heap: Vec<rustls::SignatureScheme>;
    let schemes: &[rustls::SignatureScheme] = if offered.len() <= on_stack.len() {
        let mut n = 0;
        for s in offered.iter().copied().filter(usable) {
            on_stack[n] = s;
            n += 1;
        }
        &on_stack[..n]
    } else {
        on_heap = offered.iter().copied().filter(usable).collect();
        &on_heap
    };
    let Some(key) = config.cert_resolver.resolve(accepted.client_hello()) else {
        return Ok(()); // rustls refuses the handshake itself
    };
    if key.key.choose_scheme(schemes).is_some() {
        return Ok(());
    }
    let mut e = Error::new(
        Code::Protocol,
        "handshake refused: the client accepts no signature scheme that the server's key \
         for this name can make",
    );
    e.alert = Some(u8::from(rustls::AlertDescription::HandshakeFailure));
    Err(e)
}

/// RFC 8446 §4.2.3: TLS 1.3 signatures use no SHA-1, SHA-224 or older hash, and no
/// RSASSA-PKCS1-v1_5.
fn usable_in_tls13(s: rustls::SignatureScheme) -> bool {
    let [hash, sign] = u16::from(s).to_be_bytes();
    hash > 3 && sign != 1
}
