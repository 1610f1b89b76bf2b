//! The stdio transport: a child process in its own process group, newline-delimited JSON-RPC on
//! its stdin/stdout, stderr drained into a bounded tail.
//!
//! rmcp alone leaves grandchildren running (`sh -c`, `npx`, `uvx` launchers) and takes 6 s to
//! stop a stubborn child. Here the whole group is killed once the grace period has passed.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::processes::{self, Group};
use super::stderr_tail::StderrTail;
use super::{BoxFuture, ConnectError, Connection, SessionResource, TransportIo};
use crate::config::{InheritEnv, StdioTransport};

/// Spawns stdio cattackles. No shell is involved.
#[derive(Debug, Default, Clone)]
pub struct StdioConnector {
    program_dirs: Vec<PathBuf>,
}

impl StdioConnector {
    /// Also looks for bare command names in `dirs` when they are not found on `PATH`.
    pub fn with_program_dirs(dirs: Vec<PathBuf>) -> Self {
        Self { program_dirs: dirs }
    }

    /// Spawns the child and starts draining its stderr.
    pub async fn spawn(
        &self,
        name: &str,
        config: &StdioTransport,
    ) -> Result<Connection, ConnectError> {
        unspawnable(config).map_err(ConnectError::Config)?;
        let program = self.resolve(&config.command);
        let mut child =
            self.command(&program, config)
                .spawn()
                .map_err(|source| ConnectError::Spawn {
                    command: config.command.clone(),
                    source,
                })?;
        let pid = child.id();
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ConnectError::Other("child has no stdio pipes".to_owned()));
        };
        tracing::debug!(cattackle = %name, pid, "spawned stdio cattackle");
        let resource = ChildProcess {
            child: Mutex::new(Some(child)),
            _group: Group::register(pid),
            pgid: pid,
            stderr: StderrTail::drain(
                name.to_owned(),
                config.env.values().cloned().collect(),
                stderr,
            ),
        };
        Ok(Connection {
            io: TransportIo::Bytes {
                read: Box::new(stdout),
                write: Box::new(stdin),
            },
            resource: Box::new(resource),
        })
    }

    /// A bare program name found on *this* process's `PATH`, then in the program directories;
    /// else the name as it is. (The OS would look it up on the `PATH` of the child's `env`,
    /// which a configuration could point anywhere.)
    fn resolve(&self, command: &str) -> PathBuf {
        if !is_bare(command) {
            return PathBuf::from(command);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain(self.program_dirs.iter().cloned())
            .map(|dir| dir.join(command))
            .find(|candidate| is_executable(candidate))
            .unwrap_or_else(|| PathBuf::from(command))
    }

    fn command(&self, program: &std::path::Path, config: &StdioTransport) -> Command {
        let mut command = Command::new(program);
        if let InheritEnv::Only(names) = &config.inherit_env {
            command.env_clear();
            for name in names {
                if let Some(value) = std::env::var_os(name) {
                    command.env(name, value);
                }
            }
        }
        // The manager's own log filter is not the child's (a Rust child would log every
        // payload to the stderr the manager re-logs), unless the configuration sets it.
        for own in OWN_VARIABLES {
            if !config.env.contains_key(*own) {
                command.env_remove(own);
            }
        }
        command
            .args(&config.args)
            .envs(config.env.iter())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(false);
        if let Some(cwd) = &config.cwd {
            command.current_dir(cwd);
        }
        command
    }
}

/// The manager's own variables, never passed on unless `env` sets them.
const OWN_VARIABLES: &[&str] = &["RUST_LOG"];

/// Why `config` can never be spawned, naming the key (values are never shown: env values are
/// secrets). Retrying cannot help.
fn unspawnable(config: &StdioTransport) -> Result<(), String> {
    if config.command.contains('\0') || config.args.iter().any(|a| a.contains('\0')) {
        return Err("`command` or `args` holds a NUL byte".to_owned());
    }
    if let Some(key) = config
        .env
        .iter()
        .find(|(k, v)| k.is_empty() || k.contains(['=', '\0']) || v.contains('\0'))
        .map(|(k, _)| k)
    {
        return Err(format!(
            "`env.{}` cannot be set (an empty name, `=` or a NUL byte)",
            key.escape_debug()
        ));
    }
    if let Some(cwd) = &config.cwd
        && !cwd.is_dir()
    {
        return Err(format!(
            "`cwd` {} is not a directory that exists{}",
            cwd.display(),
            if cwd.is_relative() {
                " (a relative `cwd` is taken from the directory `cattackle` runs in)"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn is_bare(command: &str) -> bool {
    !command.contains(std::path::MAIN_SEPARATOR)
}

/// A child process and its process group.
struct ChildProcess {
    child: Mutex<Option<Child>>,
    /// Registered while the child is ours, so a signal to the program can end it.
    _group: Option<Group>,
    pgid: Option<u32>,
    stderr: StderrTail,
}

impl ChildProcess {
    fn signal_group(&self, signal: libc::c_int) {
        if let Some(pgid) = self.pgid.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: killpg has no memory-safety preconditions; ESRCH (group gone) is fine.
            unsafe {
                libc::killpg(pgid, signal);
            }
        }
    }

    fn kill_group(&self) {
        self.signal_group(libc::SIGKILL);
    }

    /// The child's running descendants outside its process group.
    fn escaped(&self) -> Vec<i32> {
        self.pgid.map(processes::escaped_from).unwrap_or_default()
    }
}

impl SessionResource for ChildProcess {
    fn is_alive(&self) -> bool {
        let mut child = crate::util::lock(&self.child);
        child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn failure_context(&self, settle: Duration) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let tail = self.stderr.settled(settle).await;
            tail.map(|t| {
                format!(
                    "stderr of the cattackle (last {} KiB at most):\n{t}",
                    super::stderr_tail::TAIL_BYTES / 1024
                )
            })
        })
    }

    fn pid(&self) -> Option<u32> {
        self.pgid
    }

    fn interrupt(&self) {
        tracing::debug!(pid = ?self.pgid, "cattackle is busy with a timed-out call: SIGTERM to its process group");
        self.signal_group(libc::SIGTERM);
    }

    fn shutdown(self: Box<Self>, grace: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            // Descendants that left the group (`setsid`), found while the child still links
            // them; once it has exited they belong to init, or to a subreaper (the CLI).
            let escaped = self.escaped();
            let child = crate::util::lock(&self.child).take();
            if let Some(mut child) = child {
                // stdin is already closed (the transport is gone): give the child `grace` to exit.
                if tokio::time::timeout(grace, child.wait()).await.is_err() {
                    tracing::debug!(pid = ?self.pgid, "cattackle did not exit within {grace:?}: killing its process group");
                    self.kill_group();
                    let _ = tokio::time::timeout(Duration::from_secs(1), child.wait()).await;
                }
            }
            // Whatever the child left behind in its group (grandchildren) goes too.
            self.kill_group();
            processes::kill_pids(&escaped);
        })
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // Not shut down (the manager was dropped, or a start timed out): kill the whole group now.
        let child = crate::util::get_mut(&mut self.child).take();
        if let Some(mut child) = child {
            let escaped = self.escaped();
            self.kill_group();
            let _ = child.start_kill();
            processes::kill_pids(&escaped);
        }
    }
}
