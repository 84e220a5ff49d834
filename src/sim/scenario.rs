//! Scenario files: the cluster, the network, the faults over time, and what to check.
//!
//! A scenario is TOML. Unknown keys are errors, so a typo never silently runs the default.
//! Times are in milliseconds (fractions allowed). See `simulations/*.toml` for examples and
//! `docs/simulation.md` for every field.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ScenarioError;
use super::latency::Latency;
use crate::core::{Config, LeaderDetectorKind, Membership, NodeId, TimerRule};
use crate::link::Lanes;

/// A whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

/// The cluster's size and the core's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

/// The network model shared by every link unless a link overrides it.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

/// One fault at one time. (Unknown keys are rejected by [`Action`]'s variants.)
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// When, in ms from the start of the trial.
    pub at_ms: f64,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

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

/// When a crash happens once its step is reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrashPoint {
    /// At the step's time.
    #[default]
    Now,
    /// At a uniformly random point of the heartbeat interval that follows the node's next
    /// heartbeat round (the Raft paper's Figure 16 setup). With `node = "leader"`, whichever
    /// node sends the next round, even one not elected yet.
    WithinHeartbeat,
    /// While the node's next hard-state write is in flight: at a uniformly random point between
    /// its start and its completion, so the write is lost.
    DuringWrite,
    /// At a uniformly random point of the heartbeat interval after the node next becomes
    /// leader. With `node = "leader"`, whichever node wins the next election.
    AfterElection,
}

impl CrashPoint {
    fn is_now(&self) -> bool {
        *self == CrashPoint::Now
    }
}

/// Which side of a majority/minority split the leader ends up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The leader is cut off with a minority.
    Minority,
    /// The leader keeps a majority.
    Majority,
}

/// The faults a timeline can inject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Stop a node; it loses everything not persisted. `at` says when (default: now).
    Crash {
        /// The node.
        node: Target,
        /// When the crash happens.
        #[serde(default, skip_serializing_if = "CrashPoint::is_now")]
        at: CrashPoint,
        /// Stop waiting for the crash point after this many ms (no crash then). Default: wait
        /// until the trial ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_ms: Option<f64>,
        /// Restart the node this many ms after the crash.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restart_after_ms: Option<f64>,
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
    /// Partition every link between the groups, both ways. Nodes not listed keep every link.
    Partition {
        /// The groups, as lists of node ids.
        groups: Vec<Vec<u64>>,
    },
    /// Partition every link from a node of `from` to a node of `to`, one way: what is sent
    /// there is dropped. (`one-way` is an older name for it.)
    #[serde(alias = "one-way")]
    OneWayPartition {
        /// Senders.
        from: Vec<Target>,
        /// Receivers.
        to: Vec<Target>,
    },
    /// Repair every link between a node of `from` and a node of `to`, both ways.
    Repair {
        /// One side.
        from: Vec<Target>,
        /// The other side.
        to: Vec<Target>,
    },
    /// Repair every link from a node of `from` to a node of `to`, one way.
    OneWayRepair {
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
    /// Queue everything sent on the link `from → to` until `release` (nothing is lost).
    Hold {
        /// Sender.
        from: Target,
        /// Receiver.
        to: Target,
    },
    /// Deliver what is held on the link `from → to`, and stop holding it.
    Release {
        /// Sender.
        from: Target,
        /// Receiver.
        to: Target,
    },
    /// Release every held link.
    ReleaseAll,
    /// Add `extra_ms` to the latency of every link from `from` to `to` (a latency spike);
    /// `extra_ms = 0` ends it. Messages already in flight keep their delay.
    Delay {
        /// Senders.
        from: Vec<Target>,
        /// Receivers.
        to: Vec<Target>,
        /// Added one-way latency, ms.
        extra_ms: f64,
    },
    /// Deliver again copies of `count` messages sent earlier in the trial, chosen at random
    /// among those of terms older than the newest sent so far (stale deliveries: old rounds,
    /// old votes, old leaders).
    Redeliver {
        /// How many.
        count: u32,
    },
    /// Repair every partitioned link (holds stay until released). (`heal` is an older name.)
    #[serde(alias = "heal")]
    RepairAll,
    /// Change the loss probability of every link.
    SetLoss {
        /// New probability.
        loss: f64,
    },
    /// Change the one-way latency of every link (messages in flight keep theirs).
    SetLatency {
        /// New latency.
        latency: Latency,
    },
    /// `node` (default: the current leader) is asked for a read index (thesis §6.4): it sends
    /// a round at once, and the read is confirmed when a majority has acknowledged a round sent
    /// since. The simulator checks that no leader of a later term existed when the read was
    /// asked. Nothing happens if the node does not think it leads.
    Read {
        /// The node asked.
        #[serde(default = "the_leader")]
        node: Target,
    },
    /// The current leader hands leadership over to `to` (thesis §3.10): it starts a transfer
    /// and, the simulated host having no log to catch up, sends `TimeoutNow` at once. Nothing
    /// happens if no node leads, the leader is paused, or `to` is the leader.
    Transfer {
        /// The member to take over.
        to: Target,
    },
    /// The leader appends a membership change (thesis §4.1): `node` joins the voters, or the
    /// learners with `learner = true` (naming a learner without it promotes it). The change
    /// reaches the leader at once and every other live node within a heartbeat interval, over
    /// an open link from the leader (retried each interval until one is open); it commits once
    /// a majority of the new voters has it. A crashed node restarts with the latest membership.
    /// Nothing happens if no node leads, the leader is paused, an earlier change has not
    /// committed, or the change is invalid (see [`Membership::validate_change_from`]).
    Add {
        /// The member joining.
        node: Target,
        /// Join as a learner, not a voter.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        learner: bool,
    },
    /// The leader appends a change removing `node` (default: the leader itself, which then
    /// leads without counting itself until the change commits, and steps down, thesis
    /// §4.2.2). Propagated and refused as `add` is. The node keeps running, outside the cluster.
    Remove {
        /// The member leaving.
        #[serde(default = "the_leader")]
        node: Target,
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

fn the_leader() -> Target {
    Target::Role(RoleTarget::Leader)
}

/// Ranges from which each trial of a swarm draws its own cluster, configuration and faults
/// (after TigerBeetle's VOPR). Every range is `[low, high]`; an absent cluster range keeps the
/// scenario's own value. See `docs/simulation.md` for what each draw means.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmSpec {
    /// Cluster size range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<[u64; 2]>,
    /// Heartbeat interval range, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<[f64; 2]>,
    /// Range of `election_timeout_min`, as a multiple of the heartbeat interval (above 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_heartbeats: Option<[f64; 2]>,
    /// Range of `election_timeout_max / election_timeout_min` (1 = no randomization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_spread: Option<[f64; 2]>,
    /// Probability that a trial uses equal bounds (`min == max`) whatever the spread range.
    #[serde(default)]
    pub equal_timeouts: f64,
    /// Draw pre-vote, check quorum, stickiness, the lease (only with stickiness) and the timer
    /// rule, each on or off with even odds.
    #[serde(default)]
    pub draw_protocol: bool,
    /// Range of the lease's drift bound (`max_clock_drift`); clock rates are then drawn as far
    /// apart as that bound allows, often right at its edge. Replaces `clock_drift`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_bound: Option<[f64; 2]>,
    /// Range of how many entries each node's log is behind the longest (Raft §5.4.1: a node
    /// behind cannot be elected by a node ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_lag: Option<[u64; 2]>,
    /// Range of each node's slowest disk write, ms (writes are uniform below it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_ms: Option<[f64; 2]>,
    /// Loss probability range.
    #[serde(default)]
    pub loss: [f64; 2],
    /// Duplication probability range.
    #[serde(default)]
    pub duplicate: [f64; 2],
    /// Range of the probability that a message is delivered late: after an extra delay drawn
    /// uniformly up to three maximum election timeouts (a message long in flight, arriving
    /// after its sender and receiver have moved on).
    #[serde(default)]
    pub late: [f64; 2],
    /// Range of the mean one-way latency, ms (exponential above a tenth of it).
    pub latency_ms: [f64; 2],
    /// Number of crashes (each followed by a restart) range.
    #[serde(default)]
    pub crashes: [u32; 2],
    /// Number of short crashes (down for 1 to 50 ms) aimed at campaigning nodes.
    #[serde(default)]
    pub flaps: [u32; 2],
    /// Number of crashes of a leader right after it is elected (each restarted).
    #[serde(default)]
    pub leader_crashes: [u32; 2],
    /// Number of crashes while a hard-state write is in flight (each restarted).
    #[serde(default)]
    pub write_crashes: [u32; 2],
    /// Number of pauses range.
    #[serde(default)]
    pub pauses: [u32; 2],
    /// Longest pause, ms.
    #[serde(default = "default_pause")]
    pub max_pause_ms: f64,
    /// Number of partitions (each healed later) range: isolation, majority/minority splits,
    /// bridges, one-way cuts in either direction.
    #[serde(default)]
    pub partitions: [u32; 2],
    /// Number of latency spikes longer than the election timeout, each ended later.
    #[serde(default)]
    pub latency_spikes: [u32; 2],
    /// Number of held links, each released later.
    #[serde(default)]
    pub holds: [u32; 2],
    /// Number of stale deliveries: copies of earlier messages delivered again.
    #[serde(default)]
    pub stale_deliveries: [u32; 2],
    /// Number of partitions repaired a piece at a time: the cluster cut in two groups, then
    /// one link between them repaired (both ways or one way), later the rest. Drawn after
    /// every other fault, and only when the range is not `[0, 0]`, so that swarms without it
    /// draw exactly what they drew before it existed.
    #[serde(default)]
    pub partial_repairs: [u32; 2],
    /// Leadership transfers (thesis §3.10) from whoever leads to a random follower, at random
    /// times. Drawn after partial repairs, and only when the range is not `[0, 0]`.
    #[serde(default)]
    pub transfers: [u32; 2],
    /// Read-index requests (thesis §6.4) to whoever leads, at random times. Drawn after
    /// transfers, and only when the range is not `[0, 0]`.
    #[serde(default)]
    pub reads: [u32; 2],
    /// Membership changes (thesis §4.1) at random times: a random node added as a voter or a
    /// learner, or removed (the leader, half the time). When the range is not `[0, 0]`, a
    /// trial of two or more nodes also starts with one random node a learner half the time.
    /// Drawn after reads.
    #[serde(default)]
    pub membership_changes: [u32; 2],
    /// Draw the followers' detector too: a quarter of the trials run the adaptive one, with 0
    /// to 6 deviations, a quarter the phi one, with a threshold of 0.5 to 16; half of those a
    /// timeout floor below the minimum. Drawn after membership changes, and only when set.
    #[serde(default)]
    pub draw_detector: bool,
    /// Draw local health and shadow detectors: half the trials run local health with a
    /// threshold of 0.1 to 2 heartbeat intervals, half run one or two shadow detectors (any
    /// kind). Drawn last, and only when set.
    #[serde(default)]
    pub draw_local_health: bool,
    /// Largest clock-rate deviation from 1.0 drawn per node (ignored with `drift_bound`).
    #[serde(default)]
    pub clock_drift: f64,
    /// Faults happen in `[0, faults_until_ms]`; the rest of the trial is quiet.
    pub faults_until_ms: f64,
}

fn default_pause() -> f64 {
    500.0
}

/// Optional checks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Require a leader known to a connected majority within this many ms after the last fault
    /// (and check it at the end of the trial). Absent: no liveness check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_within_ms: Option<f64>,
}

impl NodeSpec {
    /// Node `id` with no setting of its own.
    pub fn new(id: u64) -> NodeSpec {
        NodeSpec { id, log_index: None, clock_rate: None, processing_ms: None, disk: None }
    }
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

    /// Checks what the types cannot: ranges, ids, the core's own rules.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |field: &str, problem: String| {
            Err(ScenarioError::Invalid { field: field.to_string(), problem })
        };
        let n = self.cluster.nodes;
        if !(1..=64).contains(&n) {
            return invalid("cluster.nodes", format!("must be 1 to 64, got {n}"));
        }
        if self.duration_ms.is_nan() {
            return invalid(
                "duration_ms",
                "is missing: say how long each trial runs, in simulated ms, for example \
                 `duration_ms = 10000` at the top of the file"
                    .into(),
            );
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
            ("cluster.timer_granularity_ms", self.cluster.timer_granularity_ms),
            (
                "cluster.election_timeout_floor_ms",
                self.cluster.election_timeout_floor_ms.unwrap_or(0.0),
            ),
            (
                "cluster.local_pause_threshold_ms",
                self.cluster.local_pause_threshold_ms.unwrap_or(1.0),
            ),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return invalid(field, format!("must be a non-negative number, got {v}"));
            }
        }
        if let Some(&id) = self.cluster.learners.iter().find(|&&id| !(1..=n).contains(&id)) {
            return invalid(
                "cluster.learners",
                format!("{id} is not a node of a {n}-node cluster"),
            );
        }
        if let Err(e) = self.membership().validate() {
            return invalid("cluster.learners", e.to_string());
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
            check_range("swarm.late", s.late, 0.0, 1.0)?;
            check_range("swarm.latency_ms", s.latency_ms, 0.0, f64::MAX)?;
            for (f, r) in [
                ("swarm.crashes", s.crashes),
                ("swarm.flaps", s.flaps),
                ("swarm.leader_crashes", s.leader_crashes),
                ("swarm.write_crashes", s.write_crashes),
                ("swarm.pauses", s.pauses),
                ("swarm.partitions", s.partitions),
                ("swarm.latency_spikes", s.latency_spikes),
                ("swarm.holds", s.holds),
                ("swarm.stale_deliveries", s.stale_deliveries),
                ("swarm.partial_repairs", s.partial_repairs),
                ("swarm.transfers", s.transfers),
                ("swarm.reads", s.reads),
                ("swarm.membership_changes", s.membership_changes),
            ] {
                if r[0] > r[1] {
                    return invalid(f, format!("range [{}, {}] is empty", r[0], r[1]));
                }
            }
            check_ms("swarm.max_pause_ms", s.max_pause_ms)?;
            if let Some([lo, hi]) = s.nodes {
                if !(1 <= lo && lo <= hi && hi <= 64) {
                    return invalid(
                        "swarm.nodes",
                        format!("must be a range within [1, 64], got [{lo}, {hi}]"),
                    );
                }
            }
            if let Some(r) = s.heartbeat_ms {
                check_range("swarm.heartbeat_ms", r, 0.001, 1e7)?;
                if s.timeout_heartbeats.is_none() {
                    return invalid(
                        "swarm.heartbeat_ms",
                        "needs swarm.timeout_heartbeats, so every drawn interval gets a timeout \
                         above it"
                            .into(),
                    );
                }
            }
            if let Some(r) = s.timeout_heartbeats {
                check_range("swarm.timeout_heartbeats", r, 1.001, 1e4)?;
            }
            if let Some(r) = s.timeout_spread {
                check_range("swarm.timeout_spread", r, 1.0, 1e4)?;
            }
            check_probability("swarm.equal_timeouts", s.equal_timeouts)?;
            if let Some(r) = s.drift_bound {
                check_range("swarm.drift_bound", r, 0.0, 0.9)?;
            }
            if let Some([lo, hi]) = s.log_lag {
                if lo > hi {
                    return invalid("swarm.log_lag", format!("range [{lo}, {hi}] is empty"));
                }
            }
            if let Some(r) = s.disk_ms {
                check_range("swarm.disk_ms", r, 0.0, 1e7)?;
            }
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
            Action::Crash { node, window_ms, restart_after_ms, .. } => {
                target_ok(node, "node")?;
                if let Some(w) = window_ms {
                    check_ms(&field("window_ms"), *w)?;
                }
                if let Some(r) = restart_after_ms {
                    check_ms(&field("restart_after_ms"), *r)?;
                }
                Ok(())
            }
            Action::Restart { node } | Action::Isolate { node } | Action::Bridge { node } => {
                target_ok(node, "node")
            }
            Action::Transfer { to } => target_ok(to, "to"),
            Action::Add { node, .. } | Action::Remove { node } => target_ok(node, "node"),
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
            Action::OneWayPartition { from, to }
            | Action::Repair { from, to }
            | Action::OneWayRepair { from, to } => {
                from.iter().try_for_each(|t| target_ok(t, "from"))?;
                to.iter().try_for_each(|t| target_ok(t, "to"))
            }
            Action::Hold { from, to } | Action::Release { from, to } => {
                target_ok(from, "from")?;
                target_ok(to, "to")
            }
            Action::SetLoss { loss } => check_probability(&field("loss"), *loss),
            Action::SetLatency { latency } => latency.validate(&field("latency")),
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
            Action::Delay { from, to, extra_ms } => {
                from.iter().try_for_each(|t| target_ok(t, "from"))?;
                to.iter().try_for_each(|t| target_ok(t, "to"))?;
                check_ms(&field("extra_ms"), *extra_ms)
            }
            Action::Split { .. }
            | Action::RepairAll
            | Action::ReleaseAll
            | Action::Redeliver { .. } => Ok(()),
            Action::Read { node } => target_ok(node, "node"),
        }
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
    fn fault_names_follow_the_shared_vocabulary_and_the_old_names_still_read() {
        let step = |action: &str| {
            Scenario::parse(&format!("{MINIMAL}[[timeline]]\nat_ms = 10\n{action}\n"))
                .map(|s| s.timeline[0].action.clone())
        };
        let one_way =
            Action::OneWayPartition { from: vec![Target::Id(1)], to: vec![Target::Id(2)] };
        assert_eq!(
            step("action = \"one-way-partition\"\nfrom = [1]\nto = [2]"),
            Ok(one_way.clone())
        );
        assert_eq!(step("action = \"one-way\"\nfrom = [1]\nto = [2]"), Ok(one_way));
        assert_eq!(step("action = \"heal\""), Ok(Action::RepairAll));
        assert_eq!(step("action = \"repair-all\""), Ok(Action::RepairAll));
        assert_eq!(step("action = \"release-all\""), Ok(Action::ReleaseAll));
        assert_eq!(
            step("action = \"release\"\nfrom = 1\nto = 2"),
            Ok(Action::Release { from: Target::Id(1), to: Target::Id(2) })
        );
        // A release names its link, as a hold does.
        let err = step("action = \"release\"").unwrap_err().to_string();
        assert!(err.contains("from"), "{err}");
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
            "{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"crash\"\nnode = \"leader\"\nat = \"within-heartbeat\"\n\
             [[timeline]]\nat_ms = 20\naction = \"pause\"\nnode = 2\nfor_ms = 5\n"
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(
            s.timeline[0].action,
            Action::Crash {
                node: Target::Role(RoleTarget::Leader),
                at: CrashPoint::WithinHeartbeat,
                window_ms: None,
                restart_after_ms: None,
            }
        );
        assert_eq!(s.timeline[1].action, Action::Pause { node: Target::Id(2), for_ms: 5.0 });
    }
}
