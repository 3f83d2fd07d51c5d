//! A one-connection TLS 1.3 peer on rustls + aws-lc-rs, for nbtls's post-quantum interop
//! tests. It prints the negotiated group so the test can compare it with tls_conn_group.
//!
//!   nbtls-pq-peer server CERT KEY [GROUPS]   listens on 127.0.0.1, prints "listening on PORT",
//!                                            serves one connection: reads a line, echoes it
//!   nbtls-pq-peer client CA PORT [GROUPS]    connects to localhost:PORT, sends "ping\n",
//!                                            expects it back
//! GROUPS: a comma list of X25519MLKEM768, X25519, P-256 (default: the provider's order).
//! Both print "group=NAME hrr=0|1" once the handshake is done, and exit 0 on success.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use rustls::crypto::{aws_lc_rs, CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, ServerConfig, ServerConnection};

fn provider(groups: Option<&str>) -> Arc<CryptoProvider> {
    let mut p = aws_lc_rs::default_provider();
    if let Some(g) = groups {
        p.kx_groups = g
            .split(',')
            .map(|n| -> &'static dyn SupportedKxGroup {
                match n {
                    "X25519MLKEM768" => aws_lc_rs::kx_group::X25519MLKEM768,
                    "X25519" => aws_lc_rs::kx_group::X25519,
                    "P-256" => aws_lc_rs::kx_group::SECP256R1,
                    other => panic!("unknown group {other}"),
                }
            })
            .collect();
    }
    Arc::new(p)
}

fn report(kind: Option<HandshakeKind>, group: Option<&'static dyn SupportedKxGroup>) {
    let name = match group.map(|g| g.name()) {
        Some(rustls::NamedGroup::X25519MLKEM768) => "X25519MLKEM768".to_string(),
        Some(rustls::NamedGroup::X25519) => "X25519".to_string(),
        Some(rustls::NamedGroup::secp256r1) => "P-256".to_string(),
        Some(other) => format!("{other:?}"),
        None => "none".to_string(),
    };
    let hrr = kind == Some(HandshakeKind::FullWithHelloRetryRequest);
    println!("group={name} hrr={}", hrr as u8);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("server") => server(&args[2], &args[3], args.get(4).map(String::as_str)),
        Some("client") => client(&args[2], &args[3], args.get(4).map(String::as_str)),
        _ => {
            eprintln!("usage: nbtls-pq-peer server CERT KEY [GROUPS] | client CA PORT [GROUPS]");
            std::process::exit(2);
        }
    }
}

fn server(cert: &str, key: &str, groups: Option<&str>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).unwrap().map(|c| c.unwrap()).collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = ServerConfig::builder_with_provider(provider(groups))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("listening on {}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    let (mut sock, _) = listener.accept().unwrap();
    let mut conn = ServerConnection::new(Arc::new(config)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    report(conn.handshake_kind(), conn.negotiated_key_exchange_group());
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let mut line = String::new();
    BufReader::new(&mut tls).read_line(&mut line).unwrap();
    tls.write_all(line.as_bytes()).unwrap();
    tls.conn.send_close_notify();
    tls.flush().unwrap();
}

fn client(ca: &str, port: &str, groups: Option<&str>) {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = ClientConfig::builder_with_provider(provider(groups))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut sock = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(Arc::new(config), name).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    report(conn.handshake_kind(), conn.negotiated_key_exchange_group());
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(b"ping\n").unwrap();
    let mut line = String::new();
    BufReader::new(&mut tls).read_line(&mut line).unwrap();
    assert_eq!(line, "ping\n");
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
