//! A healthy leader, a five-node cluster on a LAN, and how often a follower still times out and
//! how often that costs an election, per hour: against loss, against the latency's tail
//! (jitter), and against the heartbeats per minimum timeout, simulated over many fault-free
//! hours beside the closed forms of [`crate::closed_form::false_elections`].

use serde::Serialize;

use super::{each, LabError, Progress};
use crate::advise::{self, Profile};
use crate::closed_form::{self, Timing};
use crate::sim::{run_checked, RunOptions};

/// Heartbeat interval of every row, ms.
pub const HEARTBEAT_MS: f64 = 50.0;
/// Losses tried at 150-300 ms timeouts and a LAN's latency.
pub const LOSSES: [f64; 5] = [0.0, 0.05, 0.1, 0.2, 0.3];
/// Latency p99s tried (p50 0.3 ms), ms, at 150-300 ms timeouts and no loss.
pub const TAILS_MS: [f64; 5] = [1.0, 10.0, 30.0, 60.0, 100.0];
/// Minimum timeouts in heartbeats tried (range `[m, 2m]`), at 20% loss.
pub const HEARTBEATS_PER_TIMEOUT: [f64; 5] = [1.5, 2.0, 3.0, 4.0, 6.0];
/// Loss of the heartbeats-per-timeout family: enough to see the curve fall over five decades.
pub const LOSS_OF_HEARTBEATS_FAMILY: f64 = 0.2;

/// What a family of rows varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Message loss, at 150-300 ms timeouts.
    Loss,
    /// The latency's p99 (p50 0.3 ms), at 150-300 ms timeouts and no loss.
    Jitter,
    /// The minimum timeout in heartbeat intervals, at 20% loss.
    Heartbeats,
}

impl Family {
    /// Its name in the rows: `loss`, `jitter` or `heartbeats`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Loss => "loss",
            Family::Jitter => "jitter",
            Family::Heartbeats => "heartbeats",
        }
    }
}

/// A rate per hour, simulated and by the closed form.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PerHour {
    /// Counted in the simulator.
    pub simulated: f64,
    /// Predicted by the closed form.
    pub closed_form: f64,
}

/// One setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Row {
    /// What the family varies.
    pub family: Family,
    /// The varied value: the loss, the latency's p99 (ms), or the minimum timeout in
    /// heartbeats.
    pub value: f64,
    /// Heartbeat interval, ms.
    pub heartbeat_ms: f64,
    /// The timeout range, ms.
    pub election_timeout_ms: [f64; 2],
    /// Message loss.
    pub loss: f64,
    /// One-way latency, median, ms.
    pub latency_p50_ms: f64,
    /// One-way latency, 99th percentile, ms.
    pub latency_p99_ms: f64,
    /// Simulated hours.
    pub hours: f64,
    /// Election timers fired on followers of a healthy leader.
    pub false_timeouts_per_hour: PerHour,
    /// Leaders elected after each trial's first (every one is false: nothing failed), and
    /// the closed form's elections: false timeouts whose pre-vote wins, and check-quorum
    /// step-downs.
    pub false_elections_per_hour: PerHour,
    /// Simulated: elections that put another node in charge (the deposed leader sometimes
    /// wins again).
    pub leader_changes_per_hour: f64,
}

/// How to run the experiment.
#[derive(Clone, Debug)]
pub struct Options {
    /// Fault-free simulated hours per setting (in trials of at most one hour).
    pub hours: f64,
    /// The run's seed.
    pub seed: u64,
    /// Worker threads; the figures are the same for any number.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { hours: 50.0, seed: 1, jobs: 1 }
    }
}

/// One setting to run.
#[derive(Clone, Debug)]
pub struct Setting {
    /// What its family varies.
    pub family: Family,
    /// The varied value.
    pub value: f64,
    /// The network.
    pub profile: Profile,
    /// The heartbeat and timeouts.
    pub timing: Timing,
}

/// The lab's LAN with `loss` and a latency p99 of `p99` ms.
fn lan(loss: f64, p99: f64) -> Profile {
    Profile { loss, latency_p99_ms: p99, ..super::lan() }
}

fn timing(min_ms: f64) -> Timing {
    Timing { heartbeat_ms: HEARTBEAT_MS, min_ms, max_ms: 2.0 * min_ms, step_ms: 1.0 }
}

/// The settings run, family by family.
pub fn settings() -> Vec<Setting> {
    let setting = |family, value, profile, timing| Setting { family, value, profile, timing };
    let loss = LOSSES.map(|l| setting(Family::Loss, l, lan(l, 1.0), timing(150.0)));
    let jitter = TAILS_MS.map(|p99| setting(Family::Jitter, p99, lan(0.0, p99), timing(150.0)));
    let heartbeats = HEARTBEATS_PER_TIMEOUT.map(|k| {
        let profile = lan(LOSS_OF_HEARTBEATS_FAMILY, 1.0);
        setting(Family::Heartbeats, k, profile, timing(k * HEARTBEAT_MS))
    });
    loss.into_iter().chain(jitter).chain(heartbeats).collect()
}

/// Runs the experiment: a row per setting (stage `"settings"`).
pub fn run(opts: &Options, progress: Progress) -> Result<Vec<Row>, LabError> {
    if !(opts.hours.is_finite() && opts.hours > 0.0) {
        let problem = format!("must be a positive number of hours, got {}", opts.hours);
        return Err(LabError::Invalid { option: "hours", problem });
    }
    each(&settings(), "settings", progress, |s| measure(s, opts))
}

/// Runs one setting's hours.
pub fn measure(s: &Setting, opts: &Options) -> Result<Row, LabError> {
    let what = || format!("false elections, {} = {}", s.family.name(), s.value);
    s.profile.validate().map_err(|error| LabError::Advise { what: what(), error })?;
    let scenario = advise::steady_hours_scenario(&s.profile, &s.timing, opts.hours);
    let run_opts = RunOptions {
        seed: opts.seed,
        jobs: opts.jobs,
        keep_trial_results: true,
        ..RunOptions::default()
    };
    let report = run_checked(&scenario, &run_opts, &|_| {})
        .map_err(|error| LabError::Sim { what: what(), error })?;
    let hours = report.sim_seconds / 3600.0;
    let false_elections: u64 =
        report.trial_results.iter().map(|r| r.leaders_elected.saturating_sub(1)).sum();
    let env = s.profile.environment();
    Ok(Row {
        family: s.family,
        value: s.value,
        heartbeat_ms: s.timing.heartbeat_ms,
        election_timeout_ms: [s.timing.min_ms, s.timing.max_ms],
        loss: s.profile.loss,
        latency_p50_ms: s.profile.latency_p50_ms,
        latency_p99_ms: s.profile.latency_p99_ms,
        hours,
        false_timeouts_per_hour: PerHour {
            simulated: report.false_suspicions.per_hour,
            closed_form: closed_form::false_timeouts_per_day(&s.timing, &env) / 24.0,
        },
        false_elections_per_hour: PerHour {
            simulated: false_elections as f64 / hours,
            closed_form: closed_form::false_elections_per_day(&s.timing, &env) / 24.0,
        },
        leader_changes_per_hour: report.spurious_leader_changes.per_hour,
    })
}
