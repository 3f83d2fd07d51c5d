//! Record framing on the read side (never past the record in hand: the README's "Reading").
//!
//! On the fd and callback transports nbtls takes from the transport only the bytes of the
//! record it needs now: first the rest of the 5-byte header, then the rest of the body that
//! header announces. The next record stays in the kernel, where `poll(2)` can see it. The
//! framer is a position in the stream, nothing more: the bytes themselves go to rustls at
//! once, so nothing is held per idle connection.

/// The size of a record header.
pub(crate) const HEADER: usize = 5;
/// The largest record body rustls accepts (2^14 + 2048).
pub(crate) const MAX_BODY: usize = 16_384 + 2_048;
/// The largest record, header included: the most one read ever asks for.
pub(crate) const MAX_RECORD: usize = HEADER + MAX_BODY;

/// Where the read side stands in the record stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct Framer {
    header: [u8; HEADER],
    /// Header bytes taken so far (0 at a record boundary).
    header_got: u8,
    /// Body bytes of the current record still to take.
    body_left: u16,
}

impl Framer {
    /// How many bytes the next read may take without passing the end of the current record:
    /// the rest of the header, or the rest of the body (never 0).
    pub fn want(&self) -> usize {
        if usize::from(self.header_got) < HEADER {
            HEADER - usize::from(self.header_got)
        } else {
            usize::from(self.body_left).clamp(1, MAX_BODY)
        }
    }

    /// Accounts for `bytes`, taken from the stream right after what came before. Returns how
    /// many of them belong to the current record (all of them when they came from a read of
    /// at most [`Framer::want`] bytes); the framer then stands after those.
    pub fn advance(&mut self, bytes: &[u8]) -> usize {
        let mut used = 0;
        while used < bytes.len() {
            let rest = &bytes[used..];
            let got = usize::from(self.header_got);
            if got < HEADER {
                let take = rest.len().min(HEADER - got);
                self.header[got..got + take].copy_from_slice(&rest[..take]);
                self.header_got += take as u8;
                used += take;
                if usize::from(self.header_got) == HEADER {
                    self.body_left = u16::from_be_bytes([self.header[3], self.header[4]]);
                    if self.body_left == 0 {
                        // An empty record ends with its header.
                        self.header_got = 0;
                        return used;
                    }
                }
                continue;
            }
            let take = rest.len().min(usize::from(self.body_left));
            self.body_left -= take as u16;
            used += take;
            if self.body_left == 0 {
                self.header_got = 0;
                return used;
            }
        }
        used
    }

    /// Whether the framer stands between records.
    pub fn at_boundary(&self) -> bool {
        self.header_got == 0
    }

    /// The header bytes taken so far while the header is incomplete (empty otherwise).
    pub fn partial_header(&self) -> &[u8] {
        match usize::from(self.header_got) {
            HEADER => &[],
            got => &self.header[..got],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(len: usize) -> Vec<u8> {
        let mut r = vec![23, 3, 3, (len >> 8) as u8, len as u8];
        r.resize(HEADER + len, 0xab);
        r
    }

    #[test]
    fn reads_header_then_exactly_the_body() {
        let mut f = Framer::default();
        assert_eq!(f.want(), HEADER);
        let rec = record(300);
        assert_eq!(f.advance(&rec[..HEADER]), HEADER);
        assert_eq!(f.want(), 300);
        assert_eq!(f.advance(&rec[HEADER..]), 300);
        assert!(f.at_boundary());
        assert_eq!(f.want(), HEADER);
    }

    #[test]
    fn any_split_keeps_the_position() {
        let stream: Vec<u8> = [record(17), record(0), record(1000), record(1)].concat();
        for chunk in 1..40 {
            let mut f = Framer::default();
            let mut boundaries = 0;
            let mut pos = 0;
            while pos < stream.len() {
                let n = f.want().min(chunk).min(stream.len() - pos);
                assert_eq!(f.advance(&stream[pos..pos + n]), n);
                pos += n;
                if f.at_boundary() {
                    boundaries += 1;
                }
            }
            assert_eq!(boundaries, 4, "chunk {chunk}");
        }
    }

    #[test]
    fn a_longer_slice_stops_at_the_record_end() {
        let stream: Vec<u8> = [record(10), record(10)].concat();
        let mut f = Framer::default();
        assert_eq!(f.advance(&stream), HEADER + 10);
        assert!(f.at_boundary());
    }
}
