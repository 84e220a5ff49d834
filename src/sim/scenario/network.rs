//! The network model, its per-link overrides, and per-node settings (clock, log, disk).

use serde::{Deserialize, Serialize};

use crate::link::Lanes;
use crate::sim::latency::Latency;

/// The network model shared by every link unless a link overrides it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// One-way latency.
    #[serde(default = "default_latency")]
    pub latency: Latency,
    /// Probability that a message is lost.
    #[serde(default)]
    pub loss: f64,
    /// Probability that a message is delivered twice.
    #[serde(default)]
    pub duplicate: f64,
    /// Time to make hard state durable.
    #[serde(default = "zero_latency")]
    pub disk: Latency,
    /// Link bandwidth in megabits per second; absent means messages take no time to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<f64>,
    /// Whether heartbeats and votes share the link's queue with bulk transfers (`shared`) or
    /// have a lane of their own (`dedicated`).
    #[serde(default = "shared_lanes")]
    pub lane: Lanes,
    /// How late each timer fires (operating-system scheduling). Must be bounded.
    #[serde(default = "zero_latency")]
    pub timer_jitter: Latency,
    /// How a voter makes a new term and its vote durable: in one write (the default) or, as
    /// LogCabin did, the term first and then the vote, one `disk` write each.
    #[serde(default)]
    pub vote_writes: VoteWrites,
}

/// How many disk writes a voter's hard state costs when a request raises its term and it
/// grants the vote in the same step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum VoteWrites {
    /// Term and vote in one write.
    #[default]
    Together,
    /// The term, then the vote: two writes in a row before the answer goes out. LogCabin
    /// (2014) stepped down to the new term and persisted it, then granted and persisted the
    /// vote. A candidate's own term and vote for itself are one write either way.
    TermThenVote,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: default_latency(),
            loss: 0.0,
            duplicate: 0.0,
            disk: zero_latency(),
            bandwidth_mbps: None,
            lane: Lanes::Shared,
            timer_jitter: zero_latency(),
            vote_writes: VoteWrites::Together,
        }
    }
}

fn default_latency() -> Latency {
    Latency::Constant { ms: 0.5 }
}
fn shared_lanes() -> Lanes {
    Lanes::Shared
}
fn zero_latency() -> Latency {
    Latency::Constant { ms: 0.0 }
}

/// Settings of one node.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node.
    pub id: u64,
    /// Index of its last log entry (all entries in term 1); lower than others' makes it
    /// ineligible to lead (Raft §5.4.1). Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// How fast its clock runs relative to real time (1.0 = exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_rate: Option<f64>,
    /// Time it spends handling each message, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_ms: Option<f64>,
    /// Its disk, overriding the network's `disk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<Latency>,
}

/// Overrides for the directed link `from → to`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Sender.
    pub from: u64,
    /// Receiver.
    pub to: u64,
    /// One-way latency on this link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// Loss on this link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
}

impl NodeSpec {
    /// Node `id` with no setting of its own.
    pub fn new(id: u64) -> NodeSpec {
        NodeSpec { id, log_index: None, clock_rate: None, processing_ms: None, disk: None }
    }
}
