//! One line of a node's event stream on stdout, as `node` prints it and `cluster` reads it.

use raft_heartbeat::core::Event;
use serde::{Deserialize, Serialize};

/// A core event, when (wall clock, ms since the Unix epoch) and on which node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    /// Wall-clock time of the event, ms since the Unix epoch.
    pub unix_ms: u128,
    /// The node.
    pub node: u64,
    /// What happened.
    pub event: Event,
}
