//! Figure 16 of the Raft paper (§9.3, Ongaro & Ousterhout 2014): the time to detect and
//! replace a crashed leader, for several election-timeout ranges.
//!
//! The setup follows the paper: five servers; servers with different log lengths, so that two
//! of the four survivors cannot become leader; a heartbeat interval of half the minimum
//! timeout; the leader crashed at a uniformly random point of the heartbeat interval that
//! follows its (synchronized) heartbeat round; downtime measured until every survivor has
//! received the new leader's first heartbeat. The servers ran LogCabin in 2014, which had no
//! pre-vote, stickiness, check quorum or lease, so those are off here.
//!
//! The network and disks: one-way latency ~N(0.5 ms, 0.1 ms), disk writes of term and vote
//! ~N(3 ms, 1 ms), so an election round (the candidate's write, a RequestVote round trip, the
//! voter's write) takes about 7 ms. Timers fire up to 1 ms late, uniformly (operating-system
//! scheduling): without some such jitter nothing ever breaks the symmetry of the 150–150 ms
//! curve, and its elections never end. `docs/figure16.md` explains these choices and compares
//! the paper's 15 ms broadcast time.

use serde::Serialize;

use super::{each, LabError, Progress};
use crate::core::TimerRule;
use crate::link::Lanes;
use crate::sim::{
    run_checked, Action, ClusterSpec, CrashPoint, Latency, NetworkSpec, NodeSpec, RoleTarget,
    RunOptions, Scenario, Step, Summary, Target, TraceHash, VoteWrites,
};

/// Timer latenesses of the lateness study, ms: an idle host's timer slack up to a busy one's.
pub const LATENESSES_MS: [f64; 4] = [0.05, 0.1, 0.25, 0.5];

/// One curve: an election-timeout range and its number of trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Curve {
    /// Minimum election timeout, ms.
    pub min_ms: u64,
    /// Maximum election timeout, ms.
    pub max_ms: u64,
    /// Trials the paper ran.
    pub trials: u64,
}

impl Curve {
    /// The curve's label, e.g. `150-155`.
    pub fn label(&self) -> String {
        format!("{}-{}", self.min_ms, self.max_ms)
    }
}

/// The paper's curves: the top graph (randomness) then the bottom one (scale).
pub fn curves() -> Vec<Curve> {
    let c = |min_ms, max_ms, trials| Curve { min_ms, max_ms, trials };
    vec![
        c(150, 150, 100),
        c(150, 151, 1000),
        c(150, 155, 1000),
        c(150, 175, 1000),
        c(150, 200, 1000),
        c(150, 300, 1000),
        c(12, 24, 1000),
        c(25, 50, 1000),
        c(50, 100, 1000),
        c(100, 200, 1000),
    ]
}

/// What the simulator assumes of the servers the paper measured. Each field is justified in
/// [`Model::logcabin_2014`]'s documentation and in `docs/figure16.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// When a candidate's timer is reset.
    pub timer_rule: TimerRule,
    /// The step of the timeout draw, ms (0 for any duration).
    pub timer_granularity_ms: f64,
    /// How late a timer fires: uniform in `[0, this]`, ms.
    pub timer_lateness_ms: f64,
    /// One-way network latency.
    pub latency: Latency,
    /// One disk write of the term or the vote.
    pub disk: Latency,
    /// Whether a voter writes the new term and its vote separately.
    pub vote_writes: VoteWrites,
}

impl Model {
    /// LogCabin as the paper ran it in 2014:
    /// - Raft's Figure 2 timer rule, which LogCabin followed;
    /// - timeouts drawn in whole milliseconds (LogCabin drew a random number of milliseconds);
    /// - timers up to 0.1 ms late: a thread waiting on a condition variable with a deadline is
    ///   woken by a Linux high-resolution timer, which adds the thread's timer slack (50 µs by
    ///   default) plus the scheduler's wake-up latency (tens of µs on an idle machine);
    /// - a voter persisting the new term and then its vote, two writes, as LogCabin did;
    /// - the network and disk of the previous model, unchanged, until they can be justified
    ///   (see `docs/figure16.md`).
    pub fn logcabin_2014() -> Model {
        Model {
            timer_rule: TimerRule::Figure2,
            timer_granularity_ms: 1.0,
            timer_lateness_ms: 0.1,
            latency: Latency::Normal { mean_ms: 0.5, std_ms: 0.1 },
            disk: Latency::Normal { mean_ms: 3.0, std_ms: 1.0 },
            vote_writes: VoteWrites::TermThenVote,
        }
    }
}

/// The scenario of one curve under `model`.
pub fn scenario(curve: Curve, model: &Model) -> Scenario {
    let min = curve.min_ms as f64;
    // No randomness can take minutes to elect; leave room, stop once recovered.
    let duration_ms = 3_600_000.0;
    Scenario {
        description: "Raft paper Figure 16: time to detect and replace a crashed leader".into(),
        trials: curve.trials,
        stop_after_recovery: true,
        cluster: ClusterSpec {
            heartbeat_ms: min / 2.0,
            election_timeout_ms: [min, curve.max_ms as f64],
            pre_vote: false,
            check_quorum: false,
            leader_stickiness: false,
            leader_lease: false,
            max_clock_drift: 0.0,
            timer_rule: model.timer_rule,
            timer_granularity_ms: model.timer_granularity_ms,
            ..ClusterSpec::new(5)
        },
        network: NetworkSpec {
            latency: model.latency.clone(),
            disk: model.disk.clone(),
            lane: Lanes::Shared,
            timer_jitter: Latency::Uniform { min_ms: 0.0, max_ms: model.timer_lateness_ms },
            vote_writes: model.vote_writes,
            ..NetworkSpec::default()
        },
        // Nodes 4 and 5 have shorter logs: whichever of 1–3 leads, two survivors are ineligible.
        nodes: [4, 5].map(|id| NodeSpec { log_index: Some(90), ..NodeSpec::new(id) }).to_vec(),
        timeline: vec![Step {
            at_ms: 10.0 * curve.max_ms as f64,
            action: Action::Crash {
                node: Target::Role(RoleTarget::Leader),
                at: CrashPoint::WithinHeartbeat,
                window_ms: None,
                restart_after_ms: None,
            },
        }],
        ..Scenario::new(format!("figure16 {}", curve.label()), ClusterSpec::new(5), duration_ms)
    }
}

/// One curve's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CurveResult {
    /// The range, e.g. `150-155`.
    pub label: String,
    /// Trials run.
    pub trials: u64,
    /// Time without a leader, ms.
    pub time_without_leader_ms: Summary,
    /// Every trial's time without a leader, sorted, for the cumulative plot.
    #[serde(skip)]
    pub samples: Vec<f64>,
    /// The run's trace hash.
    pub trace_hash: TraceHash,
}

/// How to run the experiment.
#[derive(Clone, Debug)]
pub struct Options {
    /// Trials per curve; `None` runs the paper's (1000, and 100 for 150-150). The 150-150
    /// curve always gets a tenth of the count given, as in the paper.
    pub trials: Option<u64>,
    /// The servers as modelled.
    pub model: Model,
    /// Also run the nearly-equal ranges (150-150, 150-151) at each of [`LATENESSES_MS`].
    pub lateness: bool,
    /// The run's seed.
    pub seed: u64,
    /// Worker threads; the figures are the same for any number.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { trials: None, model: Model::logcabin_2014(), lateness: false, seed: 1, jobs: 1 }
    }
}

/// What the experiment measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure16 {
    /// Every curve of [`curves`], in order.
    pub curves: Vec<CurveResult>,
    /// With [`Options::lateness`]: each nearly-equal range at each timer lateness (ms).
    pub by_lateness: Vec<(f64, CurveResult)>,
}

/// The trials a curve runs when `requested` are asked for.
pub fn trials_for(curve: &Curve, requested: Option<u64>) -> u64 {
    match requested {
        None => curve.trials,
        Some(n) if curve.min_ms == curve.max_ms => (n / 10).max(1),
        Some(n) => n,
    }
}

/// Runs the experiment: every curve (stage `"curves"`), then the lateness study if asked
/// (stage `"lateness curves"`).
pub fn run(opts: &Options, progress: Progress) -> Result<Figure16, LabError> {
    if opts.trials == Some(0) {
        return Err(LabError::Invalid { option: "trials", problem: "must be at least 1".into() });
    }
    let all = curves();
    let curves = each(&all, "curves", progress, |c| run_curve(*c, opts))?;
    let mut by_lateness = Vec::new();
    if opts.lateness {
        let near: Vec<Curve> = all.iter().copied().filter(|c| c.max_ms - c.min_ms <= 1).collect();
        let runs: Vec<(f64, Curve)> =
            LATENESSES_MS.iter().flat_map(|&l| near.iter().map(move |&c| (l, c))).collect();
        by_lateness = each(&runs, "lateness curves", progress, |(lateness, curve)| {
            let model = Model { timer_lateness_ms: *lateness, ..opts.model.clone() };
            run_curve(*curve, &Options { model, ..opts.clone() }).map(|r| (*lateness, r))
        })?;
    }
    Ok(Figure16 { curves, by_lateness })
}

/// Runs one curve under the options' model.
pub fn run_curve(curve: Curve, opts: &Options) -> Result<CurveResult, LabError> {
    let scenario = scenario(curve, &opts.model);
    let run_opts = RunOptions {
        seed: opts.seed,
        trials: Some(trials_for(&curve, opts.trials)),
        jobs: opts.jobs,
        keep_trial_results: true,
        ..RunOptions::default()
    };
    let report = run_checked(&scenario, &run_opts, &|_| {})
        .map_err(|error| LabError::Sim { what: format!("figure16 {}", curve.label()), error })?;
    let mut samples: Vec<f64> =
        report.trial_results.iter().filter_map(|r| r.time_without_leader_ms).collect();
    samples.sort_by(f64::total_cmp);
    Ok(CurveResult {
        label: curve.label(),
        trials: report.trials,
        time_without_leader_ms: report.time_without_leader_ms,
        samples,
        trace_hash: report.trace_hash,
    })
}
