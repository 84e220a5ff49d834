//! What one trial measured, and summaries over many.

use serde::{Deserialize, Serialize};

use super::checkers::Invariant;
use super::trace_hash::TraceHash;

/// The measurements of one trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TrialResult {
    /// The trial's index within the run.
    pub trial: u64,
    /// The trial's own seed (derived from the run's seed and the index).
    pub seed: u64,
    /// Leader crash → first live node's election timeout, ms.
    pub detection_ms: Option<f64>,
    /// Leader crash → every live node has accepted a heartbeat of the new leader, ms.
    pub time_without_leader_ms: Option<f64>,
    /// Terms campaigned in between the crash and the new leader.
    pub election_rounds: u64,
    /// Of those, terms that ended without a leader.
    pub split_votes: u64,
    /// New leader's term minus the crashed leader's.
    pub term_increase: u64,
    /// Protocol messages sent.
    pub messages: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Election timeouts fired while a leader was alive and reachable by a majority.
    pub false_suspicions: u64,
    /// Election timeouts a node deferred for a stall of its own (local health).
    #[serde(default)]
    pub timeouts_deferred: u64,
    /// Per shadow detector, in the order configured: what it would have done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shadows: Vec<ShadowResult>,
    /// New leaders elected while the previous one was alive and reachable by a majority.
    pub spurious_leader_changes: u64,
    /// Leaders elected, the trial's first included: in a fault-free trial every one after the
    /// first is a false election, whoever wins it.
    #[serde(default)]
    pub leaders_elected: u64,
    /// Seconds the nodes were up, summed over nodes: the time a follower's detector was
    /// watched, for the quality-of-service figures (Chen, Toueg & Aguilera 2002).
    #[serde(default)]
    pub up_seconds: f64,
    /// Seconds nodes spent in a mistake: from a false suspicion (an election timeout while a
    /// healthy leader could reach the node) until the node followed a leader again, led, or
    /// crashed, summed over nodes.
    #[serde(default)]
    pub mistake_seconds: f64,
    /// Mistakes that ended within the trial.
    #[serde(default)]
    pub mistakes_ended: u64,
    /// The seconds of those, summed: `mistake_seconds` also holds the unfinished ones' time.
    #[serde(default)]
    pub ended_mistake_seconds: f64,
    /// Simulated seconds.
    pub sim_seconds: f64,
    /// Engine events processed.
    pub events: u64,
    /// The digest of the trial's trace.
    pub trace_hash: TraceHash,
    /// The invariant broken, if any (the trial stopped there).
    pub violation: Option<ViolationReport>,
}

/// What one shadow detector would have done in one trial, over every node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShadowResult {
    /// Times it would have suspected a leader.
    pub suspicions: u64,
    /// Of those, while a healthy leader could reach the node (false suspicions).
    pub false_suspicions: u64,
    /// Leader crash → its first suspicion on a survivor, ms.
    pub detection_ms: Option<f64>,
}

/// A violation as reported: enough to understand it, and to replay it (the same scenario with
/// `seed` and `trial`, or `trial_scenario` on its own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ViolationReport {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// The trial's index.
    pub trial: u64,
    /// The invariant.
    pub invariant: Invariant,
    /// Simulated time, ms.
    pub at_ms: f64,
    /// What was seen.
    pub detail: String,
    /// The last trace records before it.
    pub last_events: Vec<String>,
    /// The scenario the trial ran, as TOML: for a swarm, every value it drew (cluster,
    /// settings, faults as an explicit timeline), with no swarm section. Run with the same
    /// seed and `--trial`, it replays the trial; it is what shrinking starts from.
    #[serde(default)]
    pub trial_scenario: String,
}

/// Mean and percentiles of a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarizes `values` (any order). An empty sample gives zeros with `count` 0.
    pub fn of(values: &[f64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Summary {
            count: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: v[v.len() - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&v);
        assert_eq!((s.count, s.p50, s.p90, s.p99, s.max), (100, 50.0, 90.0, 99.0, 100.0));
        assert_eq!(s.mean, 50.5);
        assert_eq!(Summary::of(&[7.0]).p99, 7.0);
        assert_eq!(Summary::of(&[]).count, 0);
    }
}
