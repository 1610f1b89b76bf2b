//! Streamable HTTP through rmcp's reqwest client, with our own reqwest client: connect timeout,
//! same-origin redirects only (custom headers such as API keys never go to another host), bounded
//! bodies, a capped SSE resume policy, and no silent re-initialization on an expired session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::ExponentialBackoff;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use sse_stream::Sse;

use super::websocket::public_url;
use super::{ConnectError, Connection, NoResource, TransportIo};
use crate::config::SecretMap;

/// How many times a broken SSE response stream is resumed before the call fails.
const SSE_RESUMES: usize = 2;

/// The limits of one HTTP session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpLimits {
    pub(crate) connect_timeout: Duration,
    pub(crate) max_message_size: usize,
}

pub(crate) fn connect(
    url: &str,
    headers: &SecretMap,
    limits: HttpLimits,
) -> Result<Connection, ConnectError> {
    super::tls::ensure_crypto_provider();
    let target = Target::default();
    let client = reqwest::Client::builder()
        .connect_timeout(limits.connect_timeout)
        .redirect(same_origin_redirects(target.clone()))
        // No idle pooling: reusing a connection whose previous (SSE) response body was not fully
        // consumed stalls ~40 ms on Linux's delayed ACK, per call (measured: 23 calls/s with
        // pooling, thousands without; rmcp's own default client does the same).
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| ConnectError::Other(format!("cannot build the HTTP client: {e}")))?;
    let mut custom = HashMap::new();
    for (name, value) in headers.iter() {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConnectError::Other(format!("invalid HTTP header name `{name}`")))?;
        // The value is a secret: say which header, never what it holds.
        let value = HeaderValue::from_str(value)
            .map_err(|_| ConnectError::Other(format!("invalid value for HTTP header `{name}`")))?;
        custom.insert(header, value);
    }
    let mut config = StreamableHttpClientTransportConfig::with_uri(url)
        .custom_headers(custom)
        .reinit_on_expired_session(false)
        .max_json_response_size(limits.max_message_size)
        .max_sse_event_size(limits.max_message_size);
    let mut resume = ExponentialBackoff::default();
    resume.max_times = Some(SSE_RESUMES);
    resume.base_duration = Duration::from_millis(100);
    resume.max_delay = Some(Duration::from_secs(1));
    config.retry_config = Arc::new(resume);
    tracing::debug!(url = %public_url(url), "opening HTTP session");
    let client = SessionClient {
        inner: client,
        target,
    };
    let transport = StreamableHttpClientTransport::with_client(client, config);
    Ok(Connection {
        io: TransportIo::Http(transport),
        resource: Box::new(NoResource),
    })
}

/// Follows at most 5 redirects, only 307 and 308 (which keep the method and the JSON-RPC body),
/// and only within the origin (scheme, host, port) of the request. The first one followed is
/// logged at warn, and its target kept for the session's later requests.
fn same_origin_redirects(target: Target) -> reqwest::redirect::Policy {
    let warned = std::sync::atomic::AtomicBool::new(false);
    reqwest::redirect::Policy::custom(move |attempt| {
        let keeps_body = matches!(attempt.status().as_u16(), 307 | 308);
        let first = attempt.previous().first();
        let same = first.is_some_and(|first| {
            let next = attempt.url();
            first.scheme() == next.scheme()
                && first.host_str() == next.host_str()
                && first.port_or_known_default() == next.port_or_known_default()
        });
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same && keeps_body {
            if !warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    "the server redirects `{}` to `{}` ({}): every request pays the extra round trip; use the final URL in cattackle.toml",
                    first.map_or_else(String::new, |u| public_url(u.as_str())),
                    public_url(attempt.url().as_str()),
                    attempt.status()
                );
            }
            *crate::util::lock(&target.0) = Some(Arc::from(attempt.url().as_str()));
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Where a session's requests go once the server redirected one of them (`None`: the URL of the
/// configuration).
#[derive(Clone, Default)]
struct Target(Arc<std::sync::Mutex<Option<Arc<str>>>>);

/// The HTTP client of one session: reqwest, aimed at the redirect target once the server has
/// redirected a request, so that a 307 is followed once per session, not on every request.
#[derive(Clone)]
pub struct SessionClient {
    inner: reqwest::Client,
    target: Target,
}

impl SessionClient {
    fn aim(&self, uri: Arc<str>) -> Arc<str> {
        crate::util::lock(&self.target.0).clone().unwrap_or(uri)
    }
}

type HttpResult<T> = Result<T, StreamableHttpError<reqwest::Error>>;

impl StreamableHttpClient for SessionClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let uri = self.aim(uri);
        self.inner
            .post_message(uri, message, session_id, auth_header, custom_headers)
            .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let uri = self.aim(uri);
        self.inner
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let uri = self.aim(uri);
        self.inner
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                limits,
            )
            .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<()> {
        let uri = self.aim(uri);
        self.inner
            .delete_session(uri, session_id, auth_header, custom_headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        let uri = self.aim(uri);
        self.inner
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        let uri = self.aim(uri);
        self.inner
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
    }
}

/// The rmcp HTTP error somewhere in `error`'s chain of sources.
fn http_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a StreamableHttpError<reqwest::Error>> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// Whether an rmcp transport error says the server no longer knows the session (HTTP 404): the
/// server restarted, or expired it.
pub(crate) fn is_session_expired(error: &(dyn std::error::Error + 'static)) -> bool {
    matches!(http_error(error), Some(StreamableHttpError::SessionExpired))
}

/// An HTTP 429 or 5xx answer that carried no JSON-RPC error: its status, and its `Retry-After`
/// as a wait from now (delta-seconds, or an HTTP date), when it had a valid one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HttpRefusal {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
}

/// The HTTP refusal an rmcp transport error carries, if it is one.
pub(crate) fn http_refusal(error: &(dyn std::error::Error + 'static)) -> Option<HttpRefusal> {
    match http_error(error) {
        Some(StreamableHttpError::HttpStatus(e)) => Some(HttpRefusal {
            status: e.status,
            retry_after: e
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, std::time::SystemTime::now())),
        }),
        _ => None,
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP date, as a wait from `now` (a
/// date in the past is no wait). Anything else is ignored, as the RFC's readers do.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is "a very long time": saturate, the cap applies later.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// The cause inside rmcp's `StreamableHttpError::Client`, which rmcp does not link as a source
/// (that is where "connection refused" hides).
pub(crate) fn unlinked_source<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    match error.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        Some(StreamableHttpError::Client(inner)) => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(90))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        for junk in ["", "-1", "1.5", "soon", "2 seconds"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
    }
}
