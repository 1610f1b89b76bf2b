//! [`CallOptions`]: what one call can ask for beyond its cattackle's configuration.

/// How one call runs, beyond its cattackle's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The call's number, as every [`ManagerEvent`](super::ManagerEvent) of it carries: one
    /// from [`McpClientManager::reserve_call`](super::McpClientManager::reserve_call), so that
    /// the caller knows which events are its own. Unset: the next number.
    pub call: Option<u64>,
}

impl CallOptions {
    /// Options with the call number `call` (see [`CallOptions::call`]).
    pub fn with_call(mut self, call: u64) -> Self {
        self.call = Some(call);
        self
    }
}
