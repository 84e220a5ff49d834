//! The Raft thesis's split votes (§9.2): how often an election needs more than one round, as a
//! function of the one-way network latency over the width of the timeout range, simulated and
//! beside the order statistics of uniform timeouts.
//!
//! The setup: five servers, the leader crashed, the four survivors all eligible and all reset by
//! the same heartbeat round, timeouts drawn uniformly over a range 100 ms wide, a constant
//! one-way latency, no disk delay, no timer lateness, and none of pre-vote, stickiness, check
//! quorum or lease (the thesis's model has none of them). The closed form beside it is
//! [`crate::closed_form::split_votes`]'s.

use serde::Serialize;

use super::{each, LabError, Progress};
use crate::closed_form::split_votes::first_round_fails;
use crate::sim::{
    run_checked, Action, ClusterSpec, CrashPoint, Latency, NetworkSpec, RoleTarget, RunOptions,
    Scenario, Step, Target, TraceHash,
};

/// The width of the timeout range, ms.
pub const RANGE_MS: f64 = 100.0;
/// The shortest timeout, ms; the range is `[MIN_MS, MIN_MS + RANGE_MS]`.
pub const MIN_MS: f64 = 150.0;
/// The one-way latencies of the thesis's discussion, ms.
pub const LATENCIES_MS: [f64; 6] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0];
/// Servers in the cluster.
const NODES: u64 = 5;

/// The scenario for one latency.
pub fn scenario(latency_ms: f64, trials: u64) -> Scenario {
    let cluster = ClusterSpec {
        heartbeat_ms: MIN_MS / 2.0,
        election_timeout_ms: [MIN_MS, MIN_MS + RANGE_MS],
        pre_vote: false,
        check_quorum: false,
        leader_stickiness: false,
        leader_lease: false,
        max_clock_drift: 0.0,
        ..ClusterSpec::new(NODES)
    };
    Scenario {
        description: "Raft thesis §9.2: elections needing more than one round".into(),
        trials,
        stop_after_recovery: true,
        network: NetworkSpec {
            latency: Latency::Constant { ms: latency_ms },
            disk: Latency::Constant { ms: 0.0 },
            ..NetworkSpec::default()
        },
        timeline: vec![Step {
            at_ms: 4.0 * (MIN_MS + RANGE_MS),
            action: Action::Crash {
                node: Target::Role(RoleTarget::Leader),
                at: CrashPoint::WithinHeartbeat,
                window_ms: None,
                restart_after_ms: None,
            },
        }],
        ..Scenario::new(format!("split-votes {latency_ms} ms"), cluster, 600_000.0)
    }
}

/// One latency's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Row {
    /// One-way latency, ms.
    pub latency_ms: f64,
    /// Trials run.
    pub trials: u64,
    /// Fraction of trials whose election needed more than one round.
    pub simulated: f64,
    /// The closed form's fraction.
    pub closed_form: f64,
    /// Trials that found no leader before the simulated time ran out (counted as needing more
    /// than one round).
    #[serde(skip)]
    pub unrecovered: u64,
    /// The run's trace hash.
    #[serde(skip)]
    pub trace_hash: TraceHash,
}

/// How to run the experiment.
#[derive(Clone, Debug)]
pub struct Options {
    /// Trials per latency.
    pub trials: u64,
    /// The run's seed.
    pub seed: u64,
    /// Worker threads; the figures are the same for any number.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { trials: 100_000, seed: 1, jobs: 1 }
    }
}

/// Runs the experiment: a row per latency of [`LATENCIES_MS`] (stage `"latencies"`).
pub fn run(opts: &Options, progress: Progress) -> Result<Vec<Row>, LabError> {
    if opts.trials == 0 {
        return Err(LabError::Invalid { option: "trials", problem: "must be at least 1".into() });
    }
    each(&LATENCIES_MS, "latencies", progress, |latency| run_latency(*latency, opts))
}

/// Runs the options' trials at `latency_ms`.
pub fn run_latency(latency_ms: f64, opts: &Options) -> Result<Row, LabError> {
    let s = scenario(latency_ms, opts.trials);
    let run_opts = RunOptions {
        seed: opts.seed,
        jobs: opts.jobs,
        keep_trial_results: true,
        ..RunOptions::default()
    };
    let report = run_checked(&s, &run_opts, &|_| {}).map_err(|error| LabError::Sim {
        what: format!("split votes at {latency_ms} ms"),
        error,
    })?;
    let results = &report.trial_results;
    let unrecovered = results.iter().filter(|r| r.time_without_leader_ms.is_none()).count() as u64;
    let failed = results.iter().filter(|r| r.election_rounds > 1).count() as u64 + unrecovered;
    let quorum = (NODES / 2 + 1) as u32;
    Ok(Row {
        latency_ms,
        trials: report.trials,
        simulated: failed as f64 / report.trials as f64,
        closed_form: first_round_fails((NODES - 1) as u32, quorum, latency_ms / RANGE_MS),
        unrecovered,
        trace_hash: report.trace_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_split_votes_agree_with_the_closed_form_raft_thesis_9_2() {
        for latency in [10.0, 20.0] {
            let row = run_latency(latency, &Options { trials: 4000, seed: 1, jobs: 2 }).unwrap();
            let p = row.closed_form;
            let sigma = (p * (1.0 - p) / row.trials as f64).sqrt();
            assert!(
                (row.simulated - p).abs() < 4.0 * sigma,
                "{latency} ms: simulated {} against {p} (sigma {sigma})",
                row.simulated
            );
        }
    }
}
