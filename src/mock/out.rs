//! What a mock connection does while answering ([`Out`]), and the wire it does it on
//! ([`Flavor`]).

use std::time::Duration;

/// How a transport frames messages; decides how byte-level faults are carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Newline-delimited bytes (stdio, in-memory pipes): partial writes are possible.
    Bytes,
    /// Whole messages (WebSocket frames).
    Messages,
    /// One HTTP response per request.
    Http,
}

/// One thing a connection does while answering.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// Wait.
    Sleep(Duration),
    /// Send one whole message (the transport frames it).
    Send(Vec<u8>),
    /// Write bytes as they are, no framing (byte transports).
    Raw(Vec<u8>),
    /// Close the connection; `exit_code` when the "process" exits.
    Close {
        /// The exit code, for a crash.
        exit_code: Option<i32>,
    },
    /// Never answer.
    Hang,
    /// WebSocket close frame.
    WsClose {
        /// Close code.
        code: u16,
        /// Reason.
        reason: String,
    },
    /// An HTTP status instead of an answer.
    HttpStatus {
        /// Status code.
        status: u16,
        /// `Retry-After`, seconds.
        retry_after: Option<u64>,
    },
    /// HTTP 404 for a session the server no longer knows.
    SessionExpired,
    /// HTTP: the next answer has this `Content-Type`.
    ContentType(String),
}
