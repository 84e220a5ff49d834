//! The lines of a node's stream on stdout, as `node` prints them and `cluster` reads them: its
//! events, and the lease it holds (both on the host's wall clock, so that `cluster` can compare
//! nodes' leases on one clock).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use raft_heartbeat::core::{Event, Term};
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

use super::output;

/// A line of a node's stream: an event or a lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NodeLine {
    /// A core event.
    Event(EventLine),
    /// A change of the lease the node holds.
    Lease(LeaseLine),
}

/// The JSON Schema of a line `node` prints on stdout.
pub fn schema() -> Schema {
    output::line_schema_of::<NodeLine>(
        "a line of raft-heartbeat node's stdout",
        "One object per line: a core event, or a change of the lease the node holds, each with \
         the host's wall-clock time in µs since the Unix epoch.",
    )
}

/// A core event, when (wall clock, µs since the Unix epoch) and on which node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventLine {
    /// Wall-clock time of the event, µs since the Unix epoch.
    pub unix_us: u64,
    /// The node.
    pub node: u64,
    /// What happened.
    pub event: Event,
}

/// The lease a node holds from now on (thesis §6.4.1), or `None` once it holds none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeaseLine {
    /// The node.
    pub node: u64,
    /// Its lease, times in µs since the Unix epoch.
    pub lease: Option<LeaseSpan>,
    /// When the node said so, µs since the Unix epoch.
    pub unix_us: u64,
}

/// A lease on the wall clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeaseSpan {
    /// The term the node leads.
    pub term: Term,
    /// When the node took or last extended the lease, µs since the Unix epoch.
    pub since_unix_us: u64,
    /// When it runs out unless extended, µs since the Unix epoch.
    pub until_unix_us: u64,
}

/// The wall clock now, µs since the Unix epoch.
pub fn unix_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// `at`, a monotonic instant, on the wall clock (µs since the Unix epoch), by the offset
/// between the two clocks now.
pub fn to_unix_us(at: Instant) -> u64 {
    let (wall, mono) = (unix_us(), Instant::now());
    match mono.checked_duration_since(at) {
        Some(ago) => wall.saturating_sub(ago.as_micros() as u64),
        None => wall.saturating_add(at.duration_since(mono).as_micros() as u64),
    }
}
