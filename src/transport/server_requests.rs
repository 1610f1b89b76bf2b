//! A bound on the requests a server sends the client (`ping`, `roots/list`, `sampling/…`).
//!
//! rmcp spawns a task per incoming request and another per answer it sends, with no limit: a
//! server that floods requests while it does not read its stdin piles up answers that can never
//! be written, and the client's memory grows until it is killed (1.3 GB in 5 s was seen). Here,
//! below rmcp, at most [`MAX_IN_FLIGHT`] of a session's server requests may be unanswered at
//! once (an answer counts once it is written); past that a request is **dropped**, unanswered,
//! and counted. A server that reads its stdin gets its answers and never meets the bound.
//! Dropping is chosen over answering `-32000` (the answer could not be written either: that is
//! the flood's cause) and over ending the session (calls in flight may still be answered).
//!
//! Notifications need no bound here: they are not answered, so nothing of theirs waits on the
//! server, and rmcp handles each as it arrives.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rmcp::RoleClient;
use rmcp::model::{JsonRpcMessage, RequestId, ServerNotification};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;

use crate::util::lock;

/// Server requests a session may leave unanswered at once.
pub const MAX_IN_FLIGHT: usize = 64;

/// How many server requests a session dropped, shared with the session that reports it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dropped(Arc<AtomicU64>);

impl Dropped {
    /// So far.
    pub(crate) fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// rmcp's transport, with the server's requests bounded.
pub(crate) struct Bounded<T> {
    inner: T,
    unanswered: Arc<Mutex<HashSet<RequestId>>>,
    dropped: Dropped,
    cattackle: Arc<str>,
}

impl<T> Bounded<T> {
    pub(crate) fn new(inner: T, cattackle: Arc<str>) -> (Self, Dropped) {
        let dropped = Dropped::default();
        let bounded = Self {
            inner,
            unanswered: Arc::default(),
            dropped: dropped.clone(),
            cattackle,
        };
        (bounded, dropped)
    }

    /// Whether `message` may go on to rmcp (false: a request past the bound, dropped).
    fn admit(&self, message: &RxJsonRpcMessage<RoleClient>) -> bool {
        match message {
            JsonRpcMessage::Request(request) => {
                let mut unanswered = lock(&self.unanswered);
                if unanswered.len() < MAX_IN_FLIGHT {
                    unanswered.insert(request.id.clone());
                    return true;
                }
                drop(unanswered);
                if self.dropped.0.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(
                        cattackle = %self.cattackle,
                        "the cattackle has {MAX_IN_FLIGHT} requests of its own unanswered (it does not read what we write): dropping its further requests"
                    );
                }
                false
            }
            // A request the server cancelled may never be answered: it no longer counts.
            JsonRpcMessage::Notification(n) => {
                if let ServerNotification::CancelledNotification(c) = &n.notification
                    && let Some(id) = &c.params.request_id
                {
                    lock(&self.unanswered).remove(id);
                }
                true
            }
            _ => true,
        }
    }
}

impl<T> Transport<RoleClient> for Bounded<T>
where
    T: Transport<RoleClient>,
{
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answers = match &item {
            JsonRpcMessage::Response(r) => Some(r.id.clone()),
            JsonRpcMessage::Error(e) => e.id.clone(),
            _ => None,
        };
        let unanswered = self.unanswered.clone();
        let sent = self.inner.send(item);
        async move {
            let result = sent.await;
            // Written (or failed for good): it no longer waits on the server.
            if let Some(id) = answers {
                lock(&unanswered).remove(&id);
            }
            result
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            // Each message costs a unit of tokio's cooperative budget. rmcp decodes the lines
            // already buffered without touching the socket or pipe, so a flood kept its task
            // running for seconds in one poll, and on the CLI's one-thread runtime no timer
            // fired meanwhile: a 3 s call timeout ended after 4.5 s against a server answering
            // other ids as fast as it could (`fixtures/hostile/server.py wrong-ids`).
            tokio::task::consume_budget().await;
            let message = self.inner.receive().await?;
            if self.admit(&message) {
                return Some(message);
            }
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
