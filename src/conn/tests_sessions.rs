//! Engine tests of sessions, client certificates and SNI over in-memory pipes: resumption in one process and across
//! "processes" (separate configs sharing ticket keys), client certificates, SNI and the
//! peer certificate.
use std::sync::Arc;

use super::tests::certs_dir;
use super::transport::pipe;
use super::*;
use crate::config::sni::Keypair;
use crate::config::{ClientAuth, Config, Settings, TicketPolicy};
use crate::policy::{PROTO_TLS1_2, PROTO_TLS1_3};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(certs_dir().join(name)).unwrap()
}

fn client_config(protocols: u32) -> Arc<Config> {
    let c = Arc::new(Config::new().unwrap());
    let ca = read("ca.pem");
    c.edit(|s| {
        s.ca_pem = Some(ca);
        s.protocols = protocols;
        Ok(())
    })
    .unwrap();
    c
}

fn server_config(protocols: u32) -> Arc<Config> {
    let c = Arc::new(Config::new().unwrap());
    let (cert, key, ca) = (read("server.pem"), read("server.key"), read("ca.pem"));
    c.edit(|s| {
        s.cert_pem = Some(cert);
        s.key_pem = Some(key);
        s.ca_pem = Some(ca);
        s.protocols = protocols;
        Ok(())
    })
    .unwrap();
    c
}

/// Connects, completes both handshakes and moves one message from server to client (so a
/// TLS 1.3 client has its tickets). Returns the failure of either side instead.
fn connect(ccfg: &Config, scfg: &Config, name: &str) -> Result<(Conn, Conn), Error> {
    let (a, b) = pipe::pair(1 << 16);
    let cs = ccfg.client_snapshot()?;
    let ss = scfg.server_snapshot()?;
    let mut c = Conn::client(cs.client.clone().unwrap(), Some(name), Box::new(a), &cs.settings)?;
    let mut s = Conn::server(ss.server.clone().unwrap(), Box::new(b), &ss.settings)?;
    let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
    for _ in 0..10_000 {
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
    for r in [rs, rc] {
        if let Err(Stop::Fail(e)) = r {
            return Err(e);
        }
    }
    assert_eq!(s.write(b"hello").unwrap(), 5);
    let mut buf = [0u8; 16];
    let mut n = Err(Stop::Want(Want::Read));
    for _ in 0..100 {
        n = c.read(&mut buf);
        if !matches!(n, Err(Stop::Want(_))) {
            break;
        }
    }
    match n {
        Ok(5) => Ok((c, s)),
        Err(Stop::Fail(e)) => Err(e),
        other => panic!("read: {other:?}"),
    }
}

fn resumed(c: &Conn) -> bool {
    c.info().unwrap().resumed
}

#[test]
fn a_client_config_resumes_with_tls13_and_tls12() {
    for proto in [PROTO_TLS1_3, PROTO_TLS1_2] {
        let (ccfg, scfg) = (client_config(proto), server_config(proto));
        let (c1, s1) = connect(&ccfg, &scfg, "localhost").unwrap();
        assert!(!resumed(&c1) && !resumed(&s1));
        let (c2, s2) = connect(&ccfg, &scfg, "localhost").unwrap();
        assert!(resumed(&c2) && resumed(&s2), "protocol {proto:#x}");
        // The resumed session still reports the server's certificate.
        assert_eq!(c2.peer().unwrap().unwrap().cert.subject, "/CN=localhost,IP:127.0.0.1");
        // Another name does not use the session.
        let (c3, _) = connect(&ccfg, &scfg, "127.0.0.1").unwrap();
        assert!(!resumed(&c3));
        // A cache of size 0 keeps nothing.
        let none = client_config(proto);
        none.set_session_cache_size(0).unwrap();
        connect(&none, &scfg, "localhost").unwrap();
        assert!(!resumed(&connect(&none, &scfg, "localhost").unwrap().0));
    }
}

#[test]
fn processes_sharing_a_ticket_key_resume_each_other() {
    for proto in [PROTO_TLS1_3, PROTO_TLS1_2] {
        let key = [0x5a; 48];
        let (a, b, foreign) = (server_config(proto), server_config(proto), server_config(proto));
        a.add_ticket_key(1, &key).unwrap();
        b.add_ticket_key(1, &key).unwrap();
        foreign.add_ticket_key(1, &[0xa5; 48]).unwrap();
        let ccfg = client_config(proto);
        connect(&ccfg, &a, "localhost").unwrap();
        let (c, s) = connect(&ccfg, &b, "localhost").unwrap();
        assert!(resumed(&c) && resumed(&s), "B resumes A's session ({proto:#x})");
        // A foreign key: a full handshake, no error.
        let (c, _) = connect(&ccfg, &foreign, "localhost").unwrap();
        assert!(!resumed(&c));

        // Rotation: B gets key 2; a ticket under key 1 still resumes on B.
        let ccfg = client_config(proto);
        connect(&ccfg, &a, "localhost").unwrap();
        b.add_ticket_key(2, &[0x77; 48]).unwrap();
        assert!(resumed(&connect(&ccfg, &b, "localhost").unwrap().0));
    }
}

#[test]
fn a_session_id_context_separates_servers() {
    let key = [1; 48];
    let (a, b) = (server_config(PROTO_TLS1_3), server_config(PROTO_TLS1_3));
    a.add_ticket_key(9, &key).unwrap();
    b.add_ticket_key(9, &key).unwrap();
    b.edit(|s| {
        s.session_id[..3].copy_from_slice(b"app");
        Ok(())
    })
    .unwrap();
    let ccfg = client_config(PROTO_TLS1_3);
    connect(&ccfg, &a, "localhost").unwrap();
    assert!(!resumed(&connect(&ccfg, &b, "localhost").unwrap().0));
    // TLS 1.2 without tickets is not at issue: the session-ID cache is scoped the same way.
}

#[test]
fn no_valid_ticket_key_means_no_ticket() {
    let s = server_config(PROTO_TLS1_3);
    s.edit(|st| {
        st.session_lifetime = 1;
        Ok(())
    })
    .unwrap();
    s.tickets_for_tests()
        .add_at(3, &[3; 48], std::time::Instant::now() - std::time::Duration::from_secs(5))
        .unwrap();
    let ccfg = client_config(PROTO_TLS1_3);
    let (c, _) = connect(&ccfg, &s, "localhost").unwrap();
    assert_eq!(c.tickets_received(), 0);
}

fn with_client_cert(c: &Config, name: &str) {
    let (cert, key) = (read(&format!("{name}.pem")), read(&format!("{name}.key")));
    c.edit(|s| {
        s.cert_pem = Some(cert);
        s.key_pem = Some(key);
        Ok(())
    })
    .unwrap();
}

#[test]
fn client_certificates_required_optional_missing_untrusted() {
    for proto in [PROTO_TLS1_3, PROTO_TLS1_2] {
        let required = server_config(proto);
        required
            .edit(|s| {
                s.client_auth = ClientAuth::Required;
                Ok(())
            })
            .unwrap();
        let optional = server_config(proto);
        optional
            .edit(|s| {
                s.client_auth = ClientAuth::Optional;
                Ok(())
            })
            .unwrap();
        let with = client_config(proto);
        with_client_cert(&with, "client");
        let without = client_config(proto);
        let untrusted = client_config(proto);
        with_client_cert(&untrusted, "untrusted");

        let (c, s) = connect(&with, &required, "localhost").unwrap();
        let p = s.peer().unwrap().unwrap();
        assert_eq!(p.cert.subject, "/CN=client.example");
        assert_eq!(p.cert.issuer, "/CN=nbtls test CA");
        assert!(crate::config::x509::contains_name(&p.cert.names, "client.example"));
        assert!(c.peer().unwrap().is_some());
        // Resumed, the server still knows the client's certificate.
        let (_, s) = connect(&with, &required, "localhost").unwrap();
        assert!(resumed(&s));
        assert_eq!(s.peer().unwrap().unwrap().cert.subject, "/CN=client.example");

        assert!(connect(&without, &required, "localhost").is_err(), "missing ({proto:#x})");
        assert!(connect(&untrusted, &required, "localhost").is_err(), "untrusted");
        let (_, s) = connect(&without, &optional, "localhost").unwrap();
        assert!(s.peer().unwrap().is_none() && s.peer_chain().is_none());
        assert!(connect(&untrusted, &optional, "localhost").is_err(), "untrusted, optional");
        let (_, s) = connect(&with, &optional, "localhost").unwrap();
        assert!(s.peer().unwrap().is_some());
    }
}

#[test]
fn noverifycert_accepts_any_client_certificate_and_never_lends_its_sessions() {
    for proto in [PROTO_TLS1_3, PROTO_TLS1_2] {
        let insecure = server_config(proto);
        insecure
            .edit(|s| {
                s.client_auth = ClientAuth::Optional;
                s.checks.cert = false;
                Ok(())
            })
            .unwrap();
        let untrusted = client_config(proto);
        with_client_cert(&untrusted, "untrusted");
        let (_, s) = connect(&untrusted, &insecure, "localhost").unwrap();
        assert_eq!(s.peer().unwrap().unwrap().cert.issuer, "/CN=nbtls other CA");
        let (_, s) = connect(&untrusted, &insecure, "localhost").unwrap();
        assert!(resumed(&s), "the insecure server resumes its own sessions ({proto:#x})");
        // The same config checking certificates again (tls_config_verify): the session
        // whose certificate nobody checked is not resumed, and a full handshake fails.
        insecure
            .edit(|s| {
                s.checks.cert = true;
                Ok(())
            })
            .unwrap();
        assert!(connect(&untrusted, &insecure, "localhost").is_err(), "{proto:#x}");
    }
}

#[test]
fn client_verify_depth_counts_intermediates() {
    let s = server_config(PROTO_TLS1_3);
    s.edit(|st| {
        st.client_auth = ClientAuth::Required;
        st.verify_depth = 0;
        Ok(())
    })
    .unwrap();
    let c = client_config(PROTO_TLS1_3);
    // The client sends its leaf and the CA itself: a trust anchor is not an intermediate.
    let chain = [read("client.pem"), read("ca.pem")].concat();
    let key = read("client.key");
    c.edit(|st| {
        st.cert_pem = Some(chain);
        st.key_pem = Some(key);
        Ok(())
    })
    .unwrap();
    connect(&c, &s, "localhost").unwrap();
}

/// One config reconfigured between two listeners: its generations share the automatic
/// ticket key and the session-ID cache, but a session resumes only under the client
/// certificate settings it was made under (README "Server resumption"), over TLS 1.3
/// tickets, TLS 1.2 tickets and TLS 1.2 session IDs. capi-tests/sessions_tenants.c tries the
/// client-auth modes and CAs, with shared ticket keys too.
#[test]
fn a_session_resumes_only_under_the_client_certificate_settings_it_was_made_under() {
    type Edit = fn(&mut Settings);
    let changes: [(&str, Edit, bool); 6] = [
        ("nothing", |_| {}, true),
        ("the session lifetime, to the same value", |s| s.session_lifetime = 7200, true),
        ("verify depth", |s| s.verify_depth = 1, false),
        ("optional", |s| s.client_auth = ClientAuth::Optional, false),
        ("insecure noverifytime", |s| s.checks.time = false, false),
        ("insecure noverifyname", |s| s.checks.name = false, false),
    ];
    let carriers = [
        ("TLS 1.3 ticket", PROTO_TLS1_3, TicketPolicy::Deferred),
        ("TLS 1.2 ticket", PROTO_TLS1_2, TicketPolicy::Deferred),
        ("TLS 1.2 session ID", PROTO_TLS1_2, TicketPolicy::None),
    ];
    for (carrier, proto, policy) in carriers {
        for (what, change, resumes) in changes {
            let scfg = server_config(proto);
            scfg.edit(|s| {
                s.client_auth = ClientAuth::Required;
                s.ticket_policy = policy;
                Ok(())
            })
            .unwrap();
            let ccfg = client_config(proto);
            with_client_cert(&ccfg, "client");
            let (c, _) = connect(&ccfg, &scfg, "localhost").unwrap();
            assert!(!resumed(&c));
            scfg.edit(|s| {
                change(s);
                Ok(())
            })
            .unwrap();
            let (c, s) = connect(&ccfg, &scfg, "localhost").unwrap();
            assert_eq!(resumed(&c), resumes, "{carrier}: changed {what}");
            assert_eq!(resumed(&s), resumes, "{carrier}: changed {what}");
            assert!(s.peer().unwrap().is_some(), "{carrier}: changed {what}");
        }
    }
}

#[test]
fn sni_chooses_by_the_certificates_own_names() {
    let s = server_config(PROTO_TLS1_3 | PROTO_TLS1_2);
    let pairs = vec![
        Keypair { cert_pem: read("wrongname.pem"), key_pem: read("wrongname.key"), ocsp: None },
        Keypair { cert_pem: read("wild.pem"), key_pem: read("wild.key"), ocsp: None },
    ];
    s.edit(|st| {
        st.keypairs = pairs;
        Ok(())
    })
    .unwrap();
    let c = client_config(PROTO_TLS1_3 | PROTO_TLS1_2);
    for (name, subject) in [
        ("localhost", "/CN=localhost,IP:127.0.0.1"),
        ("wrong.example", "/CN=wrong.example"),
        ("www.wild.example", "/C=XX/O=nbtls tests/CN=*.wild.example"),
        // Keypairs match regardless of case; tls_conn_servername keeps the client's case.
        ("LocalHost", "/CN=localhost,IP:127.0.0.1"),
        ("Wrong.EXAMPLE", "/CN=wrong.example"),
        ("WWW.Wild.Example", "/C=XX/O=nbtls tests/CN=*.wild.example"),
    ] {
        let (cc, sc) = connect(&c, &s, name).unwrap();
        assert_eq!(cc.peer().unwrap().unwrap().cert.subject, subject, "{name}");
        assert_eq!(sc.info().unwrap().servername, Some(name));
    }
    // No match: the default certificate, which then fails the client's name check.
    assert!(connect(&c, &s, "a.b.wild.example").is_err());
}

#[test]
fn a_key_that_does_not_match_its_certificate_fails() {
    let s = server_config(PROTO_TLS1_3);
    let pairs =
        vec![Keypair { cert_pem: read("wrongname.pem"), key_pem: read("server.key"), ocsp: None }];
    s.edit(|st| {
        st.keypairs = pairs;
        Ok(())
    })
    .unwrap();
    let e = s.server_snapshot().err().unwrap();
    assert!(e.msg.contains("does not match"), "{}", e.msg);
}

#[test]
fn peer_fields_match_the_certificate() {
    let (ccfg, scfg) = (client_config(PROTO_TLS1_3), server_config(PROTO_TLS1_3));
    let (c, s) = connect(&ccfg, &scfg, "localhost").unwrap();
    assert!(s.peer().unwrap().is_none());
    let p = c.peer().unwrap().unwrap();
    let der = rustls::pki_types::CertificateDer::from_pem_slice(&read("server.pem")).unwrap();
    let hex: String = ring::digest::digest(&ring::digest::SHA256, der.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(p.cert.hash, format!("SHA256:{hex}"));
    assert_eq!(p.cert.common_name, "localhost,IP:127.0.0.1");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        as i64;
    assert!(p.cert.not_before < now && now < p.cert.not_after);
    assert_eq!(
        p.chain_pem,
        read("server.pem").trim_ascii_end().iter().copied().chain(*b"\n").collect::<Vec<_>>()
    );
    assert!(crate::config::x509::contains_name(&p.cert.names, "127.0.0.1"));
    assert!(!crate::config::x509::contains_name(&p.cert.names, "127.0.0.2"));
}

use rustls::pki_types::pem::PemObject as _;
