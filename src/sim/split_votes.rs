//! The Raft thesis's split votes (§9.2): how often an election needs more than one round, as a
//! function of the one-way network latency over the width of the timeout range, simulated and
//! from the order statistics of uniform timeouts.
//!
//! The setup: five servers, the leader crashed, the four survivors all eligible and all reset by
//! the same heartbeat round, timeouts drawn uniformly over a range 100 ms wide, a constant
//! one-way latency, no disk delay, no timer lateness, and none of pre-vote, stickiness, check
//! quorum or lease (the thesis's model has none of them).
//!
//! The closed form. Normalize the range to `[0, 1]` and the latency to `d`. The first server to
//! time out sends RequestVote; every server whose timer has not fired when it arrives (`d`
//! later) grants it and stays a follower. With a constant latency the first candidate's
//! requests arrive everywhere before any later candidate's, so it wins unless so many others
//! time out within `d` that it cannot reach a majority: with `c` survivors and a quorum `q` it
//! loses when at least `c - q + 1` others time out within `d` of it. That is the event
//! `U(k+1) - U(1) < d` for the order statistics of `c` uniform draws, `k = c - q + 1`, and
//! `U(k+1) - U(1)` has the Beta(k, c - k + 1) distribution. For five servers and four
//! survivors, `k = 2`: three of the four must time out within one latency of each other.

use serde::Serialize;

use super::error::SimError;
use super::latency::Latency;
use super::runner::{run, RunOptions};
use super::scenario::{
    Action, ClusterSpec, CrashPoint, NetworkSpec, RoleTarget, Scenario, Step, Target,
};
use super::trace_hash::TraceHash;

/// The width of the timeout range, ms.
pub const RANGE_MS: f64 = 100.0;
/// The shortest timeout, ms; the range is `[MIN_MS, MIN_MS + RANGE_MS]`.
pub const MIN_MS: f64 = 150.0;
/// The one-way latencies of the thesis's discussion, ms.
pub const LATENCIES_MS: [f64; 6] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0];
/// Servers in the cluster.
const NODES: u64 = 5;

/// The probability that the first round of an election fails, for `survivors` servers racing
/// for a quorum of `quorum` votes, the latency being the fraction `d` of the timeout range.
pub fn closed_form(survivors: u32, quorum: u32, d: f64) -> f64 {
    if survivors < quorum {
        return 1.0;
    }
    if quorum <= 1 {
        return 0.0;
    }
    let k = survivors - quorum + 1;
    beta_cdf(k, survivors - k + 1, d.clamp(0.0, 1.0))
}

/// The Beta(a, b) distribution function at `x`, for whole `a` and `b`: the probability that
/// at least `a` of `a + b - 1` uniform draws fall below `x`.
fn beta_cdf(a: u32, b: u32, x: f64) -> f64 {
    let n = a + b - 1;
    (a..=n).map(|j| binomial(n, j) * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32)).sum()
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

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
    /// Invariants broken.
    #[serde(skip)]
    pub violations: usize,
}

/// Runs `trials` trials at `latency_ms` with `seed` on `jobs` threads.
pub fn run_latency(latency_ms: f64, trials: u64, seed: u64, jobs: usize) -> Result<Row, SimError> {
    let s = scenario(latency_ms, trials);
    let opts = RunOptions { seed, jobs, keep_trial_results: true, ..RunOptions::default() };
    let report = run(&s, &opts, &|_| {})?;
    let results = &report.trial_results;
    let unrecovered = results.iter().filter(|r| r.time_without_leader_ms.is_none()).count() as u64;
    let failed = results.iter().filter(|r| r.election_rounds > 1).count() as u64 + unrecovered;
    let quorum = (NODES / 2 + 1) as u32;
    Ok(Row {
        latency_ms,
        trials: report.trials,
        simulated: failed as f64 / report.trials as f64,
        closed_form: closed_form((NODES - 1) as u32, quorum, latency_ms / RANGE_MS),
        unrecovered,
        trace_hash: report.trace_hash,
        violations: report.violations.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closed_form_is_three_of_four_within_one_latency_raft_thesis_9_2() {
        // Beta(2, 3) at d: 6d²(1-d)² + 4d³(1-d) + d⁴.
        let d: f64 = 0.01;
        let direct = 6.0 * d * d * (1.0 - d).powi(2) + 4.0 * d.powi(3) * (1.0 - d) + d.powi(4);
        assert!((closed_form(4, 3, d) - direct).abs() < 1e-15);
        assert!((closed_form(4, 3, 0.01) - 0.000_592).abs() < 1e-6);
        assert_eq!(closed_form(4, 3, 0.0), 0.0);
        assert!((closed_form(4, 3, 1.0) - 1.0).abs() < 1e-12);
        assert_eq!(closed_form(2, 3, 0.1), 1.0, "two survivors of five never make a quorum");
        // Three survivors of five: the first needs both others, so one early one is enough.
        let d: f64 = 0.2;
        assert!((closed_form(3, 3, d) - (1.0 - (1.0 - d).powi(3))).abs() < 1e-12);
    }

    #[test]
    fn simulated_split_votes_agree_with_the_closed_form_raft_thesis_9_2() {
        for latency in [10.0, 20.0] {
            let row = run_latency(latency, 4000, 1, 2).unwrap();
            assert_eq!(row.violations, 0);
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
