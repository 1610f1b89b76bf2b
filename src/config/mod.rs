//! `cattackle.toml`: the data model, the loader and its diagnostics.
//!
//! Every key of the original Python core's contract is accepted, in the nested `[cattackle]`
//! form and in the flat form. Bad values are errors that name the file, line and column;
//! unknown keys are warnings that suggest the nearest known key, so that real files keep loading.

mod diagnostic;
mod load;
mod model;
mod parse;
mod secret;
mod suggest;

pub use diagnostic::{Diagnostic, Severity};
pub use load::{ConfigError, FILE_NAME, Loaded, load_path, load_str, scan_dir};
pub use model::{
    BackoffConfig, BreakerConfig, CattackleConfig, CommandConfig, HealthCheck, INJECTION_VARIABLES,
    InheritEnv, Jitter, McpConfig, Protocol, Reconnect, RetryBudgetConfig, Settings,
    StdioTransport, TransportConfig, TransportKind,
};
pub use secret::SecretMap;
pub use suggest::did_you_mean;
