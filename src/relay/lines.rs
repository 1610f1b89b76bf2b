//! Newline-delimited reading with a bound on what is held.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// What one read gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// A whole line, its newline included (or the last bytes before the end of the stream).
    Line(Vec<u8>),
    /// Part of a line longer than the bound: passed on as it is, never parsed.
    Part(Vec<u8>),
    /// The end of the stream.
    End,
}

/// Reads lines of at most `limit` bytes; a longer line comes out as [`Chunk::Part`]s.
pub(crate) struct Lines<R> {
    read: R,
    limit: usize,
    held: Vec<u8>,
    /// Inside a line that is already passing through in parts.
    long: bool,
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// A reader over `read` holding at most about `limit` bytes.
    pub(crate) fn new(read: R, limit: usize) -> Self {
        Self {
            read,
            limit: limit.max(1),
            held: Vec::new(),
            long: false,
        }
    }

    /// The next chunk. Cancel-safe: what was read stays held for the next call.
    pub(crate) async fn next(&mut self) -> std::io::Result<Chunk> {
        loop {
            let buf = self.read.fill_buf().await?;
            if buf.is_empty() {
                let rest = std::mem::take(&mut self.held);
                return Ok(match (rest.is_empty(), self.long) {
                    (true, _) => Chunk::End,
                    (false, true) => Chunk::Part(rest),
                    (false, false) => Chunk::Line(rest),
                });
            }
            let room = self.limit.saturating_sub(self.held.len()).max(1);
            let (take, ends) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) if at < room => (at + 1, true),
                _ => (buf.len().min(room), false),
            };
            self.held.extend_from_slice(&buf[..take]);
            self.read.consume(take);
            if ends {
                let line = std::mem::take(&mut self.held);
                return Ok(if std::mem::replace(&mut self.long, false) {
                    Chunk::Part(line)
                } else {
                    Chunk::Line(line)
                });
            }
            if self.held.len() >= self.limit {
                self.long = true;
                return Ok(Chunk::Part(std::mem::take(&mut self.held)));
            }
        }
    }
}

/// Every chunk of `input` read with `limit`, concatenated; each chunk is checked to be at
/// most `limit` bytes (for the fuzz target `lines`).
#[cfg(fuzzing)]
pub(crate) async fn fuzz_lines(input: &[u8], limit: usize) -> Vec<u8> {
    let mut lines = Lines::new(tokio::io::BufReader::with_capacity(7, input), limit);
    let mut out = Vec::new();
    loop {
        match lines.next().await.expect("reading a slice cannot fail") {
            Chunk::End => return out,
            Chunk::Line(bytes) | Chunk::Part(bytes) => {
                assert!(
                    bytes.len() <= limit.max(1),
                    "held {} bytes past {limit}",
                    bytes.len()
                );
                out.extend(bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], limit: usize) -> Vec<Chunk> {
        let mut lines = Lines::new(tokio::io::BufReader::with_capacity(3, input), limit);
        let mut out = Vec::new();
        loop {
            match lines.next().await.unwrap() {
                Chunk::End => return out,
                chunk => out.push(chunk),
            }
        }
    }

    #[tokio::test]
    async fn lines_come_whole_and_a_long_one_passes_in_parts_of_the_bound() {
        let got = all(b"ab\ncdefghij\nk", 4).await;
        assert_eq!(
            got,
            vec![
                Chunk::Line(b"ab\n".to_vec()),
                Chunk::Part(b"cdef".to_vec()),
                Chunk::Part(b"ghij".to_vec()),
                Chunk::Part(b"\n".to_vec()),
                Chunk::Line(b"k".to_vec()),
            ]
        );
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_bound_is_still_a_line() {
        assert_eq!(all(b"abc\n", 4).await, vec![Chunk::Line(b"abc\n".to_vec())]);
    }
}
