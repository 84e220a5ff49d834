//! The nodes a fault names: by id, or by role when it happens.

use serde::{Deserialize, Serialize};

/// A node named in a fault: by id, or by its role when the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// A node id.
    Id(u64),
    /// A role.
    Role(RoleTarget),
}

/// A node chosen by role at the moment the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleTarget {
    /// The current leader (the one of the highest term).
    Leader,
    /// A follower of the current leader, chosen by the trial's generator.
    Follower,
    /// Any live node, chosen by the trial's generator.
    Random,
    /// A node campaigning now (pre-candidate or candidate), chosen by the trial's generator;
    /// any live node if none is.
    Candidate,
}
