//! The server name exactly as the client sent it, read from the raw ClientHello.
//!
//! rustls lowercases the SNI host name before anyone sees it, but libtls's
//! `tls_conn_servername()` returns it as sent (programs match it with case-sensitive
//! `fnmatch`). [`HelloName`] is fed the plaintext records that arrive before the ClientHello
//! is complete, reassembles the first handshake message across records (a ClientHello may
//! span several records, and records may arrive split anywhere) and, once it has the whole
//! message, keeps only the `server_name` extension's `host_name` (and whether its
//! supported_versions offer TLS 1.3, which decides the signature schemes the server may use).
//!
//! It never panics and never holds more than [`MAX_HELLO`] bytes plus a 5-byte record
//! header: any malformed input (a record longer than TLS allows, a first handshake message
//! that is not a ClientHello, a length that does not add up, a duplicate extension) ends it
//! with no name. Its result is advice: the engine uses it only when it equals, ignoring ASCII
//! case, the name rustls accepted.
use std::io;

/// The largest ClientHello reassembled (handshake header included); a longer one yields no
/// name.
pub const MAX_HELLO: usize = 64 * 1024;

/// The largest plaintext record body TLS allows (2^14).
const MAX_RECORD: usize = 16 * 1024;
const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_NAME: u16 = 0;
const SUPPORTED_VERSIONS: u16 = 43;
const HOST_NAME: u8 = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Still reading the first handshake message.
    Collecting,
    /// The whole ClientHello was read (the name, if any, is in `name`).
    Done,
    /// The input was malformed or too long: no name.
    Failed,
}

/// Reads the SNI host name, case kept, from the records that carry a ClientHello.
#[derive(Debug)]
pub struct HelloName {
    phase: Phase,
    /// `feed_bytes`'s record framing: the header so far, and the body bytes still due.
    header: [u8; 5],
    header_len: usize,
    body_left: usize,
    body_is_handshake: bool,
    /// The first handshake message's 4-byte header so far.
    msg_header: [u8; 4],
    msg_header_len: usize,
    /// Its body so far, when it spans several pieces of input (one that arrives whole is
    /// parsed where it lies); dropped when done.
    msg: Vec<u8>,
    /// The host name as sent, once the ClientHello is complete.
    name: Name,
    /// Whether the whole ClientHello offered TLS 1.3 (supported_versions lists 0x0304).
    tls13: bool,
}

/// A host name: up to 255 bytes (any DNS name) held inline, so reading one allocates
/// nothing; a longer one boxed.
#[derive(Debug)]
struct Name {
    /// The length of an inline name; `None` when there is none inline.
    inline_len: Option<u8>,
    inline: [u8; 255],
    boxed: Option<Box<[u8]>>,
}

impl Name {
    const NONE: Name = Name { inline_len: None, inline: [0; 255], boxed: None };

    fn new(name: &[u8]) -> Self {
        let mut n = Name::NONE;
        match u8::try_from(name.len()) {
            Ok(len) => {
                n.inline[..name.len()].copy_from_slice(name);
                n.inline_len = Some(len);
            }
            Err(_) => n.boxed = Some(name.into()),
        }
        n
    }

    fn bytes(&self) -> Option<&[u8]> {
        match (&self.boxed, self.inline_len) {
            (Some(b), _) => Some(b),
            (None, Some(len)) => Some(&self.inline[..usize::from(len)]),
            (None, None) => None,
        }
    }
}

impl Default for HelloName {
    fn default() -> Self {
        Self::new()
    }
}

impl HelloName {
    /// A parser that has seen nothing yet. Allocates nothing until handshake bytes come.
    pub fn new() -> Self {
        Self {
            phase: Phase::Collecting,
            header: [0; 5],
            header_len: 0,
            body_left: 0,
            body_is_handshake: false,
            msg_header: [0; 4],
            msg_header_len: 0,
            msg: Vec::new(),
            name: Name::NONE,
            tls13: false,
        }
    }

    /// Takes one whole plaintext record (5-byte header and body) as it came from the wire.
    /// Records of other content types are ignored; a record whose header length is not its
    /// body's ends the parse with no name.
    pub fn feed_record(&mut self, record: &[u8]) {
        if self.phase != Phase::Collecting {
            return;
        }
        let Some((header, body)) = record.split_first_chunk::<5>() else {
            return self.fail();
        };
        match check_header(header) {
            Some((len, handshake)) if len == body.len() => {
                if handshake {
                    self.handshake_bytes(body);
                }
            }
            _ => self.fail(),
        }
    }

    /// Takes the next bytes of the raw stream, in chunks of any size; frames records itself
    /// (the same rules as [`HelloName::feed_record`]).
    pub fn feed_bytes(&mut self, mut bytes: &[u8]) {
        while self.phase == Phase::Collecting && !bytes.is_empty() {
            if self.header_len < 5 {
                let n = (5 - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + n].copy_from_slice(&bytes[..n]);
                self.header_len += n;
                bytes = &bytes[n..];
                if self.header_len < 5 {
                    return;
                }
                match check_header(&self.header) {
                    Some((len, handshake)) => {
                        self.body_left = len;
                        self.body_is_handshake = handshake;
                    }
                    None => return self.fail(),
                }
            }
            let n = self.body_left.min(bytes.len());
            if self.body_is_handshake {
                self.handshake_bytes(&bytes[..n]);
            }
            bytes = &bytes[n..];
            self.body_left -= n;
            if self.body_left == 0 {
                self.header_len = 0;
            }
        }
    }

    /// Whether there is nothing more to learn: the ClientHello is complete, or the input was
    /// malformed. Feeding more is harmless.
    pub fn is_done(&self) -> bool {
        self.phase != Phase::Collecting
    }

    /// The host name exactly as the client sent it, once the whole ClientHello was read
    /// and it had one; `None` before, without SNI, or after malformed input.
    pub fn server_name_bytes(&self) -> Option<&[u8]> {
        self.name.bytes()
    }

    /// [`HelloName::server_name_bytes`] as text (`None` if it is not UTF-8).
    pub fn server_name(&self) -> Option<&str> {
        self.server_name_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// Whether the whole ClientHello was read and offers TLS 1.3 (its supported_versions
    /// extension lists 0x0304); `false` before, without one, or after malformed input.
    pub fn offers_tls13(&self) -> bool {
        self.phase == Phase::Done && self.tls13
    }

    /// Bytes held for reassembly (at most [`MAX_HELLO`]).
    pub fn buffered(&self) -> usize {
        match self.phase {
            Phase::Collecting => self.msg_header_len + self.msg.len(),
            _ => 0,
        }
    }

    fn fail(&mut self) {
        self.phase = Phase::Failed;
        self.msg = Vec::new();
        self.name = Name::NONE;
    }

    /// Body bytes of a handshake record: appended to the first message until it is whole.
    fn handshake_bytes(&mut self, mut bytes: &[u8]) {
        if self.msg_header_len < 4 {
            let n = (4 - self.msg_header_len).min(bytes.len());
            self.msg_header[self.msg_header_len..self.msg_header_len + n]
                .copy_from_slice(&bytes[..n]);
            self.msg_header_len += n;
            bytes = &bytes[n..];
            if self.msg_header_len < 4 {
                return;
            }
            if self.msg_header[0] != CLIENT_HELLO || 4 + be24(&self.msg_header[1..4]) > MAX_HELLO {
                return self.fail();
            }
        }
        let body_len = be24(&self.msg_header[1..4]);
        if self.msg.is_empty() && bytes.len() >= body_len {
            // The whole body in this piece (the usual case): read where it lies.
            return self.parsed(host_name(&bytes[..body_len]));
        }
        if self.msg.capacity() == 0 {
            self.msg.reserve_exact(body_len);
        }
        let n = (body_len - self.msg.len()).min(bytes.len());
        self.msg.extend_from_slice(&bytes[..n]);
        if self.msg.len() == body_len {
            let msg = std::mem::take(&mut self.msg);
            self.parsed(host_name(&msg));
        }
    }

    /// Ends the parse with the ClientHello body's answer.
    fn parsed(&mut self, answer: Result<(Option<&[u8]>, bool), Malformed>) {
        match answer {
            Ok((name, tls13)) => {
                self.name = name.map_or(Name::NONE, Name::new);
                self.tls13 = tls13;
                self.phase = Phase::Done;
                self.msg = Vec::new();
            }
            Err(Malformed) => self.fail(),
        }
    }
}

/// The body length and whether it is a handshake record, if the header is plausible.
fn check_header(h: &[u8; 5]) -> Option<(usize, bool)> {
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    // ChangeCipherSpec, Alert, Handshake, ApplicationData, Heartbeat; record version 3.x.
    if !(20..=24).contains(&h[0]) || h[1] != 3 || len > MAX_RECORD {
        return None;
    }
    Some((len, h[0] == HANDSHAKE))
}

fn be24(b: &[u8]) -> usize {
    usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2])
}

#[derive(Debug)]
struct Malformed;

/// A cursor over a byte slice whose every read fails cleanly at the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if n > self.0.len() {
            return Err(Malformed);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Malformed> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    /// A vector with a 1- or 2-byte length prefix.
    fn vec8(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// The server_name extension's host_name in a ClientHello body (RFC 8446 §4.1.2, RFC 6066
/// §3), `None` without one.
/// Also whether its supported_versions extension lists TLS 1.3.
fn host_name(body: &[u8]) -> Result<(Option<&[u8]>, bool), Malformed> {
    let mut r = Reader(body);
    r.take(2 + 32)?; // legacy_version, random
    if r.vec8()?.len() > 32 {
        return Err(Malformed); // legacy_session_id
    }
    let suites = r.vec16()?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err(Malformed);
    }
    if r.vec8()?.is_empty() {
        return Err(Malformed); // legacy_compression_methods
    }
    if r.0.is_empty() {
        return Ok((None, false)); // no extensions (TLS 1.2 allows it)
    }
    let mut exts = Reader(r.vec16()?);
    if !r.0.is_empty() {
        return Err(Malformed);
    }
    let mut found = None;
    let mut tls13 = false;
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let data = exts.vec16()?;
        if kind == SUPPORTED_VERSIONS {
            tls13 = Reader(data).vec8()?.chunks(2).any(|v| v == [3, 4]);
            continue;
        }
        if kind != SERVER_NAME {
            continue;
        }
        if found.is_some() {
            return Err(Malformed); // a duplicate extension
        }
        found = Some(server_name_list(data)?);
    }
    Ok((found.flatten(), tls13))
}

/// The first host_name of a ServerNameList.
fn server_name_list(data: &[u8]) -> Result<Option<&[u8]>, Malformed> {
    let mut outer = Reader(data);
    let mut list = Reader(outer.vec16()?);
    if !outer.0.is_empty() || list.0.is_empty() {
        return Err(Malformed);
    }
    let mut host = None;
    while !list.0.is_empty() {
        let kind = list.u8()?;
        let name = list.vec16()?;
        if kind == HOST_NAME && host.is_none() {
            if name.is_empty() {
                return Err(Malformed);
            }
            host = Some(name);
        }
    }
    Ok(host)
}

/// An `io::Read` that passes everything it reads to a [`HelloName`] as well: wraps the
/// reader rustls's Acceptor reads from, so the parser sees the same bytes.
pub struct Tee<'a, 'b> {
    /// The real source.
    pub inner: &'a mut dyn io::Read,
    /// Where a copy goes.
    pub hello: &'b mut HelloName,
}

impl io::Read for Tee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hello.feed_bytes(&buf[..n.min(buf.len())]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello body with the given extensions (type, data).
    fn hello_body(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(32);
        b.extend_from_slice(&[9; 32]);
        b.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02]);
        b.extend_from_slice(&[1, 0]);
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend_from_slice(&t.to_be_bytes());
            e.extend_from_slice(&(d.len() as u16).to_be_bytes());
            e.extend_from_slice(d);
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        b
    }

    fn sni(names: &[(u8, &[u8])]) -> Vec<u8> {
        let mut l = Vec::new();
        for (t, n) in names {
            l.push(*t);
            l.extend_from_slice(&(n.len() as u16).to_be_bytes());
            l.extend_from_slice(n);
        }
        let mut d = (l.len() as u16).to_be_bytes().to_vec();
        d.extend_from_slice(&l);
        d
    }

    fn message(body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut m = vec![CLIENT_HELLO, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        m.extend_from_slice(body);
        m
    }

    /// The message in records of at most `size` body bytes each.
    fn records(msg: &[u8], size: usize) -> Vec<Vec<u8>> {
        msg.chunks(size)
            .map(|c| {
                let mut r = vec![HANDSHAKE, 3, 1, (c.len() >> 8) as u8, c.len() as u8];
                r.extend_from_slice(c);
                r
            })
            .collect()
    }

    fn by_records(recs: &[Vec<u8>]) -> HelloName {
        let mut h = HelloName::new();
        for r in recs {
            h.feed_record(r);
        }
        h
    }

    fn by_bytes(stream: &[u8], chunk: usize) -> HelloName {
        let mut h = HelloName::new();
        for c in stream.chunks(chunk) {
            h.feed_bytes(c);
        }
        h
    }

    fn with_name(name: &[u8]) -> Vec<u8> {
        message(&hello_body(&[
            (10, vec![0, 2, 0, 29]),
            (0, sni(&[(0, name)])),
            (43, vec![2, 3, 4]),
        ]))
    }

    #[test]
    fn supported_versions_tell_whether_tls13_is_offered() {
        type Exts = Vec<(u16, Vec<u8>)>;
        let cases: [(Exts, bool); 3] = [
            (vec![(43, vec![4, 3, 4, 3, 3])], true),
            (vec![(43, vec![2, 3, 3])], false),
            (vec![(0, sni(&[(0, b"a.example")]))], false),
        ];
        for (exts, want) in &cases {
            let h = by_records(&records(&message(&hello_body(exts)), 16384));
            assert!(h.is_done());
            assert_eq!(h.offers_tls13(), *want, "{exts:?}");
        }
        // a ClientHello not yet whole offers nothing yet
        let m = with_name(b"a.example");
        let h = by_records(&records(&m[..m.len() - 1], 16384));
        assert!(!h.offers_tls13());
    }

    #[test]
    fn mixed_case_name_is_kept() {
        let h = by_records(&records(&with_name(b"LocalHost.Example"), 16384));
        assert!(h.is_done());
        assert_eq!(h.server_name(), Some("LocalHost.Example"));
        assert_eq!(h.buffered(), 0);
    }

    #[test]
    fn split_across_records_and_byte_by_byte() {
        let msg = with_name(b"WWW.Example.ORG");
        for size in [1, 2, 3, 4, 5, 7, 40, 1000] {
            let recs = records(&msg, size);
            assert_eq!(by_records(&recs).server_name(), Some("WWW.Example.ORG"), "{size}");
            let stream = recs.concat();
            for chunk in [1, 2, 5, 6, 13, 4096] {
                let h = by_bytes(&stream, chunk);
                assert_eq!(h.server_name(), Some("WWW.Example.ORG"), "{size}/{chunk}");
            }
        }
    }

    #[test]
    fn not_done_until_the_whole_message() {
        let stream = records(&with_name(b"a.example"), 30).concat();
        let mut h = HelloName::new();
        h.feed_bytes(&stream[..stream.len() - 1]);
        assert!(!h.is_done());
        assert_eq!(h.server_name(), None);
        h.feed_bytes(&stream[stream.len() - 1..]);
        assert_eq!(h.server_name(), Some("a.example"));
    }

    #[test]
    fn other_content_types_are_ignored() {
        let mut stream = vec![21, 3, 3, 0, 2, 1, 0]; // a warning alert
        stream.extend(records(&with_name(b"X.example"), 50).concat());
        assert_eq!(by_bytes(&stream, 3).server_name(), Some("X.example"));
        let mut h = HelloName::new();
        h.feed_record(&[23, 3, 3, 0, 1, 0]);
        for r in records(&with_name(b"X.example"), 50) {
            h.feed_record(&r);
        }
        assert_eq!(h.server_name(), Some("X.example"));
    }

    #[test]
    fn no_sni() {
        let h = by_records(&records(&message(&hello_body(&[(10, vec![0, 2, 0, 29])])), 100));
        assert!(h.is_done());
        assert_eq!(h.server_name(), None);
        // No extensions at all.
        let mut body = hello_body(&[]);
        body.truncate(body.len() - 2);
        let h = by_records(&records(&message(&body), 100));
        assert!(h.is_done());
        assert_eq!(h.server_name(), None);
        // Only a name of another type.
        let h = by_records(&records(&message(&hello_body(&[(0, sni(&[(7, b"x")]))])), 100));
        assert!(h.is_done());
        assert_eq!(h.server_name(), None);
    }

    #[test]
    fn the_first_host_name_counts() {
        let body = hello_body(&[(0, sni(&[(7, b"other"), (0, b"First"), (0, b"Second")]))]);
        assert_eq!(by_records(&records(&message(&body), 9)).server_name(), Some("First"));
    }

    #[test]
    fn malformed_input_gives_no_name() {
        let good = with_name(b"Name.example");
        let mut cases: Vec<Vec<u8>> = Vec::new();
        // Not a ClientHello first.
        let mut m = good.clone();
        m[0] = 2;
        cases.push(records(&m, 100).concat());
        // The declared length is longer than the cap.
        cases.push(vec![22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x01]);
        // A record longer than TLS allows; a bogus content type; SSLv2.
        cases.push(vec![22, 3, 1, 0x40, 0x01, 1]);
        cases.push(vec![99, 3, 1, 0, 1, 1]);
        cases.push(vec![0x80, 0x2e, 1, 3, 1, 0, 0x15]);
        // Duplicate server_name; an empty host name; trailing bytes after the extensions;
        // a name list longer than its extension.
        let dup = hello_body(&[(0, sni(&[(0, b"a")])), (0, sni(&[(0, b"b")]))]);
        cases.push(records(&message(&dup), 100).concat());
        cases.push(records(&message(&hello_body(&[(0, sni(&[(0, b"")]))])), 100).concat());
        let mut trail = hello_body(&[(0, sni(&[(0, b"a")]))]);
        trail.push(0);
        cases.push(records(&message(&trail), 100).concat());
        let mut long = sni(&[(0, b"abc")]);
        long[1] += 1;
        cases.push(records(&message(&hello_body(&[(0, long)])), 100).concat());
        // A message cut short of its declared length, then garbage.
        let mut cut = good.clone();
        cut.truncate(20);
        cases.push(records(&cut, 100).concat());
        cases.push(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
        for (i, c) in cases.iter().enumerate() {
            for chunk in [1, 3, 4096] {
                let h = by_bytes(c, chunk);
                assert_eq!(h.server_name(), None, "case {i}, chunk {chunk}");
                assert!(h.buffered() <= MAX_HELLO);
            }
        }
        // A record whose header length is not its body's.
        let mut r = records(&good, 16384).remove(0);
        r.push(0);
        assert_eq!(by_records(&[r]).server_name(), None);
        let mut h = HelloName::new();
        h.feed_record(&[22, 3]);
        assert!(h.is_done());
    }

    #[test]
    fn memory_stays_bounded() {
        // A ClientHello declaring just under the cap, fed in full-size records.
        let body_len = MAX_HELLO - 4;
        let mut msg =
            vec![CLIENT_HELLO, (body_len >> 16) as u8, (body_len >> 8) as u8, body_len as u8];
        msg.resize(MAX_HELLO, 0);
        let mut h = HelloName::new();
        for r in records(&msg, 16384) {
            h.feed_record(&r);
            assert!(h.buffered() <= MAX_HELLO);
        }
        assert!(h.is_done());
        assert_eq!(h.server_name(), None);
        // One more byte declared: refused at once, nothing buffered.
        let over = MAX_HELLO - 3;
        let mut h = HelloName::new();
        h.feed_bytes(&[22, 3, 1, 0, 4, 1, (over >> 16) as u8, (over >> 8) as u8, over as u8]);
        assert!(h.is_done());
        assert_eq!(h.buffered(), 0);
    }

    #[test]
    fn tee_copies_what_is_read() {
        let stream = records(&with_name(b"Tee.Example"), 10).concat();
        let mut src: &[u8] = &stream;
        let mut hello = HelloName::new();
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let mut tee = Tee { inner: &mut src, hello: &mut hello };
            let n = io::Read::read(&mut tee, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, stream);
        assert_eq!(hello.server_name(), Some("Tee.Example"));
    }
}
