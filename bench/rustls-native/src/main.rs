//! rustls 0.23 used natively, the same workloads as bench/tlsbench.c: both ends in one
//! thread over a nonblocking AF_UNIX socketpair, CPU time of the process measured.
//!
//! Usage: rustls-native WORKLOAD CERTDIR SECONDS
//! Prints `RESULT <workload> <value> <unit> <higher_is_better>` or `SKIP <workload> <why>`.
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
};

extern "C" {
    fn clock_gettime(clk: i32, ts: *mut [i64; 2]) -> i32;
    fn dlsym(handle: *mut std::ffi::c_void, name: *const std::ffi::c_char)
        -> *mut std::ffi::c_void;
}
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_MONOTONIC: i32 = 1;

fn cpu() -> f64 {
    let mut ts = [0i64; 2];
    // SAFETY: clock_gettime writes a struct timespec (two longs on x86_64 Linux).
    unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts[0] as f64 + ts[1] as f64 * 1e-9
}

/// Wall-clock seconds, for the rows that show scaling over threads.
fn wall() -> f64 {
    let mut ts = [0i64; 2];
    // SAFETY: as in cpu().
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    ts[0] as f64 + ts[1] as f64 * 1e-9
}

/// The counters of bench/memcount.so when it is preloaded.
fn heap() -> Option<(i64, i64)> {
    // SAFETY: RTLD_DEFAULT is the null handle on glibc; the symbols are `long long f(void)`.
    unsafe {
        let live = dlsym(std::ptr::null_mut(), c"bench_heap_live".as_ptr());
        let allocs = dlsym(std::ptr::null_mut(), c"bench_heap_allocs".as_ptr());
        if live.is_null() || allocs.is_null() {
            return None;
        }
        let live: extern "C" fn() -> i64 = std::mem::transmute(live);
        let allocs: extern "C" fn() -> i64 = std::mem::transmute(allocs);
        Some((live(), allocs()))
    }
}

struct Setup {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

fn setup(
    dir: &str,
    rsa: bool,
    tickets: bool,
    suite: Option<rustls::SupportedCipherSuite>,
) -> Setup {
    use provider::cipher_suite::{
        TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    let mut p = provider::default_provider();
    // Unless a workload names its suite, the TLS 1.3 suites in nbtls's order (AES-128-GCM
    // first; rustls's own default puts AES-256-GCM first), so both do the same TLS work and
    // the difference is what the C boundary costs.
    p.cipher_suites = match suite {
        Some(s) => vec![s],
        None => vec![
            TLS13_AES_128_GCM_SHA256,
            TLS13_AES_256_GCM_SHA384,
            TLS13_CHACHA20_POLY1305_SHA256,
        ],
    };
    let p = Arc::new(p);
    let (cert, key) = if rsa {
        ("server-rsa.pem", "server-rsa.key")
    } else {
        ("server.pem", "server.key")
    };
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(format!("{dir}/{cert}"))
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
    let key = PrivateKeyDer::from_pem_file(format!("{dir}/{key}")).unwrap();
    let mut server = ServerConfig::builder_with_provider(p.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    // As nbtls: stateless tickets from ring's ticketer, two per full handshake; none for the
    // "full" workloads (libtls's default session lifetime 0).
    if tickets {
        server.ticketer = provider::Ticketer::new().unwrap();
        server.send_tls13_tickets = 2;
    } else {
        server.send_tls13_tickets = 0;
    }
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(format!("{dir}/ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let client = ClientConfig::builder_with_provider(p)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Setup {
        client: Arc::new(client),
        server: Arc::new(server),
    }
}

/// One end: a rustls connection and its half of the socketpair, driven as tlsbench.c drives
/// a libtls context: a write encrypts and sends (never reads), a read reads and decrypts
/// (never writes), so each side makes the same system calls.
struct End {
    tls: Connection,
    sock: UnixStream,
}

impl End {
    /// Sends queued ciphertext; false when the socket is full.
    fn flush(&mut self) -> bool {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) => panic!("write_tls: {e}"),
            }
        }
        true
    }

    /// One read from the socket and its processing; false when nothing was there.
    fn fill(&mut self) -> bool {
        match self.tls.read_tls(&mut self.sock) {
            Ok(0) => panic!("unexpected end of stream"),
            Ok(_) => {
                self.tls.process_new_packets().expect("process_new_packets");
                true
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("read_tls: {e}"),
        }
    }

    /// As tls_read: plaintext bytes, or 0 when the socket has nothing more.
    fn read(&mut self, buf: &mut [u8]) -> usize {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) if n > 0 => return n,
                Ok(_) => panic!("close_notify"),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
            if !self.fill() {
                return 0;
            }
        }
    }

    /// Reads everything available; returns the plaintext byte count.
    fn drain(&mut self, buf: &mut [u8]) -> usize {
        let mut got = 0;
        loop {
            let n = self.read(buf);
            if n == 0 {
                return got;
            }
            got += n;
        }
    }
}

fn pair(s: &Setup) -> (End, End) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    // "configure per connection": a new connection from the shared Arc<ClientConfig>.
    let name = ServerName::try_from("localhost").unwrap();
    let c = ClientConnection::new(s.client.clone(), name).unwrap();
    let sv = ServerConnection::new(s.server.clone()).unwrap();
    (
        End {
            tls: c.into(),
            sock: a,
        },
        End {
            tls: sv.into(),
            sock: b,
        },
    )
}

fn handshake(c: &mut End, s: &mut End) {
    for _ in 0..100_000 {
        if !(c.tls.is_handshaking()
            || s.tls.is_handshaking()
            || c.tls.wants_write()
            || s.tls.wants_write())
        {
            return;
        }
        for e in [&mut *c, &mut *s] {
            if e.tls.is_handshaking() || e.tls.wants_write() {
                e.flush();
                while e.tls.is_handshaking() && e.fill() {}
                e.flush();
            }
        }
    }
    panic!("handshake stalled");
}

/// Sends `data` from `from`, reading it at `to`, as tlsbench.c's transfer().
fn transfer(from: &mut End, to: &mut End, data: &[u8], rbuf: &mut [u8]) {
    from.tls.writer().write_all(data).unwrap();
    let mut got = 0;
    while got < data.len() {
        from.flush();
        got += to.drain(rbuf);
    }
}

fn close(c: &mut End, s: &mut End) {
    c.tls.send_close_notify();
    s.tls.send_close_notify();
    c.flush();
    s.flush();
}

/// One connection as the handshake workloads count it: handshake, one byte server to
/// client (so tickets are read), close.
fn connection(st: &Setup) -> bool {
    let (mut c, mut s) = pair(st);
    handshake(&mut c, &mut s);
    let mut b = [0u8; 16];
    transfer(&mut s, &mut c, b"x", &mut b);
    close(&mut c, &mut s);
    match &c.tls {
        Connection::Client(cc) => cc.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
        _ => false,
    }
}

/// As common.h's more(): `secs` of CPU time (at least 4 operations), or exactly -secs
/// operations when negative.
fn more(t0: f64, n: u64, secs: f64) -> bool {
    if secs < 0.0 {
        return n < (-secs) as u64;
    }
    n < 4 || cpu() - t0 < secs
}

/// Read system calls so far, from bench/iocount.so when it is preloaded.
fn io_reads() -> Option<i64> {
    // SAFETY: RTLD_DEFAULT is the null handle on glibc; the symbol is `long long f(void)`.
    unsafe {
        let f = dlsym(std::ptr::null_mut(), c"bench_io_reads".as_ptr());
        if f.is_null() {
            return None;
        }
        let f: extern "C" fn() -> i64 = std::mem::transmute(f);
        Some(f())
    }
}

fn result(w: &str, v: f64, unit: &str, hib: bool) {
    println!("RESULT {w} {v:.3} {unit} {}", if hib { 1 } else { 0 });
}

fn run_handshakes(w: &str, st: &Setup, secs: f64, want_resumed: bool) {
    connection(st); // warm-up, and the first ticket
    let t0 = cpu();
    let mut n = 0u64;
    let mut resumed = 0u64;
    while more(t0, n, secs) {
        resumed += connection(st) as u64;
        n += 1;
    }
    let dt = cpu() - t0;
    if want_resumed && resumed != n {
        println!("SKIP {w} only {resumed} of {n} connections resumed");
        return;
    }
    if !want_resumed && resumed != 0 {
        println!("SKIP {w} {resumed} of {n} connections resumed unexpectedly");
        return;
    }
    result(w, n as f64 / dt, "per_s", true);
}

/// handshake_{full,resumed}_{1t_wall,2t}, as tlsbench.c: `threads` threads sharing one
/// Setup (both configs, the client's session cache included); connections per wall-clock
/// second, and `<w>_cpus`, the process's CPU seconds per wall second meanwhile.
fn run_handshakes_wall(w: &str, st: &Setup, secs: f64, want_resumed: bool, threads: usize) {
    let start = std::sync::Barrier::new(threads + 1);
    let (t0, c0, counts) = std::thread::scope(|sc| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    connection(st); // warm-up, and this thread's first ticket
                    start.wait();
                    let (t0, mut n, mut resumed) = (wall(), 0u64, 0u64);
                    while (secs < 0.0 && n < (-secs) as u64)
                        || (secs >= 0.0 && (n < 4 || wall() - t0 < secs))
                    {
                        resumed += connection(st) as u64;
                        n += 1;
                    }
                    (n, resumed)
                })
            })
            .collect();
        start.wait();
        let (t0, c0) = (wall(), cpu());
        (
            t0,
            c0,
            workers
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>(),
        )
    });
    let (dt, dc) = (wall() - t0, cpu() - c0);
    let (n, resumed) = counts.iter().fold((0, 0), |(a, b), (n, r)| (a + n, b + r));
    if want_resumed && resumed != n {
        println!("SKIP {w} only {resumed} of {n} connections resumed");
    } else if !want_resumed && resumed != 0 {
        println!("SKIP {w} {resumed} of {n} connections resumed unexpectedly");
    } else {
        result(w, n as f64 / dt, "per_s", true);
        result(&format!("{w}_cpus"), dc / dt, "cpus", true);
    }
}

/// handshake_full_ca150: setup()'s, with the client verifying against scale/ca150.pem.
fn setup_ca150(dir: &str) -> Setup {
    let s = setup(dir, false, false, None);
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(format!("{dir}/scale/ca150.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let client = ClientConfig::builder_with_provider(s.client.crypto_provider().clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Setup {
        client: Arc::new(client),
        server: s.server,
    }
}

fn run_bulk(w: &str, st: &Setup, chunk: usize, secs: f64) {
    let (mut c, mut s) = pair(st);
    handshake(&mut c, &mut s);
    let data = vec![0x5au8; chunk];
    let mut rbuf = vec![0u8; 16384];
    // As tlsbench.c: write chunk by chunk; when the socket is full, the reader drains.
    let one = |c: &mut End, s: &mut End, rbuf: &mut [u8]| -> usize {
        c.tls.writer().write_all(&data).unwrap();
        let mut got = 0;
        while !c.flush() {
            got += s.drain(rbuf);
        }
        got
    };
    let (mut sent, mut recvd) = (0usize, 0usize);
    while sent < 1 << 20 {
        recvd += one(&mut c, &mut s, &mut rbuf);
        sent += chunk;
    }
    while recvd < sent {
        recvd += s.drain(&mut rbuf);
    }
    let (mut sent, mut recvd) = (0usize, 0usize);
    let t0 = cpu();
    let mut i = 0u64;
    while (secs >= 0.0 && !i.is_multiple_of(64)) || more(t0, i, secs) {
        recvd += one(&mut c, &mut s, &mut rbuf);
        sent += chunk;
        i += 1;
    }
    while recvd < sent {
        recvd += s.drain(&mut rbuf);
    }
    let dt = cpu() - t0;
    result(w, sent as f64 / dt / 1e6, "MB_s", true);
}

/// bulk_record_16k (and _ra, the same here: rustls has one way to read, read_tls's own
/// buffer size): one 16 KiB record written, then read until WouldBlock; with iocount.so
/// preloaded, also the read system calls per record, the one that ends each drain included.
fn run_record(w: &str, st: &Setup, secs: f64) {
    let (mut c, mut s) = pair(st);
    handshake(&mut c, &mut s);
    let data = vec![0x5au8; 16384];
    let mut rbuf = vec![0u8; 16384];
    let one = |c: &mut End, s: &mut End, rbuf: &mut [u8]| {
        c.tls.writer().write_all(&data).unwrap();
        let mut got = 0;
        while !c.flush() {
            got += s.drain(rbuf);
        }
        while got < data.len() {
            got += s.drain(rbuf);
        }
    };
    for _ in 0..64 {
        one(&mut c, &mut s, &mut rbuf);
    }
    let r0 = io_reads();
    let t0 = cpu();
    let mut n = 0u64;
    loop {
        if n.is_multiple_of(64) && !more(t0, n, secs) {
            break;
        }
        one(&mut c, &mut s, &mut rbuf);
        n += 1;
    }
    let dt = cpu() - t0;
    result(w, n as f64 * 16384.0 / dt / 1e6, "MB_s", true);
    if let (Some(r0), Some(r1)) = (r0, io_reads()) {
        let name = if w.ends_with("_ra") {
            "reads_per_record_ra"
        } else {
            "reads_per_record"
        };
        result(name, (r1 - r0) as f64 / n as f64, "count", false);
    }
}

/// latency_tcp_ms: fresh connections over loopback TCP with Nagle on, a 50-byte request and
/// reply each; the median wall-clock time from connect() to the reply. Unlike the C
/// harnesses the server runs on a second thread over blocking sockets (rustls's StreamOwned),
/// as a native rustls program would.
fn run_latency(w: &str, st: &Setup, secs: f64) {
    use std::net::{TcpListener, TcpStream};
    let n = if (0.0..0.1).contains(&secs) { 5 } else { 30 };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = st.server.clone();
    let total = n + 2;
    let t = std::thread::spawn(move || {
        for _ in 0..total {
            let (sock, _) = listener.accept().unwrap();
            let conn = ServerConnection::new(server.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, sock);
            let mut req = [0u8; 50];
            tls.read_exact(&mut req).unwrap();
            tls.write_all(&[b'r'; 50]).unwrap();
            tls.flush().unwrap();
        }
    });
    let name = ServerName::try_from("localhost").unwrap();
    let mut v = Vec::new();
    for i in 0..total {
        let t0 = std::time::Instant::now();
        let sock = TcpStream::connect(addr).unwrap();
        let conn = ClientConnection::new(st.client.clone(), name.clone()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        tls.write_all(&[b'q'; 50]).unwrap();
        let mut resp = [0u8; 50];
        tls.read_exact(&mut resp).unwrap();
        if i >= 2 {
            v.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    t.join().unwrap();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    result(w, m, "ms", false);
}

fn req_resp(c: &mut End, s: &mut End, req: &[u8], resp: &[u8], rbuf: &mut [u8]) {
    transfer(c, s, req, rbuf);
    transfer(s, c, resp, rbuf);
}

fn run_req_resp(w: &str, st: &Setup, secs: f64) {
    let (mut c, mut s) = pair(st);
    handshake(&mut c, &mut s);
    let req = [b'q'; 64];
    let resp = [b'r'; 512];
    let mut rbuf = vec![0u8; 16384];
    for _ in 0..100 {
        req_resp(&mut c, &mut s, &req, &resp, &mut rbuf);
    }
    let t0 = cpu();
    let mut n = 0u64;
    while more(t0, n, secs) {
        req_resp(&mut c, &mut s, &req, &resp, &mut rbuf);
        n += 1;
    }
    let dt = cpu() - t0;
    result(w, dt / n as f64 * 1e6, "us", false);
}

fn run_mem(st: &Setup) {
    let Some(_) = heap() else {
        println!("SKIP mem_per_conn run under LD_PRELOAD=bench/build/memcount.so");
        return;
    };
    const N: usize = 100;
    let req = [b'q'; 64];
    let resp = [b'r'; 512];
    let mut rbuf = vec![0u8; 16384];
    {
        let (mut c, mut s) = pair(st);
        handshake(&mut c, &mut s);
        req_resp(&mut c, &mut s, &req, &resp, &mut rbuf);
    }
    // The vectors are made after the baseline: they hold each End inline (rustls's
    // Connection struct itself), which a C library's context allocation counts too.
    let (base, a0) = heap().unwrap();
    let mut clients = Vec::with_capacity(N);
    let mut servers = Vec::with_capacity(N);
    for _ in 0..N {
        let (mut c, mut s) = pair(st);
        handshake(&mut c, &mut s);
        req_resp(&mut c, &mut s, &req, &resp, &mut rbuf);
        clients.push(c);
        servers.push(s);
    }
    let (full, a1) = heap().unwrap();
    drop(servers);
    let (only_clients, _) = heap().unwrap();
    drop(clients);
    result(
        "mem_per_conn",
        (full - only_clients) as f64 / N as f64,
        "bytes",
        false,
    );
    result(
        "mem_per_conn_client",
        (only_clients - base) as f64 / N as f64,
        "bytes",
        false,
    );
    result(
        "allocs_per_conn",
        (a1 - a0) as f64 / N as f64,
        "count",
        false,
    );
    // Allocations per small request/response in steady state.
    let (mut c, mut s) = pair(st);
    handshake(&mut c, &mut s);
    for _ in 0..10 {
        req_resp(&mut c, &mut s, &req, &resp, &mut rbuf);
    }
    let (_, b0) = heap().unwrap();
    for _ in 0..1000 {
        req_resp(&mut c, &mut s, &req, &resp, &mut rbuf);
    }
    let (_, b1) = heap().unwrap();
    result("allocs_per_req", (b1 - b0) as f64 / 1000.0, "count", false);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: rustls-native WORKLOAD CERTDIR SECONDS");
        std::process::exit(2);
    }
    let (w, dir, secs) = (
        args[1].as_str(),
        args[2].as_str(),
        args[3].parse::<f64>().unwrap(),
    );
    use provider::cipher_suite::{
        TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    match w {
        "handshake_full_p256" => run_handshakes(w, &setup(dir, false, false, None), secs, false),
        "handshake_full_p256_hybrid" => {
            println!("SKIP {w} rustls's ring provider has no X25519MLKEM768 (nbtls brings its own)")
        }
        "handshake_full_rsa2048" => run_handshakes(w, &setup(dir, true, false, None), secs, false),
        "handshake_resumed" => run_handshakes(w, &setup(dir, false, true, None), secs, true),
        "handshake_resumed_aes256" => run_handshakes(
            w,
            &setup(dir, false, true, Some(TLS13_AES_256_GCM_SHA384)),
            secs,
            true,
        ),
        "handshake_full_ca150" => run_handshakes(w, &setup_ca150(dir), secs, false),
        "handshake_full_mtls"
        | "handshake_full_mtls_ca150"
        | "handshake_full_sni50"
        | "idle_10k" => {
            println!("SKIP {w} not written for native rustls (optional for it)")
        }
        "handshake_full_1t_wall" | "handshake_full_2t" => {
            let threads = if w.ends_with("_2t") { 2 } else { 1 };
            run_handshakes_wall(w, &setup(dir, false, false, None), secs, false, threads)
        }
        "handshake_resumed_1t_wall" | "handshake_resumed_2t" => {
            let threads = if w.ends_with("_2t") { 2 } else { 1 };
            run_handshakes_wall(w, &setup(dir, false, true, None), secs, true, threads)
        }
        "req_resp_us" => run_req_resp(w, &setup(dir, false, false, None), secs),
        "mem_per_conn" => run_mem(&setup(dir, false, false, None)),
        "bulk_record_16k" | "bulk_record_16k_ra" => {
            run_record(w, &setup(dir, false, false, None), secs)
        }
        "latency_tcp_ms" => run_latency(w, &setup(dir, false, true, None), secs),
        _ if w.starts_with("bulk_") => {
            let suite = match w.split('_').nth(1) {
                Some("aes128gcm") => TLS13_AES_128_GCM_SHA256,
                Some("aes256gcm") => TLS13_AES_256_GCM_SHA384,
                Some("chacha20") => TLS13_CHACHA20_POLY1305_SHA256,
                _ => panic!("unknown workload {w}"),
            };
            let chunk = if w.ends_with("_1k") { 1024 } else { 16384 };
            run_bulk(w, &setup(dir, false, false, Some(suite)), chunk, secs);
        }
        _ => {
            eprintln!("unknown workload {w}");
            std::process::exit(2);
        }
    }
}
