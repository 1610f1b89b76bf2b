//! Checks that need the whole scenario file: faults against transports, clocks against I/O,
//! mock-only keys against real servers.

use super::error::{ScenarioError, invalid, top_key};
use super::file::{ScenarioFile, TrialTarget};
use super::model::{Clock, FaultAction, Malformed, MockTransport, ServerKind};

/// Checks that need the whole file: faults against transports, clocks against I/O.
pub(super) fn check(file: &ScenarioFile, text: &str) -> Result<(), ScenarioError> {
    let s = &file.scenario;
    let fail =
        |key: &str, message: String| Err(invalid(&file.path, text, top_key(text, key), message));
    if s.server == ServerKind::Real {
        if !s.transports.is_empty() {
            return fail(
                "transports",
                "`transports` is for mocks: a real server uses the transport of its configuration"
                    .into(),
            );
        }
        if !s.faults.is_empty() {
            return fail(
                "faults",
                "`faults` are injected by the mock: use `server: mock`, or a `restart`/`kill` step"
                    .into(),
            );
        }
        if !s.server_expect.is_empty() {
            return fail(
                "server_expect",
                "`server_expect` counts what the mock received; a real server's requests are not \
                 seen yet: use `server: mock`"
                    .into(),
            );
        }
    } else if s.launch.is_some() {
        return fail(
            "launch",
            "`launch` starts a real server: it needs `server: real`".into(),
        );
    }
    let targets = file.targets();
    if s.clock == Some(Clock::Virtual)
        && let Some(t) = targets.iter().find(|t| !t.in_process())
    {
        return fail(
            "clock",
            format!(
                "`clock: virtual` needs every server in-process, but `{}` does real I/O: a paused \
                 tokio clock jumps ahead while real I/O is pending, so timeouts would fire \
                 early. Use `clock: real` (or only the `stdio` mock transport)",
                t.as_str()
            ),
        );
    }
    for (i, fault) in s.faults.iter().enumerate() {
        for target in &targets {
            let TrialTarget::Mock(transport) = target else {
                continue;
            };
            if let Some(why) = unsupported(&fault.action, *transport) {
                return fail(
                    "faults",
                    format!(
                        "faults[{i}]: `{}` is not available on `{}`: {why}",
                        fault.action.key(),
                        transport.as_str()
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Why a fault cannot be carried out over a transport, if it cannot.
fn unsupported(action: &FaultAction, transport: MockTransport) -> Option<&'static str> {
    use MockTransport::{Http, Stdio, StdioProcess, Websocket};
    match (action, transport) {
        (
            FaultAction::HttpStatus(_)
            | FaultAction::SessionExpired
            | FaultAction::HttpContentType(_),
            Stdio | StdioProcess | Websocket,
        ) => Some("it is an HTTP fault"),
        (FaultAction::WsClose(_), Stdio | StdioProcess | Http) => Some("it is a WebSocket fault"),
        (
            FaultAction::Drop(_)
            | FaultAction::Crash(_)
            | FaultAction::ExitBeforeHandshake
            | FaultAction::ResetPeer
            | FaultAction::LimitData(_)
            | FaultAction::Timeout(_),
            Http,
        ) => Some(
            "the HTTP mock (wiremock) answers every request and cannot cut a connection; use `http_status` or `session_expired`",
        ),
        (FaultAction::Malformed(Malformed::StrayStdout | Malformed::DuplicateResponse), Http) => {
            Some("an HTTP response carries one body")
        }
        _ => None,
    }
}
