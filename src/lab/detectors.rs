//! Every follower-side detector of a leader's failure (Raft's fixed range, the adaptive
//! timeout, phi accrual), each at several thresholds, in eight environments, measured the way
//! Chen, Toueg & Aguilera (2002) measure a failure detector and by what it costs Raft:
//! failover after a leader crash, and false elections under a healthy leader.
//!
//! Each row runs two scenarios of its environment: leader crashes (failover percentiles and the
//! detection time `T_D`), and fault-free hours (false elections, `T_MR`, `T_M`, `P_A`). The
//! timing is the environment's usual one; the adaptive detectors get the same range and a timeout
//! floor of [`Options::floor_heartbeats`] heartbeat intervals, which shrinks the voters' window
//! and the lease with it (docs/architecture.md, *The promise*).

use serde::Serialize;

use super::{each, lan, LabError, Progress};
use crate::advise::{self, Profile};
use crate::closed_form::Timing;
use crate::core::LeaderDetectorKind;
use crate::sim::{
    run_checked, Action, Latency, Report, RoleTarget, RunOptions, Scenario, Step, Target,
};

/// The fixed detector's minimum timeouts, as multiples of the environment's usual one, in whole
/// timer steps (its range is always `[min, 2 min]`, as Raft's 150-300 ms is).
pub const FIXED_SCALES: [f64; 5] = [0.5, 0.75, 1.0, 1.5, 2.0];
/// The adaptive detector's deviations above the mean gap.
pub const ADAPTIVE_DEVIATIONS: [f64; 4] = [1.0, 2.0, 4.0, 8.0];
/// The phi detector's thresholds: 1, 2 and 3 are the paper's 10%, 1% and 0.1% chances of a
/// wrong suspicion; 8 is Akka's and Cassandra's default.
pub const PHI_THRESHOLDS: [f64; 4] = [1.0, 2.0, 3.0, 8.0];
/// Heartbeats the detectors hear before the leader crashes: the adaptive window's 64 gaps.
const WARMUP_HEARTBEATS: f64 = 64.0;
/// The leader's stop-the-world pauses in `gc-pauses`, ms, one a second, in turn: young-
/// generation collections of a loaded JVM or Go heap, all shorter than the usual minimum
/// timeout less a heartbeat interval, so a fixed-range follower never takes one for a crash.
const GC_PAUSES_MS: [f64; 5] = [20.0, 40.0, 60.0, 80.0, 100.0];
/// A follower's stop-the-world pauses in `follower-pauses`, ms, one a second (a follower of
/// the leader at random), in turn: old-generation collections of a loaded JVM heap, from below
/// Raft's usual minimum timeout to past its maximum (Cassandra logs a pause from 200 ms,
/// `gc_log_threshold_in_ms`; CASSANDRA-9183's pauses marked every peer down).
const FOLLOWER_PAUSES_MS: [f64; 5] = [100.0, 200.0, 300.0, 400.0, 500.0];
/// Time between two pauses, ms.
const GC_PERIOD_MS: f64 = 1000.0;

/// An environment the cluster runs in: a network, a disk, a timing, and the faults of a
/// healthy cluster. (Named `Condition`, not to be taken for the closed forms' `Environment`.)
#[derive(Clone, Debug)]
pub struct Condition {
    /// Its name, for [`Options::only`] and the rows.
    pub name: &'static str,
    /// What it is, in a line.
    pub what: &'static str,
    /// The network and disk.
    pub profile: Profile,
    /// The usual heartbeat and timeouts there.
    pub timing: Timing,
    /// Who stops the world now and then, and for how long in turn, ms.
    pub pauses: Option<(RoleTarget, &'static [f64])>,
}

/// Raft's §5.2 example: 50 ms heartbeats, 150-300 ms timeouts.
const LAN_TIMING: Timing =
    Timing { heartbeat_ms: 50.0, min_ms: 150.0, max_ms: 300.0, step_ms: 1.0 };

/// Every environment, in the order the rows come.
pub fn conditions() -> Vec<Condition> {
    let on_lan =
        |name, what, profile| Condition { name, what, profile, timing: LAN_TIMING, pauses: None };
    vec![
        on_lan("lan", "LAN, 0.3 ms one way (p99 1 ms)", lan()),
        Condition {
            name: "wan",
            what: "WAN, 30-40 ms one way; 100 ms heartbeats, 500-1000 ms timeouts (simulations/wan.toml)",
            profile: Profile {
                latency: Some(Latency::Uniform { min_ms: 30.0, max_ms: 40.0 }),
                ..lan()
            },
            timing: Timing { heartbeat_ms: 100.0, min_ms: 500.0, max_ms: 1000.0, step_ms: 1.0 },
            pauses: None,
        },
        on_lan(
            "jittery",
            "LAN with a long tail: p50 0.3 ms, p99 30 ms (a shared, virtualized network)",
            Profile { latency_p99_ms: 30.0, ..lan() },
        ),
        on_lan("lossy-5", "LAN, 5% of messages lost", Profile { loss: 0.05, ..lan() }),
        on_lan("lossy-20", "LAN, 20% of messages lost", Profile { loss: 0.2, ..lan() }),
        Condition {
            name: "gc-pauses",
            what: "LAN, the leader stops the world every second for 20-100 ms in turn",
            profile: lan(),
            timing: LAN_TIMING,
            pauses: Some((RoleTarget::Leader, &GC_PAUSES_MS)),
        },
        Condition {
            name: "follower-pauses",
            what: "LAN, every second a follower stops the world for 100-500 ms in turn",
            profile: lan(),
            timing: LAN_TIMING,
            pauses: Some((RoleTarget::Follower, &FOLLOWER_PAUSES_MS)),
        },
        on_lan(
            "slow-disk",
            "LAN, fsync p50 10 ms, p99 40 ms (four times etcd's 10 ms p99 guidance)",
            Profile { fsync_p50_ms: Some(10.0), fsync_p99_ms: Some(40.0), ..lan() },
        ),
    ]
}

/// A detector at one threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Detector {
    /// Raft's fixed range, its minimum this multiple of the environment's usual one.
    Fixed {
        /// The multiple.
        scale: f64,
    },
    /// The adaptive timeout (mean gap plus this many deviations), above the floor.
    Adaptive {
        /// Deviations above the mean gap.
        deviations: f64,
    },
    /// Phi accrual at this threshold, above the floor.
    Phi {
        /// The threshold.
        threshold: f64,
    },
}

impl Detector {
    /// Its name in the rows: `fixed`, `adaptive` or `phi`.
    pub fn name(self) -> &'static str {
        match self {
            Detector::Fixed { .. } => "fixed",
            Detector::Adaptive { .. } => "adaptive",
            Detector::Phi { .. } => "phi",
        }
    }
}

impl std::fmt::Display for Detector {
    /// `fixed 0.5`, `adaptive 4`, `phi 8`: the name and the multiple, deviations or threshold.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match *self {
            Detector::Fixed { scale } => scale,
            Detector::Adaptive { deviations } => deviations,
            Detector::Phi { threshold } => threshold,
        };
        write!(f, "{} {value}", self.name())
    }
}

/// Every detector at every threshold, in the order the rows come.
pub fn detectors() -> Vec<Detector> {
    let fixed = FIXED_SCALES.map(|scale| Detector::Fixed { scale });
    let adaptive = ADAPTIVE_DEVIATIONS.map(|deviations| Detector::Adaptive { deviations });
    let phi = PHI_THRESHOLDS.map(|threshold| Detector::Phi { threshold });
    fixed.into_iter().chain(adaptive).chain(phi).collect()
}

/// Failover percentiles, ms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailoverPercentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One detector at one threshold in one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Row {
    /// `fixed`, `adaptive` or `phi`.
    pub detector: &'static str,
    /// The fixed range's minimum timeout (ms), the adaptive deviations, or phi's threshold.
    pub threshold: f64,
    /// The environment's name.
    pub scenario: &'static str,
    /// Heartbeat interval, ms.
    pub heartbeat_ms: f64,
    /// The range the detector's timeouts are as wide as (the fixed one's is its own).
    pub election_timeout_ms: [f64; 2],
    /// The shortest timeout it may draw.
    pub floor_ms: f64,
    /// Local health's threshold, ms, when on.
    pub local_pause_threshold_ms: Option<f64>,
    /// Election timeouts deferred for a node's own stall, per quiet hour.
    pub timeouts_deferred_per_hour: f64,
    /// Leader crash → every survivor follows a new leader.
    pub failover_ms: FailoverPercentiles,
    /// Failovers measured.
    pub failovers: u64,
    /// Leaders elected under a healthy leader, after each hour's first.
    pub false_elections_per_hour: f64,
    /// Election timers fired under a healthy leader.
    pub false_suspicions_per_hour: f64,
    /// Elections that put another node in charge of a healthy cluster.
    pub spurious_leader_changes_per_hour: f64,
    /// Detection time: leader crash → first election timeout, mean.
    pub t_d_ms: f64,
    /// Mistake recurrence time, up seconds per false suspicion; null when none was seen.
    pub t_mr_seconds: Option<f64>,
    /// Mistake duration, ms; null when none was seen.
    pub t_m_ms: Option<f64>,
    /// Query accuracy probability.
    pub p_a: f64,
    /// Quiet hours simulated.
    pub hours: f64,
}

/// How to run the experiment.
#[derive(Clone, Debug)]
pub struct Options {
    /// Leader crashes per row.
    pub trials: u64,
    /// Fault-free simulated hours per row (in trials of at most one hour).
    pub hours: f64,
    /// The adaptive and phi detectors' timeout floor, in heartbeat intervals (above 1, at
    /// most the usual minimum timeout's).
    pub floor_heartbeats: f64,
    /// Run only these environments (by name; empty: all).
    pub only: Vec<String>,
    /// Local health in every detector, with this threshold in heartbeat intervals
    /// (`Config::local_pause_threshold`); `None`: off.
    pub local_health_heartbeats: Option<f64>,
    /// The run's seed.
    pub seed: u64,
    /// Worker threads; the figures are the same for any number.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            trials: 1000,
            hours: 10.0,
            floor_heartbeats: 1.5,
            only: Vec::new(),
            local_health_heartbeats: None,
            seed: 1,
            jobs: 1,
        }
    }
}

impl Options {
    /// The environments these options run, once every option is checked; or the first option
    /// out of range.
    pub fn conditions(&self) -> Result<Vec<Condition>, LabError> {
        let all = conditions();
        let bad = |option, problem| Err(LabError::Invalid { option, problem });
        for name in &self.only {
            if !all.iter().any(|c| c.name == name) {
                let known: Vec<&str> = all.iter().map(|c| c.name).collect();
                return bad(
                    "only",
                    format!("no environment {name:?} (known: {})", known.join(", ")),
                );
            }
        }
        if self.trials == 0 {
            return bad("trials", "must be at least 1".into());
        }
        if !(self.hours.is_finite() && self.hours > 0.0) {
            return bad("hours", format!("must be a positive number of hours, got {}", self.hours));
        }
        if let Some(k) = self.local_health_heartbeats.filter(|k| !(k.is_finite() && *k > 0.0)) {
            return bad("local_health_heartbeats", format!("must be a positive number, got {k}"));
        }
        let f = self.floor_heartbeats;
        let lowest =
            all.iter().map(|c| c.timing.min_ms / c.timing.heartbeat_ms).fold(f64::MAX, f64::min);
        if !(f.is_finite() && f > 1.0 && f <= lowest) {
            return bad(
                "floor_heartbeats",
                format!(
                    "must be above 1 and at most {lowest} (a floor lies above the heartbeat \
                     interval and at most at the minimum timeout), got {f}"
                ),
            );
        }
        let picked = |c: &Condition| self.only.is_empty() || self.only.iter().any(|o| o == c.name);
        Ok(all.into_iter().filter(picked).collect())
    }
}

/// Runs the experiment: a row per environment and detector (stage `"rows"`), environments in
/// the order of [`conditions`], detectors in the order of [`detectors`].
pub fn run(opts: &Options, progress: Progress) -> Result<Vec<Row>, LabError> {
    let conditions = opts.conditions()?;
    let work: Vec<(&Condition, Detector)> =
        conditions.iter().flat_map(|c| detectors().into_iter().map(move |d| (c, d))).collect();
    each(&work, "rows", progress, |(c, d)| measure(c, *d, opts))
}

/// The timing, detector and floor a row runs.
fn configure(s: &mut Scenario, condition: &Condition, d: Detector, floor_heartbeats: f64) {
    let c = &mut s.cluster;
    let floor = floor_heartbeats * condition.timing.heartbeat_ms;
    match d {
        Detector::Fixed { scale } => {
            // In whole timer steps, as the simulator draws them.
            let step = condition.timing.step_ms;
            let min = (condition.timing.min_ms * scale / step).round() * step;
            c.election_timeout_ms = [min, 2.0 * min];
        }
        Detector::Adaptive { deviations } => {
            c.leader_detector = LeaderDetectorKind::Adaptive { deviations };
            c.election_timeout_floor_ms = Some(floor);
        }
        Detector::Phi { threshold } => {
            c.leader_detector = LeaderDetectorKind::Phi { threshold };
            c.election_timeout_floor_ms = Some(floor);
        }
    }
}

/// The pauses of `who`, each of `lengths` in turn, from `from` until `until`, ms.
fn pauses(who: RoleTarget, lengths: &[f64], from: f64, until: f64) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut at = from;
    while at < until {
        let for_ms = lengths[steps.len() % lengths.len()];
        steps.push(Step { at_ms: at, action: Action::Pause { node: Target::Role(who), for_ms } });
        at += GC_PERIOD_MS;
    }
    steps
}

/// The two scenarios of a row: crashes after the detectors warmed up, and quiet hours.
pub fn scenarios(condition: &Condition, d: Detector, opts: &Options) -> (Scenario, Scenario) {
    let mut crash = advise::failover_scenario(&condition.profile, &condition.timing, opts.trials);
    let warmup = WARMUP_HEARTBEATS * condition.timing.heartbeat_ms;
    let settled = crash.timeline[0].at_ms;
    crash.timeline[0].at_ms += warmup;
    crash.duration_ms += warmup;
    let mut quiet =
        advise::steady_hours_scenario(&condition.profile, &condition.timing, opts.hours);
    if let Some((who, lengths)) = condition.pauses {
        let mut steps = pauses(who, lengths, settled, settled + warmup);
        steps.append(&mut crash.timeline);
        crash.timeline = steps;
        quiet.timeline = pauses(who, lengths, settled, quiet.duration_ms);
    }
    for s in [&mut crash, &mut quiet] {
        s.name = format!("detectors-{}", condition.name);
        configure(s, condition, d, opts.floor_heartbeats);
        s.cluster.local_pause_threshold_ms =
            opts.local_health_heartbeats.map(|k| k * condition.timing.heartbeat_ms);
    }
    (crash, quiet)
}

/// Runs one row's two scenarios.
pub fn measure(condition: &Condition, d: Detector, opts: &Options) -> Result<Row, LabError> {
    let (crash, quiet) = scenarios(condition, d, opts);
    let run = |s: &Scenario| -> Result<Report, LabError> {
        let run_opts = RunOptions { seed: opts.seed, jobs: opts.jobs, ..RunOptions::default() };
        run_checked(s, &run_opts, &|_| {}).map_err(|error| LabError::Sim {
            what: format!("{} {d} (seed {})", condition.name, opts.seed),
            error,
        })
    };
    let failover = run(&crash)?;
    let healthy = run(&quiet)?;
    let hours = healthy.sim_seconds / 3600.0;
    let c = &crash.cluster;
    Ok(Row {
        detector: d.name(),
        threshold: match d {
            Detector::Fixed { .. } => c.election_timeout_ms[0],
            Detector::Adaptive { deviations } => deviations,
            Detector::Phi { threshold } => threshold,
        },
        scenario: condition.name,
        heartbeat_ms: c.heartbeat_ms,
        election_timeout_ms: c.election_timeout_ms,
        floor_ms: c.election_timeout_floor_ms.unwrap_or(c.election_timeout_ms[0]),
        local_pause_threshold_ms: c.local_pause_threshold_ms,
        timeouts_deferred_per_hour: healthy.timeouts_deferred.per_hour,
        failover_ms: FailoverPercentiles {
            p50: failover.time_without_leader_ms.p50,
            p99: failover.time_without_leader_ms.p99,
        },
        failovers: failover.time_without_leader_ms.count as u64,
        false_elections_per_hour: healthy.leaders_elected.total.saturating_sub(healthy.trials)
            as f64
            / hours,
        false_suspicions_per_hour: healthy.false_suspicions.per_hour,
        spurious_leader_changes_per_hour: healthy.spurious_leader_changes.per_hour,
        t_d_ms: failover.detection_ms.mean,
        t_mr_seconds: healthy.qos.t_mr_seconds,
        t_m_ms: healthy.qos.t_m_ms,
        p_a: healthy.qos.p_a,
        hours,
    })
}
