//! A bound on the length of newline-delimited messages read from a byte stream: a cattackle that
//! writes a line longer than `max_message_size` ends the connection with a clear error instead
//! of growing the reader's buffer without limit.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};

use super::{BoxFuture, SessionResource, TransportIo};

/// Wraps a reader; fails with `InvalidData` once a line exceeds `max` bytes.
pub(crate) struct LineLimit<R> {
    inner: R,
    max: usize,
    line: usize,
    exceeded: bool,
    tripped: Arc<AtomicBool>,
}

impl<R> LineLimit<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            max,
            line: 0,
            exceeded: false,
            tripped: Arc::default(),
        }
    }
}

/// A byte wire's reader bounded by `max`, and its resource telling, once the bound ended the
/// connection, that it did (the client library only says "Transport closed").
pub(crate) fn bounded(
    io: TransportIo,
    resource: Box<dyn SessionResource>,
    max: usize,
) -> (TransportIo, Box<dyn SessionResource>) {
    let TransportIo::Bytes { read, write } = io else {
        return (io, resource);
    };
    let read = LineLimit::new(read, max);
    let tripped = read.tripped.clone();
    let io = TransportIo::Bytes {
        read: Box::new(read),
        write,
    };
    let resource = Box::new(Bounded {
        inner: resource,
        tripped,
        max,
    });
    (io, resource)
}

/// A resource behind a bounded reader.
struct Bounded {
    inner: Box<dyn SessionResource>,
    tripped: Arc<AtomicBool>,
    max: usize,
}

impl Bounded {
    fn note(&self) -> Option<String> {
        self.tripped.load(Ordering::SeqCst).then(|| {
            format!(
                "the cattackle sent a message larger than max_message_size ({} bytes); raise \
                 `mcp.max_message_size` if its answers are meant to be that large",
                self.max
            )
        })
    }
}

impl SessionResource for Bounded {
    fn is_alive(&self) -> bool {
        self.inner.is_alive()
    }

    fn failure_context(&self, settle: Duration) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let context = self.inner.failure_context(settle).await;
            match (self.note(), context) {
                (Some(note), Some(context)) => Some(format!("{note}\n{context}")),
                (note, context) => note.or(context),
            }
        })
    }

    fn shutdown(self: Box<Self>, grace: Duration) -> BoxFuture<'static, ()> {
        self.inner.shutdown(grace)
    }

    fn interrupt(&self) {
        self.inner.interrupt();
    }

    fn close_reason(&self) -> Option<String> {
        self.note().or_else(|| self.inner.close_reason())
    }

    fn pid(&self) -> Option<u32> {
        self.inner.pid()
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
                        this.tripped.store(true, Ordering::SeqCst);
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
