//! The vocabulary of links, shared by the simulator and the runtime so that a fault or a lane
//! means the same thing in a scenario file, in a test against the real transport and on the
//! wire.
//!
//! **Lanes.** A link between two members carries heartbeats and votes (the protocol) and the
//! host's own payloads. [`Lanes`] says whether the protocol gets a [`Lane`] of its own.
//!
//! **Faults**, named after turmoil's, on the directed link `from → to`:
//!
//! | fault | scenario action | `runtime::Faults` | `runtime::MemoryNetwork` |
//! |---|---|---|---|
//! | partition (both ways) | `partition`, `isolate`, `split`, `bridge` | `partition(peer)` | `partition(a, b)` |
//! | one-way partition | `one-way-partition` | `partition_one_way(Direction, peer)` | `partition_one_way(from, to)` |
//! | repair (both ways) | `repair` | `repair(peer)` | `repair(a, b)` |
//! | repair every link | `repair-all` | `repair_all()` | `repair_all()` |
//! | hold (queue, deliver later) | `hold` | `hold(peer)` | — |
//! | release what a hold queued | `release`, `release-all` | `release(peer)`, `release_all()` | — |
//!
//! A partition drops what is sent while it lasts; a hold keeps it and delivers it on release.
//! Repairing a partition releases nothing held, and releasing a hold repairs no partition.

use serde::{Deserialize, Serialize};

/// Whether the protocol has a lane of its own on every link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Lanes {
    /// Heartbeats and votes on a lane of their own, the host's payloads on another: a large
    /// payload never delays a heartbeat. The runtime's default.
    Dedicated,
    /// One lane for everything: a heartbeat waits behind a payload sent before it
    /// (head-of-line blocking). The simulator's default, since it is the harder case.
    Shared,
}

/// One lane of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Lane {
    /// Heartbeats, votes and their answers, under [`Lanes::Dedicated`].
    Protocol,
    /// The host's payloads; and the protocol too, under [`Lanes::Shared`].
    Payload,
}

/// Which way a one-way fault applies, seen from the member that holds the controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// What this member sends to the peer.
    Outbound,
    /// What this member receives from the peer.
    Inbound,
}
