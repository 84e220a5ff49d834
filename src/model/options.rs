//! What the model checker explores: the cluster, its protocol options, and the bounds that make
//! the state space finite.

use std::time::Duration;

use serde::Serialize;

use super::error::ModelError;
use crate::core::{Config, LogPosition, NodeId, Term, TimerRule};

/// The model's clock step: the heartbeat interval. Every duration of the model is a whole
/// number of steps (see the [module docs](super) for why one step is fine enough).
pub const STEP: Duration = Duration::from_millis(10);

/// The cluster and bounds of one model-checking run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Options {
    /// Voters, ids `1..=voters`.
    pub voters: u64,
    /// Learners, ids after the voters.
    pub learners: u64,
    /// The election timeout, in heartbeat intervals (steps). One value, not a range: a timer
    /// may fire any time after its deadline, which covers every longer draw.
    pub timeout_steps: u64,
    /// How many voters, the last ones, have a log one entry behind the others (whose last
    /// entry is then committed); the election restriction keeps them from leading.
    pub behind: u64,
    /// Pre-vote (thesis §9.6).
    pub pre_vote: bool,
    /// Check quorum (thesis §6.2).
    pub check_quorum: bool,
    /// Leader stickiness (thesis §4.2.3).
    pub stickiness: bool,
    /// The leader lease (thesis §6.4.1); needs stickiness.
    pub lease: bool,
    /// Candidates refused by a majority step down at once (etcd-raft), or not (Figure 2).
    pub timer_rule: TimerRule,
    /// No node's term goes past this: states beyond it are not explored.
    pub max_term: u64,
    /// The clock stops here, in steps.
    pub horizon_steps: u64,
    /// Most messages in flight at once; a message sent beyond it is lost.
    pub max_in_flight: usize,
    /// Most crashes in one execution (each followed, or not, by a restart).
    pub max_crashes: u32,
    /// Whether a timer may fire after its deadline (a slow or paused node; it also covers every
    /// timeout longer than the minimum). Otherwise a due timer fires before the clock moves.
    pub late_timers: bool,
    /// Whether the network may deliver a message more than once.
    pub duplicates: bool,
    /// Whether a hard-state write is a step of its own, so that a node can crash before it
    /// lands (otherwise every write is durable at once).
    pub async_writes: bool,
    /// Depth first instead of breadth first: memory grows with the depth, not the frontier,
    /// but a counterexample is no longer a shortest one.
    pub depth_first: bool,
    /// Stop at the first broken safety property (the run is then incomplete).
    pub stop_on_failure: bool,
    /// Stop after this many states (the run is then incomplete).
    pub max_states: usize,
    /// Worker threads.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            voters: 3,
            learners: 0,
            timeout_steps: 3,
            behind: 1,
            pre_vote: true,
            check_quorum: true,
            stickiness: true,
            lease: true,
            timer_rule: TimerRule::Figure2,
            max_term: 3,
            horizon_steps: 8,
            max_in_flight: 4,
            max_crashes: 1,
            late_timers: false,
            duplicates: true,
            async_writes: true,
            depth_first: false,
            stop_on_failure: false,
            max_states: 50_000_000,
            threads: 1,
        }
    }
}

impl Options {
    /// Checks the options and names the first one out of range.
    pub fn validate(&self) -> Result<(), ModelError> {
        let fail = |option, rule: &str| Err(ModelError::Option { option, rule: rule.to_string() });
        if !(1..=5).contains(&self.voters) {
            return fail("nodes", "between 1 and 5 voters");
        }
        if self.learners > 2 {
            return fail("learners", "at most 2");
        }
        if self.timeout_steps < 2 {
            return fail(
                "timeout-steps",
                "at least 2 heartbeat intervals (Raft: timeout > interval)",
            );
        }
        if self.behind >= self.voters {
            return fail(
                "behind",
                "fewer than the voters (one voter at least holds the last entry)",
            );
        }
        if self.lease && !self.stickiness {
            return fail("lease", "needs leader stickiness (thesis §6.4.1)");
        }
        if !(1..=20).contains(&self.max_term) {
            return fail("max-term", "between 1 and 20");
        }
        if !(1..=200).contains(&self.horizon_steps) {
            return fail("horizon", "between 1 and 200 steps");
        }
        if !(1..=32).contains(&self.max_in_flight) {
            return fail("max-in-flight", "between 1 and 32");
        }
        if self.threads == 0 {
            return fail("threads", "at least 1");
        }
        Ok(())
    }

    /// Every node's id: voters first, then learners.
    pub(crate) fn ids(&self) -> impl Iterator<Item = NodeId> {
        (1..=self.voters + self.learners).map(NodeId)
    }

    /// The core configuration of node `id`.
    pub(crate) fn config(&self, id: NodeId) -> Config {
        let mut c = Config::new(id, (1..=self.voters).map(NodeId));
        c.learners = (self.voters + 1..=self.voters + self.learners).map(NodeId).collect();
        c.heartbeat_interval = STEP;
        c.election_timeout_min = STEP * self.timeout_steps as u32;
        c.election_timeout_max = c.election_timeout_min;
        c.timer_granularity = STEP;
        // One clock for every node: drift is the simulator's business, not the model's.
        c.max_clock_drift = 0.0;
        c.pre_vote = self.pre_vote;
        c.check_quorum = self.check_quorum;
        c.leader_stickiness = self.stickiness;
        c.leader_lease = self.lease;
        c.timer_rule = self.timer_rule;
        c
    }

    /// The last entry of node `id`'s log: every node starts in term 1 with one or two entries.
    pub(crate) fn last_log(&self, id: NodeId) -> LogPosition {
        let behind = id.0 > self.voters - self.behind && id.0 <= self.voters;
        LogPosition::new(Term(1), if behind || self.behind == 0 { 1 } else { 2 })
    }

    /// The position every leader's log must hold: the last entry a majority of voters holds.
    pub(crate) fn committed(&self) -> LogPosition {
        let mut logs: Vec<LogPosition> =
            (1..=self.voters).map(|v| self.last_log(NodeId(v))).collect();
        logs.sort_unstable_by(|a, b| b.cmp(a));
        logs[(self.voters / 2) as usize]
    }
}
