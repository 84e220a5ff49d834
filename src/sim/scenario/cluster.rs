//! The cluster's size and the core's settings.

use serde::{Deserialize, Serialize};

use crate::core::{LeaderDetectorKind, TimerRule};

/// The cluster's size and the core's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Number of nodes, with ids `1..=nodes`.
    pub nodes: u64,
    /// Heartbeat interval, ms.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_ms: f64,
    /// Election timeout range `[min, max]`, ms.
    #[serde(default = "default_election")]
    pub election_timeout_ms: [f64; 2],
    /// Pre-vote (thesis §9.6).
    #[serde(default = "yes")]
    pub pre_vote: bool,
    /// Check quorum (thesis §6.2).
    #[serde(default = "yes")]
    pub check_quorum: bool,
    /// Leader stickiness (thesis §4.2.3).
    #[serde(default = "yes")]
    pub leader_stickiness: bool,
    /// Leader lease (thesis §6.4.1).
    #[serde(default = "yes")]
    pub leader_lease: bool,
    /// Clock-drift bound the lease assumes.
    #[serde(default = "default_drift")]
    pub max_clock_drift: f64,
    /// When a candidate's election timer is reset: `"figure2"` (Raft's, the default) or
    /// `"reset-on-step-down"` (etcd-raft's).
    #[serde(default)]
    pub timer_rule: TimerRule,
    /// The step in which election timeouts are drawn, ms: 0 (the default) for any duration,
    /// 1 for whole milliseconds as LogCabin drew them, a tick for a tick-driven host. Both
    /// bounds of `election_timeout_ms` must be multiples of it.
    #[serde(default)]
    pub timer_granularity_ms: f64,
    /// Nodes that start as learners (thesis §4.2.1, openraft's and etcd-raft's learners): they
    /// receive heartbeats but count in no majority and never campaign, until an `add` step
    /// promotes them. Every other node starts as a voter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learners: Vec<u64>,
    /// The followers' detector of their leader's failure: `{ kind = "fixed" }` (Raft's range,
    /// the default), `{ kind = "adaptive", deviations = K }` or `{ kind = "phi", threshold = P }`.
    #[serde(default, skip_serializing_if = "is_fixed")]
    pub leader_detector: LeaderDetectorKind,
    /// The shortest silence a detector may suspect the leader after, ms, in
    /// `(heartbeat_ms, election_timeout_ms[0]]`; unset, the range's minimum. A lower floor lets
    /// an adaptive detector fire sooner and shortens the lease with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub election_timeout_floor_ms: Option<f64>,
    /// Local health (Lifeguard): a check of a node's own that is late by more than this many
    /// ms is a stall of its own, after which its first election timeout is deferred; unset
    /// (the default), off. One heartbeat interval is a natural choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_pause_threshold_ms: Option<f64>,
    /// Detectors run in shadow beside `leader_detector`, reporting when they would have
    /// suspected the leader (`[{ kind = "phi", threshold = 8 }, ...]`); their figures are in
    /// the report's `shadows`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shadow_detectors: Vec<LeaderDetectorKind>,
}

fn is_fixed(kind: &LeaderDetectorKind) -> bool {
    *kind == LeaderDetectorKind::Fixed
}

impl ClusterSpec {
    /// A cluster of `nodes` with every other setting at the default a scenario file gets.
    pub fn new(nodes: u64) -> ClusterSpec {
        ClusterSpec {
            nodes,
            heartbeat_ms: default_heartbeat(),
            election_timeout_ms: default_election(),
            pre_vote: true,
            check_quorum: true,
            leader_stickiness: true,
            leader_lease: true,
            max_clock_drift: default_drift(),
            timer_rule: TimerRule::default(),
            timer_granularity_ms: 0.0,
            learners: Vec::new(),
            leader_detector: LeaderDetectorKind::Fixed,
            election_timeout_floor_ms: None,
            local_pause_threshold_ms: None,
            shadow_detectors: Vec::new(),
        }
    }
}

fn default_heartbeat() -> f64 {
    50.0
}
fn default_election() -> [f64; 2] {
    [150.0, 300.0]
}
fn default_drift() -> f64 {
    0.05
}
fn yes() -> bool {
    true
}
