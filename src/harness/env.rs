//! The world a trial runs in: the mock (in-process, child process, WebSocket, HTTP) or the real
//! cattackle (with a launched process for network servers), and the connector that reaches it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::RunOptions;
use crate::config::{CattackleConfig, SecretMap, StdioTransport, TransportConfig};
use crate::journal::{Journal, What};
use crate::mock::{Flavor, MemoryMock, MockServer};
use crate::scenario::model::MockTransport;
use crate::scenario::{ScenarioFile, TrialTarget};
use crate::transport::{Connector, DefaultConnector};

/// Why a trial could not set up its world.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// A started world.
pub(crate) struct Env {
    pub(crate) mock: Option<Arc<MockServer>>,
    network: Option<crate::mock::NetworkMock>,
    launched: Option<Launched>,
    /// The relay in front of a real WebSocket server, and the launched server's process group
    /// (0 for none), which a `crash` kills.
    ws_relay: Option<crate::relay::WsRelay>,
    http_relay: Option<crate::relay::HttpRelay>,
    launched_pid: Arc<std::sync::atomic::AtomicU32>,
    /// The port `{port}` stands for.
    pub(crate) port: u16,
    target: TrialTarget,
    /// The scenario file (a child-process mock loads it) and the seed of the trial.
    scenario: PathBuf,
    seed: u64,
    journal_file: Option<PathBuf>,
    mock_program: Option<PathBuf>,
    /// Process groups a `pause` step stopped and no `resume` continued yet.
    paused: Vec<i32>,
    _tmp: Option<TempDir>,
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Env {
    /// Starts the world for `target`, and returns it with the connector for the manager.
    pub(crate) async fn start(
        file: &ScenarioFile,
        target: TrialTarget,
        options: &RunOptions,
        seed: u64,
        journal: Arc<Journal>,
    ) -> Result<(Self, Box<dyn Connector>), SetupError> {
        let config = &file.config;
        let commands = config
            .commands
            .iter()
            .map(|(name, c)| (name.clone(), c.description.clone()));
        let new_mock = |flavor| {
            Arc::new(MockServer::new(
                &file.scenario.mock,
                commands.clone(),
                file.scenario.faults.clone(),
                flavor,
                config.mcp.max_message_size,
                seed,
                journal.clone(),
            ))
        };
        let default_connector = || {
            Box::new(DefaultConnector::with_program_dirs(
                options.program_dirs.clone(),
            ))
        };
        let mut env = Self {
            mock: None,
            network: None,
            launched: None,
            ws_relay: None,
            http_relay: None,
            launched_pid: Arc::default(),
            port: 0,
            target,
            scenario: file.path.clone(),
            seed,
            journal_file: None,
            mock_program: None,
            paused: Vec::new(),
            _tmp: None,
        };
        let connector: Box<dyn Connector> = match target {
            TrialTarget::Mock(MockTransport::Stdio) => {
                let mock = new_mock(Flavor::Bytes);
                env.mock = Some(mock.clone());
                Box::new(MemoryMock::new(mock))
            }
            TrialTarget::Mock(MockTransport::StdioProcess) => {
                let program = options.mock_program.clone().ok_or_else(|| {
                    SetupError(
                        "`stdio-process` needs the `cattackle` program (RunOptions::mock_program)"
                            .into(),
                    )
                })?;
                let dir = std::env::temp_dir().join(format!(
                    "cattackle-mock-{}-{}",
                    std::process::id(),
                    fastrand::u64(..)
                ));
                std::fs::create_dir_all(&dir).map_err(|e| SetupError(format!("temp dir: {e}")))?;
                env.journal_file = Some(dir.join("journal.jsonl"));
                env._tmp = Some(TempDir(dir));
                env.mock_program = Some(program);
                default_connector()
            }
            TrialTarget::Mock(MockTransport::Websocket) => {
                let mock = new_mock(Flavor::Messages);
                let server = crate::mock::NetworkMock::websocket(mock.clone())
                    .await
                    .map_err(|e| SetupError(format!("cannot start the WebSocket mock: {e}")))?;
                env.port = server.port();
                env.mock = Some(mock);
                env.network = Some(server);
                default_connector()
            }
            TrialTarget::Mock(MockTransport::Http) if needs_relay(&file.scenario) => {
                // wiremock answers every request: a fault that cuts the connection, and a killed
                // server that refuses connections, need the relay in front. It then carries out
                // every fault and records the wire; the mock only answers, into a journal of its
                // own that nobody reads.
                let quiet = Arc::new(Journal::new(false, crate::journal::Redactor::default()));
                let mock = Arc::new(MockServer::new(
                    &file.scenario.mock,
                    commands.clone(),
                    Vec::new(),
                    Flavor::Http,
                    config.mcp.max_message_size,
                    seed,
                    quiet,
                ));
                let server =
                    crate::mock::NetworkMock::http(mock.clone(), file.scenario.mock.http_body)
                        .await;
                let upstream = crate::relay::Upstream {
                    url: format!("http://127.0.0.1:{}/mcp", server.port()),
                    headers: SecretMap::default(),
                    max_message_size: config.mcp.max_message_size,
                    pid: Arc::default(),
                };
                let faults = file.scenario.faults.clone();
                let relay = crate::relay::HttpRelay::start(upstream, faults, seed, journal.clone())
                    .await
                    .map_err(|e| SetupError(format!("cannot start the HTTP relay: {e}")))?;
                env.port = server.port();
                env.mock = Some(mock);
                env.network = Some(server);
                env.http_relay = Some(relay);
                default_connector()
            }
            TrialTarget::Mock(MockTransport::Http) => {
                let mock = new_mock(Flavor::Http);
                let server =
                    crate::mock::NetworkMock::http(mock.clone(), file.scenario.mock.http_body)
                        .await;
                env.port = server.port();
                env.mock = Some(mock);
                env.network = Some(server);
                default_connector()
            }
            TrialTarget::Real(_) => {
                if let Some(launch) = &file.scenario.launch {
                    env.port = free_port().map_err(|e| SetupError(format!("no free port: {e}")))?;
                    let launched = Launched::start(launch, env.port, options, &journal).await?;
                    env.set_launched(launched);
                }
                // Over HTTP the relay accepts every connection itself, so a real server that is
                // down looks cut rather than refused: it stands in front only when asked for.
                let relayed =
                    !file.scenario.faults.is_empty() || !file.scenario.server_expect.is_empty();
                let upstream = |url, headers| crate::relay::Upstream {
                    url,
                    headers,
                    max_message_size: config.mcp.max_message_size,
                    pid: env.launched_pid.clone(),
                };
                let faults = file.scenario.faults.clone();
                match fill_port(config.mcp.transport.clone(), env.port) {
                    TransportConfig::Http { url, headers } if relayed => {
                        let relay = crate::relay::HttpRelay::start(
                            upstream(url, headers),
                            faults,
                            seed,
                            journal.clone(),
                        )
                        .await
                        .map_err(|e| SetupError(format!("cannot start the HTTP relay: {e}")))?;
                        env.http_relay = Some(relay);
                    }
                    TransportConfig::WebSocket { url, headers } => {
                        let relay = crate::relay::WsRelay::start(
                            upstream(url, headers),
                            faults,
                            seed,
                            journal.clone(),
                        )
                        .await
                        .map_err(|e| {
                            SetupError(format!("cannot start the WebSocket relay: {e}"))
                        })?;
                        env.ws_relay = Some(relay);
                    }
                    _ => {}
                }
                // A stdio child gets the relay: faults, and the wire in the transcript.
                Box::new(crate::relay::RelayConnector::new(
                    DefaultConnector::with_program_dirs(options.program_dirs.clone()),
                    file.scenario.faults.clone(),
                    seed,
                    config.mcp.max_message_size,
                    journal.clone(),
                ))
            }
        };
        Ok((env, connector))
    }

    /// `config` aimed at this world's server, in one typed step: `{port}` filled in, the
    /// transport pointed at the mock, and the trial's seed for backoff jitter unless the
    /// configuration pins its own.
    pub(crate) fn aim(&self, mut config: CattackleConfig) -> CattackleConfig {
        let seed = self.seed;
        config.mcp.backoff.seed.get_or_insert(seed);
        config.mcp.transport = fill_port(config.mcp.transport, self.port);
        let headers = match &config.mcp.transport {
            TransportConfig::WebSocket { headers, .. } | TransportConfig::Http { headers, .. } => {
                headers.clone()
            }
            TransportConfig::Stdio(_) => SecretMap::default(),
        };
        let port = self.port;
        if let (Some(relay), TransportConfig::WebSocket { url, headers }) =
            (&self.ws_relay, &config.mcp.transport)
        {
            config.mcp.transport = TransportConfig::WebSocket {
                url: through_relay(url, "ws", relay.port()),
                headers: headers.clone(),
            };
            return config;
        }
        if let (Some(relay), TrialTarget::Real(_), TransportConfig::Http { url, headers }) =
            (&self.http_relay, self.target, &config.mcp.transport)
        {
            config.mcp.transport = TransportConfig::Http {
                url: through_relay(url, "http", relay.port()),
                headers: headers.clone(),
            };
            return config;
        }
        config.mcp.transport = match self.target {
            TrialTarget::Mock(MockTransport::Websocket) => TransportConfig::WebSocket {
                url: format!("ws://127.0.0.1:{port}/mcp"),
                headers,
            },
            TrialTarget::Mock(MockTransport::Http) => TransportConfig::Http {
                url: format!(
                    "http://127.0.0.1:{}/mcp",
                    self.http_relay.as_ref().map_or(port, |r| r.port())
                ),
                headers,
            },
            TrialTarget::Mock(MockTransport::StdioProcess) => {
                let mut args = vec![
                    "mock-server".to_owned(),
                    self.scenario.display().to_string(),
                    "--seed".to_owned(),
                    seed.to_string(),
                ];
                if let Some(journal) = &self.journal_file {
                    args.push("--journal".to_owned());
                    args.push(journal.display().to_string());
                    args.push("--state".to_owned());
                    args.push(journal.with_file_name("state.json").display().to_string());
                }
                TransportConfig::Stdio(StdioTransport {
                    command: self
                        .mock_program
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    args,
                    ..StdioTransport::default()
                })
            }
            TrialTarget::Mock(MockTransport::Stdio) | TrialTarget::Real(_) => {
                return config;
            }
        };
        config
    }
}

impl Env {
    /// Kills the server: a mock stays down until `restart`; a launched process is stopped; a
    /// stdio child (`pid`) is killed and the manager spawns a new one when it needs it.
    pub(crate) async fn kill(&mut self, pid: Option<u32>, journal: &Journal) {
        if let Some(mock) = self.mock.as_ref() {
            mock.kill();
            if let Some(relay) = &self.http_relay {
                relay.set_down(true); // connections are refused, as by a killed process
            }
            return;
        }
        if let Some(launched) = self.launched.as_mut() {
            launched.stop().await;
            journal.record(What::Server("killed the launched server".to_owned()));
            return;
        }
        kill_pid(pid, journal).await;
    }

    /// Stops (`pause`) the real server's process group, the launched server's or else the stdio
    /// child's (`pid`); `resume` continues every group paused so far. A group still paused is
    /// continued when the trial stops.
    pub(crate) fn pause(
        &mut self,
        pause: bool,
        pid: Option<u32>,
        journal: &Journal,
    ) -> Result<(), SetupError> {
        let what = if pause { "pause" } else { "resume" };
        if self.mock.is_some() || self.mock_program.is_some() {
            return Err(SetupError(format!(
                "`{what}` stops a real server's process: use `server: real` (a mock hangs with the \
                 `hang` fault)"
            )));
        }
        if !pause {
            if self.paused.is_empty() {
                journal.record(What::Server("resume: nothing is paused".to_owned()));
            }
            for group in std::mem::take(&mut self.paused) {
                signal_group(group, libc::SIGCONT);
                journal.record(What::Server("resumed the real server (SIGCONT)".to_owned()));
            }
            return Ok(());
        }
        let group = self
            .launched
            .as_ref()
            .and_then(Launched::pid)
            .or(pid)
            .and_then(|p| i32::try_from(p).ok());
        let Some(group) = group else {
            journal.record(What::Server("pause: no live process".to_owned()));
            return Ok(());
        };
        signal_group(group, libc::SIGSTOP);
        self.paused.push(group);
        journal.record(What::Server("paused the real server (SIGSTOP)".to_owned()));
        Ok(())
    }

    /// Restarts the server: new connections work, old ones are gone.
    pub(crate) async fn restart(
        &mut self,
        file: &ScenarioFile,
        pid: Option<u32>,
        options: &RunOptions,
        journal: &Arc<Journal>,
    ) -> Result<(), SetupError> {
        if let Some(mock) = self.mock.as_ref() {
            mock.restart();
            if let Some(relay) = &self.http_relay {
                relay.set_down(false);
            }
            return Ok(());
        }
        if let Some(launched) = self.launched.as_mut() {
            launched.stop().await;
            let launch = file.scenario.launch.as_ref().expect("launched from it");
            let relaunched = Launched::start(launch, self.port, options, journal).await?;
            self.set_launched(relaunched);
            return Ok(());
        }
        kill_pid(pid, journal).await;
        Ok(())
    }

    /// Keeps the launched server, and its process group for a `crash`.
    fn set_launched(&mut self, launched: Launched) {
        let pid = launched.pid().unwrap_or(0);
        self.launched_pid
            .store(pid, std::sync::atomic::Ordering::SeqCst);
        self.launched = Some(launched);
    }

    /// Stops what the trial started; a child-process mock's journal is read back into
    /// `journal`.
    pub(crate) async fn stop(mut self, journal: &Journal) {
        for group in self.paused.drain(..) {
            signal_group(group, libc::SIGCONT);
        }
        if let Some(network) = self.network.take() {
            network.stop().await;
        }
        if let Some(relay) = self.ws_relay.take() {
            relay.stop().await;
        }
        if let Some(relay) = self.http_relay.take() {
            relay.stop().await;
        }
        if let Some(mut launched) = self.launched.take() {
            launched.stop().await;
        }
        if let Some(file) = &self.journal_file {
            journal.absorb_child(file);
        }
    }
}

/// `{port}` in a transport's strings (URL, program, arguments, environment and header values,
/// working directory) replaced by `port`.
fn fill_port(transport: TransportConfig, port: u16) -> TransportConfig {
    let port = port.to_string();
    let fill = |text: &str| text.replace("{port}", &port);
    let fill_map = |map: &SecretMap| map.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
    match transport {
        TransportConfig::Stdio(s) => TransportConfig::Stdio(StdioTransport {
            command: fill(&s.command),
            args: s.args.iter().map(|a| fill(a)).collect(),
            env: fill_map(&s.env),
            cwd: s.cwd.map(|c| PathBuf::from(fill(&c.to_string_lossy()))),
            ..s
        }),
        TransportConfig::WebSocket { url, headers } => TransportConfig::WebSocket {
            url: fill(&url),
            headers: fill_map(&headers),
        },
        TransportConfig::Http { url, headers } => TransportConfig::Http {
            url: fill(&url),
            headers: fill_map(&headers),
        },
    }
}

/// Whether the HTTP mock needs the relay in front: a fault cuts a connection (or kills the
/// server), or a `kill` step must leave it refusing connections. wiremock can do neither.
fn needs_relay(scenario: &crate::scenario::model::Scenario) -> bool {
    use crate::scenario::model::{FaultAction as A, StepAction, find_step};
    let kills = find_step(&scenario.steps, &|a| matches!(a, StepAction::Kill)).is_some();
    kills
        || scenario.faults.iter().any(|f| {
            matches!(
                f.action,
                A::Drop(_)
                    | A::Crash(_)
                    | A::ExitBeforeHandshake
                    | A::LimitData(_)
                    | A::ResetPeer
                    | A::Timeout(_)
            )
        })
}

/// `url` pointed at the relay on `port` of 127.0.0.1, over plain `scheme` (`ws`, `http`: the
/// relay opens the real `wss` or `https`), its path and query kept.
fn through_relay(url: &str, scheme: &str, port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    format!("{scheme}://127.0.0.1:{port}{path}")
}

/// Kills a stdio cattackle's process group and waits (up to 2 s) until the process has exited,
/// so the next step sees it dead, as it would a while after a real crash.
async fn kill_pid(pid: Option<u32>, journal: &Journal) {
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
        journal.record(What::Server("kill: no live process".to_owned()));
        return;
    };
    // The child leads its own process group: kill the group, grandchildren included.
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while running(pid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    journal.record(What::Server("killed the cattackle process".to_owned()));
}

/// Sends `signal` to process group `group`.
fn signal_group(group: i32, signal: libc::c_int) {
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe {
        libc::killpg(group, signal);
    }
}

/// Whether `pid` runs (a zombie has exited). Without `/proc`, assumes it has exited.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        !matches!(state, Some("Z" | "X") | None)
    })
}

/// A free TCP port on 127.0.0.1 (bound, then released).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A server process started by `launch`.
struct Launched {
    connection: Option<crate::transport::Connection>,
}

impl Launched {
    async fn start(
        launch: &crate::scenario::model::Launch,
        port: u16,
        options: &RunOptions,
        journal: &Journal,
    ) -> Result<Self, SetupError> {
        let stdio = StdioTransport {
            command: launch.command.clone(),
            args: launch
                .args
                .iter()
                .map(|a| a.replace("{port}", &port.to_string()))
                .collect(),
            ..StdioTransport::default()
        };
        let connector =
            crate::transport::StdioConnector::with_program_dirs(options.program_dirs.clone());
        let connection = connector
            .spawn("launch", &stdio)
            .await
            .map_err(|e| SetupError(format!("launch: {e}")))?;
        let wait = launch
            .ready_timeout
            .map_or(Duration::from_secs(10), |d| d.0);
        let deadline = crate::util::deadline_after(wait);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            if !connection.resource.is_alive() || tokio::time::Instant::now() >= deadline {
                let context = connection
                    .resource
                    .failure_context(Duration::from_millis(200))
                    .await;
                let why = if connection.resource.is_alive() {
                    format!("did not accept connections on port {port} within {wait:?}")
                } else {
                    "exited".to_owned()
                };
                connection.resource.shutdown(Duration::ZERO).await;
                return Err(SetupError(format!(
                    "launch: `{}` {why}{}",
                    launch.command,
                    context
                        .map(|c| format!("; its stderr:\n{c}"))
                        .unwrap_or_default()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        journal.record(What::Server(format!("launched `{}`", launch.command)));
        Ok(Self {
            connection: Some(connection),
        })
    }

    /// The launched process's id (its process group's).
    fn pid(&self) -> Option<u32> {
        self.connection.as_ref().and_then(|c| c.resource.pid())
    }

    /// Stops the server: a network server does not watch its stdin, so it gets SIGTERM at once,
    /// then half a second before its process group is killed.
    async fn stop(&mut self) {
        if let Some(connection) = self.connection.take() {
            let crate::transport::Connection { io, resource } = connection;
            drop(io);
            if let Some(pid) = resource.pid().and_then(|p| i32::try_from(p).ok()) {
                // SAFETY: killpg has no memory-safety preconditions.
                unsafe {
                    libc::killpg(pid, libc::SIGTERM);
                }
            }
            resource.shutdown(Duration::from_millis(500)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_filled_in_every_string_of_the_transport_and_nowhere_else() {
        let stdio = TransportConfig::Stdio(StdioTransport {
            command: "server-{port}".into(),
            args: vec!["--port".into(), "{port}".into(), "10{port}".into()],
            env: [("URL".to_owned(), "ws://h:{port}/".to_owned())]
                .into_iter()
                .collect(),
            cwd: Some(PathBuf::from("/tmp/{port}")),
            ..StdioTransport::default()
        });
        let TransportConfig::Stdio(s) = fill_port(stdio, 4242) else {
            panic!("still stdio")
        };
        assert_eq!(s.command, "server-4242");
        assert_eq!(s.args, ["--port", "4242", "104242"]);
        assert_eq!(s.env.get("URL").map(String::as_str), Some("ws://h:4242/"));
        assert_eq!(s.cwd, Some(PathBuf::from("/tmp/4242")));
        let http = TransportConfig::Http {
            url: "http://127.0.0.1:{port}/mcp".into(),
            headers: [("X-Port".to_owned(), "{port}".to_owned())]
                .into_iter()
                .collect(),
        };
        let TransportConfig::Http { url, headers } = fill_port(http, 80) else {
            panic!("still http")
        };
        assert_eq!(url, "http://127.0.0.1:80/mcp");
        assert_eq!(headers.get("X-Port").map(String::as_str), Some("80"));
    }
}
