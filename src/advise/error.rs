//! Why `advise` gives no advice: a profile it cannot read, or goals no setting can meet.

use thiserror::Error;

use crate::sim::SimError;

/// What went wrong in [`advise`](super::advise).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AdviseError {
    /// A field of the profile is out of range or inconsistent.
    #[error("{field}: {problem}")]
    Invalid {
        /// The field, as the flag or TOML key names it.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A cluster this small cannot replace a crashed leader.
    #[error(
        "a cluster of {nodes} cannot fail over: after a crash, {survivors} survivor(s) are not a \
         majority of {nodes}; use at least 3 nodes"
    )]
    TooFewNodes {
        /// The cluster size asked for.
        nodes: u64,
        /// Nodes left after the leader crashes.
        survivors: u64,
    },
    /// The failover budget is shorter than the messages an election needs.
    #[error(
        "a failover budget of {budget_ms} ms is below {floor_ms:.2} ms, the {what}: no \
         timeout setting can meet it"
    )]
    BudgetBelowFloor {
        /// The budget asked for.
        budget_ms: f64,
        /// The least any election can take.
        floor_ms: f64,
        /// What that least is made of.
        what: String,
    },
    /// No candidate setting meets the goals, by the closed forms.
    #[error("{0}")]
    Unreachable(String),
    /// The closed forms found settings, but none held up in the simulator.
    #[error(
        "no setting met a failover p99 of {budget_ms} ms in the simulator: the best of \
         {tried} simulations gave p99 {best_p99_ms:.1} ms (heartbeat {heartbeat_ms} ms, \
         timeouts {min_ms}-{max_ms} ms){}",
        if *unscreened > 0 {
            format!("; {unscreened} candidates were not screened for lack of effort (--effort)")
        } else {
            String::new()
        }
    )]
    NotVerified {
        /// The budget asked for.
        budget_ms: f64,
        /// Simulations run.
        tried: usize,
        /// Candidates the effort did not reach.
        unscreened: usize,
        /// The lowest simulated p99 among them.
        best_p99_ms: f64,
        /// Its heartbeat interval.
        heartbeat_ms: u64,
        /// Its shortest timeout.
        min_ms: u64,
        /// Its longest timeout.
        max_ms: u64,
    },
    /// The simulator refused a scenario, or a run broke an invariant (`SimError::Violated`,
    /// naming the trial and seed that replay it): a bug in `advise` or the core if it happens.
    #[error("simulator: {0}")]
    Sim(#[from] SimError),
}
