//! The read path: the one way ciphertext enters a connection (from the transport, read
//! ahead, or fed), a record at a time over fds and callbacks, and its processing.
use std::io;

use rustls::Connection;

use super::accept::Pending;
use super::transport::Transport;
use super::{hello, records, would_block, Conn, Got, Source, Step};
use crate::error::Error;

impl Conn {
    /// One read from the transport and the processing of what it brought. Bytes the
    /// processing queues are classified here: out-of-turn ones join the held tail.
    pub(super) fn read_and_process(&mut self) -> Step<Got> {
        match self.ingest(Source::Transport)? {
            Ok(0) => Ok(Got::Eof),
            Ok(_) => Ok(Got::Data),
            Err(e) if would_block(&e) => Ok(Got::Blocked),
            Err(e) => Err(self.fail(Error::io("read from transport", &e))),
        }
    }

    /// Reads once from `src` into rustls (or the Acceptor) and, if that worked, processes
    /// what came: the one path by which ciphertext enters the connection.
    pub(super) fn ingest(&mut self, src: Source<'_, '_>) -> Step<io::Result<usize>> {
        let was_handshaking = self.tls.is_handshaking();
        let before = self.queued();
        let r = match src {
            Source::Transport => self.read_record(false),
            Source::Bytes(data) => Self::read_tls_into(&mut self.tls, &mut self.pending, data),
        };
        if r.is_ok() {
            self.process(was_handshaking, before)?;
        }
        Ok(r)
    }

    /// Processes what was just read; bytes this queues are classified here: out-of-turn
    /// ones join the held tail.
    pub(super) fn process(&mut self, was_handshaking: bool, before: usize) -> Step<()> {
        self.unread = true;
        if self.pending.is_some() {
            return self.try_accept();
        }
        match self.tls.process_new_packets() {
            Ok(st) => {
                let added = st.tls_bytes_to_write().saturating_sub(before);
                if added > 0 && self.out_of_turn(was_handshaking) {
                    if self.peer_waits(was_handshaking) {
                        self.reply_due = true;
                        self.send_reply_now();
                    } else {
                        self.sched.hold(added);
                    }
                }
                Ok(())
            }
            Err(e) => Err(self.fatal(Error::tls(&e))),
        }
    }

    pub(super) fn read_tls_into(
        tls: &mut Connection,
        pending: &mut Option<Box<Pending>>,
        rd: &mut dyn io::Read,
    ) -> io::Result<usize> {
        match pending {
            // The parser sees what the Acceptor reads (the read-path rewrite feeds it whole
            // records with `feed_record` instead).
            Some(p) => p.acceptor.read_tls(&mut hello::Tee { inner: rd, hello: &mut p.hello }),
            None => tls.read_tls(rd),
        }
    }

    /// Takes the next bytes of the current record from the transport, never more, and hands
    /// them to rustls (or the Acceptor): the one read of the fd and callback transports.
    /// `Ok(0)` is the transport's EOF. With `now` the read never blocks (`WouldBlock` where
    /// the transport cannot promise that).
    pub(super) fn read_record(&mut self, now: bool) -> io::Result<usize> {
        if self.read_ahead {
            return self.read_ahead_record(now);
        }
        let partial = self.framer.partial_header().len();
        if self.framer.at_boundary() || partial > 0 {
            return self.read_header(partial, now);
        }
        // The rest of a body whose start (and header) rustls already has.
        match self.framer.want() {
            n if n <= 2048 => self.read_body::<2048>(None, n, now),
            n => self.read_body::<{ records::MAX_RECORD }>(None, n, now),
        }
    }

    /// Reads the rest of a record header. The header is kept until its body's first bytes
    /// come, so rustls is handed whole records and its buffer stays small (a header alone
    /// would make it grow its buffer by the header's 5 bytes, and shrink it again, per
    /// record). A header with no body or an impossible length goes to rustls alone: it
    /// refuses the record before anything more is read.
    pub(super) fn read_header(&mut self, got: usize, now: bool) -> io::Result<usize> {
        let mut header = [0u8; records::HEADER];
        header[..got].copy_from_slice(self.framer.partial_header());
        let n = transport_read(&mut *self.io, &mut header[got..], now)?;
        if n == 0 {
            // A truncated header still reaches rustls, so the end reads as truncation.
            Self::hand_over(&mut self.tls, &mut self.pending, &header[..got])?;
            return Self::hand_eof(&mut self.tls, &mut self.pending);
        }
        self.framer.advance(&header[got..got + n]);
        if got + n < records::HEADER {
            return Ok(n);
        }
        let body = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if body == 0 || body > records::MAX_BODY {
            Self::hand_over(&mut self.tls, &mut self.pending, &header)?;
            return Ok(n);
        }
        match body {
            b if b <= 2048 => self.read_body::<{ 2048 + records::HEADER }>(Some(header), b, now),
            b => self.read_body::<{ records::MAX_RECORD }>(Some(header), b, now),
        }
        .map(|m| n + m)
    }

    /// Reads up to `want` body bytes and hands them to rustls, behind `header` when it has
    /// not had it yet. A body that is not there yet leaves the header with rustls alone.
    pub(super) fn read_body<const N: usize>(
        &mut self,
        header: Option<[u8; records::HEADER]>,
        want: usize,
        now: bool,
    ) -> io::Result<usize> {
        let mut buf = [0u8; N];
        let off = header.map_or(0, |h| {
            buf[..records::HEADER].copy_from_slice(&h);
            records::HEADER
        });
        match transport_read(&mut *self.io, &mut buf[off..off + want], now) {
            Ok(n) if n > 0 => {
                self.framer.advance(&buf[off..off + n]);
                Self::hand_over(&mut self.tls, &mut self.pending, &buf[..off + n])?;
                Ok(n)
            }
            other => {
                Self::hand_over(&mut self.tls, &mut self.pending, &buf[..off])?;
                match other {
                    Err(e) if off == 0 || !would_block(&e) => Err(e),
                    // With the header handed over this read made progress; the body, or the
                    // EOF, comes with the next one.
                    _ if off > 0 => Ok(0),
                    _ => Self::hand_eof(&mut self.tls, &mut self.pending),
                }
            }
        }
    }

    /// Read-ahead: one read takes what the transport has (up to [`AHEAD`]); rustls is handed
    /// it a record at a time, as reads without read-ahead would.
    pub(super) fn read_ahead_record(&mut self, now: bool) -> io::Result<usize> {
        if self.ahead.is_none() {
            let mut a = Ahead::take();
            let n = match transport_read(&mut *self.io, &mut a.buf[..], now) {
                Ok(n) => n,
                Err(e) => {
                    a.give_back();
                    return Err(e);
                }
            };
            if n == 0 {
                a.give_back();
                return Self::hand_eof(&mut self.tls, &mut self.pending);
            }
            a.pos = 0;
            a.end = n;
            self.ahead = Some(a);
        }
        let a = self.ahead.as_mut().expect("filled above");
        let rest = &a.buf[a.pos..a.end];
        let mut n = self.framer.advance(rest);
        if n < rest.len() {
            // The first byte of the next record goes along: rustls's buffer then never
            // empties between records, and so is not shrunk to 4 KiB and grown again (and
            // cleared) for every large record. The rest of that record is here or still in
            // the transport, where poll(2) sees it.
            n += self.framer.advance(&rest[n..=n]);
        }
        let r = Self::hand_over(&mut self.tls, &mut self.pending, &rest[..n]);
        a.pos += n;
        if a.pos == a.end {
            // Nothing stays with the connection while it is idle: the buffer goes back to
            // the thread's spare.
            if let Some(a) = self.ahead.take() {
                a.give_back();
            }
        }
        r.map(|()| n)
    }

    /// Hands `bytes`, just read from the transport, to rustls (or the Acceptor) in full.
    pub(super) fn hand_over(
        tls: &mut Connection,
        pending: &mut Option<Box<Pending>>,
        mut bytes: &[u8],
    ) -> io::Result<()> {
        while !bytes.is_empty() {
            // 0 means rustls takes nothing more (after close_notify): the rest is discarded.
            if Self::read_tls_into(tls, pending, &mut bytes)? == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Tells rustls (or the Acceptor) that the transport ended.
    pub(super) fn hand_eof(
        tls: &mut Connection,
        pending: &mut Option<Box<Pending>>,
    ) -> io::Result<usize> {
        Self::read_tls_into(tls, pending, &mut &[][..])
    }
}

/// Ciphertext read ahead (`tls_config_set_read_ahead`), handed to rustls from `pos` to
/// `end`. Its buffer is [`AHEAD`] bytes, zeroed once: when a connection has handed all of
/// it over, it becomes its thread's spare, which the next read-ahead read on that thread
/// takes, so a read allocates and clears nothing in the steady state.
pub(super) struct Ahead {
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
}

thread_local! {
    /// One read-ahead buffer kept per thread between reads.
    static SPARE: std::cell::Cell<Option<Box<Ahead>>> = const { std::cell::Cell::new(None) };
}

impl Ahead {
    /// The bytes read ahead and not yet handed to rustls.
    pub(super) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// The thread's spare buffer, or a new one (also in a thread whose thread-locals are
    /// already gone: a read from a thread-exit destructor).
    fn take() -> Box<Ahead> {
        SPARE.try_with(std::cell::Cell::take).ok().flatten().unwrap_or_else(|| {
            Box::new(Ahead { buf: vec![0u8; AHEAD].into_boxed_slice(), pos: 0, end: 0 })
        })
    }

    /// Keeps this (emptied) buffer as the thread's spare; freed if the thread has one.
    fn give_back(mut self: Box<Self>) {
        self.pos = 0;
        self.end = 0;
        // A thread that is exiting has no spare to keep: the buffer is freed.
        let _ = SPARE.try_with(|s| s.set(Some(self)));
    }
}

/// How much one read-ahead read asks for.
const AHEAD: usize = 64 * 1024;

/// One read from the transport; with `now`, one that never blocks.
fn transport_read(io: &mut dyn Transport, buf: &mut [u8], now: bool) -> io::Result<usize> {
    if now {
        io.read_now(buf).unwrap_or_else(|| Err(io::ErrorKind::WouldBlock.into()))
    } else {
        io.read(buf)
    }
}
