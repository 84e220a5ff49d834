//! A read-only snapshot of a node, for dashboards, tests and the simulator's checks.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::arrivals::ArrivalStats;
use super::shadow::ShadowStatus;
use super::types::{LogPosition, NodeId, Role, Term};

/// What a node knows about itself and, when it leads, its followers.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Its role.
    pub role: Role,
    /// Whether it is a voter; a learner, or a node removed from the membership, is not.
    pub voter: bool,
    /// Its current term.
    pub term: Term,
    /// The leader it follows (itself when leading), if it knows one.
    pub leader: Option<NodeId>,
    /// Time since the last valid heartbeat (or reported replication) from a leader.
    #[serde(rename = "since_leader_contact_ms", with = "super::millis::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
    pub since_leader_contact: Option<Duration>,
    /// The leader's last log entry, as its latest heartbeat carried it (`None` until a
    /// heartbeat of the current leader arrives): how far behind this node's log is.
    pub leader_last_log: Option<LogPosition>,
    /// When not leading: the gaps between the heartbeats (and reported replication) of the
    /// leadership last followed (a leader in a term), and the largest share of the drawn
    /// election timeout a gap used.
    pub leader_arrivals: Option<ArrivalStats>,
    /// Per follower (voters and learners), when this node leads; empty otherwise.
    pub peers: Vec<PeerStatus>,
    /// When leading: time since a majority was last heard from (`None` in a one-node cluster).
    #[serde(rename = "majority_ack_age_ms", with = "super::millis::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
    pub majority_ack_age: Option<Duration>,
    /// When leading with a lease: how long the lease still lasts (`None` if not held).
    #[serde(rename = "lease_remaining_ms", with = "super::millis::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
    pub lease_remaining: Option<Duration>,
    /// When leading: the member a leadership transfer under way hands over to.
    pub transfer_target: Option<NodeId>,
    /// What each shadow detector ([`Config::shadow_detectors`]) would have done, in order.
    ///
    /// [`Config::shadow_detectors`]: crate::core::Config::shadow_detectors
    #[serde(default)]
    pub shadows: Vec<ShadowStatus>,
    /// Inputs dropped or ignored, by reason.
    pub counters: Counters,
}

/// A leader's view of one follower.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PeerStatus {
    /// The follower.
    pub id: NodeId,
    /// Whether it votes; learners count in no majority.
    pub voter: bool,
    /// Time since its last acknowledgement, if it sent one in this term.
    #[serde(rename = "last_ack_age_ms", with = "super::millis::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
    pub last_ack_age: Option<Duration>,
    /// Whether the failure detector suspects it.
    pub suspected: bool,
    /// The gaps between its acknowledgements in this term, and the largest share of the
    /// minimum election timeout a gap used.
    pub arrivals: Option<ArrivalStats>,
}

/// Counts of inputs the node dropped or declined, so misbehaviour is visible.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Counters {
    /// Messages from senders that are not members.
    pub from_strangers: u64,
    /// Messages addressed to another node, or claiming to come from this one.
    pub misaddressed: u64,
    /// Messages of an older term, or answers to a campaign or round no longer running.
    pub stale: u64,
    /// Heartbeats from a second leader of the current term (a safety bug elsewhere if ever seen).
    pub conflicting_leaders: u64,
    /// Vote requests refused without a term update because a leader was heard within the
    /// minimum election timeout (thesis §4.2.3).
    pub sticky_refusals: u64,
    /// Inputs carrying a term past [`Term::LAST`](crate::core::Term::LAST).
    pub terms_out_of_range: u64,
    /// Inputs whose `now` was earlier than an earlier input's.
    pub clock_regressions: u64,
}
