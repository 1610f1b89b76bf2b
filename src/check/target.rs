//! What a check run is aimed at: a cattackle (its `cattackle.toml`), or any MCP server given by
//! command line or URL, for which the cattackle contract does not apply.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::{
    CattackleConfig, McpConfig, SecretMap, Settings, StdioTransport, TransportConfig,
};

/// One server under check.
#[derive(Clone, Debug)]
pub struct Target {
    /// Its configuration: the cattackle's, or one made for a plain server (no commands).
    pub config: CattackleConfig,
    /// Whether it is a cattackle, so that the contract checks apply.
    pub cattackle: bool,
    /// Where bare stdio command names are looked for after `PATH`.
    pub program_dirs: Vec<PathBuf>,
}

/// Why a target could not be made from the command line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// `--stdio` is empty or not a valid command line.
    #[error("--stdio: {0}")]
    Command(String),
    /// `--url` has a scheme that is neither WebSocket nor HTTP.
    #[error("--url `{0}`: expected ws://, wss://, http:// or https://")]
    Scheme(String),
    /// `--header` is not `K=V`.
    #[error("--header `{0}`: expected NAME=VALUE")]
    Header(String),
}

impl Target {
    /// A cattackle, from its loaded configuration.
    pub fn cattackle(config: CattackleConfig, program_dirs: Vec<PathBuf>) -> Self {
        Self {
            config,
            cattackle: true,
            program_dirs,
        }
    }

    /// Any MCP server over stdio: `command_line` is split as a POSIX shell would (no shell runs).
    pub fn stdio(command_line: &str, program_dirs: Vec<PathBuf>) -> Result<Self, TargetError> {
        let words = shlex::split(command_line).ok_or_else(|| {
            TargetError::Command(format!(
                "cannot split `{command_line}` (unbalanced quotes?)"
            ))
        })?;
        let Some((command, args)) = words.split_first() else {
            return Err(TargetError::Command("no command given".to_owned()));
        };
        let transport = TransportConfig::Stdio(StdioTransport {
            command: command.clone(),
            args: args.to_vec(),
            ..StdioTransport::default()
        });
        Ok(Self::server(transport, program_dirs))
    }

    /// Any MCP server at a WebSocket or Streamable HTTP URL, with `headers` (`NAME=VALUE`).
    pub fn url(url: &str, headers: &[String]) -> Result<Self, TargetError> {
        let mut map = BTreeMap::new();
        for header in headers {
            let (name, value) = header
                .split_once('=')
                .ok_or_else(|| TargetError::Header(header.clone()))?;
            map.insert(name.trim().to_owned(), value.to_owned());
        }
        let headers = SecretMap::new(map);
        let url = url.to_owned();
        let transport = if url.starts_with("ws://") || url.starts_with("wss://") {
            TransportConfig::WebSocket { url, headers }
        } else if url.starts_with("http://") || url.starts_with("https://") {
            TransportConfig::Http { url, headers }
        } else {
            return Err(TargetError::Scheme(crate::transport::public_url(&url)));
        };
        Ok(Self::server(transport, Vec::new()))
    }

    fn server(transport: TransportConfig, program_dirs: Vec<PathBuf>) -> Self {
        let name = match &transport {
            TransportConfig::Stdio(s) => std::path::Path::new(&s.command)
                .file_name()
                .map_or_else(|| s.command.clone(), |n| n.to_string_lossy().into_owned()),
            TransportConfig::WebSocket { url, .. } | TransportConfig::Http { url, .. } => {
                crate::transport::public_url(url)
            }
        };
        let mut mcp = McpConfig::new(transport);
        mcp.timeout = std::time::Duration::from_secs(10);
        let config = CattackleConfig {
            name,
            version: String::new(),
            description: String::new(),
            commands: BTreeMap::new(),
            mcp,
            settings: Settings::default(),
            source: None,
        };
        Self {
            config,
            cattackle: false,
            program_dirs,
        }
    }

    /// The suite's name: the cattackle's name, or the server's command or URL.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// `text` with every secret of the configuration replaced, cut for evidence.
    pub fn redact(&self, text: &str) -> String {
        crate::manager::shown_redacted(text, &self.config.mcp.transport.secret_values())
    }

    /// `text` with every secret value of the target replaced, not cut.
    pub fn redact_whole(&self, text: &str) -> String {
        crate::manager::redacted(text, &self.config.mcp.transport.secret_values())
    }
}

/// Configured headers as reqwest's map; a bad name or value names the header, never the value.
pub(crate) fn header_map(headers: &SecretMap) -> Result<reqwest::header::HeaderMap, String> {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers.iter() {
        let header = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid HTTP header name `{name}`"))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| format!("invalid value for HTTP header `{name}`"))?;
        map.insert(header, value);
    }
    Ok(map)
}
