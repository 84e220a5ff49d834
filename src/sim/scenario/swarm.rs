//! The ranges a swarm draws each trial from; the drawing itself is `sim::swarm`.

use serde::{Deserialize, Serialize};

/// Ranges from which each trial of a swarm draws its own cluster, configuration and faults
/// (after TigerBeetle's VOPR). Every range is `[low, high]`; an absent cluster range keeps the
/// scenario's own value. See `docs/simulation.md` for what each draw means.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Reads asked of a deposed leader (thesis §6.4): a follower's answers to the leader are
    /// held, the leader is isolated one to two heartbeat intervals later, a read is asked of it
    /// once the others may have elected a newer leader (if it still thinks it leads), and the
    /// held answers of its old rounds are released right after: none of them may confirm the
    /// read. Drawn after local health (last), and only when the range is not `[0, 0]`.
    #[serde(default)]
    pub deposed_reads: [u32; 2],
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
