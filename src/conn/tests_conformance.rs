//! Protocol conformance at the edges (the accept path, renegotiation, KeyUpdate ordering):
//! engine tests with hand-built ClientHellos and raw rustls clients where nbtls's own client
//! cannot produce the case.
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::tests::{certs_dir, configs, handshake_both, pair_with, Setup};
use super::*;
use crate::config::{sni, Config, TicketPolicy};
use crate::policy::{PROTO_TLS1_2, PROTO_TLS1_3};

/// A server over the memory transport with `leaf` as its default keypair and `extra` as
/// further keypairs.
fn mem_server(leaf: &str, extra: &[&str], protocols: u32) -> Conn {
    let read = |n: String| std::fs::read(certs_dir().join(n)).unwrap();
    let cfg = Arc::new(Config::new().unwrap());
    let extra: Vec<sni::Keypair> = extra
        .iter()
        .map(|e| sni::Keypair {
            cert_pem: read(format!("{e}.pem")),
            key_pem: read(format!("{e}.key")),
            ocsp: None,
        })
        .collect();
    let (cert, key) = (read(format!("{leaf}.pem")), read(format!("{leaf}.key")));
    cfg.edit(|st| {
        st.cert_pem = Some(cert);
        st.key_pem = Some(key);
        st.keypairs = extra;
        st.protocols = protocols;
        Ok(())
    })
    .unwrap();
    let ss = cfg.server_snapshot().unwrap();
    Conn::server(ss.server.clone().unwrap(), Box::<transport::Memory>::default(), &ss.settings)
        .unwrap()
}

/// A verifier that accepts anything and offers exactly `schemes`: the client's
/// signature_algorithms extension.
#[derive(Debug)]
struct Offers(Vec<SignatureScheme>);

impl ServerCertVerifier for Offers {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

/// A raw rustls client offering only `schemes`, for TLS 1.3 or 1.2.
fn raw_client(schemes: &[SignatureScheme], tls13: bool) -> rustls::ClientConnection {
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls13 { &[&rustls::version::TLS13] } else { &[&rustls::version::TLS12] };
    let cfg = rustls::ClientConfig::builder_with_provider(crate::policy::provider())
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Offers(schemes.to_vec())))
        .with_no_client_auth();
    rustls::ClientConnection::new(Arc::new(cfg), "localhost".try_into().unwrap()).unwrap()
}

/// Moves the raw client's bytes to the server and the server's back until neither moves;
/// returns what the server sent first, the server's result and the client's.
fn run_raw(
    c: &mut rustls::ClientConnection,
    s: &mut Conn,
) -> (Vec<u8>, Step<()>, Result<(), rustls::Error>) {
    let mut first = Vec::new();
    let mut cres = Ok(());
    let mut sres = Err(Stop::Want(Want::Read));
    for _ in 0..20 {
        let mut out = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut out).unwrap();
        }
        let going = matches!(sres, Err(Stop::Want(_)));
        if !out.is_empty() && going {
            let _ = s.feed(&out);
        }
        if going {
            // Called again after it returned 0 it would fail, as libtls's does.
            sres = s.handshake();
        }
        let mut buf = [0u8; 65536];
        let n = s.drain(&mut buf).unwrap();
        if first.is_empty() {
            first.extend_from_slice(&buf[..n]);
        }
        if n > 0 {
            let mut rd = &buf[..n];
            while !rd.is_empty() && c.read_tls(&mut rd).is_ok() {}
            if let Err(e) = c.process_new_packets() {
                cres = Err(e);
                break;
            }
        }
        if out.is_empty() && n == 0 {
            break;
        }
    }
    (first, sres, cres)
}

const HANDSHAKE_FAILURE: [u8; 7] = [21, 3, 3, 0, 2, 2, 40];

/// RFC 8446 §4.1.1 / §4.4.2.3: no signature scheme the key can make → a plaintext fatal
/// handshake_failure before ServerHello, and a clear error on the server.
#[test]
fn no_usable_signature_scheme_fails_before_server_hello() {
    let pss_pss = [SignatureScheme::RSA_PSS_SHA256, SignatureScheme::Unknown(0x0809)];
    let cases: &[(&str, &[SignatureScheme], bool, bool)] = &[
        // (server key, client's schemes, TLS 1.3, expect success)
        ("server-rsa", &[SignatureScheme::Unknown(0x0809)], true, false),
        ("server-rsa", &[SignatureScheme::Unknown(0x0809)], false, false),
        ("server", &[SignatureScheme::ECDSA_SHA1_Legacy], true, false),
        ("server-rsa", &[SignatureScheme::RSA_PKCS1_SHA256], true, false),
        // controls
        ("server-rsa", &pss_pss, true, true),
        ("server-rsa", &[SignatureScheme::RSA_PKCS1_SHA256], false, true),
        ("server", &[SignatureScheme::ECDSA_NISTP256_SHA256], true, true),
    ];
    for &(leaf, schemes, tls13, ok) in cases {
        let what = format!("{leaf} {schemes:?} tls13={tls13}");
        let mut s = mem_server(leaf, &[], PROTO_TLS1_2 | PROTO_TLS1_3);
        let mut c = raw_client(schemes, tls13);
        let (first, sres, cres) = run_raw(&mut c, &mut s);
        if ok {
            assert_eq!(first.first(), Some(&22), "{what}: a ServerHello");
            assert!(cres.is_ok() && sres.is_ok(), "{what}: {cres:?} {sres:?}");
            continue;
        }
        assert_eq!(first, HANDSHAKE_FAILURE, "{what}: only a plaintext handshake_failure");
        assert_eq!(
            cres,
            Err(rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)),
            "{what}"
        );
        match sres {
            Err(Stop::Fail(e)) => {
                assert_eq!(e.code, Code::Protocol, "{what}");
                assert!(e.msg.contains("signature"), "{what}: {}", e.msg);
            }
            other => panic!("{what}: server {other:?}"),
        }
    }
}

/// An RSA and an ECDSA keypair for one name: ECDSA when the client can verify it, else RSA.
#[test]
fn dual_keypairs_are_chosen_by_the_clients_schemes() {
    let der = |name: &str| {
        let pem = std::fs::read(certs_dir().join(format!("{name}.pem"))).unwrap();
        crate::config::pem::certs(&pem, "certificate").unwrap()[0].as_ref().to_vec()
    };
    let cases: &[(&str, &[&str], &[SignatureScheme], &str)] = &[
        (
            "server-rsa",
            &["server"],
            &[SignatureScheme::ECDSA_NISTP256_SHA256, SignatureScheme::RSA_PSS_SHA256],
            "server",
        ),
        ("server-rsa", &["server"], &[SignatureScheme::RSA_PSS_SHA256], "server-rsa"),
        ("server", &["server-rsa"], &[SignatureScheme::RSA_PSS_SHA256], "server-rsa"),
        (
            "server",
            &["server-rsa"],
            &[SignatureScheme::RSA_PSS_SHA256, SignatureScheme::ECDSA_NISTP256_SHA256],
            "server",
        ),
    ];
    for &(default, extra, schemes, want) in cases {
        for tls13 in [true, false] {
            let mut s = mem_server(default, extra, PROTO_TLS1_2 | PROTO_TLS1_3);
            let mut c = raw_client(schemes, tls13);
            let (_, sres, cres) = run_raw(&mut c, &mut s);
            assert!(
                sres.is_ok() && cres.is_ok(),
                "{default}+{extra:?} {schemes:?}: {sres:?} {cres:?}"
            );
            let got = c.peer_certificates().unwrap()[0].as_ref().to_vec();
            assert_eq!(
                got,
                der(want),
                "{default}+{extra:?} {schemes:?} tls13={tls13}: want {want}"
            );
        }
    }
}

/// RFC 8446 §4 / RFC 5246 §7.2.2: a first handshake message that is well formed but not a
/// ClientHello gets a plaintext fatal unexpected_message.
#[test]
fn a_first_message_that_is_not_a_client_hello_gets_unexpected_message() {
    let messages: &[&[u8]] = &[
        // Finished (20) with 4 bytes of verify data
        &[22, 3, 3, 0, 8, 20, 0, 0, 4, 1, 2, 3, 4],
        // ServerHelloDone (14), empty
        &[22, 3, 1, 0, 4, 14, 0, 0, 0],
    ];
    for m in messages {
        let mut s = mem_server("server", &[], PROTO_TLS1_2 | PROTO_TLS1_3);
        let r = s.feed(m);
        let e = match r {
            Err(Stop::Fail(e)) => e,
            other => panic!("{m:?}: {other:?}"),
        };
        assert_eq!(e.code, Code::Protocol, "{m:?}");
        let mut buf = [0u8; 64];
        let n = s.drain(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[21, 3, 3, 0, 2, 2, 10], "{m:?}: a fatal unexpected_message");
    }
}

/// Item 6 of the conformance work: a deferred NewSessionTicket never delays, displaces or
/// replaces a KeyUpdate, under every policy; several KeyUpdates asking for an update in a
/// row get their answer; `key_update` while tickets are held keeps both. Everything the
/// server sends must decrypt in order at the client (a KeyUpdate out of order would make
/// the records behind it undecryptable).
#[test]
fn key_updates_and_held_tickets_keep_their_order_under_every_policy() {
    let policies = [
        TicketPolicy::Deferred,
        TicketPolicy::Opportunistic,
        TicketPolicy::Immediate,
        TicketPolicy::None,
    ];
    for policy in policies {
        for kus in 0..=3 {
            for server_ku in [false, true] {
                let what =
                    format!("{policy:?} client KeyUpdates {kus} server KeyUpdate {server_ku}");
                let setup = Setup { protocols: PROTO_TLS1_3, policy, ..Default::default() };
                let (cc, sc) = configs(&setup);
                let (mut c, mut s, _ce, se) = pair_with(&setup, 1 << 20, &cc, &sc);
                assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())), "{what}");
                let held = s.pending_deferred();
                for _ in 0..kus {
                    assert_eq!(c.key_update(), Ok(()), "{what}");
                }
                assert_eq!(c.write(b"x"), Ok(1), "{what}");
                let mut buf = [0u8; 64];
                assert_eq!(s.read(&mut buf), Ok(1), "{what}");
                let sent_before = se.tx.lock().unwrap().data.len();
                if server_ku {
                    assert_eq!(s.key_update(), Ok(()), "{what}");
                    if policy == TicketPolicy::Deferred {
                        assert!(
                            s.pending_deferred() > held,
                            "{what}: the KeyUpdate joins the held tail"
                        );
                        assert_eq!(
                            s.pending_write(),
                            0,
                            "{what}: nothing is due before a write-side call"
                        );
                    }
                }
                if policy == TicketPolicy::Deferred {
                    assert_eq!(
                        se.tx.lock().unwrap().data.len(),
                        sent_before,
                        "{what}: read and key_update sent nothing"
                    );
                }
                assert_eq!(s.write(b"y"), Ok(1), "{what}");
                assert_eq!(s.pending_deferred(), 0, "{what}");
                match c.read(&mut buf) {
                    Ok(1) => assert_eq!(&buf[..1], b"y", "{what}"),
                    other => panic!("{what}: client read {other:?}"),
                }
                let want = if policy == TicketPolicy::None { 0 } else { 2 };
                assert_eq!(c.tickets_received(), want, "{what}");
                // and the connection goes on both ways under the new keys
                assert_eq!(c.write(b"z"), Ok(1), "{what}");
                assert_eq!(s.read(&mut buf), Ok(1), "{what}");
                assert_eq!(s.write(b"w"), Ok(1), "{what}");
                assert_eq!(c.read(&mut buf), Ok(1), "{what}");
            }
        }
    }
}

/// The keypair chosen by name through the resolver's index is the one a look at every
/// keypair in order chooses (the rule before the index), for names that match exactly, by
/// case, by wildcard, by IP address, by several keypairs, and not at all.
#[test]
fn sni_index_chooses_as_a_scan_of_every_keypair() {
    let read = |n: &str| std::fs::read(certs_dir().join(n)).unwrap();
    let names = ["server", "wrongname", "wild", "server-rsa", "client", "untrusted", "expired"];
    let pairs: Vec<sni::Keypair> = names
        .iter()
        .map(|n| sni::Keypair {
            cert_pem: read(&format!("{n}.pem")),
            key_pem: read(&format!("{n}.key")),
            ocsp: None,
        })
        .collect();
    let r = sni::Resolver::new(&pairs, &crate::policy::provider()).unwrap();
    let all: Vec<_> = pairs
        .iter()
        .map(|p| {
            let certs = crate::config::pem::certs(&p.cert_pem, "certificate").unwrap();
            crate::config::x509::names(certs[0].as_ref()).unwrap()
        })
        .collect();
    use SignatureScheme as S;
    let scheme_sets: [&[S]; 4] = [
        &[S::ECDSA_NISTP256_SHA256, S::RSA_PSS_SHA256],
        &[S::RSA_PSS_SHA256],
        &[S::ECDSA_NISTP256_SHA256],
        &[],
    ];
    let queries = [
        "localhost",
        "LOCALHOST",
        "127.0.0.1",
        "127.0.0.2",
        "::1",
        "a.wild.example",
        "A.Wild.Example",
        "b.a.wild.example",
        "wild.example",
        ".wild.example",
        "*.wild.example",
        "wrong.example",
        "client.example",
        "nomatch.example",
        "localhost,IP:127.0.0.1",
        "",
    ];
    for q in queries {
        for schemes in scheme_sets {
            // The rule as a scan: the only valid keypair; else an ECDSA one the client can
            // verify, else the first it can verify, else the first; the default when none.
            let valid: Vec<usize> = (0..all.len())
                .filter(|&i| crate::config::x509::contains_name(&all[i], q))
                .collect();
            let key = |i: usize| r.choose_by_position(i);
            let want = match valid.as_slice() {
                [] => key(0),
                [only] => key(*only),
                several => {
                    let usable: Vec<usize> = several
                        .iter()
                        .copied()
                        .filter(|&i| key(i).key.choose_scheme(schemes).is_some())
                        .collect();
                    let ecdsa = usable
                        .iter()
                        .copied()
                        .find(|&i| key(i).key.algorithm() == rustls::SignatureAlgorithm::ECDSA);
                    key(ecdsa.or(usable.first().copied()).unwrap_or(several[0]))
                }
            };
            let got = r.choose(Some(q), schemes);
            assert!(Arc::ptr_eq(&got, &want), "{q:?} {schemes:?}");
        }
    }
    assert!(Arc::ptr_eq(&r.choose(None, &[]), &r.choose_by_position(0)));
}
