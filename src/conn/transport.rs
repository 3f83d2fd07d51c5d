//! The transports behind one trait: what the engine reads ciphertext from and writes it to.
//!
//! The fd transport lives in `sys` (it makes system calls) and the callback transport in
//! `ffi` (it calls C); the engine drives every transport through this trait, and holds the
//! fd transport inline ([`Io`]) so that the usual connection allocates nothing for it.
use std::io::{self, IoSlice};

/// A byte transport. `read` returning `Ok(0)` is the peer's EOF; `WouldBlock` and
/// `Interrupted` make the engine return a WANT code; any other error is fatal.
pub trait Transport: Send {
    /// Reads into `buf`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes some of `bufs` (in order), as `writev` would.
    fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// One write attempt that never blocks (a fatal alert, an opportunistic ticket flush).
    /// Transports that cannot promise that write normally: their writes never block.
    fn write_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.write(bufs)
    }
    /// One read attempt that never blocks, or `None` when this transport cannot promise that.
    fn read_now(&mut self, _buf: &mut [u8]) -> Option<io::Result<usize>> {
        None
    }
    /// Whether OPPORTUNISTIC's non-blocking attempts apply (sockets and memory only).
    fn opportunistic(&self) -> bool {
        false
    }
    /// Whether this is the memory transport: rustls's send queue is its output (bytes are
    /// "sent" when due and handed out by `drain`), its input is handed in by `feed`.
    fn is_memory(&self) -> bool {
        false
    }
    /// The memory transport's end of input (`tls_feed_eof`); no-op elsewhere.
    fn set_eof(&mut self) {}
    /// Asks the kernel to acknowledge what it has received at once, once (`TCP_QUICKACK` on
    /// a Linux TCP socket): the handshake ended on a read with nothing written after it.
    /// No-op where there is no such socket.
    fn quick_ack(&mut self) {}
    /// Sends now what the kernel holds back under Nagle, once (`TCP_NODELAY` on and off
    /// again on a TCP socket that does not have it on). No-op where there is no such socket.
    fn push(&mut self) {}
}

/// A connection's transport as it owns it: a pair of file descriptors held inline (the
/// usual case: no allocation), or any other transport boxed.
pub enum Io {
    /// File descriptors (`tls_connect_socket`, `tls_accept_fds`, ...).
    Fd(crate::sys::fd::FdTransport),
    /// Callbacks, memory, test pipes.
    Boxed(Box<dyn Transport>),
}

impl From<crate::sys::fd::FdTransport> for Io {
    fn from(t: crate::sys::fd::FdTransport) -> Self {
        Io::Fd(t)
    }
}

impl<T: Transport + 'static> From<Box<T>> for Io {
    fn from(t: Box<T>) -> Self {
        Io::Boxed(t)
    }
}

impl From<Box<dyn Transport>> for Io {
    fn from(t: Box<dyn Transport>) -> Self {
        Io::Boxed(t)
    }
}

impl std::ops::Deref for Io {
    type Target = dyn Transport;

    fn deref(&self) -> &Self::Target {
        match self {
            Io::Fd(t) => t,
            Io::Boxed(t) => &**t,
        }
    }
}

impl std::ops::DerefMut for Io {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Io::Fd(t) => t,
            Io::Boxed(t) => &mut **t,
        }
    }
}

/// The memory transport: no I/O of its own. Input arrives through `Conn::feed` straight
/// into rustls; output waits in rustls's queue until `Conn::drain` copies it out. Reading
/// would block until the peer's EOF is fed; writing always would block ("drain me").
#[derive(Default)]
pub struct Memory {
    eof: bool,
}

impl Transport for Memory {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        if self.eof {
            Ok(0)
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    fn write(&mut self, _bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    fn read_now(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        Some(self.read(buf))
    }

    fn opportunistic(&self) -> bool {
        true
    }

    fn is_memory(&self) -> bool {
        true
    }

    fn set_eof(&mut self) {
        self.eof = true;
    }
}

/// Adapts a transport to `io::Write` for rustls, passing on at most `limit` bytes (so bytes
/// held at the tail of rustls's queue stay there).
pub(crate) struct Output<'a> {
    pub io: &'a mut dyn Transport,
    pub limit: usize,
    pub now: bool,
}

impl io::Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total <= self.limit {
            // Nothing held back in these buffers: pass them through untouched.
            let r = if self.now { self.io.write_now(bufs) } else { self.io.write(bufs) };
            if let Ok(w) = r {
                self.limit -= w.min(self.limit);
            }
            return r;
        }
        let mut trimmed: [IoSlice<'_>; 64] = [IoSlice::new(&[]); 64];
        let mut left = self.limit;
        let mut n = 0;
        for b in bufs.iter().take(64) {
            if left == 0 {
                break;
            }
            let take = b.len().min(left);
            if take > 0 {
                trimmed[n] = IoSlice::new(&b[..take]);
                n += 1;
                left -= take;
            }
        }
        if n == 0 {
            return Ok(0);
        }
        let r =
            if self.now { self.io.write_now(&trimmed[..n]) } else { self.io.write(&trimmed[..n]) };
        if let Ok(w) = r {
            self.limit -= w.min(self.limit);
        }
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An in-memory transport end for tests: reads from one shared buffer and writes to another,
/// each with a fixed capacity; empty and full report `WouldBlock`.
#[cfg(test)]
pub mod pipe {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// One direction of a pipe.
    #[derive(Default)]
    pub struct Buf {
        /// Bytes written and not yet read.
        pub data: VecDeque<u8>,
        /// The most bytes `data` holds.
        pub cap: usize,
        /// The writer closed: reads see EOF once `data` is empty; writes fail.
        pub closed: bool,
        /// Bytes ever taken out (tests use it to tell progress from a deadlock).
        pub moved: usize,
    }

    /// A transport end.
    pub struct End {
        /// The direction this end reads.
        pub rx: Arc<Mutex<Buf>>,
        /// The direction this end writes.
        pub tx: Arc<Mutex<Buf>>,
    }

    /// Two connected ends with `cap` bytes of buffer per direction.
    pub fn pair(cap: usize) -> (End, End) {
        let a = Arc::new(Mutex::new(Buf { cap, ..Default::default() }));
        let b = Arc::new(Mutex::new(Buf { cap, ..Default::default() }));
        (End { rx: a.clone(), tx: b.clone() }, End { rx: b, tx: a })
    }

    impl Transport for End {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut rx = self.rx.lock().unwrap();
            if rx.data.is_empty() {
                return if rx.closed { Ok(0) } else { Err(io::ErrorKind::WouldBlock.into()) };
            }
            let n = buf.len().min(rx.data.len());
            rx.moved += n;
            for (i, b) in rx.data.drain(..n).enumerate() {
                buf[i] = b;
            }
            Ok(n)
        }

        fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            let mut tx = self.tx.lock().unwrap();
            if tx.closed {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let mut n = 0;
            // One slice per call, as C callbacks do: the engine must not rely on writev.
            for b in bufs.iter().filter(|b| !b.is_empty()).take(1) {
                for &byte in b.iter() {
                    if tx.data.len() >= tx.cap {
                        return if n == 0 { Err(io::ErrorKind::WouldBlock.into()) } else { Ok(n) };
                    }
                    tx.data.push_back(byte);
                    n += 1;
                }
            }
            Ok(n)
        }

        fn read_now(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
            Some(self.read(buf))
        }

        fn opportunistic(&self) -> bool {
            true
        }
    }
}
