//! Checks that need the whole scenario file: faults against transports, clocks against I/O,
//! mock-only keys against real servers.

use super::error::{ScenarioError, invalid, top_key};
use super::file::{ScenarioFile, TrialTarget};
use super::model::{
    Clock, FaultAction, Malformed, MockTransport, ServerKind, Step, StepAction, find_step,
};
use crate::config::TransportKind;

/// Checks that need the whole file: faults against transports, clocks against I/O.
pub(super) fn check(file: &ScenarioFile, text: &str) -> Result<(), ScenarioError> {
    let s = &file.scenario;
    let fail =
        |key: &str, message: String| Err(invalid(&file.path, text, top_key(text, key), message));
    if s.server == ServerKind::Real && !s.transports.is_empty() {
        return fail(
            "transports",
            "`transports` is for mocks: a real server uses the transport of its configuration"
                .into(),
        );
    }
    if !s.server.has_real() && s.launch.is_some() {
        return fail(
            "launch",
            "`launch` starts a real server: it needs `server: real`".into(),
        );
    } else if s.server.has_mock()
        && let Some(key) = signal_step(&s.steps)
    {
        // The step's own key, where it is (the first `pause:` of the file is that step's).
        let at = text
            .find(&format!("{key}:"))
            .unwrap_or_else(|| top_key(text, "steps"));
        return Err(invalid(
            &file.path,
            text,
            at,
            format!(
                "`{key}` stops or continues a real server's process: it needs `server: real` \
                 (a mock hangs with the `hang` fault)"
            ),
        ));
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
            let transport = match target {
                TrialTarget::Mock(transport) => *transport,
                // The relays carry out a fault as the mock over the same wire does.
                TrialTarget::Real(TransportKind::WebSocket) => MockTransport::Websocket,
                TrialTarget::Real(TransportKind::Http) => MockTransport::Http,
                TrialTarget::Real(_) => MockTransport::Stdio,
            };
            if let Some(why) = unsupported(&fault.action, transport) {
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

/// The first `pause` or `resume` among `steps`, nested ones included.
fn signal_step(steps: &[Step]) -> Option<&'static str> {
    find_step(steps, &|a| {
        matches!(a, StepAction::Pause | StepAction::Resume)
    })
    .map(StepAction::key)
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
        (FaultAction::Malformed(Malformed::StrayStdout | Malformed::DuplicateResponse), Http) => {
            Some("an HTTP response carries one body")
        }
        _ => None,
    }
}
