//! The memory transport's calls: the application hands received ciphertext in with `feed`
//! and `feed_eof`, and takes ciphertext to send with `drain`.
use super::state::Op;
use super::{Conn, Source, Step, Stop};
use crate::error::Error;

impl Conn {
    /// Hands received ciphertext to the connection (memory transport) and processes it.
    /// Returns the bytes accepted: fewer than offered when rustls's buffers are full (read
    /// plaintext first), 0 when none fit.
    pub fn feed(&mut self, mut data: &[u8]) -> Step<usize> {
        self.enter(Op::Read)?;
        if !self.io.is_memory() {
            return Err(Stop::Fail(Error::state(
                "tls_feed needs a memory transport (tls_connect_mem / tls_accept_mem)",
            )));
        }
        let total = data.len();
        while !data.is_empty() {
            // rustls refuses more (its buffers are full) with an error: accept no more now.
            if !matches!(self.ingest(Source::Bytes(&mut data))?, Ok(n) if n > 0) {
                break;
            }
        }
        Ok(total - data.len())
    }

    /// The peer closed its side (memory transport).
    pub fn feed_eof(&mut self) -> Step<()> {
        self.enter(Op::Read)?;
        if !self.io.is_memory() {
            return Err(Stop::Fail(Error::state("tls_feed_eof needs a memory transport")));
        }
        self.io.set_eof();
        Ok(())
    }

    /// Copies due ciphertext (never held bytes) into `buf`. Returns the bytes copied, 0 when
    /// nothing is due. Works after a failure too, so a queued fatal alert can be sent.
    pub fn drain(&mut self, buf: &mut [u8]) -> Step<usize> {
        if !self.io.is_memory() {
            return Err(Stop::Fail(Error::state("tls_drain needs a memory transport")));
        }
        let mut done = 0;
        if let Some(early) = self.early_alert.take() {
            done = early.len().min(buf.len());
            buf[..done].copy_from_slice(&early[..done]);
            if done < early.len() {
                self.early_alert = Some(early[done..].into());
            }
            return Ok(done);
        }
        while done < buf.len() {
            let queued = if self.failure.is_some() { usize::MAX } else { self.queued() };
            let limit = self.sched.due(queued).min(buf.len() - done);
            if limit == 0 {
                break;
            }
            let mut w = &mut buf[done..done + limit];
            match self.tls.write_tls(&mut w) {
                Ok(n) if n > 0 => done += n,
                _ => break,
            }
            if self.failure.is_none() {
                let q = self.queued();
                self.sched.sent(q);
            }
        }
        Ok(done)
    }
}
