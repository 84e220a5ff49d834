//! Scenarios built in Rust, so a test needs no file: everything a scenario file can say, with
//! the same defaults and the same validation.
//!
//! ```
//! use raft_heartbeat::sim::{Action, Latency, RoleTarget, Scenario, Target};
//!
//! let scenario = Scenario::builder("crash-under-loss")
//!     .nodes(5)
//!     .timing(50.0, [150.0, 300.0])
//!     .latency(Latency::Normal { mean_ms: 0.5, std_ms: 0.1 })
//!     .loss(0.01)
//!     .at(1000.0, Action::Crash {
//!         node: Target::Role(RoleTarget::Leader),
//!         at: Default::default(),
//!         window_ms: None,
//!         restart_after_ms: None,
//!     })
//!     .duration_ms(5000.0)
//!     .trials(20)
//!     .liveness_within_ms(3000.0)
//!     .build()
//!     .unwrap();
//! assert_eq!(scenario.cluster.nodes, 5);
//! ```

use super::error::ScenarioError;
use super::latency::Latency;
use super::scenario::{
    Action, ClusterSpec, LinkSpec, NetworkSpec, NodeSpec, Scenario, Step, SwarmSpec,
};
use crate::link::Lanes;

/// Builds a [`Scenario`] field by field; [`build`](Self::build) validates it as a file would
/// be. The named methods cover what tests set most; [`cluster`](Self::cluster) and
/// [`network`](Self::network) reach every other field.
#[derive(Clone, Debug)]
pub struct ScenarioBuilder {
    scenario: Scenario,
}

impl Scenario {
    /// A builder for scenario `name`: three nodes, a file's defaults, 10 s trials, no faults.
    pub fn builder(name: &str) -> ScenarioBuilder {
        ScenarioBuilder { scenario: Scenario::new(name, ClusterSpec::new(3), 10_000.0) }
    }
}

impl ScenarioBuilder {
    /// What the scenario shows, printed with its report.
    pub fn description(mut self, text: &str) -> Self {
        self.scenario.description = text.to_string();
        self
    }

    /// Trials to run unless the run says otherwise.
    pub fn trials(mut self, trials: u64) -> Self {
        self.scenario.trials = trials;
        self
    }

    /// The longest simulated time of one trial, in ms.
    pub fn duration_ms(mut self, ms: f64) -> Self {
        self.scenario.duration_ms = ms;
        self
    }

    /// End a trial once the failover it measures is over.
    pub fn stop_after_recovery(mut self) -> Self {
        self.scenario.stop_after_recovery = true;
        self
    }

    /// The cluster's size.
    pub fn nodes(mut self, nodes: u64) -> Self {
        self.scenario.cluster.nodes = nodes;
        self
    }

    /// The heartbeat interval and the election timeout range, ms.
    pub fn timing(mut self, heartbeat_ms: f64, election_timeout_ms: [f64; 2]) -> Self {
        self.scenario.cluster.heartbeat_ms = heartbeat_ms;
        self.scenario.cluster.election_timeout_ms = election_timeout_ms;
        self
    }

    /// Any other cluster setting: pre-vote, check quorum, the lease, the detector, learners...
    pub fn cluster(mut self, change: impl FnOnce(&mut ClusterSpec)) -> Self {
        change(&mut self.scenario.cluster);
        self
    }

    /// One-way latency of every link.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.scenario.network.latency = latency;
        self
    }

    /// The probability that a message is lost.
    pub fn loss(mut self, loss: f64) -> Self {
        self.scenario.network.loss = loss;
        self
    }

    /// The probability that a message is delivered twice.
    pub fn duplicate(mut self, duplicate: f64) -> Self {
        self.scenario.network.duplicate = duplicate;
        self
    }

    /// The time to make hard state durable.
    pub fn disk(mut self, disk: Latency) -> Self {
        self.scenario.network.disk = disk;
        self
    }

    /// Link bandwidth, and whether the protocol has a lane of its own.
    pub fn bandwidth(mut self, mbps: f64, lanes: Lanes) -> Self {
        self.scenario.network.bandwidth_mbps = Some(mbps);
        self.scenario.network.lane = lanes;
        self
    }

    /// Any other network setting: timer jitter, how votes are written...
    pub fn network(mut self, change: impl FnOnce(&mut NetworkSpec)) -> Self {
        change(&mut self.scenario.network);
        self
    }

    /// Settings of one node (its clock rate, disk, processing delay, log).
    pub fn node(mut self, spec: NodeSpec) -> Self {
        self.scenario.nodes.retain(|n| n.id != spec.id);
        self.scenario.nodes.push(spec);
        self
    }

    /// A per-link override of the network model.
    pub fn link(mut self, spec: LinkSpec) -> Self {
        self.scenario.links.push(spec);
        self
    }

    /// `action` at `at_ms` into each trial.
    pub fn at(mut self, at_ms: f64, action: Action) -> Self {
        self.scenario.timeline.push(Step { at_ms, action });
        self
    }

    /// Random faults and settings drawn per trial.
    pub fn swarm(mut self, spec: SwarmSpec) -> Self {
        self.scenario.swarm = Some(spec);
        self
    }

    /// Require a leader known to a connected majority within `ms` of the last fault.
    pub fn liveness_within_ms(mut self, ms: f64) -> Self {
        self.scenario.check.liveness_within_ms = Some(ms);
        self
    }

    /// The scenario, validated as a file is.
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        self.scenario.validate()?;
        Ok(self.scenario)
    }
}

impl Scenario {
    /// The shipped swarm, `simulations/swarm.toml`: every trial draws its own cluster, settings
    /// and faults (docs/simulation.md). With hosts in the loop, turn its membership changes off
    /// (`swarm.membership_changes = [0, 0]`): the simulator keeps their log entries itself.
    pub fn standard_swarm() -> Scenario {
        Scenario::parse(include_str!("../../simulations/swarm.toml"))
            .expect("the shipped swarm reads back; a test runs it")
    }
}
