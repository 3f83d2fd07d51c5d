//! The bodies of nbtls's fuzz targets, shared by the cargo-fuzz binaries (fuzz/fuzz_targets/)
//! and by the corpus replay that `cargo test` runs (tests/fuzz_replay.rs). Pure Rust on
//! nbtls's safe core and std only, so the replay needs nothing but stable Rust.
//!
//! - [`server_bytes`] / [`client_bytes`]: one connection over the memory transport, fed
//!   arbitrary bytes; the oracle is "no panic, sane counts, a failure stays failed".
//! - [`client_hello`]: the SNI parser of the raw ClientHello, fed one stream three ways.
//! - [`api_sequence`]: a connected pair driven by a random sequence of calls over a transport
//!   that randomly says would-block, EINTR, transfers short, or ends; the oracle checks the
//!   byte streams, the out-of-turn write rules after the handshake, and that a settle phase
//!   with faults switched off ends without a deadlock.
//!
//! Input formats (the first bytes choose a configuration, the rest is the script):
//! - bytes targets: `[variant, chunk, stream...]`;
//! - api_sequence: `[variant, extra, (op, arg)...]`, with the transport's fault decisions
//!   taken from the same byte stream as the ops.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex};

use nbtls::config::{Config, Snapshot, TicketPolicy};
use nbtls::conn::state::Phase;
use nbtls::conn::transport::{Memory, Transport};
use nbtls::conn::{Conn, Eof, Stop, Want};
use nbtls::policy::{PROTO_TLS1_2, PROTO_TLS1_3};

/// The fixed test PKI (test keys only): a CA and a localhost leaf it signed.
pub const CA_PEM: &[u8] = include_bytes!("../certs/ca.pem");
pub const SERVER_PEM: &[u8] = include_bytes!("../certs/server.pem");
pub const SERVER_KEY: &[u8] = include_bytes!("../certs/server.key");

const EPIPE: i32 = 32;
const ECONNRESET: i32 = 104;

/// A configuration chosen by one input byte.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub protocols: u32,
    pub policy: TicketPolicy,
    pub alpn: bool,
    pub num_tickets: usize,
    pub strict_eof: bool,
}

impl Variant {
    pub fn from_byte(b: u8) -> Self {
        let protocols = match b & 3 {
            1 => PROTO_TLS1_2,
            2 => PROTO_TLS1_3,
            _ => PROTO_TLS1_2 | PROTO_TLS1_3,
        };
        let policy =
            TicketPolicy::from_int(i32::from((b >> 2) & 3)).unwrap_or(TicketPolicy::Deferred);
        Self {
            protocols,
            policy,
            alpn: b & 0x10 != 0,
            num_tickets: usize::from((b >> 5) & 3),
            strict_eof: b & 0x80 != 0,
        }
    }
}

/// Fresh client and server snapshots for a variant (fresh each run: no session cache
/// carried from one input to the next, so every input replays the same way).
pub fn snapshots(v: Variant) -> (Arc<Snapshot>, Arc<Snapshot>) {
    let client = Config::new().expect("config");
    client
        .edit(|s| {
            s.ca_pem = Some(CA_PEM.to_vec());
            s.protocols = v.protocols;
            s.strict_eof = v.strict_eof;
            if v.alpn {
                s.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            }
            Ok(())
        })
        .expect("client settings");
    let server = Config::new().expect("config");
    server
        .edit(|s| {
            s.cert_pem = Some(SERVER_PEM.to_vec());
            s.key_pem = Some(SERVER_KEY.to_vec());
            s.protocols = v.protocols;
            s.ticket_policy = v.policy;
            s.num_tickets = v.num_tickets;
            s.strict_eof = v.strict_eof;
            if v.alpn {
                s.alpn = vec![b"http/1.1".to_vec()];
            }
            Ok(())
        })
        .expect("server settings");
    (
        client.client_snapshot().expect("client snapshot"),
        server.server_snapshot().expect("server snapshot"),
    )
}

fn client_conn(snap: &Snapshot, io: Box<dyn Transport>) -> Conn {
    Conn::client(snap.client.clone().expect("client config"), Some("localhost"), io, &snap.settings)
        .expect("client")
}

fn server_conn(snap: &Snapshot, io: Box<dyn Transport>) -> Conn {
    Conn::server(snap.server.clone().expect("server config"), io, &snap.settings).expect("server")
}

// ------------------------------------------------------------------ bytes targets

/// A server over the memory transport fed `data` (see the module comment for its format).
pub fn server_bytes(data: &[u8]) {
    bytes_target(data, true);
}

/// A client over the memory transport fed `data`.
pub fn client_bytes(data: &[u8]) {
    bytes_target(data, false);
}

fn bytes_target(data: &[u8], server: bool) {
    if data.len() < 2 {
        return;
    }
    let v = Variant::from_byte(data[0]);
    let chunk = usize::from(data[1]).max(1) * 37;
    let (cs, ss) = snapshots(v);
    let mut conn = if server {
        server_conn(&ss, Box::<Memory>::default())
    } else {
        client_conn(&cs, Box::<Memory>::default())
    };
    let mut out = vec![0u8; 4096];
    let mut plain = vec![0u8; 4096];
    let mut failed: Option<nbtls::Error> = None;
    let mut rest = &data[2..];
    // A client speaks first.
    poke(&mut conn, &mut out, &mut plain, &mut failed);
    let mut stuck = 0;
    while !rest.is_empty() && failed.is_none() {
        let take = chunk.min(rest.len());
        match conn.feed(&rest[..take]) {
            Ok(n) => {
                assert!(n <= take, "feed accepted {n} of {take}");
                rest = &rest[n..];
                stuck = if n == 0 { stuck + 1 } else { 0 };
            }
            Err(Stop::Want(w)) => panic!("feed returned WANT {w:?}"),
            Err(Stop::Fail(e)) => failed = Some(e),
        }
        poke(&mut conn, &mut out, &mut plain, &mut failed);
        if stuck > 3 {
            // Accepting nothing while the plaintext is read and the output drained: the
            // buffers are full of something nobody can take. Report, don't spin.
            panic!("feed accepts nothing although everything was read and drained");
        }
    }
    if failed.is_none() {
        match conn.feed_eof() {
            Ok(()) => {}
            Err(Stop::Fail(e)) => failed = Some(e),
            Err(Stop::Want(w)) => panic!("feed_eof returned WANT {w:?}"),
        }
        poke(&mut conn, &mut out, &mut plain, &mut failed);
    }
    if let Some(e) = &failed {
        // A failed connection stays failed, with the same error.
        match conn.handshake() {
            Err(Stop::Fail(again)) if again.code == e.code || e.code == nbtls::Code::WrongState => {
            }
            Err(Stop::Fail(_)) => {}
            other => panic!("a failed connection answered {other:?} (first failure {e:?})"),
        }
    }
    let _ = conn.close();
    while matches!(conn.drain(&mut out), Ok(n) if n > 0) {}
}

/// One handshake or read, one small write once open, and drains everything due.
fn poke(conn: &mut Conn, out: &mut [u8], plain: &mut [u8], failed: &mut Option<nbtls::Error>) {
    if failed.is_some() {
        while matches!(conn.drain(out), Ok(n) if n > 0) {}
        return;
    }
    let open_before = conn.phase() == Phase::Open;
    let r = if conn.phase() == Phase::Handshaking {
        conn.handshake().map(|()| 0)
    } else {
        conn.read(plain)
    };
    match r {
        Ok(n) => assert!(n <= plain.len()),
        Err(Stop::Want(Want::Write)) if open_before => {
            panic!("read returned WANT_POLLOUT after the handshake")
        }
        Err(Stop::Want(_)) => {}
        Err(Stop::Fail(e)) => *failed = Some(e),
    }
    if failed.is_none() && conn.phase() == Phase::Open {
        // Read whatever is waiting, then write a little: both must behave.
        for _ in 0..64 {
            match conn.read(plain) {
                Ok(n) if n > 0 => {}
                Ok(_) => break,
                Err(Stop::Want(Want::Write)) => {
                    panic!("read returned WANT_POLLOUT after the handshake")
                }
                Err(Stop::Want(_)) => break,
                Err(Stop::Fail(e)) => {
                    *failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() && conn.eof() == Eof::Open {
            match conn.write(b"ping") {
                Ok(n) => assert!(n > 0 && n <= 4),
                Err(Stop::Want(_)) => {}
                Err(Stop::Fail(e)) => *failed = Some(e),
            }
        }
    }
    let mut total = 0usize;
    loop {
        match conn.drain(out) {
            Ok(0) => break,
            Ok(n) => {
                assert!(n <= out.len());
                total += n;
                assert!(total < 1 << 24, "drain never runs dry");
            }
            Err(e) => panic!("drain failed on a memory transport: {e:?}"),
        }
    }
}

// ------------------------------------------------------------------- api_sequence

/// The shared byte source: ops for the driver, fault decisions for the transports.
struct Tape {
    data: Vec<u8>,
    pos: usize,
    /// Faults are off (the settle phase).
    calm: bool,
}

impl Tape {
    fn byte(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied();
        self.pos += 1;
        b
    }
}

#[derive(Default)]
struct Dir {
    data: VecDeque<u8>,
    cap: usize,
    /// The writer shut down its side: the reader sees EOF once empty.
    eof: bool,
    /// The connection was reset: both ends fail with ECONNRESET.
    reset: bool,
    moved: u64,
}

/// One end of a faulty in-memory socket.
struct Faulty {
    rx: Arc<Mutex<Dir>>,
    tx: Arc<Mutex<Dir>>,
    tape: Arc<Mutex<Tape>>,
    /// Bytes this end has handed to the transport (a write from `read` shows here).
    written: Arc<Mutex<u64>>,
}

enum Fault {
    None,
    Block,
    Intr,
    Short(usize),
}

impl Faulty {
    fn fault(&self) -> Fault {
        let mut t = self.tape.lock().unwrap();
        if t.calm {
            return Fault::None;
        }
        match t.byte() {
            None => Fault::None,
            Some(b) => match b & 7 {
                4 => Fault::Block,
                5 => Fault::Intr,
                6 | 7 => Fault::Short(1 + usize::from(b >> 3)),
                _ => Fault::None,
            },
        }
    }
}

impl Transport for Faulty {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = match self.fault() {
            Fault::Block => return Err(io::ErrorKind::WouldBlock.into()),
            Fault::Intr => return Err(io::ErrorKind::Interrupted.into()),
            Fault::Short(n) => n,
            Fault::None => usize::MAX,
        };
        let mut rx = self.rx.lock().unwrap();
        if rx.reset {
            return Err(io::Error::from_raw_os_error(ECONNRESET));
        }
        if rx.data.is_empty() {
            return if rx.eof { Ok(0) } else { Err(io::ErrorKind::WouldBlock.into()) };
        }
        let n = buf.len().min(rx.data.len()).min(limit);
        for (i, b) in rx.data.drain(..n).enumerate() {
            buf[i] = b;
        }
        rx.moved += n as u64;
        Ok(n)
    }

    fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let limit = match self.fault() {
            Fault::Block => return Err(io::ErrorKind::WouldBlock.into()),
            Fault::Intr => return Err(io::ErrorKind::Interrupted.into()),
            Fault::Short(n) => n,
            Fault::None => usize::MAX,
        };
        let mut tx = self.tx.lock().unwrap();
        if tx.reset {
            return Err(io::Error::from_raw_os_error(ECONNRESET));
        }
        if tx.eof {
            return Err(io::Error::from_raw_os_error(EPIPE));
        }
        let room = tx.cap.saturating_sub(tx.data.len()).min(limit);
        let mut n = 0;
        for b in bufs {
            for &byte in b.iter() {
                if n == room {
                    break;
                }
                tx.data.push_back(byte);
                n += 1;
            }
        }
        if n == 0 && bufs.iter().any(|b| !b.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        *self.written.lock().unwrap() += n as u64;
        Ok(n)
    }

    fn read_now(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        Some(self.read(buf))
    }

    fn opportunistic(&self) -> bool {
        true
    }
}

/// The byte at offset `i` of the stream a side writes (side 0 client, 1 server).
fn stream_byte(side: usize, i: usize) -> u8 {
    let x = (i as u32).wrapping_mul(2_654_435_761)
        ^ ((side as u32 + 1) * 0x9e37_79b9)
        ^ (i as u32 >> 13);
    (x ^ (x >> 15)) as u8
}

struct Side {
    conn: Conn,
    name: &'static str,
    /// Bytes the peer's successful writes reported, in order (checked by content).
    sent: usize,
    /// A write that said WANT: the next write passes the same bytes again.
    retry_len: Option<usize>,
    received: usize,
    handshake_done: bool,
    closed: bool,
    saw_eof: bool,
    written: Arc<Mutex<u64>>,
}

struct Pair {
    sides: [Side; 2],
    dirs: [Arc<Mutex<Dir>>; 2], // dirs[i]: bytes written by side i
    tape: Arc<Mutex<Tape>>,
    policy: TicketPolicy,
    /// A transport EOF or reset was injected: streams may end early, calls may fail.
    broken: bool,
    memory: bool,
    scratch: Vec<u8>,
    /// An upper bound of the KeyUpdate messages side i sent since its last data record: its
    /// own requests plus its answers to the peer's (rustls refuses the 33rd in a row).
    key_updates: [usize; 2],
    /// The longest such run each side has started (the peer fails when it reads it).
    key_update_runs: [usize; 2],
    /// Memory mode: bytes drained from side i and not yet fed to its peer.
    backlog: [Vec<u8>; 2],
}

/// rustls's limit of KeyUpdate messages between two application data records.
const KEY_UPDATES_TOLERATED: usize = 32;

impl Pair {
    fn moved(&self) -> u64 {
        self.dirs
            .iter()
            .map(|d| {
                let d = d.lock().unwrap();
                d.moved + d.data.len() as u64
            })
            .sum()
    }

    /// Whether `read` on side `i` may hand ciphertext to the transport (the ticket policy: not after
    /// the handshake under DEFERRED; OPPORTUNISTIC's attempt on a server is allowed).
    fn read_may_write(&self, i: usize) -> bool {
        i == 1 && self.policy == TicketPolicy::Opportunistic
    }

    fn due(&mut self, i: usize) -> u64 {
        if self.memory {
            self.sides[i].conn.pending_write() as u64
        } else {
            *self.sides[i].written.lock().unwrap()
        }
    }

    fn handshake(&mut self, i: usize) -> bool {
        let s = &mut self.sides[i];
        match s.conn.handshake() {
            Ok(()) => {
                let first = !s.handshake_done;
                s.handshake_done = true;
                first
            }
            Err(Stop::Want(_)) => false,
            // libtls: a handshake after completion fails and the connection stays usable.
            Err(Stop::Fail(e)) if e.msg == "handshake already completed" => {
                assert_eq!(e.code, nbtls::Code::Unknown);
                assert_ne!(s.conn.phase(), Phase::Handshaking, "{}: not completed", s.name);
                assert_ne!(
                    s.conn.phase(),
                    Phase::Failed,
                    "{}: a second handshake failed it",
                    s.name
                );
                s.handshake_done = true;
                false
            }
            Err(Stop::Fail(e)) => {
                self.check_failure(i, &e, "handshake");
                false
            }
        }
    }

    /// A failure is expected only after an injected EOF/reset, a close, or a wrong call, and
    /// from a peer that sent more KeyUpdates in a row than rustls tolerates.
    fn check_failure(&mut self, i: usize, e: &nbtls::Error, call: &str) {
        use nbtls::Code;
        let s = &self.sides[i];
        let misuse = matches!(e.code, Code::WrongState | Code::Unsupported | Code::InvalidArgument);
        let peer_closed = self.sides[1 - i].closed;
        let flooded = e.code == Code::Protocol
            && e.msg.contains("TooManyKeyUpdateRequests")
            && self.key_update_runs[1 - i] > KEY_UPDATES_TOLERATED;
        if flooded {
            self.broken = true;
            return;
        }
        if !(self.broken || misuse || s.closed || peer_closed) {
            panic!("{}: {call} failed on a healthy connection: {e:?}", s.name);
        }
    }

    fn read(&mut self, i: usize, len: usize) -> bool {
        let len = len.max(1).min(self.scratch.len());
        let open_before = self.sides[i].conn.phase() == Phase::Open;
        let before = self.due(i);
        let r = self.sides[i].conn.read(&mut self.scratch[..len]);
        let after = self.due(i);
        let name = self.sides[i].name;
        if open_before && !matches!(r, Err(Stop::Fail(_))) && !self.read_may_write(i) {
            if self.memory {
                assert!(
                    after <= before,
                    "{name}: read after the handshake made {} bytes due",
                    after - before
                );
            } else {
                assert_eq!(
                    after, before,
                    "{name}: read after the handshake wrote to the transport"
                );
            }
        }
        match r {
            Ok(0) => {
                let peer = &self.sides[1 - i];
                assert!(
                    self.broken || peer.closed,
                    "{name}: end of stream although the peer neither closed nor was cut off"
                );
                self.sides[i].saw_eof = true;
                false
            }
            Ok(n) => {
                assert!(n <= len);
                let s = &self.sides[i];
                for k in 0..n {
                    let off = s.received + k;
                    assert_eq!(
                        self.scratch[k],
                        stream_byte(1 - i, off),
                        "{name}: byte {off} of the stream differs from what the peer wrote"
                    );
                }
                self.sides[i].received += n;
                if !self.sides[i].handshake_done && self.sides[i].conn.phase() == Phase::Open {
                    self.sides[i].handshake_done = true;
                }
                true
            }
            Err(Stop::Want(w)) => {
                if open_before {
                    assert_eq!(
                        w,
                        Want::Read,
                        "{name}: read returned WANT_POLLOUT after the handshake"
                    );
                }
                false
            }
            Err(Stop::Fail(e)) => {
                self.check_failure(i, &e, "read");
                false
            }
        }
    }

    fn write(&mut self, i: usize, len: usize) -> bool {
        let s = &mut self.sides[i];
        let retry = s.retry_len.is_some();
        let len = s.retry_len.unwrap_or(len.max(1));
        let data: Vec<u8> = (0..len).map(|k| stream_byte(i, s.sent + k)).collect();
        match s.conn.write(&data) {
            Ok(n) => {
                assert!(n > 0 && n <= len, "{}: write of {len} returned {n}", s.name);
                s.sent += n;
                s.retry_len = None;
                if !retry {
                    // A fresh record follows every KeyUpdate queued so far (a retry's record
                    // was made by the first attempt, before KeyUpdates queued since), except
                    // an answer rustls parks for a request read later: at most one.
                    self.key_updates[i] = 1;
                }
                true
            }
            Err(Stop::Want(_)) => {
                s.retry_len = Some(len);
                false
            }
            Err(Stop::Fail(e)) => {
                // A refused call (after close, say) does not cancel bytes an earlier write
                // already took: they may still leave (with close_notify), so keep counting
                // them as possibly sent.
                self.check_failure(i, &e, "write");
                false
            }
        }
    }

    fn flush(&mut self, i: usize) -> bool {
        match self.sides[i].conn.flush() {
            Ok(()) => false,
            Err(Stop::Want(w)) => {
                assert_eq!(w, Want::Write, "{}: flush wants input", self.sides[i].name);
                false
            }
            Err(Stop::Fail(e)) => {
                self.check_failure(i, &e, "flush");
                false
            }
        }
    }

    fn close(&mut self, i: usize) -> bool {
        let r = self.sides[i].conn.close();
        self.sides[i].closed = true;
        match r {
            Ok(()) | Err(Stop::Want(_)) => false,
            Err(Stop::Fail(e)) => {
                // A truncated stream makes close fail; a gone peer does not.
                if !(e.code == nbtls::Code::Truncated && self.broken) {
                    self.check_failure(i, &e, "close");
                }
                false
            }
        }
    }

    fn key_update(&mut self, i: usize) {
        match self.sides[i].conn.key_update() {
            Ok(()) => {
                // A request from i, and possibly an answer from the peer.
                self.key_updates[i] += 1;
                self.key_updates[1 - i] += 1;
                for k in 0..2 {
                    self.key_update_runs[k] = self.key_update_runs[k].max(self.key_updates[k]);
                }
            }
            Err(Stop::Fail(e)) => self.check_failure(i, &e, "key_update"),
            Err(Stop::Want(w)) => panic!("key_update returned WANT {w:?}"),
        }
    }

    /// Moves up to `chunk` due bytes from side `i` to its peer (memory mode): bytes drained
    /// earlier and not yet delivered go first.
    fn shuttle(&mut self, i: usize, chunk: usize) -> bool {
        let mut buf = std::mem::take(&mut self.backlog[i]);
        if buf.is_empty() {
            buf = vec![0u8; chunk.max(1)];
            let n = match self.sides[i].conn.drain(&mut buf) {
                Ok(n) => n,
                Err(e) => panic!("{}: drain failed: {e:?}", self.sides[i].name),
            };
            buf.truncate(n);
        }
        let n = buf.len();
        if n == 0 {
            return false;
        }
        let mut off = 0;
        let mut idle = 0;
        while off < n {
            let r = self.sides[1 - i].conn.feed(&buf[off..n]);
            match r {
                Ok(0) => {
                    // Full: as a libtls user does, read plaintext to make room, and drain
                    // what that read wants sent (WANT_POLLOUT: "drain me"; the peer gets it
                    // with its next shuttle).
                    idle += 1;
                    if idle > 64 {
                        panic!(
                            "{}: feed accepts nothing although its plaintext was read and its \
                             output drained",
                            self.sides[1 - i].name
                        );
                    }
                    self.read(1 - i, 16384);
                    self.drain_to_backlog(1 - i);
                }
                Ok(k) => off += k,
                Err(Stop::Want(w)) => panic!("feed returned WANT {w:?}"),
                Err(Stop::Fail(e)) => {
                    self.check_failure(1 - i, &e, "feed");
                    break;
                }
            }
            if off < n && self.sides[1 - i].conn.phase() == Phase::Failed {
                break;
            }
        }
        self.dirs[i].lock().unwrap().moved += n as u64;
        true
    }

    /// Drains everything due on side `i` into its backlog (memory mode).
    fn drain_to_backlog(&mut self, i: usize) {
        let mut tmp = vec![0u8; 16_384];
        for _ in 0..1024 {
            match self.sides[i].conn.drain(&mut tmp) {
                Ok(0) => return,
                Ok(n) => self.backlog[i].extend_from_slice(&tmp[..n]),
                Err(e) => panic!("{}: drain failed: {e:?}", self.sides[i].name),
            }
        }
        panic!("{}: drain never runs dry", self.sides[i].name);
    }
}

/// Random interleavings of handshake/read/write/flush/close/key_update on a connected pair.
pub fn api_sequence(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let v = Variant::from_byte(data[0]);
    let memory = data[1] & 1 != 0;
    let cap = [1usize, 7, 64, 300, 1500, 5000, 17_000, 100_000][usize::from((data[1] >> 1) & 7)];
    let tape = Arc::new(Mutex::new(Tape { data: data[2..].to_vec(), pos: 0, calm: false }));
    let mut p = build_pair(v, memory, cap, tape.clone());

    // The script. NBTLS_FUZZ_TRACE=1 prints it (with tests/fuzz_replay.rs's one_input).
    let trace = std::env::var_os("NBTLS_FUZZ_TRACE").is_some();
    for _ in 0..512 {
        let (op, arg) = {
            let mut t = tape.lock().unwrap();
            match (t.byte(), t.byte()) {
                (Some(o), Some(a)) => (o, a),
                _ => break,
            }
        };
        let i = usize::from(op & 1);
        let len = usize::from(arg) * usize::from(arg) / 4 + 1; // 1 .. ~16 KiB
        if trace {
            eprintln!(
                "op {} side {i} arg {arg} | phases {:?} {:?} sent {} {} received {} {} ku {:?}",
                (op >> 1) % 12,
                p.sides[0].conn.phase(),
                p.sides[1].conn.phase(),
                p.sides[0].sent,
                p.sides[1].sent,
                p.sides[0].received,
                p.sides[1].received,
                p.key_updates
            );
        }
        match (op >> 1) % 12 {
            0 => {
                p.handshake(i);
            }
            1 | 2 => {
                p.read(i, len);
            }
            3 | 4 => {
                p.write(i, len);
            }
            5 => {
                p.flush(i);
            }
            6 => {
                if arg < 64 {
                    p.close(i);
                }
            }
            7 => p.key_update(i),
            8 | 9 => {
                if memory {
                    p.shuttle(i, len);
                } else {
                    p.read(i, 1);
                }
            }
            10 => {
                // The transport ends: this side's writes stop reaching the peer (a half-close
                // from i), or, with arg odd, a reset of both directions.
                if arg < 32 {
                    p.broken = true;
                    if memory {
                        let _ = p.sides[1 - i].conn.feed_eof();
                    } else if arg & 1 == 1 {
                        for d in &p.dirs {
                            d.lock().unwrap().reset = true;
                        }
                    } else {
                        p.dirs[i].lock().unwrap().eof = true;
                    }
                }
            }
            _ => {
                p.write(i, 1);
            }
        }
    }

    // The settle phase: faults off, every side drives its handshake, finishes its pending
    // write, flushes and reads. A round that moves nothing ends it.
    settle(&mut p);

    // The verdict.
    for i in 0..2 {
        let (me, peer) = (&p.sides[i], &p.sides[1 - i]);
        let failed = me.conn.phase() == Phase::Failed;
        if !p.broken && !failed && peer.conn.phase() != Phase::Failed {
            if !me.closed && !peer.closed {
                assert!(
                    me.conn.info().is_some(),
                    "{}: the handshake never completed (deadlock)",
                    me.name
                );
            }
            if !me.closed && me.conn.info().is_some() && peer.conn.info().is_some() {
                // Everything the peer's writes reported has arrived, and nothing else,
                // except a write the peer left pending when it closed.
                let extra = peer.retry_len.unwrap_or(0);
                assert!(
                    me.received >= peer.sent && me.received <= peer.sent + extra,
                    "{}: received {} bytes, the peer's writes reported {} (pending {})",
                    me.name,
                    me.received,
                    peer.sent,
                    extra
                );
                assert!(
                    peer.retry_len.is_none() || peer.closed,
                    "{}: a write never completed",
                    peer.name
                );
            }
        }
    }
    for i in 0..2 {
        let _ = p.sides[i].conn.close();
    }
}

fn build_pair(v: Variant, memory: bool, cap: usize, tape: Arc<Mutex<Tape>>) -> Pair {
    let (cs, ss) = snapshots(v);
    let dirs = [
        Arc::new(Mutex::new(Dir { cap, ..Default::default() })),
        Arc::new(Mutex::new(Dir { cap, ..Default::default() })),
    ];
    let written = [Arc::new(Mutex::new(0u64)), Arc::new(Mutex::new(0u64))];
    let end = |i: usize| -> Box<dyn Transport> {
        if memory {
            Box::<Memory>::default()
        } else {
            Box::new(Faulty {
                rx: dirs[1 - i].clone(),
                tx: dirs[i].clone(),
                tape: tape.clone(),
                written: written[i].clone(),
            })
        }
    };
    let side = |conn: Conn, name: &'static str, i: usize| Side {
        conn,
        name,
        sent: 0,
        retry_len: None,
        received: 0,
        handshake_done: false,
        closed: false,
        saw_eof: false,
        written: written[i].clone(),
    };
    let client = client_conn(&cs, end(0));
    let server = server_conn(&ss, end(1));
    Pair {
        sides: [side(client, "client", 0), side(server, "server", 1)],
        dirs: dirs.clone(),
        tape: tape.clone(),
        policy: v.policy,
        broken: false,
        memory,
        scratch: vec![0u8; 20_000],
        key_updates: [0, 0],
        key_update_runs: [0, 0],
        backlog: [Vec::new(), Vec::new()],
    }
}

/// Drives a pair with faults off until neither side moves.
fn settle(p: &mut Pair) {
    p.tape.lock().unwrap().calm = true;
    let memory = p.memory;
    let mut idle = 0;
    for round in 0..100_000 {
        assert!(round < 99_999, "settle phase spins without end");
        let before = p.moved();
        let mut progress = false;
        for i in 0..2 {
            if p.sides[i].closed || p.sides[i].conn.phase() == Phase::Failed {
                if p.sides[i].closed && p.sides[i].conn.phase() == Phase::Closing {
                    p.close(i);
                }
                if memory {
                    progress |= p.shuttle(i, 16_384);
                }
                continue;
            }
            if p.sides[i].conn.phase() == Phase::Handshaking {
                progress |= p.handshake(i);
            }
            if p.sides[i].retry_len.is_some() {
                let l = p.sides[i].retry_len.unwrap_or(1);
                progress |= p.write(i, l);
            }
            if p.sides[i].conn.phase() == Phase::Open {
                p.flush(i);
            }
            for _ in 0..64 {
                if p.sides[i].saw_eof
                    || p.sides[i].conn.phase() != Phase::Open
                    || !p.read(i, 16_384)
                {
                    break;
                }
                progress = true;
            }
            if memory {
                progress |= p.shuttle(i, 16_384);
            }
        }
        if progress || p.moved() != before {
            idle = 0;
        } else {
            idle += 1;
            if idle >= 2 {
                break;
            }
        }
    }
}

/// For the replay test: proves the stream oracle fails on a stream that skips a byte.
pub fn self_test_corrupt_stream() {
    let tape = Arc::new(Mutex::new(Tape { data: Vec::new(), pos: 0, calm: true }));
    let mut p = build_pair(Variant::from_byte(0), true, 100_000, tape);
    settle(&mut p);
    assert!(p.sides[0].conn.info().is_some(), "self test: no handshake");
    assert!(p.write(0, 100));
    p.sides[1].received += 1; // as if a byte had been lost
    settle(&mut p);
}

/// A real exchange over the memory transport, for seeds: returns the client's and the
/// server's ciphertext (handshake, a request, a reply, KeyUpdate when TLS 1.3, close_notify).
pub fn transcript(v: Variant, key_update: bool) -> (Vec<u8>, Vec<u8>) {
    let (cs, ss) = snapshots(v);
    let mut c = client_conn(&cs, Box::<Memory>::default());
    let mut s = server_conn(&ss, Box::<Memory>::default());
    let mut wire = [Vec::new(), Vec::new()];
    let mut buf = vec![0u8; 65_536];
    let mut pump = |c: &mut Conn, s: &mut Conn, wire: &mut [Vec<u8>; 2]| {
        for _ in 0..8 {
            for (from, to, w) in [(0, 1, 0usize), (1, 0, 1)] {
                let (a, b) = if from == 0 { (&mut *c, &mut *s) } else { (&mut *s, &mut *c) };
                let _ = to;
                let n = a.drain(&mut buf).expect("drain");
                wire[w].extend_from_slice(&buf[..n]);
                let mut off = 0;
                while off < n {
                    // A closed side takes nothing more (its peer's close_notify included).
                    match b.feed(&buf[off..n]) {
                        Ok(k) if k > 0 => off += k,
                        _ => break,
                    }
                }
            }
        }
    };
    let (mut rc, mut rs) = (Err(Stop::Want(Want::Read)), Err(Stop::Want(Want::Read)));
    for _ in 0..10 {
        if rc != Ok(()) {
            rc = c.handshake();
        }
        pump(&mut c, &mut s, &mut wire);
        if rs != Ok(()) {
            rs = s.handshake();
        }
        pump(&mut c, &mut s, &mut wire);
    }
    assert_eq!((rc, rs), (Ok(()), Ok(())));
    let mut plain = [0u8; 256];
    assert!(c.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").is_ok());
    pump(&mut c, &mut s, &mut wire);
    let _ = s.read(&mut plain);
    if key_update && s.key_update().is_ok() {
        let _ = s.flush();
    }
    assert!(s.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_ok());
    pump(&mut c, &mut s, &mut wire);
    let _ = c.read(&mut plain);
    let _ = c.flush();
    let _ = c.close();
    pump(&mut c, &mut s, &mut wire);
    let _ = s.read(&mut plain);
    let _ = s.close();
    pump(&mut c, &mut s, &mut wire);
    let [a, b] = wire;
    (a, b)
}

// ------------------------------------------------------------------ client_hello

/// The SNI parser (nbtls::conn::hello) fed `[chunk, stream...]`: the stream in chunks of
/// `chunk` bytes through `feed_bytes`, in one piece, and record by record through
/// `feed_record`. The oracle: no panic, never more than MAX_HELLO bytes held, and the same
/// answer (done or not, which name) whichever way the bytes came.
pub fn client_hello(data: &[u8]) {
    use nbtls::conn::hello::{HelloName, MAX_HELLO};
    let Some((&chunk, stream)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    // The prefix of whole records, framed by their length fields alone.
    let mut records = Vec::new();
    let mut off = 0;
    while stream.len() - off >= 5 {
        let end = off + 5 + usize::from(u16::from_be_bytes([stream[off + 3], stream[off + 4]]));
        if end > stream.len() {
            break;
        }
        records.push(&stream[off..end]);
        off = end;
    }
    let whole = &stream[..off];
    let answer = |h: &HelloName| (h.is_done(), h.server_name_bytes().map(<[u8]>::to_vec));
    let mut by_chunks = HelloName::new();
    for c in whole.chunks(chunk) {
        by_chunks.feed_bytes(c);
        assert!(by_chunks.buffered() <= MAX_HELLO, "held {} bytes", by_chunks.buffered());
    }
    let mut at_once = HelloName::new();
    at_once.feed_bytes(whole);
    let mut by_records = HelloName::new();
    for r in &records {
        by_records.feed_record(r);
        assert!(by_records.buffered() <= MAX_HELLO, "held {} bytes", by_records.buffered());
    }
    assert_eq!(answer(&by_chunks), answer(&at_once), "feed_bytes in chunks of {chunk}");
    assert_eq!(answer(&by_records), answer(&at_once), "feed_record");
    if let Some(name) = at_once.server_name_bytes() {
        assert!(!name.is_empty() && at_once.is_done());
    }
    // The incomplete tail changes nothing that was decided.
    let decided = answer(&at_once);
    at_once.feed_bytes(&stream[off..]);
    if decided.0 {
        assert_eq!(answer(&at_once), decided, "bytes after the end changed the answer");
    }
}

/// The ClientHello an nbtls client sends for `name` (`None`: no SNI), as one record.
pub fn client_hello_bytes(v: Variant, name: Option<&str>) -> Vec<u8> {
    let (cs, _) = snapshots(v);
    let mut settings = cs.settings.clone();
    if name.is_none() {
        settings.checks.name = false;
    }
    let mut c = Conn::client(
        cs.client.clone().expect("client config"),
        name,
        Box::<Memory>::default(),
        &settings,
    )
    .expect("client");
    let _ = c.handshake();
    let mut buf = vec![0u8; 65_536];
    let n = c.drain(&mut buf).expect("drain");
    buf.truncate(n);
    buf
}

/// Which target a corpus directory feeds.
pub fn by_name(name: &str) -> Option<fn(&[u8])> {
    match name {
        "server_bytes" => Some(server_bytes),
        "client_bytes" => Some(client_bytes),
        "api_sequence" => Some(api_sequence),
        "client_hello" => Some(client_hello),
        _ => None,
    }
}
