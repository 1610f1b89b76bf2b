//! A scripted in-memory MCP server built on rmcp's own server side: what each `tools/call` does,
//! and what it received. Independent of the harness's `MockServer` (hand-written JSON-RPC), so
//! the manager's tests get a second opinion from the SDK itself.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cattackle_harness::manager::McpClientManager;
use cattackle_harness::transport::{Connection, MemoryConnector};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode, ErrorData,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use tokio::time::Instant;

/// What one `tools/call` does.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answer this result.
    Reply(CallToolResult),
    /// Wait, then do the inner step.
    Delay(Duration, Box<Step>),
    /// Never answer.
    Hang,
    /// Answer a JSON-RPC error.
    Error(i32, &'static str),
    /// Close the connection without answering.
    Drop,
    /// Do the inner step, then close the connection 1 ms later (a crash between calls).
    ThenCut(Box<Step>),
}

/// `{"data": data, "error": null}` as one text block.
pub fn ok(data: &str) -> Step {
    text(&json!({"data": data, "error": null}).to_string())
}

/// One text block.
pub fn text(text: &str) -> Step {
    Step::Reply(CallToolResult::success(vec![ContentBlock::text(text)]))
}

/// A call the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Seconds since the mock was made, on the tokio clock.
    pub at: f64,
    pub tool: String,
    pub arguments: Value,
}

#[derive(Clone)]
pub struct Mock {
    inner: Arc<Inner>,
}

struct Inner {
    script: Mutex<VecDeque<Step>>,
    fallback: Step,
    calls: Mutex<Vec<Seen>>,
    tools_lists: Mutex<usize>,
    initializes: Mutex<usize>,
    start: Instant,
}

impl Mock {
    /// Every call not scripted with [`Mock::then`] does `fallback`.
    pub fn new(fallback: Step) -> Self {
        Self {
            inner: Arc::new(Inner {
                script: Mutex::new(VecDeque::new()),
                fallback,
                calls: Mutex::new(Vec::new()),
                tools_lists: Mutex::new(0),
                initializes: Mutex::new(0),
                start: Instant::now(),
            }),
        }
    }

    /// The next unscripted call does `step`.
    pub fn then(self, step: Step) -> Self {
        self.inner.script.lock().unwrap().push_back(step);
        self
    }

    pub fn calls(&self) -> Vec<Seen> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// When each call arrived, in seconds since the mock was made.
    pub fn times(&self) -> Vec<f64> {
        self.calls().iter().map(|c| c.at).collect()
    }

    /// How many `initialize` handshakes the server answered.
    pub fn initializes(&self) -> usize {
        *self.inner.initializes.lock().unwrap()
    }

    pub fn tools_lists(&self) -> usize {
        *self.inner.tools_lists.lock().unwrap()
    }

    /// A manager whose every session is a new connection to this mock.
    pub fn manager(&self) -> McpClientManager {
        let mock = self.clone();
        McpClientManager::with_connector(MemoryConnector::new(move |_| Ok(mock.connect())))
    }

    /// A handler for serving this mock over a real transport (WebSocket, HTTP); `Drop` steps do
    /// nothing there (cut the connection with a proxy instead).
    pub fn handler(&self) -> Handler {
        Handler {
            mock: self.clone(),
            cut: None,
        }
    }

    /// Client ⇄ relay ⇄ server: aborting the relay cuts the connection at once, as a crash does
    /// (cancelling an rmcp server instead would drain its handlers for 2 s first).
    pub fn connect(&self) -> Connection {
        let (client, mut near) = tokio::io::duplex(1 << 16);
        let (mut far, server) = tokio::io::duplex(1 << 16);
        let relay = tokio::spawn(async move {
            let _ = tokio::io::copy_bidirectional(&mut near, &mut far).await;
        });
        let handler = Handler {
            mock: self.clone(),
            cut: Some(relay.abort_handle()),
        };
        tokio::spawn(async move {
            if let Ok(running) = handler.serve(server).await {
                let _ = running.waiting().await;
            }
        });
        Connection::duplex(client)
    }
}

pub struct Handler {
    mock: Mock,
    cut: Option<tokio::task::AbortHandle>,
}

impl Handler {
    async fn run(&self, step: Step) -> Result<CallToolResult, ErrorData> {
        let mut step = step;
        loop {
            match step {
                Step::Reply(result) => return Ok(result),
                Step::Delay(d, inner) => {
                    tokio::time::sleep(d).await;
                    step = *inner;
                }
                Step::Hang => std::future::pending::<()>().await,
                Step::Error(code, message) => {
                    return Err(ErrorData::new(ErrorCode(code), message, None));
                }
                Step::Drop => {
                    if let Some(cut) = &self.cut {
                        cut.abort();
                    }
                    std::future::pending::<()>().await;
                }
                Step::ThenCut(inner) => {
                    if let Some(cut) = self.cut.clone() {
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            cut.abort();
                        });
                    }
                    step = *inner;
                }
            }
        }
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let inner = &self.mock.inner;
        inner.calls.lock().unwrap().push(Seen {
            at: inner.start.elapsed().as_secs_f64(),
            tool: request.name.to_string(),
            arguments: Value::Object(request.arguments.unwrap_or_default()),
        });
        let step = inner.script.lock().unwrap().pop_front();
        let step = step.unwrap_or_else(|| inner.fallback.clone());
        self.run(step).await.map(CallToolResponse::Complete)
    }

    async fn initialize(
        &self,
        request: rmcp::model::InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::InitializeResult, ErrorData> {
        *self.mock.inner.initializes.lock().unwrap() += 1;
        if context.peer.peer_info().is_none() {
            context.peer.set_peer_info(request);
        }
        Ok(self.get_info())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        *self.mock.inner.tools_lists.lock().unwrap() += 1;
        Ok(ListToolsResult::default())
    }
}
