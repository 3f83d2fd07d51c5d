//! Engine tests over an in-memory pipe: no FFI, no sockets, no sleeps.
use std::path::PathBuf;
use std::sync::{Arc, Once};

use super::transport::pipe::{self, End};
use super::*;
use crate::config::{Config, TicketPolicy};
use crate::policy::{PROTO_TLS1_2, PROTO_TLS1_3};

pub(super) fn certs_dir() -> PathBuf {
    certs()
}

fn certs() -> PathBuf {
    static GEN: Once = Once::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/certs");
    GEN.call_once(|| {
        let st = std::process::Command::new("sh")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gen-certs.sh"))
            .arg(&dir)
            .status()
            .expect("run tests/gen-certs.sh");
        assert!(st.success(), "tests/gen-certs.sh failed");
    });
    dir
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(certs().join(name)).unwrap()
}

pub(super) struct Setup {
    pub(super) protocols: u32,
    pub(super) leaf: &'static str,
    pub(super) policy: TicketPolicy,
    pub(super) alpn_client: Vec<&'static str>,
    pub(super) alpn_server: Vec<&'static str>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            protocols: PROTO_TLS1_2 | PROTO_TLS1_3,
            leaf: "server",
            policy: TicketPolicy::Deferred,
            alpn_client: vec![],
            alpn_server: vec![],
        }
    }
}

pub(super) fn configs(s: &Setup) -> (Arc<Config>, Arc<Config>) {
    let client = Arc::new(Config::new().unwrap());
    let ca = read("ca.pem");
    let proto = s.protocols;
    let alpn_c: Vec<Vec<u8>> = s.alpn_client.iter().map(|a| a.as_bytes().to_vec()).collect();
    client
        .edit(|st| {
            st.ca_pem = Some(ca);
            st.protocols = proto;
            st.alpn = alpn_c;
            Ok(())
        })
        .unwrap();
    let server = Arc::new(Config::new().unwrap());
    let (cert, key) = (read(&format!("{}.pem", s.leaf)), read(&format!("{}.key", s.leaf)));
    let alpn_s: Vec<Vec<u8>> = s.alpn_server.iter().map(|a| a.as_bytes().to_vec()).collect();
    let policy = s.policy;
    server
        .edit(|st| {
            st.cert_pem = Some(cert);
            st.key_pem = Some(key);
            st.alpn = alpn_s;
            st.ticket_policy = policy;
            Ok(())
        })
        .unwrap();
    (client, server)
}

pub(super) fn pair_with(
    s: &Setup,
    cap: usize,
    ccfg: &Config,
    scfg: &Config,
) -> (Conn, Conn, End, End) {
    let (a, b) = pipe::pair(cap);
    let (a2, b2) =
        (End { rx: a.rx.clone(), tx: a.tx.clone() }, End { rx: b.rx.clone(), tx: b.tx.clone() });
    let _ = s;
    let cs = ccfg.client_snapshot().unwrap();
    let ss = scfg.server_snapshot().unwrap();
    let c = Conn::client(cs.client.clone().unwrap(), Some("localhost"), Box::new(a), &cs.settings)
        .unwrap();
    let sv = Conn::server(ss.server.clone().unwrap(), Box::new(b), &ss.settings).unwrap();
    (c, sv, a2, b2)
}

/// Drives both handshakes alternately; a round in which neither side progresses is a deadlock.
pub(super) fn handshake_both(c: &mut Conn, s: &mut Conn) -> (Step<()>, Step<()>) {
    let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
    for _ in 0..100_000 {
        if !matches!(rc, Ok(()) | Err(Stop::Fail(_))) {
            rc = c.handshake();
        }
        if !matches!(rs, Ok(()) | Err(Stop::Fail(_))) {
            rs = s.handshake();
        }
        if !matches!(rc, Err(Stop::Want(_))) && !matches!(rs, Err(Stop::Want(_))) {
            return (rc, rs);
        }
    }
    panic!("handshake did not finish: {rc:?} {rs:?}");
}

fn moved(ends: &(End, End)) -> usize {
    ends.0.rx.lock().unwrap().moved + ends.1.rx.lock().unwrap().moved
}

fn exchange(c: &mut Conn, s: &mut Conn, data: &[u8], ends: &(End, End)) {
    // client -> server, server echoes back, interleaved.
    let mut sent = 0;
    let mut got = Vec::new();
    let mut echoed = 0;
    let mut back = Vec::new();
    let mut buf = vec![0u8; 7000];
    let mut idle = 0;
    while back.len() < data.len() {
        let before = moved(ends);
        let mut progress = false;
        if sent < data.len() {
            match c.write(&data[sent..]) {
                Ok(n) => {
                    sent += n;
                    progress = true;
                }
                Err(Stop::Want(_)) => {}
                Err(e) => panic!("client write: {e:?}"),
            }
        }
        match s.read(&mut buf) {
            Ok(n) if n > 0 => {
                got.extend_from_slice(&buf[..n]);
                progress = true;
            }
            Ok(_) => panic!("server saw end of stream"),
            Err(Stop::Want(w)) => {
                assert_eq!(w, Want::Read, "server read wants output after handshake")
            }
            Err(e) => panic!("server read: {e:?}"),
        }
        if echoed < got.len() {
            match s.write(&got[echoed..]) {
                Ok(n) => {
                    echoed += n;
                    progress = true;
                }
                Err(Stop::Want(_)) => {}
                Err(e) => panic!("server write: {e:?}"),
            }
        }
        match c.read(&mut buf) {
            Ok(n) if n > 0 => {
                back.extend_from_slice(&buf[..n]);
                progress = true;
            }
            Ok(_) => panic!("client saw end of stream"),
            Err(Stop::Want(_)) => {}
            Err(e) => panic!("client read: {e:?}"),
        }
        progress |= moved(ends) != before;
        idle = if progress { 0 } else { idle + 1 };
        assert!(
            idle < 3,
            "no progress: sent {sent} got {} echoed {echoed} back {}",
            got.len(),
            back.len()
        );
    }
    assert_eq!(back, data);
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + i / 251) as u8).collect()
}

#[test]
fn handshake_and_echo_at_every_capacity_both_versions() {
    for proto in [PROTO_TLS1_2, PROTO_TLS1_3] {
        let setup = Setup {
            protocols: proto,
            alpn_client: vec!["h2", "http/1.1"],
            alpn_server: vec!["http/1.1"],
            ..Default::default()
        };
        let (cc, sc) = configs(&setup);
        for cap in [1, 2, 3, 7, 64, 1000, 17000, 100_000] {
            let (mut c, mut s, ce, se) = pair_with(&setup, cap, &cc, &sc);
            let ends = (ce, se);
            let (rc, rs) = handshake_both(&mut c, &mut s);
            assert_eq!(rc, Ok(()), "client cap {cap}");
            assert_eq!(rs, Ok(()), "server cap {cap}");
            let want_version = if proto == PROTO_TLS1_3 { "TLSv1.3" } else { "TLSv1.2" };
            assert_eq!(c.info().unwrap().version, want_version);
            assert_eq!(s.info().unwrap().alpn, Some(&b"http/1.1"[..]));
            assert_eq!(s.info().unwrap().servername, Some("localhost"));
            exchange(&mut c, &mut s, &pattern(if cap < 100 { 20_000 } else { 300_000 }), &ends);
        }
    }
}

#[test]
fn tls13_server_handshake_returns_with_tickets_deferred() {
    let setup = Setup::default();
    let (cc, sc) = configs(&setup);
    let (mut c, mut s, _, to_client) = pair_with(&setup, 100_000, &cc, &sc);
    let (rc, rs) = handshake_both(&mut c, &mut s);
    assert_eq!((rc, rs), (Ok(()), Ok(())));
    let held = s.pending_deferred();
    assert!(held > 0, "tickets should be held");
    // Nothing reached the client's side of the pipe after the server's flight.
    let before = to_client.rx.lock().unwrap().data.len();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf), Err(Stop::Want(Want::Read)));
    assert_eq!(to_client.rx.lock().unwrap().data.len(), before, "a read wrote");
    assert_eq!(s.pending_deferred(), held);
    // The next write releases them ahead of its own bytes.
    assert_eq!(s.write(b"hi"), Ok(2));
    assert_eq!(s.pending_deferred(), 0);
    assert_eq!(s.pending_write(), 0);
    let mut got = Vec::new();
    while got.len() < 2 {
        match c.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got, b"hi");
}

#[test]
fn blocked_write_completes_on_retry_without_loss_or_duplication() {
    let setup = Setup::default();
    let (cc, sc) = configs(&setup);
    let (mut c, mut s, _, _) = pair_with(&setup, 1000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    let data = pattern(50_000);
    // The pipe holds 1000 bytes: the first write must block part-way.
    let first = c.write(&data);
    assert_eq!(first, Err(Stop::Want(Want::Write)));
    assert!(c.write(&data[..10]).is_err(), "fewer bytes than taken must fail");
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut written = 0;
    while got.len() < data.len() {
        if written < data.len() {
            if let Ok(n) = c.write(&data[written..]) {
                written += n;
            }
        }
        if let Ok(n) = s.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(written, data.len());
    assert_eq!(got, data);
}

#[test]
fn end_of_stream_clean_and_truncated() {
    let setup = Setup::default();
    let (cc, sc) = configs(&setup);
    // Clean: close_notify.
    let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    assert_eq!(c.close(), Ok(()));
    assert_eq!(c.close(), Ok(()), "second close");
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf), Ok(0));
    assert_eq!(s.eof(), Eof::CloseNotify);
    assert!(s.end_of_stream_error().is_none());
    assert_eq!(s.close(), Ok(()));
    // Truncated: the transport ends without close_notify.
    let (mut c, mut s, client_end, _) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    client_end.tx.lock().unwrap().closed = true;
    assert_eq!(s.read(&mut buf), Ok(0));
    assert_eq!(s.end_of_stream_error().map(|e| e.code), Some(Code::Truncated));
    match s.close() {
        Err(Stop::Fail(e)) => assert_eq!(e.code, Code::Truncated),
        other => panic!("close after truncation: {other:?}"),
    }
}

#[test]
fn certificate_failures_have_exact_codes() {
    let cases = [
        ("expired", Code::CertExpired),
        ("notyet", Code::CertNotYetValid),
        ("wrongname", Code::CertNameMismatch),
        ("untrusted", Code::CertUnknownCa),
    ];
    for (leaf, code) in cases {
        let setup = Setup { leaf, ..Default::default() };
        let (cc, sc) = configs(&setup);
        let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
        let (rc, rs) = handshake_both(&mut c, &mut s);
        match rc {
            Err(Stop::Fail(e)) => assert_eq!(e.code, code, "{leaf}: {}", e.msg),
            other => panic!("{leaf}: client {other:?}"),
        }
        match rs {
            Err(Stop::Fail(e)) => assert_eq!(e.code, Code::PeerAlert, "{leaf}: {}", e.msg),
            other => panic!("{leaf}: server {other:?}"),
        }
    }
}

#[test]
fn insecure_switches_forgive_only_their_own_check() {
    // (leaf, noverifyname, noverifytime, expected client result)
    let cases: [(&str, bool, bool, Option<Code>); 6] = [
        ("wrongname", true, false, None),
        ("expired", true, false, Some(Code::CertExpired)),
        ("untrusted", true, false, Some(Code::CertUnknownCa)),
        ("expired", false, true, None),
        ("wrongname", false, true, Some(Code::CertNameMismatch)),
        ("untrusted", false, true, Some(Code::CertUnknownCa)),
    ];
    for (leaf, noname, notime, want) in cases {
        let setup = Setup { leaf, ..Default::default() };
        let (cc, sc) = configs(&setup);
        cc.edit(|s| {
            s.checks.name = !noname;
            s.checks.time = !notime;
            Ok(())
        })
        .unwrap();
        let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
        let (rc, _) = handshake_both(&mut c, &mut s);
        match (rc, want) {
            (Ok(()), None) => {}
            (Err(Stop::Fail(e)), Some(code)) => assert_eq!(e.code, code, "{leaf}: {}", e.msg),
            (other, want) => {
                panic!("{leaf} name={noname} time={notime}: {other:?}, wanted {want:?}")
            }
        }
    }
}

#[test]
fn version_mismatch_fails_both_sides() {
    let setup = Setup { protocols: PROTO_TLS1_3, ..Default::default() };
    let (cc, sc) = configs(&setup);
    sc.edit(|s| {
        s.protocols = PROTO_TLS1_2;
        Ok(())
    })
    .unwrap();
    let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
    let (rc, rs) = handshake_both(&mut c, &mut s);
    assert!(matches!(rc, Err(Stop::Fail(_))), "{rc:?}");
    assert!(matches!(rs, Err(Stop::Fail(_))), "{rs:?}");
}

#[test]
fn peer_closing_mid_handshake_fails_with_closed() {
    let setup = Setup::default();
    let (cc, sc) = configs(&setup);
    let (mut c, _s, client_end, _) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(c.handshake(), Err(Stop::Want(Want::Read)));
    client_end.rx.lock().unwrap().closed = true;
    match c.handshake() {
        Err(Stop::Fail(e)) => assert_eq!(e.code, Code::Closed, "{}", e.msg),
        other => panic!("{other:?}"),
    }
}

#[test]
fn key_update_answer_waits_for_a_write_side_call() {
    let setup = Setup::default();
    let (cc, sc) = configs(&setup);
    let (mut c, mut s, _, server_end) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    assert_eq!(s.flush(), Ok(()));
    let mut buf = [0u8; 64];
    let _ = c.read(&mut buf); // take the tickets
    assert_eq!(c.key_update(), Ok(()));
    assert_eq!(c.write(b"x"), Ok(1));
    let to_client = server_end.tx.clone();
    let before = to_client.lock().unwrap().data.len();
    assert_eq!(s.read(&mut buf), Ok(1));
    assert_eq!(to_client.lock().unwrap().data.len(), before, "tls_read wrote the KeyUpdate answer");
    assert_eq!(s.flush(), Ok(()));
    assert!(to_client.lock().unwrap().data.len() > before, "flush did not send the answer");
    assert_eq!(s.write(b"y"), Ok(1));
    assert_eq!(c.read(&mut buf), Ok(1));
    assert_eq!(&buf[..1], b"y");
}

fn mem_pair(setup: &Setup) -> (Conn, Conn) {
    let (cc, sc) = configs(setup);
    let cs = cc.client_snapshot().unwrap();
    let ss = sc.server_snapshot().unwrap();
    let c = Conn::client(
        cs.client.clone().unwrap(),
        Some("localhost"),
        Box::<transport::Memory>::default(),
        &cs.settings,
    )
    .unwrap();
    let s =
        Conn::server(ss.server.clone().unwrap(), Box::<transport::Memory>::default(), &ss.settings)
            .unwrap();
    (c, s)
}

/// Moves every due byte from `from` to `to` through a buffer of `chunk` bytes.
fn shuttle(from: &mut Conn, to: &mut Conn, chunk: usize) -> usize {
    let mut buf = vec![0u8; chunk];
    let mut moved = 0;
    loop {
        let n = from.drain(&mut buf).unwrap();
        if n == 0 {
            return moved;
        }
        let mut off = 0;
        while off < n {
            let k = to.feed(&buf[off..n]).unwrap();
            assert!(k > 0, "feed accepted nothing");
            off += k;
        }
        moved += n;
    }
}

#[test]
fn memory_transport_handshake_echo_and_deferred_tickets() {
    for chunk in [1, 5, 100, 16_384] {
        let (mut c, mut s) = mem_pair(&Setup::default());
        assert_eq!(c.handshake(), Err(Stop::Want(Want::Write)), "ClientHello is due: drain me");
        let mut rounds = 0;
        let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
        loop {
            // As with libtls, a side whose handshake returned 0 is not asked again.
            if rc != Ok(()) {
                rc = c.handshake();
            }
            shuttle(&mut c, &mut s, chunk);
            if rs != Ok(()) {
                rs = s.handshake();
            }
            shuttle(&mut s, &mut c, chunk);
            if rc == Ok(()) && rs == Ok(()) {
                break;
            }
            rounds += 1;
            assert!(rounds < 20, "memory handshake stuck: {rc:?} {rs:?}");
        }
        // The server's tickets are held: nothing is due, drain hands out nothing.
        assert!(s.pending_deferred() > 0);
        let mut buf = [0u8; 64];
        assert_eq!(s.drain(&mut buf), Ok(0));
        assert!(!s.events().1, "deferred bytes add no POLLOUT under DEFERRED");
        // A write releases them ahead of its own record, which is due at once.
        assert_eq!(s.write(b"hello"), Ok(5));
        assert_eq!(s.pending_deferred(), 0);
        assert!(shuttle(&mut s, &mut c, chunk) > 0);
        let mut got = [0u8; 5];
        assert_eq!(c.read(&mut got), Ok(5));
        assert_eq!(&got, b"hello");
        assert_eq!(c.tickets_received(), 2);
        // Clean close, told apart from truncation by feed_eof.
        assert_eq!(c.close(), Err(Stop::Want(Want::Write)), "close_notify is due: drain me");
        shuttle(&mut c, &mut s, chunk);
        assert_eq!(c.close(), Ok(()));
        assert_eq!(s.read(&mut buf), Ok(0));
        assert_eq!(s.eof(), Eof::CloseNotify);
    }
}

#[test]
fn memory_transport_truncation_needs_feed_eof() {
    let (mut c, mut s) = mem_pair(&Setup::default());
    let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
    for _ in 0..10 {
        if rc != Ok(()) {
            rc = c.handshake();
        }
        shuttle(&mut c, &mut s, 4096);
        if rs != Ok(()) {
            rs = s.handshake();
        }
        shuttle(&mut s, &mut c, 4096);
    }
    assert_eq!((rc, rs), (Ok(()), Ok(())));
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf), Err(Stop::Want(Want::Read)), "feed me");
    assert_eq!(s.feed_eof(), Ok(()));
    assert_eq!(s.read(&mut buf), Ok(0));
    assert_eq!(s.end_of_stream_error().map(|e| e.code), Some(Code::Truncated));
}

/// The alert a failed side received from its peer, if that is how it failed.
fn alert_received(r: &Step<()>) -> Option<u8> {
    match r {
        Err(Stop::Fail(e)) if e.code == Code::PeerAlert => e.alert,
        _ => None,
    }
}

#[test]
fn alpn_without_overlap_ends_with_no_application_protocol() {
    const NO_APPLICATION_PROTOCOL: u8 = 120;
    for proto in [PROTO_TLS1_2, PROTO_TLS1_3] {
        let setup = Setup {
            protocols: proto,
            alpn_client: vec!["h2"],
            alpn_server: vec!["http/1.1"],
            ..Default::default()
        };
        let (cc, sc) = configs(&setup);
        let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
        let (rc, rs) = handshake_both(&mut c, &mut s);
        match &rs {
            Err(Stop::Fail(e)) => {
                assert_eq!(e.alert, Some(NO_APPLICATION_PROTOCOL), "server: {}", e.msg)
            }
            other => panic!("server completed without shared ALPN: {other:?}"),
        }
        assert_eq!(alert_received(&rc), Some(NO_APPLICATION_PROTOCOL), "client: {rc:?}");
    }
    // Controls: a client that sends no ALPN, and a server with none configured, complete.
    for (client, server) in [(vec![], vec!["http/1.1"]), (vec!["h2"], vec![])] {
        let setup = Setup { alpn_client: client, alpn_server: server, ..Default::default() };
        let (cc, sc) = configs(&setup);
        let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
        assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
        assert_eq!(s.info().unwrap().alpn, None);
        assert_eq!(c.info().unwrap().alpn, None);
    }
    // And with overlap the server's preference wins.
    let setup = Setup {
        alpn_client: vec!["h2", "http/1.1"],
        alpn_server: vec!["http/1.1", "h2"],
        ..Default::default()
    };
    let (cc, sc) = configs(&setup);
    let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    assert_eq!(s.info().unwrap().alpn, Some(&b"http/1.1"[..]));
}
