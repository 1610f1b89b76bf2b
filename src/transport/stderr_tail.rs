//! Drains a child's stderr, keeping the last bytes for error reports.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

/// How much of a child's stderr is kept.
pub(crate) const TAIL_BYTES: usize = 64 * 1024;

/// The last [`TAIL_BYTES`] of a stream, filled by a background task.
#[derive(Clone)]
pub(crate) struct StderrTail {
    buffer: Arc<Mutex<VecDeque<u8>>>,
    finished: watch::Receiver<bool>,
}

impl StderrTail {
    /// Starts draining `stream`; every chunk is also logged at debug under `cattackle::stderr`.
    /// `secrets` (the env values the child was given) are masked in what is re-logged.
    pub(crate) fn drain(
        name: String,
        secrets: Vec<String>,
        mut stream: impl AsyncRead + Send + Unpin + 'static,
    ) -> Self {
        let buffer = Arc::new(Mutex::new(VecDeque::with_capacity(4096)));
        let (done, finished) = watch::channel(false);
        let sink = buffer.clone();
        tokio::spawn(async move {
            let mut chunk = vec![0u8; 8192];
            while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                let bytes = &chunk[..n];
                if tracing::enabled!(target: "cattackle::stderr", tracing::Level::DEBUG) {
                    let line = crate::util::redact(&String::from_utf8_lossy(bytes), &secrets);
                    tracing::debug!(
                        target: "cattackle::stderr",
                        cattackle = %name,
                        "{}",
                        line.trim_end()
                    );
                }
                let mut tail = crate::util::lock(&sink);
                tail.extend(bytes);
                let excess = tail.len().saturating_sub(TAIL_BYTES);
                tail.drain(..excess);
            }
            let _ = done.send(true);
        });
        Self { buffer, finished }
    }

    /// Waits (bounded) for the stream to end, then returns the tail, if any.
    pub(crate) async fn settled(&self, wait: std::time::Duration) -> Option<String> {
        let mut finished = self.finished.clone();
        let _ = tokio::time::timeout(wait, finished.wait_for(|done| *done)).await;
        self.snapshot()
    }

    /// The tail as text, if anything was written.
    pub(crate) fn snapshot(&self) -> Option<String> {
        let tail = crate::util::lock(&self.buffer);
        if tail.is_empty() {
            return None;
        }
        let (a, b) = tail.as_slices();
        let text = String::from_utf8_lossy(&[a, b].concat())
            .trim_end()
            .to_owned();
        Some(text)
    }
}
