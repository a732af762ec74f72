//! Files as a PDF embeds them: zlib streams (FlateDecode, RFC 1950).
//!
//! A file is compressed as it is written ([`Deflated::of`]), or joined from pieces compressed
//! once each ([`Piece`], [`Joined`]). An account's `findings.csv` rows are embedded three
//! times (in its own PDF, its customer's and the portfolio's), so the run compresses them
//! once, beside the account's other fragments, and each PDF joins the pieces it needs.

use std::sync::Arc;

/// A file as a PDF embeds it: a zlib stream and the file's size.
#[derive(Debug, Clone)]
pub struct Deflated {
    /// The zlib stream (FlateDecode).
    pub zlib: Arc<Vec<u8>>,
    /// The size of the file.
    pub size: usize,
}

/// The deflate level of embedded files: krilla's level for every other stream (see
/// vendor/README.md).
const LEVEL: u32 = 2;

/// The zlib header: deflate with a 32 KiB window, "fast" compression (levels 2 to 5), and a
/// check value that makes it a multiple of 31 (RFC 1950 2.2).
const HEADER: [u8; 2] = [0x78, 0x5e];

/// A last block with fixed codes and nothing in it: BFINAL 1, BTYPE 01, then the 7 zero
/// bits of end-of-block, padded to a byte (RFC 1951 3.2.3 and 3.2.6).
const LAST_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

impl Deflated {
    /// The file `write` writes, compressed as it comes, so that a large file is never whole
    /// in memory (`io` names a failure to finish the stream).
    pub fn of<E>(
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), E>,
        io: impl FnOnce(std::io::Error) -> E,
    ) -> Result<Deflated, E> {
        struct Counted<W>(W, usize);
        impl<W: std::io::Write> std::io::Write for Counted<W> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let n = self.0.write(buf)?;
                self.1 += n;
                Ok(n)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                self.0.flush()
            }
        }
        let encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(LEVEL));
        let mut counted = Counted(encoder, 0);
        write(&mut counted)?;
        let size = counted.1;
        let zlib = counted.0.finish().map_err(io)?;
        Ok(Deflated {
            zlib: Arc::new(zlib),
            size,
        })
    }
}

/// Bytes compressed on their own, to be joined with others into one zlib stream: deflate
/// blocks that refer to nothing before them and end on a byte boundary without being the
/// last block (a sync flush), with the bytes' Adler-32 and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The deflate blocks.
    pub blocks: Vec<u8>,
    /// The Adler-32 of the bytes.
    pub adler: u32,
    /// How many bytes there are.
    pub size: u64,
}

impl Piece {
    /// `bytes`, compressed.
    pub fn of(bytes: &[u8]) -> Piece {
        use flate2::{Compress, Compression, FlushCompress};
        use std::cell::RefCell;
        // One deflate state per thread, reset for each piece rather than allocated anew.
        thread_local! {
            static STATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
        }
        let blocks = STATE.with(|state| {
            let mut state = state.borrow_mut();
            let state = state.get_or_insert_with(|| Compress::new(Compression::new(LEVEL), false));
            state.reset();
            let mut out = Vec::with_capacity(bytes.len() / 8 + 64);
            loop {
                let read = state.total_in() as usize;
                // A sync flush is complete once it leaves room in the output.
                state
                    .compress_vec(&bytes[read..], &mut out, FlushCompress::Sync)
                    .unwrap_or_else(|e| unreachable!("deflate of an in-memory buffer: {e}"));
                if state.total_in() as usize == bytes.len() && out.len() < out.capacity() {
                    break out;
                }
                out.reserve(out.capacity().max(4096));
            }
        });
        Piece {
            blocks,
            adler: zlib_rs::adler32::adler32(1, bytes),
            size: bytes.len() as u64,
        }
    }
}

/// A zlib stream joined from pieces, in the order they are pushed.
#[derive(Debug)]
pub struct Joined {
    zlib: Vec<u8>,
    adler: u32,
    size: u64,
}

impl Default for Joined {
    fn default() -> Self {
        Joined {
            zlib: HEADER.to_vec(),
            adler: 1,
            size: 0,
        }
    }
}

impl Joined {
    /// Appends `piece`'s bytes.
    pub fn push(&mut self, piece: &Piece) {
        self.zlib.extend_from_slice(&piece.blocks);
        self.adler = zlib_rs::adler32::adler32_combine(self.adler, piece.adler, piece.size);
        self.size += piece.size;
    }

    /// The file: the pieces' bytes one after the other.
    pub fn finish(mut self) -> Deflated {
        self.zlib.extend_from_slice(&LAST_EMPTY_BLOCK);
        self.zlib.extend_from_slice(&self.adler.to_be_bytes());
        Deflated {
            zlib: Arc::new(self.zlib),
            size: usize::try_from(self.size).unwrap_or(usize::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inflate(zlib: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(zlib)
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("not a zlib stream: {e}"));
        out
    }

    #[test]
    fn a_deflated_file_is_the_zlib_stream_of_what_was_written_and_its_size() {
        use std::io::Read;
        let parts: [&[u8]; 3] = [b"control,result\r\n", &[b'x'; 70_000], b"\r\nend"];
        let file = Deflated::of(|w| parts.iter().try_for_each(|p| w.write_all(p)), |e| e).unwrap();
        let whole = parts.concat();
        assert_eq!(file.size, whole.len());
        assert!(
            file.zlib.len() < whole.len() / 10,
            "{} bytes",
            file.zlib.len()
        );
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&file.zlib[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, whole);
        // A failure of the writer is the caller's error, not a truncated file.
        let failed = Deflated::of(
            |_| Err::<(), _>(std::io::Error::other("spill file gone")),
            |e| e,
        );
        assert_eq!(failed.unwrap_err().to_string(), "spill file gone");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any pieces, empty ones and ones longer than the window included, join into a zlib
        /// stream that a decoder (which checks the Adler-32) reads back as their bytes.
        #[test]
        fn joined_pieces_inflate_to_their_bytes(
            parts in prop::collection::vec(
                prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..200),
                    // Repetitive text, longer than the 32 KiB window.
                    (1usize..3000, "[a-c,\r\n]{1,20}").prop_map(|(n, s)| s.repeat(n).into_bytes()),
                ],
                0..6,
            )
        ) {
            let mut joined = Joined::default();
            for part in &parts {
                joined.push(&Piece::of(part));
            }
            let deflated = joined.finish();
            let all = parts.concat();
            prop_assert_eq!(deflated.size, all.len());
            prop_assert_eq!(inflate(&deflated.zlib), all);
        }
    }

    #[test]
    fn a_joined_stream_is_what_one_stream_would_hold() {
        let header = b"Account ID,Control\r\n".to_vec();
        let rows: Vec<Vec<u8>> = (0..3)
            .map(|a| format!("{a},CIS 1.{a}\r\n").repeat(500).into_bytes())
            .collect();
        let mut joined = Joined::default();
        joined.push(&Piece::of(&header));
        for r in &rows {
            joined.push(&Piece::of(r));
        }
        let joined = joined.finish();
        let whole = Deflated::of(
            |w| {
                w.write_all(&header)?;
                rows.iter().try_for_each(|r| w.write_all(r))
            },
            |e| e,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(inflate(&joined.zlib), inflate(&whole.zlib));
        assert_eq!(joined.size, whole.size);
        // The same header as a stream compressed whole, and the checksum of the whole.
        assert_eq!(joined.zlib[..2], whole.zlib[..2]);
        assert_eq!(
            joined.zlib[joined.zlib.len() - 4..],
            whole.zlib[whole.zlib.len() - 4..]
        );
    }
}
