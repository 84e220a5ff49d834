//! Scenario files: the cluster, the network, the faults over time, and what to check.
//!
//! A scenario is TOML. Unknown keys are errors, so a typo never silently runs the default.
//! Times are in milliseconds (fractions allowed). See `simulations/*.toml` for examples and
//! `docs/simulation.md` for every field.
//!
//! | File          | Holds                                                                |
//! |---------------|----------------------------------------------------------------------|
//! | `mod.rs`      | [`Scenario`], [`CheckSpec`]; reading, writing, the core's config     |
//! | `cluster.rs`  | [`ClusterSpec`]: the cluster's size and the protocol's settings      |
//! | `network.rs`  | [`NetworkSpec`], [`VoteWrites`], [`NodeSpec`], [`LinkSpec`]          |
//! | `action.rs`   | [`Step`], [`Action`], [`CrashPoint`], [`Side`]: the faults over time |
//! | `target.rs`   | [`Target`], [`RoleTarget`]: the nodes a fault names                  |
//! | `swarm.rs`    | [`SwarmSpec`]: the ranges a swarm trial draws from                   |
//! | `validate.rs` | [`Scenario::validate`]: what the types cannot check                  |

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ScenarioError;
use crate::core::{Config, Membership, NodeId};

mod action;
mod cluster;
mod network;
mod swarm;
mod target;
mod validate;

pub use action::{Action, CrashPoint, Side, Step};
pub use cluster::ClusterSpec;
pub use network::{LinkSpec, NetworkSpec, NodeSpec, VoteWrites};
pub use swarm::SwarmSpec;
pub use target::{RoleTarget, Target};

/// A whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, printed in reports.
    pub name: String,
    /// What the scenario shows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Trials to run unless the command line says otherwise.
    #[serde(default = "default_trials")]
    pub trials: u64,
    /// Longest simulated time of one trial, in ms. Required: a missing value reads as NaN,
    /// which validation reports with what to add.
    #[serde(default = "missing_duration")]
    pub duration_ms: f64,
    /// End a trial as soon as the failover it measures is complete (and liveness holds).
    #[serde(default)]
    pub stop_after_recovery: bool,
    /// The cluster and its protocol settings.
    pub cluster: ClusterSpec,
    /// The network and disks.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Per-node settings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeSpec>,
    /// Per-link overrides of the network model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkSpec>,
    /// Faults over time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Step>,
    /// Random faults drawn per trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<SwarmSpec>,
    /// Checks beyond the ones always on.
    #[serde(default)]
    pub check: CheckSpec,
}

fn missing_duration() -> f64 {
    f64::NAN
}

fn default_trials() -> u64 {
    100
}

/// Optional checks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Require a leader known to a connected majority within this many ms after the last fault
    /// (and check it at the end of the trial). Absent: no liveness check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_within_ms: Option<f64>,
}

impl Scenario {
    /// A scenario for code to build on (a test, an experiment): `cluster` for `duration_ms` a
    /// trial, with every other field at the default a scenario file gets (no faults).
    ///
    /// ```
    /// use raft_heartbeat::sim::{ClusterSpec, Scenario};
    ///
    /// let s = Scenario { trials: 10, ..Scenario::new("quiet", ClusterSpec::new(3), 5000.0) };
    /// assert!(s.validate().is_ok());
    /// ```
    pub fn new(name: impl Into<String>, cluster: ClusterSpec, duration_ms: f64) -> Scenario {
        Scenario {
            name: name.into(),
            description: String::new(),
            trials: default_trials(),
            duration_ms,
            stop_after_recovery: false,
            cluster,
            network: NetworkSpec::default(),
            nodes: Vec::new(),
            links: Vec::new(),
            timeline: Vec::new(),
            swarm: None,
            check: CheckSpec::default(),
        }
    }

    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Scenario::parse(&text).map_err(|e| e.in_file(path))
    }

    /// Parses and validates scenario text.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::Syntax(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario as TOML text that [`Scenario::parse`] reads back to the same scenario.
    pub fn to_toml(&self) -> Result<String, ScenarioError> {
        toml::to_string(self).map_err(|e| ScenarioError::Syntax(e.to_string()))
    }

    /// The membership every node starts with: the learners of `cluster.learners`, and every
    /// other node a voter.
    pub fn membership(&self) -> Membership {
        let learners = &self.cluster.learners;
        Membership::new(
            (1..=self.cluster.nodes).filter(|id| !learners.contains(id)).map(NodeId),
            learners.iter().copied().map(NodeId),
        )
    }

    /// The core configuration of node `id`, with its generator seeded by `seed`, in the
    /// starting membership.
    pub fn core_config(&self, id: NodeId, seed: u64) -> Config {
        self.core_config_in(id, seed, &self.membership())
    }

    /// The core configuration of node `id` in `membership`; a node the membership leaves out
    /// (removed by a change) is a learner in its own eyes, which the others do not know.
    pub fn core_config_in(&self, id: NodeId, seed: u64, membership: &Membership) -> Config {
        let c = &self.cluster;
        let mut learners = membership.learners.clone();
        if !membership.contains(id) {
            learners.push(id);
        }
        Config {
            members: membership.voters.clone(),
            learners,
            heartbeat_interval: ms(c.heartbeat_ms),
            election_timeout_min: ms(c.election_timeout_ms[0]),
            election_timeout_max: ms(c.election_timeout_ms[1]),
            pre_vote: c.pre_vote,
            check_quorum: c.check_quorum,
            leader_stickiness: c.leader_stickiness,
            leader_lease: c.leader_lease,
            max_clock_drift: c.max_clock_drift,
            timer_rule: c.timer_rule,
            timer_granularity: ms(c.timer_granularity_ms),
            leader_detector: c.leader_detector,
            election_timeout_floor: c.election_timeout_floor_ms.map(ms),
            local_pause_threshold: c.local_pause_threshold_ms.map(ms),
            shadow_detectors: c.shadow_detectors.clone(),
            seed,
            ..Config::new(id, (1..=c.nodes).map(NodeId))
        }
    }

    /// The settings of node `id`, or the defaults.
    pub fn node(&self, id: u64) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Milliseconds (validated finite and non-negative) as a duration.
pub(crate) fn ms(v: f64) -> Duration {
    Duration::from_nanos((v.max(0.0) * 1e6).round() as u64)
}

/// The smallest valid scenario, for the tests of every part to add to.
#[cfg(test)]
const MINIMAL: &str = r#"
name = "t"
duration_ms = 1000
[cluster]
nodes = 3
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::latency::Latency;

    #[test]
    fn a_minimal_scenario_takes_the_defaults() {
        let s = Scenario::parse(MINIMAL).unwrap();
        assert_eq!(s.trials, 100);
        assert_eq!(s.cluster.election_timeout_ms, [150.0, 300.0]);
        assert_eq!(s.network.latency, Latency::Constant { ms: 0.5 });
        assert!(s.cluster.pre_vote);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = Scenario::parse(&format!("{MINIMAL}heartbeat_mz = 3\n")).unwrap_err().to_string();
        assert!(err.contains("heartbeat_mz"), "{err}");
    }
}
