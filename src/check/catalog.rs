//! The pack: every built-in check with its stable id, area, severity, reference and what it
//! needs of the target. `cattackle check --list` prints this table.

use std::sync::Arc;

use super::checks::{contract, http, lifecycle, robust, stdio, tools, websocket, wire_schema};
use super::def::{CheckDef, Needs};
use super::model::{Area, Severity};

macro_rules! check {
    ($id:literal, $area:ident, $severity:ident, $needs:ident, $run:path, $reference:literal, $summary:literal) => {
        CheckDef {
            id: $id.to_owned(),
            area: Area::$area,
            severity: Severity::$severity,
            reference: $reference.to_owned(),
            summary: $summary.to_owned(),
            needs: Needs::$needs,
            data: false,
            bound: 1,
            run: Arc::new(|ctx| Box::pin($run(ctx))),
        }
    };
}

/// Every built-in check (those of `checks/` and the embedded data pack), in the order they
/// are reported: by area, built-in before data within one.
pub fn catalog() -> Vec<CheckDef> {
    let mut all = builtin();
    all.extend(super::pack::builtin());
    all.sort_by_key(|c| c.area);
    all
}

/// A pack: the built-in checks, plus those of `--pack` directories.
#[derive(Clone)]
pub struct Pack {
    /// In report order.
    pub checks: Vec<CheckDef>,
}

impl Default for Pack {
    fn default() -> Self {
        Self { checks: catalog() }
    }
}

impl Pack {
    /// Adds the checks of every `*.yaml` in `dir`; an id already in the pack is an error.
    pub fn with_dir(mut self, dir: &std::path::Path) -> Result<Self, super::pack::PackError> {
        for check in super::pack::load_dir(dir)? {
            if self.checks.iter().any(|c| c.id == check.id) {
                return Err(super::pack::PackError::Invalid {
                    path: dir.display().to_string(),
                    id: check.id,
                    message: "this id is already taken by another check".to_owned(),
                });
            }
            self.checks.push(check);
        }
        self.checks.sort_by_key(|c| c.area);
        Ok(self)
    }

    /// The ids, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.checks.iter().map(|c| c.id.as_str()).collect()
    }
}

fn builtin() -> Vec<CheckDef> {
    vec![
        check!(
            "lifecycle.initialize",
            Lifecycle,
            Must,
            Nothing,
            lifecycle::initialize,
            "{spec}/basic/lifecycle#initialization",
            "the handshake (initialize, or server/discover in 2026-07-28) is answered with a protocol version and capabilities"
        ),
        check!(
            "lifecycle.version-negotiation",
            Lifecycle,
            Must,
            Nothing,
            lifecycle::version_negotiation,
            "{spec}/basic/lifecycle#version-negotiation",
            "the offered version is accepted or a known one returned; an unknown offer (1999-01-01) gets a known version or an error"
        ),
        check!(
            "lifecycle.server-info",
            Lifecycle,
            Must,
            Nothing,
            lifecycle::server_info,
            "{spec}/basic/lifecycle#initialization",
            "serverInfo has a name and a version"
        ),
        check!(
            "lifecycle.capabilities-tools",
            Lifecycle,
            Must,
            Nothing,
            lifecycle::capabilities_tools,
            "{spec}/server/tools#capabilities",
            "the capabilities declare tools (required of a cattackle; other servers skip the tools checks without it)"
        ),
        check!(
            "lifecycle.discover",
            Lifecycle,
            Must,
            Nothing,
            lifecycle::discover,
            "https://modelcontextprotocol.io/specification/2026-07-28/basic/lifecycle",
            "server/discover lists supportedVersions with 2026-07-28 (skipped in auto when the server does not speak it)"
        ),
        check!(
            "tools.list",
            Tools,
            Must,
            Nothing,
            tools::list,
            "{spec}/server/tools#listing-tools",
            "tools/list answers, every page (nextCursor followed), each tool with a name"
        ),
        check!(
            "tools.input-schema",
            Tools,
            Must,
            Nothing,
            tools::input_schema,
            "{spec}/server/tools#tool",
            "each tool's inputSchema is a JSON Schema object (type object), valid against the meta-schema"
        ),
        check!(
            "tools.list-matches-commands",
            Tools,
            Must,
            Cattackle,
            tools::list_matches_commands,
            "catmandu-contract §1 (commands are MCP tools)",
            "every command of cattackle.toml is a listed tool"
        ),
        check!(
            "tools.undeclared",
            Tools,
            Should,
            Cattackle,
            tools::undeclared,
            "catmandu-contract §1 (commands are MCP tools)",
            "every listed tool is a command of cattackle.toml (the core cannot route to others)"
        ),
        check!(
            "contract.response-shape",
            Contract,
            Must,
            Cattackle,
            contract::response_shape,
            "catmandu-contract §3 (the response)",
            "the router's payload is answered with content[0] text holding a JSON object (not plain-text isError, not other JSON)"
        ),
        check!(
            "contract.data-is-string",
            Contract,
            Must,
            Cattackle,
            contract::data_is_string,
            "catmandu-contract §3 (the response)",
            "in that object, data is a string and error a string or null"
        ),
        check!(
            "contract.empty-input",
            Contract,
            Must,
            Cattackle,
            contract::empty_input,
            "catmandu-contract §2 (the call)",
            "an empty text with empty accumulated_params is answered, not a JSON-RPC error or a crash"
        ),
        check!(
            "contract.extra-keys",
            Contract,
            Must,
            Cattackle,
            contract::extra_keys,
            "catmandu-contract §2 (the call)",
            "unknown keys under extra do not turn a good answer into an error"
        ),
        check!(
            "contract.unicode",
            Contract,
            Must,
            Cattackle,
            contract::unicode,
            "catmandu-contract §2 (the call)",
            "unicode text keeps the contract (and round-trips in data for an echo)"
        ),
        check!(
            "contract.max-payload",
            Contract,
            Must,
            Cattackle,
            contract::max_payload,
            "catmandu-contract §1 (settings.max_payload_size)",
            "a payload just under settings.max_payload_size is answered"
        ),
        check!(
            "robust.concurrent",
            Robustness,
            Must,
            Nothing,
            robust::concurrent,
            "{spec}/basic#requests",
            "32 requests in flight on one session are all answered, each under its own id"
        ),
        check!(
            "robust.cancel",
            Robustness,
            Must,
            Nothing,
            robust::cancel,
            "{spec}/basic/utilities/cancellation",
            "after notifications/cancelled for a request in flight, the next request is answered"
        ),
        check!(
            "robust.sessions",
            Robustness,
            Must,
            Nothing,
            robust::sessions,
            "{spec}/basic/lifecycle#shutdown",
            "20 sessions opened and closed in a row all finish their handshake (what they leave behind is stdio.no-orphans)"
        )
        .bounded_by(5),
        check!(
            "robust.cold-start",
            Robustness,
            Info,
            Nothing,
            robust::cold_start,
            "{spec}/basic/lifecycle",
            "figure: time to a finished handshake"
        ),
        check!(
            "robust.latency",
            Robustness,
            Info,
            Nothing,
            robust::latency,
            "{spec}/server/tools#calling-tools",
            "figure: p50 and p99 of 100 calls in a row per command (pings for a plain server)"
        ),
        check!(
            "stdio.stdout-clean",
            Stdio,
            Must,
            Stdio,
            stdio::stdout_clean,
            "{spec}/basic/transports#stdio",
            "after the handshake, every stdout line is JSON-RPC (logs belong on stderr)"
        ),
        check!(
            "stdio.no-banner",
            Stdio,
            Should,
            Stdio,
            stdio::no_banner,
            "{spec}/basic/transports#stdio",
            "nothing but JSON-RPC on stdout before the handshake either"
        ),
        check!(
            "stdio.exits-on-eof",
            Stdio,
            Must,
            Stdio,
            stdio::exits_on_eof,
            "{spec}/basic/lifecycle#stdio",
            "the server exits within shutdown_grace after its stdin closes"
        ),
        check!(
            "stdio.no-orphans",
            Stdio,
            Must,
            Stdio,
            stdio::no_orphans,
            "catmandu-contract §4 (stdio shutdown)",
            "once it exited, no process of its process group is left running"
        ),
        check!(
            "http.content-type",
            Http,
            Must,
            Http,
            http::content_type,
            "{spec}/basic/transports#sending-messages-to-the-server",
            "answers to requests are application/json or text/event-stream"
        ),
        check!(
            "http.session-id",
            Http,
            Must,
            Http,
            http::session_id_ascii,
            "{spec}/basic/transports#session-management",
            "an issued Mcp-Session-Id is visible ASCII (skipped when stateless)"
        ),
        check!(
            "http.unknown-session",
            Http,
            Must,
            Http,
            http::unknown_session,
            "{spec}/basic/transports#session-management",
            "a request with an unknown Mcp-Session-Id is answered 404"
        ),
        check!(
            "http.delete-session",
            Http,
            Should,
            Http,
            http::delete_session,
            "{spec}/basic/transports#session-management",
            "DELETE ends the session (then 404), or is refused with 405"
        ),
        check!(
            "http.get-stream",
            Http,
            Must,
            Http,
            http::get_stream,
            "{spec}/basic/transports#listening-for-messages-from-the-server",
            "GET with Accept: text/event-stream opens a stream, or answers 405"
        ),
        check!(
            "http.accept",
            Http,
            Should,
            Http,
            http::accept,
            "{spec}/basic/transports#sending-messages-to-the-server",
            "a POST whose Accept allows neither JSON nor SSE is refused (406)"
        ),
        check!(
            "http.foreign-origin",
            Http,
            Should,
            Http,
            http::foreign_origin,
            "{spec}/basic/transports#security-warning",
            "a request with a foreign Origin is refused (DNS-rebinding protection)"
        ),
        check!(
            "http.redirect",
            Http,
            Info,
            Http,
            http::redirect,
            "{spec}/basic/transports#streamable-http",
            "figure: whether the endpoint redirects"
        ),
        check!(
            "websocket.subprotocol",
            Websocket,
            Should,
            WebSocket,
            websocket::subprotocol,
            "catmandu-contract §4 (websocket)",
            "the server answers with the mcp subprotocol the client asks for"
        ),
        check!(
            "websocket.text-frames",
            Websocket,
            Must,
            WebSocket,
            websocket::text_frames,
            "catmandu-contract §4 (websocket)",
            "every frame is a text frame holding one JSON-RPC message"
        ),
        check!(
            "wire.schema",
            Wire,
            Must,
            Nothing,
            wire_schema::schema,
            "{spec}/schema",
            "every frame the server sends is the MCP message expected (results deserialized strictly per method)"
        ),
    ]
}
