//! `tools/list` through the cattackle's session: what the server says it offers, for listings
//! and checks. One attempt, bounded by `timeout`; it is not a call (no retries, no breaker).

use std::sync::Arc;

use rmcp::model::Tool;
use tokio::time::timeout_at;

use super::core::Core;
use super::{CattackleError, Phase};
use crate::config::CattackleConfig;
use crate::util::deadline_after;

impl Core {
    /// Every tool the cattackle lists (pagination followed), on its session (opened if need be).
    pub(super) async fn list_tools(
        self: &Arc<Self>,
        config: &CattackleConfig,
    ) -> Result<Vec<Tool>, CattackleError> {
        let lease = self.lease(config).await?;
        let deadline = deadline_after(config.mcp.timeout);
        match timeout_at(deadline, lease.session.peer().list_all_tools()).await {
            Ok(Ok(tools)) => Ok(tools),
            Ok(Err(e)) => Err(self.failed(config, &lease, e)),
            Err(_) => Err(CattackleError::TimedOut {
                cattackle: config.name.clone(),
                phase: Phase::Call,
                after: config.mcp.timeout,
                context: Some("while listing tools (`tools/list`)".to_owned()),
            }),
        }
    }
}
