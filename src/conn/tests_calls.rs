//! Engine tests of calls made again and of what a call leaves in the transport: a second
//! handshake, an IMMEDIATE server's retried handshake, close called twice, and a client's
//! handshake that reads no further than the server's last handshake record.
use std::sync::Arc;

use super::tests::{configs, handshake_both, pair_with, Setup};
use super::transport::pipe::{self, End};
use super::*;
use crate::config::TicketPolicy;
use crate::policy::{PROTO_TLS1_2, PROTO_TLS1_3};

fn assert_already_completed(r: Step<()>, who: &str) {
    match r {
        Err(Stop::Fail(e)) => {
            assert_eq!((e.code, e.msg.as_str()), (Code::Unknown, "handshake already completed"))
        }
        other => panic!("{who}: second handshake {other:?}"),
    }
}

#[test]
fn second_handshake_fails_and_the_connection_stays_usable() {
    for proto in [PROTO_TLS1_2, PROTO_TLS1_3] {
        let setup = Setup { protocols: proto, ..Default::default() };
        let (cc, sc) = configs(&setup);
        let (mut c, mut s, _, _) = pair_with(&setup, 100_000, &cc, &sc);
        assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
        assert_already_completed(c.handshake(), "client");
        assert_already_completed(s.handshake(), "server");
        assert_eq!(c.phase(), Phase::Open);
        assert_eq!(c.write(b"ping"), Ok(4));
        let mut buf = [0u8; 16];
        let n = loop {
            match s.read(&mut buf) {
                Ok(n) => break n,
                Err(Stop::Want(_)) => {}
                Err(e) => panic!("server read after second handshake: {e:?}"),
            }
        };
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(s.write(b"pong"), Ok(4));
        // A handshake completed by a read counts as completed too (libtls's state bit).
        assert_already_completed(s.handshake(), "server after read");
    }
}

#[test]
fn immediate_tickets_blocked_is_not_completion() {
    // A TLS 1.3 IMMEDIATE server whose ticket write would block returns WANT_POLLOUT; its
    // retry finishes the handshake (0), and only a call after that is "already completed".
    let setup = Setup { policy: TicketPolicy::Immediate, ..Default::default() };
    let (cc, sc) = configs(&setup);
    let (mut c, mut s, _, _) = pair_with(&setup, 1, &cc, &sc);
    let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
    let mut server_pollout = 0;
    for _ in 0..100_000 {
        if matches!(rc, Err(Stop::Want(_))) {
            rc = c.handshake();
        }
        if matches!(rs, Err(Stop::Want(_))) {
            rs = s.handshake();
            if rs == Err(Stop::Want(Want::Write)) && s.info().is_none() {
                server_pollout += 1;
            }
        }
        if !matches!(rs, Err(Stop::Want(_))) && !matches!(rc, Err(Stop::Want(_))) {
            break;
        }
        // The client reads only once its handshake is done, so the tickets drain slowly.
        if rc.is_ok() {
            let mut buf = [0u8; 1];
            let _ = c.read(&mut buf);
        }
    }
    assert_eq!(rs, Ok(()), "server retry after WANT_POLLOUT");
    assert_eq!(rc, Ok(()));
    assert!(server_pollout > 0, "the 1-byte pipe should have blocked the server");
    assert_already_completed(s.handshake(), "server");
}

#[test]
fn close_answers_the_same_when_called_again() {
    let setup = Setup::default();
    let (cc, sc) = configs(&setup);
    // After a bare EOF: -1 TRUNCATED, and again TRUNCATED (not success, not EPIPE).
    let (mut c, mut s, client_end, _) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    client_end.tx.lock().unwrap().closed = true;
    client_end.rx.lock().unwrap().closed = true;
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf), Ok(0));
    for _ in 0..2 {
        match s.close() {
            Err(Stop::Fail(e)) => assert_eq!(e.code, Code::Truncated, "{}", e.msg),
            other => panic!("close after truncation: {other:?}"),
        }
    }
    // Towards a peer that has gone: 0, and 0 again.
    let (mut c, mut s, _, server_end) = pair_with(&setup, 100_000, &cc, &sc);
    assert_eq!(handshake_both(&mut c, &mut s), (Ok(()), Ok(())));
    server_end.tx.lock().unwrap().closed = true;
    assert_eq!(s.close(), Ok(()), "EPIPE from a gone peer is ignored");
    assert_eq!(s.close(), Ok(()));
}

/// Runs a raw rustls server on the far end of a pipe: takes what the client wrote, processes
/// it, and passes back everything it queued in one piece (one segment).
fn raw_server_turn(sc: &mut rustls::ServerConnection, end: &End) {
    let input: Vec<u8> = end.rx.lock().unwrap().data.drain(..).collect();
    let mut rd = &input[..];
    while !rd.is_empty() {
        sc.read_tls(&mut rd).unwrap();
        sc.process_new_packets().unwrap();
    }
    let mut out = Vec::new();
    while sc.wants_write() {
        sc.write_tls(&mut out).unwrap();
    }
    end.tx.lock().unwrap().data.extend(out);
}

/// Reads never go past the record in hand (the README's "Reading"): a client's handshake reads no further than the server's last handshake
/// record. A TLS 1.3 server that sends half-RTT data right behind its Finished, and a TLS 1.2
/// server that speaks first right behind its Finished, leave that record in the transport
/// when the client's handshake returns.
#[test]
fn client_handshake_leaves_the_servers_next_record_in_the_transport() {
    for proto in [PROTO_TLS1_3, PROTO_TLS1_2] {
        let setup = Setup { protocols: proto, ..Default::default() };
        let (ccfg, scfg) = configs(&setup);
        let cs = ccfg.client_snapshot().unwrap();
        let mut rcfg = (*scfg.server_snapshot().unwrap().server.clone().unwrap()).clone();
        rcfg.send_half_rtt_data = true;
        let mut sc = rustls::ServerConnection::new(Arc::new(rcfg)).unwrap();
        let (a, far) = pipe::pair(1 << 20);
        let mut c =
            Conn::client(cs.client.clone().unwrap(), Some("localhost"), Box::new(a), &cs.settings)
                .unwrap();
        let hello = b"220 server speaks first\r\n";
        if proto == PROTO_TLS1_3 {
            // Buffered until the server's Finished, then queued right behind it.
            sc.writer().write_all(hello).unwrap();
        }
        let mut done = false;
        for _ in 0..10 {
            match c.handshake() {
                Ok(()) => {
                    done = true;
                    break;
                }
                Err(Stop::Want(_)) => {}
                Err(e) => panic!("{proto:#x}: client handshake: {e:?}"),
            }
            let was_handshaking = sc.is_handshaking();
            raw_server_turn(&mut sc, &far);
            if proto == PROTO_TLS1_2 && was_handshaking && !sc.is_handshaking() {
                // The server's handshake ended with its CCS and Finished just queued and
                // passed on: it speaks first, in the same segment.
                let mut out = Vec::new();
                sc.writer().write_all(hello).unwrap();
                sc.write_tls(&mut out).unwrap();
                let mut tx = far.tx.lock().unwrap();
                let len = tx.data.len();
                assert!(len > 0, "{proto:#x}: the server's Finished is in the pipe");
                tx.data.extend(out);
            }
        }
        assert!(done, "{proto:#x}: the client's handshake completes");
        let left = far.tx.lock().unwrap().data.len();
        assert!(
            left > hello.len(),
            "{proto:#x}: {left} bytes left in the transport after the client's handshake; \
             the server's data record was read with its Finished"
        );
        let mut buf = [0u8; 64];
        assert_eq!(c.read(&mut buf), Ok(hello.len()));
        assert_eq!(&buf[..hello.len()], hello);
    }
}
