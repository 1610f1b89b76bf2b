//! A bound on the length of newline-delimited messages read from a byte stream: a cattackle that
//! writes a line longer than `max_message_size` ends the connection with a clear error instead
//! of growing the reader's buffer without limit.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Wraps a reader; fails with `InvalidData` once a line exceeds `max` bytes.
pub(crate) struct LineLimit<R> {
    inner: R,
    max: usize,
    line: usize,
    exceeded: bool,
}

impl<R> LineLimit<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            max,
            line: 0,
            exceeded: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for LineLimit<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let error = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the cattackle sent a message larger than max_message_size ({} bytes)",
                    this.max
                ),
            )
        };
        if this.exceeded {
            return Poll::Ready(Err(error()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            for &byte in &buf.filled()[before..] {
                if byte == b'\n' {
                    this.line = 0;
                } else {
                    this.line += 1;
                    if this.line > this.max {
                        // A failed read hands out no bytes.
                        buf.set_filled(before);
                        this.exceeded = true;
                        return Poll::Ready(Err(error()));
                    }
                }
            }
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn long_lines_fail_and_short_ones_pass() {
        let mut ok = LineLimit::new(&b"1234\n5678\n"[..], 4);
        let mut out = String::new();
        ok.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "1234\n5678\n");
        let mut long = LineLimit::new(&b"12\n12345\n"[..], 4);
        let err = long.read_to_string(&mut String::new()).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}
