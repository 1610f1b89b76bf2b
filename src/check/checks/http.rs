//! Streamable HTTP: content types, sessions (ids, unknown ids, DELETE), the GET stream, the
//! `Accept` rules, a foreign `Origin`, redirects.

use serde_json::json;

use super::super::ctx::{Ctx, initialize_params};
use super::super::model::{Finding, Verdict};
use super::super::target::header_map;
use super::one;
use crate::config::TransportConfig;

/// The URL, the configured headers and a client that follows no redirect.
fn endpoint(ctx: &Ctx) -> Result<(String, reqwest::header::HeaderMap, reqwest::Client), Verdict> {
    let TransportConfig::Http { url, headers } = &ctx.target.config.mcp.transport else {
        return Err(Verdict::Skip("not an HTTP server".to_owned()));
    };
    let headers = header_map(headers).map_err(Verdict::Broken)?;
    crate::transport::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .connect_timeout(ctx.target.config.mcp.connect_timeout)
        .timeout(ctx.bound())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Verdict::Broken(e.to_string()))?;
    Ok((url.clone(), headers, client))
}

fn body(method: &str, params: serde_json::Value) -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string()
}

/// A POST of `text` with the usual headers plus `extra`; its status, or a verdict.
async fn post(
    ctx: &Ctx,
    text: String,
    extra: &[(&str, &str)],
) -> Result<reqwest::Response, Verdict> {
    let (url, headers, client) = endpoint(ctx)?;
    let mut request = client
        .post(&url)
        .headers(headers)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(text);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.map_err(|e| {
        Verdict::violated(
            "the POST got no answer",
            ctx.target.redact(&e.without_url().to_string()),
        )
    })
}

/// A session id the server issued, or a skip for a stateless server.
async fn session_id(
    ctx: &Ctx,
) -> Result<(std::sync::Arc<super::super::wire::Wire>, String), Verdict> {
    let started = ctx.start().await?;
    match started.wire.http_seen().session_id {
        Some(id) => Ok((started.wire, id)),
        None => Err(Verdict::Skip(
            "the server issues no Mcp-Session-Id (stateless)".to_owned(),
        )),
    }
}

/// Answers to requests are `application/json` or `text/event-stream`.
pub(crate) async fn content_type(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let _ = started
        .wire
        .request("tools/list", json!({}), ctx.bound())
        .await;
    let seen = started.wire.http_seen();
    started.wire.close(ctx.grace()).await;
    let odd: Vec<&String> = seen
        .content_types
        .iter()
        .filter(|t| !(t.starts_with("application/json") || t.starts_with("text/event-stream")))
        .collect();
    one(if odd.is_empty() {
        Verdict::Pass(format!("{:?}", seen.content_types))
    } else {
        Verdict::violated(
            "an answer to a request is neither application/json nor text/event-stream",
            format!("{odd:?}"),
        )
    })
}

/// Session ids are visible ASCII (0x21–0x7E). The id itself is a secret: never shown.
pub(crate) async fn session_id_ascii(ctx: Ctx) -> Vec<Finding> {
    let (wire, id) = match session_id(&ctx).await {
        Ok(found) => found,
        Err(v) => return one(v),
    };
    wire.close(ctx.grace()).await;
    one(
        if !id.is_empty() && id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            Verdict::Pass(format!("{} visible ASCII characters", id.len()))
        } else {
            Verdict::violated(
                "the Mcp-Session-Id holds characters outside visible ASCII (0x21–0x7E)",
                format!(
                    "{} characters (the id is not shown: it is a credential)",
                    id.chars().count()
                ),
            )
        },
    )
}

/// A request with an unknown `Mcp-Session-Id` is answered 404.
pub(crate) async fn unknown_session(ctx: Ctx) -> Vec<Finding> {
    let (wire, _) = match session_id(&ctx).await {
        Ok(found) => found,
        Err(v) => return one(v),
    };
    wire.close(ctx.grace()).await;
    let answer = post(
        &ctx,
        body("ping", json!({})),
        &[("mcp-session-id", "cattackle-check-unknown-session")],
    )
    .await;
    one(match answer {
        Ok(r) if r.status() == 404 => Verdict::Pass("404".to_owned()),
        Ok(r) => Verdict::violated(
            format!(
                "a request with an unknown Mcp-Session-Id was answered {}, not 404",
                r.status()
            ),
            "clients learn that a session ended (a restart) from the 404",
        ),
        Err(v) => v,
    })
}

/// DELETE ends the session (or is refused with 405); the ended session's id then gets 404.
pub(crate) async fn delete_session(ctx: Ctx) -> Vec<Finding> {
    let (wire, id) = match session_id(&ctx).await {
        Ok(found) => found,
        Err(v) => return one(v),
    };
    let closed = wire.close(ctx.grace()).await;
    let verdict = match closed.delete_status {
        Some(405) => {
            Verdict::Pass("405: the server does not let clients end sessions (allowed)".to_owned())
        }
        Some(status) if (200..300).contains(&status) => {
            match post(
                &ctx,
                body("ping", json!({})),
                &[("mcp-session-id", id.as_str())],
            )
            .await
            {
                Ok(r) if r.status() == 404 => {
                    Verdict::Pass(format!("{status}, then 404 for the ended session"))
                }
                Ok(r) => Verdict::violated(
                    format!(
                        "DELETE answered {status}, but the session still answers ({})",
                        r.status()
                    ),
                    "after DELETE, requests with its id must get 404",
                ),
                Err(v) => v,
            }
        }
        Some(status) => Verdict::violated(
            format!("DELETE of the session was answered {status}"),
            "expected 2xx, or 405",
        ),
        None => Verdict::violated(
            "DELETE of the session got no answer",
            "expected 2xx, or 405",
        ),
    };
    one(verdict)
}

/// GET with `Accept: text/event-stream` opens a stream, or is refused with 405.
pub(crate) async fn get_stream(ctx: Ctx) -> Vec<Finding> {
    let started = start_or!(ctx);
    let id = started.wire.http_seen().session_id;
    let (url, headers, client) = match endpoint(&ctx) {
        Ok(e) => e,
        Err(v) => return one(v),
    };
    let mut request = client
        .get(&url)
        .headers(headers)
        .header("accept", "text/event-stream");
    if let Some(id) = &id {
        request = request.header("mcp-session-id", id.as_str());
    }
    let verdict = match request.send().await {
        Ok(r) if r.status() == 405 => {
            Verdict::Pass("405: no server-initiated stream (allowed)".to_owned())
        }
        Ok(r) if r.status() == 200 => {
            let t = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if t.starts_with("text/event-stream") {
                Verdict::Pass("200 text/event-stream".to_owned())
            } else {
                Verdict::violated(
                    format!("GET answered 200 with content type `{t}`"),
                    "expected text/event-stream, or 405",
                )
            }
        }
        Ok(r) => Verdict::violated(
            format!("GET answered {}", r.status()),
            "expected 200 text/event-stream, or 405",
        ),
        Err(e) => Verdict::violated(
            "GET got no answer",
            ctx.target.redact(&e.without_url().to_string()),
        ),
    };
    started.wire.close(ctx.grace()).await;
    one(verdict)
}

/// A POST whose `Accept` allows neither JSON nor SSE is refused (406).
pub(crate) async fn accept(ctx: Ctx) -> Vec<Finding> {
    let (url, headers, client) = match endpoint(&ctx) {
        Ok(e) => e,
        Err(v) => return one(v),
    };
    let answer = client
        .post(&url)
        .headers(headers)
        .header("content-type", "application/json")
        .header("accept", "text/html")
        .body(body(
            "initialize",
            initialize_params(ctx.options.era.offered()),
        ))
        .send()
        .await;
    one(match answer {
        Ok(r) if r.status().is_client_error() => Verdict::Pass(format!("{}", r.status())),
        Ok(r) => Verdict::violated(
            format!(
                "a POST with `Accept: text/html` was answered {}",
                r.status()
            ),
            "clients must accept application/json and text/event-stream; the server should answer 406 otherwise",
        ),
        Err(e) => Verdict::violated(
            "the POST got no answer",
            ctx.target.redact(&e.without_url().to_string()),
        ),
    })
}

/// A request from a foreign `Origin` is refused (DNS-rebinding protection).
pub(crate) async fn foreign_origin(ctx: Ctx) -> Vec<Finding> {
    let text = body("initialize", initialize_params(ctx.options.era.offered()));
    one(
        match post(&ctx, text, &[("origin", "http://cattackle-check.invalid")]).await {
            Ok(r) if r.status().is_client_error() => Verdict::Pass(format!("{}", r.status())),
            Ok(r) => Verdict::violated(
                format!(
                    "a request with `Origin: http://cattackle-check.invalid` was answered {}",
                    r.status()
                ),
                "servers should validate Origin and refuse foreign ones (403): DNS rebinding lets web pages reach local servers",
            ),
            Err(v) => v,
        },
    )
}

/// Figure: whether the endpoint redirects.
pub(crate) async fn redirect(ctx: Ctx) -> Vec<Finding> {
    let text = body("initialize", initialize_params(ctx.options.era.offered()));
    one(match post(&ctx, text, &[]).await {
        Ok(r) if r.status().is_redirection() => {
            let to = r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            Verdict::Info(format!(
                "{} to `{}`: every session pays the extra round trip (the manager follows 307/308 within the origin); put the final URL in cattackle.toml",
                r.status(),
                crate::transport::public_url(to)
            ))
        }
        Ok(_) => Verdict::Info("no redirect".to_owned()),
        Err(v) => v,
    })
}
