//! Engine tests of the hybrid key exchange X25519MLKEM768 over in-memory pipes: which group
//! is negotiated, when a HelloRetryRequest happens, and malformed hybrid shares on the wire.
use std::sync::Arc;

use rustls::crypto::ring::kx_group;
use rustls::crypto::SupportedKxGroup;
use rustls::HandshakeKind;

use super::tests::certs_dir;
use super::transport::pipe::{self, End};
use super::*;
use crate::config::Config;
use crate::kx::{MLKEM768_CT_LEN, MLKEM768_EK_LEN, X25519MLKEM768};
use crate::policy::{PROTO_TLS1_2, PROTO_TLS1_3};

const ILLEGAL_PARAMETER: u8 = 47;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(certs_dir().join(name)).unwrap()
}

type Groups = Option<Vec<&'static dyn SupportedKxGroup>>;

fn configs(protocols: u32, client: Groups, server: Groups) -> (Arc<Config>, Arc<Config>) {
    let c = Arc::new(Config::new().unwrap());
    let ca = read("ca.pem");
    c.edit(|s| {
        s.ca_pem = Some(ca);
        s.protocols = protocols;
        s.groups = client;
        Ok(())
    })
    .unwrap();
    let sv = Arc::new(Config::new().unwrap());
    let (cert, key) = (read("server.pem"), read("server.key"));
    sv.edit(|s| {
        s.cert_pem = Some(cert);
        s.key_pem = Some(key);
        s.protocols = protocols;
        s.groups = server;
        Ok(())
    })
    .unwrap();
    (c, sv)
}

/// A client and a server over a pipe, and the two pipe ends (client's, server's) for
/// looking at or changing the bytes in flight.
fn pair(ccfg: &Config, scfg: &Config) -> (Conn, Conn, End, End) {
    let (a, b) = pipe::pair(1 << 20);
    let (ce, se) =
        (End { rx: a.rx.clone(), tx: a.tx.clone() }, End { rx: b.rx.clone(), tx: b.tx.clone() });
    let cs = ccfg.client_snapshot().unwrap();
    let ss = scfg.server_snapshot().unwrap();
    let c = Conn::client(cs.client.clone().unwrap(), Some("localhost"), Box::new(a), &cs.settings)
        .unwrap();
    let s = Conn::server(ss.server.clone().unwrap(), Box::new(b), &ss.settings).unwrap();
    (c, s, ce, se)
}

fn drive(c: &mut Conn, s: &mut Conn) -> (Step<()>, Step<()>) {
    let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
    for _ in 0..1000 {
        if matches!(rc, Err(Stop::Want(_))) {
            rc = c.handshake();
        }
        if matches!(rs, Err(Stop::Want(_))) {
            rs = s.handshake();
        }
        if !matches!(rc, Err(Stop::Want(_))) && !matches!(rs, Err(Stop::Want(_))) {
            break;
        }
    }
    (rc, rs)
}

/// (group name, HelloRetryRequest happened) of a completed pair, checked to agree.
fn outcome(c: &Conn, s: &Conn) -> (Option<&'static str>, bool) {
    let (ci, si) = (c.info().unwrap(), s.info().unwrap());
    assert_eq!(ci.group, si.group, "client and server name different groups");
    let hrr = |x: &Conn| x.tls.handshake_kind() == Some(HandshakeKind::FullWithHelloRetryRequest);
    assert_eq!(hrr(c), hrr(s));
    (ci.group, hrr(c))
}

fn handshake(protocols: u32, client: Groups, server: Groups) -> (Option<&'static str>, bool) {
    let (cc, sc) = configs(protocols, client, server);
    let (mut c, mut s, _, _) = pair(&cc, &sc);
    assert_eq!(drive(&mut c, &mut s), (Ok(()), Ok(())));
    outcome(&c, &s)
}

#[test]
fn defaults_negotiate_the_hybrid_without_retry() {
    let both = PROTO_TLS1_2 | PROTO_TLS1_3;
    assert_eq!(handshake(both, None, None), (Some("X25519MLKEM768"), false));
    // A classical server takes the X25519 share sent beside the hybrid: no retry.
    let classical = || Some(vec![kx_group::X25519, kx_group::SECP256R1]);
    assert_eq!(handshake(both, None, classical()), (Some("X25519"), false));
    // A classical client to a hybrid server.
    assert_eq!(handshake(both, classical(), None), (Some("X25519"), false));
    // TLS 1.2 never uses the hybrid.
    assert_eq!(handshake(PROTO_TLS1_2, None, None), (Some("X25519"), false));
    let only_hybrid = || Some(vec![X25519MLKEM768]);
    let (cc, sc) = configs(PROTO_TLS1_2 | PROTO_TLS1_3, None, only_hybrid());
    let (mut c, mut s, _, _) = pair(&cc, &sc);
    assert_eq!(drive(&mut c, &mut s), (Ok(()), Ok(())));
    assert_eq!(c.info().unwrap().version, "TLSv1.3");
}

#[test]
fn hello_retry_when_the_share_sent_is_not_the_servers() {
    let both = PROTO_TLS1_2 | PROTO_TLS1_3;
    // The client sends only the hybrid share (no X25519 beside it); the server lacks it.
    let hybrid_then_p256 = Some(vec![X25519MLKEM768, kx_group::SECP256R1]);
    let p256 = Some(vec![kx_group::SECP256R1]);
    assert_eq!(handshake(both, hybrid_then_p256, p256), (Some("P-256"), true));
    // The reverse: a P-256 share to a server that takes only the hybrid.
    let p256_then_hybrid = Some(vec![kx_group::SECP256R1, X25519MLKEM768]);
    let hybrid = Some(vec![X25519MLKEM768]);
    assert_eq!(handshake(both, p256_then_hybrid, hybrid), (Some("X25519MLKEM768"), true));
}

#[test]
fn group_is_none_on_a_tls12_resumption_only() {
    for (proto, resumed_group) in [(PROTO_TLS1_2, None), (PROTO_TLS1_3, Some("X25519MLKEM768"))] {
        let (cc, sc) = configs(proto, None, None);
        for round in 0..2 {
            let (mut c, mut s, _, _) = pair(&cc, &sc);
            assert_eq!(drive(&mut c, &mut s), (Ok(()), Ok(())));
            // The client takes its TLS 1.3 tickets with the first application data.
            assert_eq!(s.write(b"x"), Ok(1));
            let mut b = [0u8; 4];
            assert_eq!(c.read(&mut b), Ok(1));
            let (ci, si) = (c.info().unwrap(), s.info().unwrap());
            if round == 0 {
                assert!(!ci.resumed);
                let want = if proto == PROTO_TLS1_2 { "X25519" } else { "X25519MLKEM768" };
                assert_eq!((ci.group, si.group), (Some(want), Some(want)));
            } else {
                assert!(ci.resumed && si.resumed, "round 2 resumes ({proto:#x})");
                assert_eq!((ci.group, si.group), (resumed_group, resumed_group));
            }
        }
    }
}

/// Where the hybrid share starts in a handshake flight: after its group (0x11EC) and length.
fn share_at(wire: &[u8], len: usize) -> usize {
    let pat = [0x11, 0xec, (len >> 8) as u8, len as u8];
    wire.windows(4).position(|w| w == pat).expect("no X25519MLKEM768 share on the wire") + 4
}

/// The client's ClientHello is changed in flight by `f` (given the hybrid share); returns
/// both sides' results.
fn tamper_client_share(f: impl Fn(&mut [u8])) -> (Step<()>, Step<()>) {
    let (cc, sc) = configs(PROTO_TLS1_2 | PROTO_TLS1_3, None, None);
    let (mut c, mut s, _, se) = pair(&cc, &sc);
    assert_eq!(c.handshake(), Err(Stop::Want(Want::Read)));
    {
        let mut rx = se.rx.lock().unwrap();
        let wire = rx.data.make_contiguous();
        let at = share_at(wire, crate::kx::CLIENT_SHARE_LEN);
        f(&mut wire[at..at + crate::kx::CLIENT_SHARE_LEN]);
    }
    drive(&mut c, &mut s)
}

/// Whether `r` failed: by receiving `alert` from the peer, or (`sent`) by sending one.
fn failed_with_alert(r: &Step<()>, sent: bool, alert: u8) -> bool {
    match r {
        Err(Stop::Fail(e)) if sent => e.code != Code::PeerAlert,
        Err(Stop::Fail(e)) => e.code == Code::PeerAlert && e.alert == Some(alert),
        _ => false,
    }
}

#[test]
fn malformed_client_hybrid_shares_are_illegal_parameter() {
    type Tamper = fn(&mut [u8]);
    let cases: [(&str, Tamper); 3] = [
        ("modulus check: a coefficient equal to q", |share| {
            crate::kx::set_coefficient(share, 0, 3329)
        }),
        ("modulus check: the last coefficient 4095", |share| {
            crate::kx::set_coefficient(share, 767, 4095)
        }),
        ("x25519 part: the zero point", |share| share[MLKEM768_EK_LEN..].fill(0)),
    ];
    for (what, f) in cases {
        let (rc, rs) = tamper_client_share(f);
        assert!(failed_with_alert(&rs, true, ILLEGAL_PARAMETER), "{what}: server {rs:?}");
        assert!(failed_with_alert(&rc, false, ILLEGAL_PARAMETER), "{what}: client {rc:?}");
    }
}

#[test]
fn corrupt_or_low_order_server_shares_fail_the_handshake() {
    // A corrupt ML-KEM ciphertext of the right length decapsulates to another secret
    // (implicit rejection): the client cannot decrypt the server's flight.
    // The X25519 zero point is refused at once (illegal_parameter).
    for (what, corrupt_ct) in [("ciphertext", true), ("x25519 zero point", false)] {
        let (cc, sc) = configs(PROTO_TLS1_2 | PROTO_TLS1_3, None, None);
        let (mut c, mut s, ce, _) = pair(&cc, &sc);
        assert_eq!(c.handshake(), Err(Stop::Want(Want::Read)));
        let _ = s.handshake();
        {
            let mut rx = ce.rx.lock().unwrap();
            let wire = rx.data.make_contiguous();
            let at = share_at(wire, crate::kx::SERVER_SHARE_LEN);
            if corrupt_ct {
                wire[at + 500] ^= 0x40;
            } else {
                wire[at + MLKEM768_CT_LEN..at + crate::kx::SERVER_SHARE_LEN].fill(0);
            }
        }
        let (rc, rs) = drive(&mut c, &mut s);
        assert!(failed_with_alert(&rc, true, 0), "{what}: client {rc:?}");
        if corrupt_ct {
            // The client's bad_record_mac is encrypted under keys the server does not share:
            // the server fails to decrypt it.
            assert!(
                matches!(&rs, Err(Stop::Fail(e)) if e.code == Code::Protocol),
                "{what}: {rs:?}"
            );
        } else {
            assert!(failed_with_alert(&rs, false, ILLEGAL_PARAMETER), "{what}: server {rs:?}");
        }
    }
}
