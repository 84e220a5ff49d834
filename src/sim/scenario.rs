//! Scenario files: the cluster, the network, the faults over time, and what to check.
//!
//! A scenario is TOML. Unknown keys are errors, so a typo never silently runs the default.
//! Times are in milliseconds (fractions allowed). See `simulations/*.toml` for examples and
//! `docs/simulation.md` for every field.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::error::ScenarioError;
use super::latency::Latency;
use crate::core::{Config, NodeId, TimerRule};

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, printed in reports.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Trials to run unless the command line says otherwise.
    #[serde(default = "default_trials")]
    pub trials: u64,
    /// Longest simulated time of one trial, in ms.
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
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    /// Per-link overrides of the network model.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// Faults over time.
    #[serde(default)]
    pub timeline: Vec<Step>,
    /// Random faults drawn per trial.
    #[serde(default)]
    pub swarm: Option<SwarmSpec>,
    /// Checks beyond the ones always on.
    #[serde(default)]
    pub check: CheckSpec,
}

fn default_trials() -> u64 {
    100
}

/// The cluster's size and the core's settings.
#[derive(Clone, Debug, Deserialize)]
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

/// The network model shared by every link unless a link overrides it.
#[derive(Clone, Debug, Deserialize)]
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
    #[serde(default)]
    pub bandwidth_mbps: Option<f64>,
    /// Whether heartbeats and votes share the link's queue with bulk transfers (`shared`) or
    /// have a lane of their own (`dedicated`).
    #[serde(default)]
    pub lane: Lane,
    /// How late each timer fires (operating-system scheduling). Must be bounded.
    #[serde(default = "zero_latency")]
    pub timer_jitter: Latency,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: default_latency(),
            loss: 0.0,
            duplicate: 0.0,
            disk: zero_latency(),
            bandwidth_mbps: None,
            lane: Lane::default(),
            timer_jitter: zero_latency(),
        }
    }
}

fn default_latency() -> Latency {
    Latency::Constant { ms: 0.5 }
}
fn zero_latency() -> Latency {
    Latency::Constant { ms: 0.0 }
}

/// How protocol messages share a link with bulk transfers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lane {
    /// One queue per link: a heartbeat waits behind a bulk transfer (head-of-line blocking).
    #[default]
    Shared,
    /// Protocol messages bypass bulk transfers.
    Dedicated,
}

/// Settings of one node.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node.
    pub id: u64,
    /// Index of its last log entry (all entries in term 1); lower than others' makes it
    /// ineligible to lead (Raft §5.4.1). Default 100.
    #[serde(default)]
    pub log_index: Option<u64>,
    /// How fast its clock runs relative to real time (1.0 = exact).
    #[serde(default)]
    pub clock_rate: Option<f64>,
    /// Time it spends handling each message, ms.
    #[serde(default)]
    pub processing_ms: Option<f64>,
    /// Its disk, overriding the network's `disk`.
    #[serde(default)]
    pub disk: Option<Latency>,
}

/// Overrides for the directed link `from → to`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Sender.
    pub from: u64,
    /// Receiver.
    pub to: u64,
    /// One-way latency on this link.
    #[serde(default)]
    pub latency: Option<Latency>,
    /// Loss on this link.
    #[serde(default)]
    pub loss: Option<f64>,
}

/// One fault at one time. (Unknown keys are rejected by [`Action`]'s variants.)
#[derive(Clone, Debug, Deserialize)]
pub struct Step {
    /// When, in ms from the start of the trial.
    pub at_ms: f64,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

/// A node named in a fault: by id, or by its role when the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// A node id.
    Id(u64),
    /// A role.
    Role(RoleTarget),
}

/// A node chosen by role at the moment the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleTarget {
    /// The current leader (the one of the highest term).
    Leader,
    /// A follower of the current leader, chosen by the trial's generator.
    Follower,
    /// Any live node, chosen by the trial's generator.
    Random,
}

/// Which side of a majority/minority split the leader ends up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The leader is cut off with a minority.
    Minority,
    /// The leader keeps a majority.
    Majority,
}

/// The faults a timeline can inject.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Stop a node; it loses everything not persisted. With `within_heartbeat`, the crash
    /// happens at a uniformly random point of the heartbeat interval that follows the leader's
    /// next heartbeat round (the Raft paper's Figure 16 setup).
    Crash {
        /// The node.
        node: Target,
        /// Crash at a uniform point within a heartbeat interval.
        #[serde(default)]
        within_heartbeat: bool,
    },
    /// Restart a crashed node with the hard state it persisted.
    Restart {
        /// The node.
        node: Target,
    },
    /// Stop the world on a node (a GC pause): its timers fire late, its inbound messages queue.
    Pause {
        /// The node.
        node: Target,
        /// For how long, ms.
        for_ms: f64,
    },
    /// Cut a node off from everyone, both ways.
    Isolate {
        /// The node.
        node: Target,
    },
    /// Split the cluster into a majority and a minority, the leader on the side given.
    Split {
        /// Where the leader goes.
        leader_in: Side,
    },
    /// Cut every link between the groups, both ways. Nodes not listed keep every link.
    Partition {
        /// The groups, as lists of node ids.
        groups: Vec<Vec<u64>>,
    },
    /// Drop every message from `from` to `to` (one way).
    OneWay {
        /// Senders.
        from: Vec<Target>,
        /// Receivers.
        to: Vec<Target>,
    },
    /// Split the other nodes in two halves that cannot talk, with `node` talking to both.
    Bridge {
        /// The bridge.
        node: Target,
    },
    /// Queue everything on the link `from → to` until `release`.
    Hold {
        /// Sender.
        from: Target,
        /// Receiver.
        to: Target,
    },
    /// Deliver everything held.
    Release,
    /// Remove every cut (holds stay until released).
    Heal,
    /// Change the loss probability of every link.
    SetLoss {
        /// New probability.
        loss: f64,
    },
    /// Change how fast a node's clock runs.
    ClockRate {
        /// The node.
        node: Target,
        /// Its new rate (1.0 = exact).
        rate: f64,
    },
    /// From now on, `from` sends a bulk payload of `bytes` to every peer every `every_ms`,
    /// until `for_ms` has passed.
    Bulk {
        /// The sender.
        from: Target,
        /// Payload size.
        bytes: u64,
        /// Period, ms.
        every_ms: f64,
        /// How long it goes on, ms.
        for_ms: f64,
    },
}

/// Ranges from which each trial of a swarm draws its own faults (after TigerBeetle's VOPR).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmSpec {
    /// Loss probability range.
    #[serde(default)]
    pub loss: [f64; 2],
    /// Duplication probability range.
    #[serde(default)]
    pub duplicate: [f64; 2],
    /// Range of the mean one-way latency, ms (exponential above a tenth of it).
    pub latency_ms: [f64; 2],
    /// Number of crashes (each followed by a restart) range.
    #[serde(default)]
    pub crashes: [u32; 2],
    /// Number of pauses range.
    #[serde(default)]
    pub pauses: [u32; 2],
    /// Longest pause, ms.
    #[serde(default = "default_pause")]
    pub max_pause_ms: f64,
    /// Number of partitions (each healed later) range.
    #[serde(default)]
    pub partitions: [u32; 2],
    /// Largest clock-rate deviation from 1.0 drawn per node.
    #[serde(default)]
    pub clock_drift: f64,
    /// Faults happen in `[0, faults_until_ms]`; the rest of the trial is quiet.
    pub faults_until_ms: f64,
}

fn default_pause() -> f64 {
    500.0
}

/// Optional checks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Require a leader known to a connected majority within this many ms after the last fault
    /// (and check it at the end of the trial). Absent: no liveness check.
    #[serde(default)]
    pub liveness_within_ms: Option<f64>,
}

impl Scenario {
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

    /// Checks what the types cannot: ranges, ids, the core's own rules.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |field: &str, problem: String| {
            Err(ScenarioError::Invalid { field: field.to_string(), problem })
        };
        let n = self.cluster.nodes;
        if !(1..=64).contains(&n) {
            return invalid("cluster.nodes", format!("must be 1 to 64, got {n}"));
        }
        if !(self.duration_ms.is_finite() && self.duration_ms > 0.0) {
            return invalid(
                "duration_ms",
                format!("must be a positive number, got {}", self.duration_ms),
            );
        }
        if self.trials == 0 {
            return invalid("trials", "must be at least 1".into());
        }
        for (field, v) in [
            ("cluster.heartbeat_ms", self.cluster.heartbeat_ms),
            ("cluster.election_timeout_ms[0]", self.cluster.election_timeout_ms[0]),
            ("cluster.election_timeout_ms[1]", self.cluster.election_timeout_ms[1]),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return invalid(field, format!("must be a non-negative number, got {v}"));
            }
        }
        if let Err(e) = self.core_config(NodeId(1), 0).validate() {
            return invalid("cluster", e.to_string());
        }
        check_probability("network.loss", self.network.loss)?;
        check_probability("network.duplicate", self.network.duplicate)?;
        self.network.latency.validate("network.latency")?;
        self.network.disk.validate("network.disk")?;
        self.network.timer_jitter.validate("network.timer_jitter")?;
        if self.network.timer_jitter.max_ms().is_none() {
            return invalid(
                "network.timer_jitter",
                "must be bounded (constant or uniform): the detection bound adds its maximum"
                    .into(),
            );
        }
        if let Some(b) = self.network.bandwidth_mbps {
            if !(b.is_finite() && b > 0.0) {
                return invalid("network.bandwidth_mbps", format!("must be positive, got {b}"));
            }
        }
        let id_ok = |id: u64| (1..=n).contains(&id);
        for (i, node) in self.nodes.iter().enumerate() {
            let at = |f: &str| format!("nodes[{i}].{f}");
            if !id_ok(node.id) {
                return invalid(
                    &at("id"),
                    format!("{} is not a node of a {n}-node cluster", node.id),
                );
            }
            if let Some(rate) = node.clock_rate {
                if !(rate.is_finite() && rate > 0.0) {
                    return invalid(&at("clock_rate"), format!("must be positive, got {rate}"));
                }
            }
            if let Some(p) = node.processing_ms {
                check_ms(&at("processing_ms"), p)?;
            }
            if let Some(d) = &node.disk {
                d.validate(&at("disk"))?;
            }
        }
        for (i, link) in self.links.iter().enumerate() {
            let at = |f: &str| format!("links[{i}].{f}");
            if !id_ok(link.from) || !id_ok(link.to) || link.from == link.to {
                return invalid(
                    &at("from"),
                    format!("{} → {} is not a link of a {n}-node cluster", link.from, link.to),
                );
            }
            if let Some(l) = &link.latency {
                l.validate(&at("latency"))?;
            }
            if let Some(p) = link.loss {
                check_probability(&at("loss"), p)?;
            }
        }
        for (i, step) in self.timeline.iter().enumerate() {
            self.validate_step(i, step)?;
        }
        if let Some(s) = &self.swarm {
            check_range("swarm.loss", s.loss, 0.0, 1.0)?;
            check_range("swarm.duplicate", s.duplicate, 0.0, 1.0)?;
            check_range("swarm.latency_ms", s.latency_ms, 0.0, f64::MAX)?;
            for (f, r) in [
                ("swarm.crashes", s.crashes),
                ("swarm.pauses", s.pauses),
                ("swarm.partitions", s.partitions),
            ] {
                if r[0] > r[1] {
                    return invalid(f, format!("range [{}, {}] is empty", r[0], r[1]));
                }
            }
            check_ms("swarm.max_pause_ms", s.max_pause_ms)?;
            check_ms("swarm.faults_until_ms", s.faults_until_ms)?;
            if !(0.0..0.5).contains(&s.clock_drift) {
                return invalid(
                    "swarm.clock_drift",
                    format!("must be in [0, 0.5), got {}", s.clock_drift),
                );
            }
        }
        if let Some(l) = self.check.liveness_within_ms {
            check_ms("check.liveness_within_ms", l)?;
        }
        Ok(())
    }

    fn validate_step(&self, i: usize, step: &Step) -> Result<(), ScenarioError> {
        let n = self.cluster.nodes;
        let field = |f: &str| format!("timeline[{i}].{f}");
        check_ms(&field("at_ms"), step.at_ms)?;
        let target_ok = |t: &Target, f: &str| match t {
            Target::Id(id) if !(1..=n).contains(id) => Err(ScenarioError::Invalid {
                field: field(f),
                problem: format!("{id} is not a node of a {n}-node cluster"),
            }),
            _ => Ok(()),
        };
        match &step.action {
            Action::Crash { node, .. }
            | Action::Restart { node }
            | Action::Isolate { node }
            | Action::Bridge { node } => target_ok(node, "node"),
            Action::Pause { node, for_ms } => {
                target_ok(node, "node")?;
                check_ms(&field("for_ms"), *for_ms)
            }
            Action::ClockRate { node, rate } => {
                target_ok(node, "node")?;
                if rate.is_finite() && *rate > 0.0 {
                    Ok(())
                } else {
                    Err(ScenarioError::Invalid {
                        field: field("rate"),
                        problem: format!("must be positive, got {rate}"),
                    })
                }
            }
            Action::Partition { groups } => {
                let mut seen = std::collections::BTreeSet::new();
                for id in groups.iter().flatten() {
                    target_ok(&Target::Id(*id), "groups")?;
                    if !seen.insert(*id) {
                        return Err(ScenarioError::Invalid {
                            field: field("groups"),
                            problem: format!("node {id} is in two groups"),
                        });
                    }
                }
                Ok(())
            }
            Action::OneWay { from, to } => {
                from.iter().try_for_each(|t| target_ok(t, "from"))?;
                to.iter().try_for_each(|t| target_ok(t, "to"))
            }
            Action::Hold { from, to } => {
                target_ok(from, "from")?;
                target_ok(to, "to")
            }
            Action::SetLoss { loss } => check_probability(&field("loss"), *loss),
            Action::Bulk { from, every_ms, for_ms, .. } => {
                target_ok(from, "from")?;
                check_ms(&field("for_ms"), *for_ms)?;
                if *every_ms > 0.0 && every_ms.is_finite() {
                    Ok(())
                } else {
                    Err(ScenarioError::Invalid {
                        field: field("every_ms"),
                        problem: format!("must be positive, got {every_ms}"),
                    })
                }
            }
            Action::Split { .. } | Action::Release | Action::Heal => Ok(()),
        }
    }

    /// The core configuration of node `id`, with its generator seeded by `seed`.
    pub fn core_config(&self, id: NodeId, seed: u64) -> Config {
        let c = &self.cluster;
        Config {
            heartbeat_interval: ms(c.heartbeat_ms),
            election_timeout_min: ms(c.election_timeout_ms[0]),
            election_timeout_max: ms(c.election_timeout_ms[1]),
            pre_vote: c.pre_vote,
            check_quorum: c.check_quorum,
            leader_stickiness: c.leader_stickiness,
            leader_lease: c.leader_lease,
            max_clock_drift: c.max_clock_drift,
            timer_rule: c.timer_rule,
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

fn check_ms(field: &str, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: format!("must be a non-negative number of ms, got {v}"),
        })
    }
}

fn check_probability(field: &str, p: f64) -> Result<(), ScenarioError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: format!("must be a probability in [0, 1], got {p}"),
        })
    }
}

fn check_range(field: &str, r: [f64; 2], lo: f64, hi: f64) -> Result<(), ScenarioError> {
    if r[0].is_finite() && r[1].is_finite() && lo <= r[0] && r[0] <= r[1] && r[1] <= hi {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: format!("must be a range [low, high] within [{lo}, {hi}], got {r:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
duration_ms = 1000
[cluster]
nodes = 3
"#;

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

    #[test]
    fn a_bad_value_names_its_field() {
        let text = MINIMAL.replace("nodes = 3", "nodes = 3\nelection_timeout_ms = [40, 300]");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("cluster") && err.contains("heartbeat_interval"), "{err}");
        let text = format!("{MINIMAL}[network]\nloss = 1.5\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("network.loss") && err.contains("1.5"), "{err}");
        let text = format!("{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"crash\"\nnode = 9\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("timeline[0].node") && err.contains('9'), "{err}");
    }

    #[test]
    fn an_unknown_key_in_a_step_is_an_error() {
        let text =
            format!("{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"isolate\"\nnode = 2\nnod = 3\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("nod"), "{err}");
    }

    #[test]
    fn an_unknown_action_is_an_error() {
        let text = format!("{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"explode\"\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("explode"), "{err}");
    }

    #[test]
    fn targets_are_ids_or_roles() {
        let text = format!(
            "{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"crash\"\nnode = \"leader\"\nwithin_heartbeat = true\n\
             [[timeline]]\nat_ms = 20\naction = \"pause\"\nnode = 2\nfor_ms = 5\n"
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(
            s.timeline[0].action,
            Action::Crash { node: Target::Role(RoleTarget::Leader), within_heartbeat: true }
        );
        assert_eq!(s.timeline[1].action, Action::Pause { node: Target::Id(2), for_ms: 5.0 });
    }
}
