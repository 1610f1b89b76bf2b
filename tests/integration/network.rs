//! The WebSocket and Streamable HTTP transports on 127.0.0.1 with random ports, through a proxy
//! that counts connections, records what the client sent, and cuts connections on demand.
//! Real sockets run on real time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cattackle_harness::config::CattackleConfig;
use cattackle_harness::manager::{CattackleError, ErrorKind, McpClientManager, Payload, Phase};
use tokio::net::TcpListener;

use crate::support::config_with;
use crate::support::proxy::Proxy;
use crate::support::rmcp_peer::{Mock, Step, ok};

const SECRET: &str = "s3cr3t-token-value";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    WebSocket,
    Http,
}

const KINDS: [Kind; 2] = [Kind::WebSocket, Kind::Http];

/// Serves `mock` in-process over `kind` on a random port.
async fn serve(kind: Kind, mock: &Mock) -> SocketAddr {
    serve_abortable(kind, mock).await.0
}

/// [`serve`], with a handle that stops the server (a crash, with the proxy cutting its sockets).
async fn serve_abortable(kind: Kind, mock: &Mock) -> (SocketAddr, tokio::task::AbortHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mock = mock.clone();
    let task = tokio::spawn(async move {
        let make = move || mock.handler();
        let _ = match kind {
            Kind::WebSocket => echo_cattackle::serve_websocket_with(listener, make).await,
            Kind::Http => echo_cattackle::serve_http_with(listener, make).await,
        };
    });
    (addr, task.abort_handle())
}

fn config(kind: Kind, addr: SocketAddr, mcp: &str) -> CattackleConfig {
    let (kind_name, scheme) = match kind {
        Kind::WebSocket => ("websocket", "ws"),
        Kind::Http => ("http", "http"),
    };
    let transport = format!(
        "type = \"{kind_name}\"\nurl = \"{scheme}://{addr}/mcp\"\nheaders = {{ X-Api-Key = \"{SECRET}\" }}"
    );
    config_with(mcp, &transport)
}

async fn proxied(kind: Kind, mock: &Mock) -> Proxy {
    Proxy::start(serve(kind, mock).await).await
}

#[tokio::test]
async fn calls_succeed_and_reuse_one_session() {
    for kind in KINDS {
        let mock = Mock::new(ok("pong"));
        let proxy = proxied(kind, &mock).await;
        let manager = McpClientManager::new();
        let cfg = config(kind, proxy.addr, "");
        for _ in 0..10 {
            let got = manager
                .call(&cfg, "echo", Payload::text("x"))
                .await
                .unwrap();
            assert_eq!(got.data, "pong", "{kind:?}");
        }
        assert_eq!(mock.calls().len(), 10);
        assert_eq!(manager.sessions_opened(), 1, "{kind:?}");
        assert_eq!(
            mock.initializes(),
            1,
            "{kind:?}: one handshake seen by the server"
        );
        if kind == Kind::WebSocket {
            assert_eq!(
                proxy.accepted(),
                1,
                "one WebSocket connection for every call"
            );
        }
        assert_eq!(
            manager.session_protocol("mock").await.as_deref(),
            Some("2025-11-25"),
            "{kind:?}"
        );
        manager.close_all_sessions(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn configured_headers_reach_the_server() {
    for kind in KINDS {
        let mock = Mock::new(ok("x"));
        let proxy = proxied(kind, &mock).await;
        let manager = McpClientManager::new();
        manager
            .call(&config(kind, proxy.addr, ""), "echo", Payload::text("x"))
            .await
            .unwrap();
        let sent = proxy.client_bytes().to_ascii_lowercase();
        assert!(
            sent.contains(&format!("x-api-key: {SECRET}")),
            "{kind:?}: header not seen by the server"
        );
        if kind == Kind::WebSocket {
            assert!(
                sent.contains("sec-websocket-protocol: mcp"),
                "subprotocol asked for"
            );
        }
        manager.close_all_sessions(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn a_server_killed_mid_call_fails_the_attempt_fast_and_the_retry_reconnects() {
    for kind in KINDS {
        let slow = Mock::new(Step::Delay(Duration::from_secs(3), Box::new(ok("late"))));
        let (first, crash) = serve_abortable(kind, &slow).await;
        let proxy = Proxy::start(first).await;
        let restarted = Mock::new(ok("second"));
        let second = serve(kind, &restarted).await;
        let manager = McpClientManager::new();
        let cfg = config(kind, proxy.addr, "backoff = { base = 0.05 }");
        let start = Instant::now();
        let call = manager.call(&cfg, "echo", Payload::text("x"));
        let kill = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            crash.abort();
            proxy.set_upstream(second);
            proxy.cut_all();
        };
        let (got, ()) = tokio::join!(call, kill);
        assert_eq!(got.unwrap().data, "second", "{kind:?}");
        let took = start.elapsed();
        // WebSocket: the socket's end is the session's end. HTTP: the client first tries to resume
        // the SSE response (at most 2 times), waiting the server's `retry:` hint (3 s on rmcp
        // servers; SEP-1699 says it must), so the crash costs that hint, never forever.
        let bound = if kind == Kind::WebSocket { 2 } else { 8 };
        assert!(took < Duration::from_secs(bound), "{kind:?}: took {took:?}");
        assert_eq!(manager.sessions_opened(), 2, "{kind:?}");
        manager.close_all_sessions(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn websocket_server_restarted_between_calls_is_reopened_without_a_failed_attempt() {
    let mock = Mock::new(ok("x"));
    let proxy = proxied(Kind::WebSocket, &mock).await;
    let manager = McpClientManager::new();
    let cfg = config(Kind::WebSocket, proxy.addr, "max_retries = 0");
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    proxy.cut_all();
    tokio::time::sleep(Duration::from_millis(100)).await;
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    assert_eq!(manager.sessions_opened(), 2);
    assert_eq!(mock.calls().len(), 2, "no call went to the dead connection");
}

#[tokio::test]
async fn http_server_restarted_between_calls_is_counted_reopened_and_retried() {
    let first = Mock::new(ok("before"));
    let proxy = proxied(Kind::Http, &first).await;
    let manager = McpClientManager::new();
    let cfg = config(Kind::Http, proxy.addr, "backoff = { base = 0.05 }");
    manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    // A new server process: it knows nothing of the old session id.
    let second = Mock::new(ok("after"));
    proxy.set_upstream(serve(Kind::Http, &second).await);
    proxy.cut_all();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap();
    assert_eq!(got.data, "after");
    assert_eq!(manager.sessions_opened(), 2);
    assert_eq!(
        manager.sessions_expired(),
        1,
        "the restart is counted, not hidden"
    );
}

async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn connection_refused_is_a_typed_retryable_not_sent_error() {
    for kind in KINDS {
        let addr = closed_port().await;
        let manager = McpClientManager::new();
        let cfg = config(kind, addr, "max_retries = 1\nbackoff = { base = 0.01 }");
        let err = manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .unwrap_err();
        let CattackleError::Exhausted {
            attempts,
            last,
            reached,
            ..
        } = &err
        else {
            panic!("{kind:?}: {err:?}")
        };
        assert_eq!((*attempts, *reached), (2, false), "{kind:?}");
        assert_eq!(last.kind(), ErrorKind::NotSent, "{kind:?}: {last}");
        assert!(
            err.to_string().to_lowercase().contains("refused"),
            "{kind:?}: {err}"
        );
    }
}

#[tokio::test]
async fn a_handshake_never_answered_is_bounded_by_connect_timeout() {
    for kind in KINDS {
        // Accepts connections and never says a word.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let manager = McpClientManager::new();
        let cfg = config(kind, addr, "connect_timeout = 0.3\nmax_retries = 0");
        let start = Instant::now();
        let err = manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .unwrap_err();
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
            "{kind:?}: {took:?}"
        );
        let CattackleError::Exhausted { last, .. } = &err else {
            panic!("{err:?}")
        };
        // The WebSocket upgrade is part of connecting; over HTTP the first POST is the handshake.
        let phase = match kind {
            Kind::WebSocket => Phase::Connect,
            _ => Phase::Handshake,
        };
        assert!(
            matches!(**last, CattackleError::TimedOut { phase: p, .. } if p == phase),
            "{kind:?}: {last:?}"
        );
        held.abort();
    }
}

#[tokio::test]
async fn an_oversized_message_fails_the_call_typed_and_the_next_call_works() {
    for kind in KINDS {
        let mock = Mock::new(ok("small")).then(ok(&"x".repeat(8000)));
        let proxy = proxied(kind, &mock).await;
        let manager = McpClientManager::new();
        let cfg = config(kind, proxy.addr, "max_message_size = 4096\nmax_retries = 0");
        let err = manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .unwrap_err();
        let CattackleError::Exhausted { last, .. } = &err else {
            panic!("{kind:?}: {err:?}")
        };
        assert_eq!(last.kind(), ErrorKind::TransportClosed, "{kind:?}: {last}");
        let got = manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .unwrap();
        assert_eq!(got.data, "small", "{kind:?}");
        manager.close_all_sessions(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    for kind in KINDS {
        let mock = Mock::new(ok("x")).then(Step::Error(-32000, "busy"));
        let proxy = proxied(kind, &mock).await;
        let manager = McpClientManager::new();
        let cfg = config(kind, proxy.addr, "backoff = { base = 0.01 }");
        manager
            .call(&cfg, "echo", Payload::text("x"))
            .await
            .unwrap();
        manager.close_all_sessions(Duration::from_secs(1)).await;
    }
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("attempt 1 of 4 failed"), "logs were captured");
    assert!(!text.contains(SECRET), "a header value reached the logs");
    assert!(
        !text.to_ascii_lowercase().contains("mcp-session-id:"),
        "a session id header reached the logs"
    );
}

#[tokio::test]
async fn many_sequential_calls_on_one_session() {
    for kind in KINDS {
        let mock = Mock::new(ok("x"));
        let addr = serve(kind, &mock).await;
        let manager = McpClientManager::new();
        let cfg = config(kind, addr, "timeout = 2\nmax_retries = 0");
        for i in 0..40 {
            if let Err(e) = manager.call(&cfg, "echo", Payload::text("x")).await {
                panic!("{kind:?}: call {i} failed: {e}");
            }
        }
        manager.close_all_sessions(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn a_websocket_server_that_does_not_echo_the_subprotocol_is_tolerated() {
    use cattackle_harness::transport::websocket::{WebSocketState, json_rpc};
    use rmcp::ServiceExt;

    let mock = Mock::new(ok("tolerated"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_mock = mock.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let mock = server_mock.clone();
            tokio::spawn(async move {
                // A plain accept: never answers Sec-WebSocket-Protocol.
                let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let (sink, stream) =
                    json_rpc::<rmcp::RoleServer, _>(socket, WebSocketState::default());
                if let Ok(running) = mock.handler().serve((sink, stream)).await {
                    let _ = running.waiting().await;
                }
            });
        }
    });
    let manager = McpClientManager::new();
    let got = manager
        .call(
            &config(Kind::WebSocket, addr, "max_retries = 0"),
            "echo",
            Payload::text("x"),
        )
        .await;
    assert_eq!(got.unwrap().data, "tolerated");
}

#[test]
fn shipped_fixtures_load_cleanly_with_a_port() {
    for name in ["echo-stdio", "echo-websocket", "echo-http"] {
        let path = format!("{}/fixtures/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("{port}", "4242");
        let loaded = cattackle_harness::config::load_str(&path, &text).unwrap();
        assert!(
            loaded.warnings.is_empty(),
            "{name}: {}",
            loaded.render_warnings()
        );
        assert_eq!(loaded.config.commands.len(), 3, "{name}");
    }
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_once_per_session_not_on_every_request() {
    // `/old` answers every method with a 307 to `/mcp`, as Starlette answers `/mcp` with `/mcp/`.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let redirect = move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { axum::response::Redirect::temporary("/mcp") }
    };
    let mock = Mock::new(ok("answered"));
    let make = {
        let mock = mock.clone();
        move || mock.handler()
    };
    let app = echo_cattackle::http_app(make).route("/old", axum::routing::any(redirect));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let transport = format!("type = \"http\"\nurl = \"http://{addr}/old\"");
    let cfg = config_with("max_retries = 0", &transport);
    let manager = McpClientManager::new();
    for text in ["a", "b", "c"] {
        let response = manager
            .call(&cfg, "echo", Payload::text(text))
            .await
            .unwrap();
        assert_eq!(response.data, "answered");
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the first request is redirected; the session remembers the target"
    );
    manager.close_all_sessions(Duration::from_secs(1)).await;
    server.abort();
}

#[tokio::test]
async fn an_http_redirect_to_another_origin_is_not_followed_and_headers_stay_home() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // The other origin records whatever reaches it.
    let other = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_addr = other.local_addr().unwrap();
    let reached = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let record = reached.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = other.accept().await {
            let mut buf = vec![0u8; 8192];
            if let Ok(n) = socket.read(&mut buf).await {
                record.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        }
    });
    // The cattackle's origin answers every request with a 307 to the other origin.
    let home = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let home_addr = home.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = home.accept().await {
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{other_addr}/mcp\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let manager = McpClientManager::new();
    let cfg = config(
        Kind::Http,
        home_addr,
        "max_retries = 0\nconnect_timeout = 2",
    );
    let err = manager
        .call(&cfg, "echo", Payload::text("x"))
        .await
        .unwrap_err();
    assert!(!err.may_have_reached(), "{err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reached = String::from_utf8_lossy(&reached.lock().unwrap()).into_owned();
    assert!(
        reached.is_empty(),
        "the other origin was contacted: {reached}"
    );
}
