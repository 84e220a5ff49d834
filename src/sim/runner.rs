//! Running many trials of a scenario: in parallel, sharded, traced; and the report.
//!
//! Every trial is independent and seeded from the run's seed and its index, so results do not
//! depend on how many threads run them or on which machine: `--jobs 4` gives the report of
//! `--jobs 1`, and shards `0/N … N-1/N` merged give the report of one whole run.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::error::{ScenarioError, SimError};
use super::harness::Harness;
use super::metrics::{Summary, TrialResult, ViolationReport};
use super::rng::trial_seed;
use super::scenario::{Action, Scenario};
use super::swarm;
use super::trace::TraceSink;
use super::trace_hash::TraceHash;
use super::world::World;
use crate::core::LeaderDetectorKind;

/// How to run a scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The run's seed.
    pub seed: u64,
    /// Number of trials (the scenario's own count if `None`).
    pub trials: Option<u64>,
    /// Run only this trial (to replay it).
    pub only_trial: Option<u64>,
    /// Worker threads.
    pub jobs: usize,
    /// Run only trials `i` with `i % count == index`.
    pub shard: Option<Shard>,
    /// Write every trial's trace here, as JSON lines, in trial order.
    pub trace: Option<PathBuf>,
    /// Keep every trial's result in the report (always done for shards, so they can merge).
    pub keep_trial_results: bool,
    /// The embedder's hosts and invariants (none by default).
    pub harness: Harness,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: 1,
            trials: None,
            only_trial: None,
            jobs: 1,
            shard: None,
            trace: None,
            keep_trial_results: false,
            harness: Harness::default(),
        }
    }
}

/// One of `count` slices of a run's trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Shard {
    /// This slice, from 0.
    pub index: u64,
    /// Number of slices.
    pub count: u64,
}

/// What a shard report says of the run it is a slice of: shards merge only when their
/// manifests agree and every index of the count is there once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Manifest {
    /// XXH3-128 of the scenario's content as parsed (its name, cluster, network, timeline:
    /// comments and layout do not count), 32 hexadecimal digits: two files with one name but
    /// different content do not merge.
    pub scenario_hash: String,
    /// The run's seed.
    pub seed: u64,
    /// Trials in the whole run, over all shards.
    pub trials: u64,
    /// This slice and the number of slices.
    pub shard: Shard,
    /// The version of this crate that ran it: another version may draw other trials.
    pub version: String,
}

impl Manifest {
    fn of(scenario: &Scenario, seed: u64, trials: u64, shard: Shard) -> Result<Self, SimError> {
        let content =
            serde_json::to_vec(scenario).map_err(|e| SimError::Unhashable(e.to_string()))?;
        Ok(Manifest {
            scenario_hash: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&content)),
            seed,
            trials,
            shard,
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// The first field in which `other` belongs to another run, with both values.
    fn differs(&self, other: &Manifest) -> Option<(&'static str, String, String)> {
        let fields = [
            ("the scenario's content", self.scenario_hash.clone(), other.scenario_hash.clone()),
            ("the seed", self.seed.to_string(), other.seed.to_string()),
            ("the run's trials", self.trials.to_string(), other.trials.to_string()),
            ("the shard count", self.shard.count.to_string(), other.shard.count.to_string()),
            ("the version that ran it", self.version.clone(), other.version.clone()),
        ];
        fields.into_iter().find(|(_, a, b)| a != b)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// Parses `I/N`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) =
            s.split_once('/').ok_or_else(|| format!("shard must look like I/N, got {s:?}"))?;
        let index: u64 =
            i.trim().parse().map_err(|_| format!("shard index {i:?} is not a number"))?;
        let count: u64 =
            n.trim().parse().map_err(|_| format!("shard count {n:?} is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
}

/// Totals with a per-hour rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rate {
    /// Over all trials.
    pub total: u64,
    /// Per simulated hour.
    pub per_hour: f64,
}

/// Quality of service of the followers' failure detection (Chen, Toueg & Aguilera 2002), over
/// every node's up time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Qos {
    /// Mistake recurrence time `T_MR`: up seconds per false suspicion (a node's mean time
    /// between mistakes); `None` without a false suspicion.
    pub t_mr_seconds: Option<f64>,
    /// Mistake duration `T_M`: mean ms from a false suspicion until the node followed a leader
    /// again, led, or crashed, over the mistakes that ended; `None` if none did.
    pub t_m_ms: Option<f64>,
    /// Query accuracy probability `P_A`: the share of up time not spent in a mistake.
    pub p_a: f64,
}

/// What a shadow detector would have done over a run (`cluster.shadow_detectors`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ShadowReport {
    /// The detector.
    pub detector: LeaderDetectorKind,
    /// Times it would have suspected a leader.
    pub suspicions: Rate,
    /// Of those, while a healthy leader could reach the node.
    pub false_suspicions: Rate,
    /// Its mistake recurrence time `T_MR`: up seconds per false suspicion; `None` without one.
    pub t_mr_seconds: Option<f64>,
    /// Leader crash → its first suspicion on a survivor, ms, over the failovers where it
    /// suspected before the failover ended (every live node following the new leader); a
    /// shadow slower than the detector in charge is reset by the new leader's heartbeats
    /// first, so `count` says in how many failovers it did suspect.
    pub detection_ms: Summary,
}

/// The report of a run, as `--json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// Trials run.
    pub trials: u64,
    /// The digest of every trial's trace digest, in trial order.
    pub trace_hash: TraceHash,
    /// Leader crash → first election timeout, ms.
    pub detection_ms: Summary,
    /// Leader crash → every live node follows the new leader, ms.
    pub time_without_leader_ms: Summary,
    /// Terms campaigned in per failover.
    pub election_rounds: Summary,
    /// Terms that ended without a leader, over all failovers.
    pub split_votes: u64,
    /// Term increase per failover.
    pub term_increase: Summary,
    /// Election timeouts while a leader was alive and reachable by a majority.
    pub false_suspicions: Rate,
    /// Election timeouts deferred for a stall of the node's own (local health).
    #[serde(default)]
    pub timeouts_deferred: Rate,
    /// Per shadow detector, in the order configured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shadows: Vec<ShadowReport>,
    /// Leader changes while the previous leader was alive and reachable by a majority.
    pub spurious_leader_changes: Rate,
    /// Leaders elected, each trial's first included.
    #[serde(default)]
    pub leaders_elected: Rate,
    /// The followers' failure detection by Chen, Toueg & Aguilera's measures (the detection
    /// time `T_D` is `detection_ms`).
    #[serde(default)]
    pub qos: Qos,
    /// Protocol messages sent.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Broken invariants (the run stops at the first).
    pub violations: Vec<ViolationReport>,
    /// Simulated seconds over all trials.
    pub sim_seconds: f64,
    /// Engine events over all trials.
    pub events: u64,
    /// Wall-clock milliseconds (the only figure that varies between identical runs).
    pub wall_ms: f64,
    /// The shard this report covers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// In a shard report: the run it is a slice of, checked by [`merge`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
    /// Per-trial results: present in sharded reports, so they can be merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trial_results: Vec<TrialResult>,
}

/// Runs one trial of `scenario`; its trace goes to `trace_out` if given. The scenario is
/// validated first (its fields are public, so it may come from anywhere).
pub fn run_trial(
    scenario: &Scenario,
    opts: &RunOptions,
    trial: u64,
    trace_out: Option<Box<dyn Write + Send>>,
) -> Result<TrialResult, SimError> {
    scenario.validate()?;
    check_harness(scenario, &opts.harness)?;
    run_validated_trial(scenario, opts, trial, trace_out, Tail::Kept)
        .map_err(|e| e.into_sim_error("the trace writer".into()))
}

/// Whether a violation report quotes the trial's last trace records, which costs running the
/// trial a second time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    Kept,
    Skipped,
}

/// The violation of one trial of `scenario`, if it breaks one, without the last records (for
/// shrinking, which runs many trials and reads only the invariant and the time).
pub(crate) fn trial_violation(
    scenario: &Scenario,
    opts: &RunOptions,
    trial: u64,
) -> Option<ViolationReport> {
    scenario.validate().ok()?;
    run_validated_trial(scenario, opts, trial, None, Tail::Skipped).ok()?.violation
}

/// What the simulator cannot model with the embedder's hosts in the loop: membership changes
/// are entries of a log it keeps itself, and the hosts keep the log.
fn check_harness(scenario: &Scenario, harness: &Harness) -> Result<(), ScenarioError> {
    if !harness.has_hosts() {
        return Ok(());
    }
    let invalid = |field: &str| {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: "membership changes are not simulated with hosts in the loop yet: the \
                      simulator keeps their log entries itself, and the hosts keep the log"
                .into(),
        })
    };
    if !scenario.cluster.learners.is_empty() {
        return invalid("cluster.learners");
    }
    if scenario
        .timeline
        .iter()
        .any(|s| matches!(s.action, Action::Add { .. } | Action::Remove { .. }))
    {
        return invalid("timeline");
    }
    if scenario.swarm.as_ref().is_some_and(|s| s.membership_changes[1] > 0) {
        return invalid("swarm.membership_changes");
    }
    Ok(())
}

/// Why a trial could not run to its end.
enum TrialFailure {
    /// A swarm drew a trial that does not validate.
    Drawn(ScenarioError),
    /// Its trace could not be written.
    Trace(std::io::Error),
}

impl TrialFailure {
    fn into_sim_error(self, trace_path: String) -> SimError {
        match self {
            TrialFailure::Drawn(e) => SimError::Scenario(e),
            TrialFailure::Trace(error) => SimError::Trace { path: trace_path, error },
        }
    }
}

/// [`run_trial`] of a scenario already validated.
fn run_validated_trial(
    scenario: &Scenario,
    opts: &RunOptions,
    trial: u64,
    trace_out: Option<Box<dyn Write + Send>>,
    tail: Tail,
) -> Result<TrialResult, TrialFailure> {
    let seed = trial_seed(opts.seed, trial);
    let drawn = swarm::draw(scenario, seed);
    if scenario.swarm.is_some() {
        drawn.validate().map_err(|e| {
            TrialFailure::Drawn(ScenarioError::Invalid {
                field: "swarm".into(),
                problem: format!("trial {trial} drew a scenario that is not valid: {e}"),
            })
        })?;
    }
    let world = World::new(&drawn, &opts.harness, trial, seed, TraceSink::new(trial, trace_out));
    let (mut result, violation, sink) = world.run();
    if let Some(v) = violation {
        // The same trial again, deterministic, keeping its last records for the report.
        let last_events = if tail == Tail::Kept {
            let sink = TraceSink::new(trial, None).with_tail();
            let again = World::new(&drawn, &opts.harness, trial, seed, sink);
            again.run().2.tail()
        } else {
            Vec::new()
        };
        result.violation = Some(ViolationReport {
            scenario: scenario.name.clone(),
            seed: opts.seed,
            trial,
            invariant: v.invariant,
            at_ms: v.at.as_nanos() as f64 / 1e6,
            detail: v.detail,
            last_events,
            trial_scenario: drawn
                .to_toml()
                .unwrap_or_else(|e| format!("# the trial's scenario cannot be written: {e}\n")),
        });
    }
    result.trace_hash = TraceHash(sink.finish().map_err(TrialFailure::Trace)?);
    Ok(result)
}

/// Runs the trials `opts` selects, calling `progress` with the number done after each one.
pub fn run(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, SimError> {
    scenario.validate()?;
    check_harness(scenario, &opts.harness)?;
    if opts.jobs == 0 {
        return Err(SimError::NoJobs);
    }
    let total = opts.trials.unwrap_or(scenario.trials);
    if total == 0 && opts.only_trial.is_none() {
        return Err(SimError::NoTrials);
    }
    if let Some(Shard { index, count }) = opts.shard {
        if index >= count {
            return Err(SimError::BadShard { index, count });
        }
    }
    let indices: Vec<u64> = match opts.only_trial {
        Some(t) => vec![t],
        None => (0..total).filter(|i| opts.shard.is_none_or(|s| i % s.count == s.index)).collect(),
    };
    let started = std::time::Instant::now();
    let results = Mutex::new(Vec::with_capacity(indices.len()));
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<SimError>> = Mutex::new(None);
    let trace_path = |trial: u64| -> Option<PathBuf> {
        let path = opts.trace.as_ref()?;
        Some(if indices.len() == 1 { path.clone() } else { part_path(path, trial) })
    };
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.min(indices.len()).max(1) {
            scope.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(&trial) = indices.get(k) else { return };
                let outcome = open_trace(trace_path(trial)).and_then(|out| {
                    // A panic (a host's, an invariant's) is reported with its trial and seed,
                    // not as a worker thread's death.
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_validated_trial(scenario, opts, trial, out, Tail::Kept)
                    }));
                    let run = run.map_err(|payload| SimError::Panicked {
                        trial,
                        seed: opts.seed,
                        message: panic_message(payload.as_ref()),
                    })?;
                    run.map_err(|e| {
                        let path = trace_path(trial).map(|p| p.display().to_string());
                        e.into_sim_error(path.unwrap_or_default())
                    })
                });
                match outcome {
                    Ok(result) => {
                        if result.violation.is_some() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        results.lock().expect("no worker panics").push(result);
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        failure.lock().expect("no worker panics").get_or_insert(e);
                    }
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("no worker panics") {
        return Err(e);
    }
    let mut results = results.into_inner().expect("no worker panics");
    results.sort_by_key(|r| r.trial);
    // Trials after the first violation may have run on other threads; drop them, so the
    // report is the same whatever the number of jobs.
    if let Some(first) = results.iter().position(|r| r.violation.is_some()) {
        results.truncate(first + 1);
    }
    if let Some(path) = &opts.trace {
        if indices.len() > 1 {
            concatenate_parts(path, results.iter().map(|r| r.trial), &indices)?;
        }
    }
    let mut report =
        summarize(scenario.name.clone(), opts.seed, &scenario.cluster.shadow_detectors, &results);
    report.wall_ms = started.elapsed().as_secs_f64() * 1e3;
    report.shard = opts.shard;
    if let (Some(shard), None) = (opts.shard, opts.only_trial) {
        report.manifest = Some(Manifest::of(scenario, opts.seed, total, shard)?);
    }
    if opts.shard.is_some() || opts.keep_trial_results {
        report.trial_results = results;
    }
    Ok(report)
}

/// Runs `scenario` as [`run`] does, and makes its first broken invariant an error: for callers
/// that need the figures of a clean run (the lab's experiments, `advise`, `Simulation::check`)
/// rather than a report of what broke. The run stops at that violation either way.
pub fn run_checked(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, SimError> {
    let mut report = run(scenario, opts, progress)?;
    if report.violations.is_empty() {
        return Ok(report);
    }
    Err(SimError::Violated(Box::new(report.violations.swap_remove(0))))
}

/// What a panic's payload says, when it is a string.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Merges sharded reports of one run into the report of the whole run.
pub fn merge(reports: &[Report]) -> Result<Report, SimError> {
    let first = reports.first().ok_or(SimError::NothingToMerge)?;
    let manifest = first.manifest.as_ref().ok_or(SimError::NotAShard)?;
    let count = manifest.shard.count;
    let mut seen = std::collections::BTreeSet::new();
    let mut results = Vec::new();
    for r in reports {
        let m = r.manifest.as_ref().ok_or(SimError::NotAShard)?;
        if let Some((what, first, other)) = manifest.differs(m) {
            return Err(SimError::DifferentRuns { what, first, other });
        }
        if m.shard.index >= count {
            return Err(SimError::BadShard { index: m.shard.index, count });
        }
        if !seen.insert(m.shard.index) {
            return Err(SimError::ShardTwice { index: m.shard.index, count });
        }
        results.extend(r.trial_results.iter().cloned());
    }
    let absent = count - seen.len() as u64;
    if absent > 0 {
        let first = (0..count).filter(|i| !seen.contains(i)).take(10).collect();
        return Err(SimError::ShardsMissing { first, absent, count });
    }
    results.sort_by_key(|r| r.trial);
    if let Some(w) = results.windows(2).find(|w| w[0].trial == w[1].trial) {
        return Err(SimError::DuplicateTrial(w[0].trial));
    }
    let shadows: Vec<LeaderDetectorKind> = first.shadows.iter().map(|s| s.detector).collect();
    let mut merged = summarize(first.scenario.clone(), first.seed, &shadows, &results);
    merged.wall_ms = reports.iter().map(|r| r.wall_ms).sum();
    Ok(merged)
}

fn summarize(
    scenario: String,
    seed: u64,
    shadows: &[LeaderDetectorKind],
    results: &[TrialResult],
) -> Report {
    let collect = |f: &dyn Fn(&TrialResult) -> Option<f64>| -> Vec<f64> {
        results.iter().filter_map(f).collect()
    };
    let sim_seconds: f64 = results.iter().map(|r| r.sim_seconds).sum();
    let hours = sim_seconds / 3600.0;
    let rate =
        |total: u64| Rate { total, per_hour: if hours > 0.0 { total as f64 / hours } else { 0.0 } };
    let recovered = |r: &TrialResult| r.time_without_leader_ms.is_some();
    Report {
        scenario,
        seed,
        trials: results.len() as u64,
        trace_hash: TraceHash::of_trials(results.iter().map(|r| r.trace_hash)),
        detection_ms: Summary::of(&collect(&|r| r.detection_ms)),
        time_without_leader_ms: Summary::of(&collect(&|r| r.time_without_leader_ms)),
        election_rounds: Summary::of(&collect(&|r| {
            recovered(r).then_some(r.election_rounds as f64)
        })),
        split_votes: results.iter().map(|r| r.split_votes).sum(),
        term_increase: Summary::of(&collect(&|r| recovered(r).then_some(r.term_increase as f64))),
        false_suspicions: rate(results.iter().map(|r| r.false_suspicions).sum()),
        timeouts_deferred: rate(results.iter().map(|r| r.timeouts_deferred).sum()),
        shadows: shadows
            .iter()
            .enumerate()
            .map(|(i, &detector)| {
                let of = |r: &TrialResult| r.shadows.get(i).copied().unwrap_or_default();
                let false_suspicions: u64 = results.iter().map(|r| of(r).false_suspicions).sum();
                let up: f64 = results.iter().map(|r| r.up_seconds).sum();
                ShadowReport {
                    detector,
                    suspicions: rate(results.iter().map(|r| of(r).suspicions).sum()),
                    false_suspicions: rate(false_suspicions),
                    t_mr_seconds: (false_suspicions > 0).then(|| up / false_suspicions as f64),
                    detection_ms: Summary::of(&collect(&|r| of(r).detection_ms)),
                }
            })
            .collect(),
        spurious_leader_changes: rate(results.iter().map(|r| r.spurious_leader_changes).sum()),
        leaders_elected: rate(results.iter().map(|r| r.leaders_elected).sum()),
        qos: qos(results),
        messages: results.iter().map(|r| r.messages).sum(),
        bytes: results.iter().map(|r| r.bytes).sum(),
        violations: results.iter().filter_map(|r| r.violation.clone()).collect(),
        sim_seconds,
        events: results.iter().map(|r| r.events).sum(),
        wall_ms: 0.0,
        shard: None,
        manifest: None,
        trial_results: Vec::new(),
    }
}

fn qos(results: &[TrialResult]) -> Qos {
    let up: f64 = results.iter().map(|r| r.up_seconds).sum();
    let mistakes: u64 = results.iter().map(|r| r.false_suspicions).sum();
    let ended: u64 = results.iter().map(|r| r.mistakes_ended).sum();
    let ended_s: f64 = results.iter().map(|r| r.ended_mistake_seconds).sum();
    let in_mistake: f64 = results.iter().map(|r| r.mistake_seconds).sum();
    Qos {
        t_mr_seconds: (mistakes > 0).then(|| up / mistakes as f64),
        t_m_ms: (ended > 0).then(|| ended_s * 1e3 / ended as f64),
        p_a: if up > 0.0 { 1.0 - in_mistake / up } else { 1.0 },
    }
}

fn part_path(path: &Path, trial: u64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".trial-{trial}.part"));
    PathBuf::from(name)
}

fn open_trace(path: Option<PathBuf>) -> Result<Option<Box<dyn Write + Send>>, SimError> {
    let Some(path) = path else { return Ok(None) };
    let file = File::create(&path)
        .map_err(|error| SimError::Trace { path: path.display().to_string(), error })?;
    Ok(Some(Box::new(BufWriter::with_capacity(1 << 16, file))))
}

/// Joins the per-trial trace parts, in trial order, into `path`, and removes every part.
fn concatenate_parts(
    path: &Path,
    kept: impl Iterator<Item = u64>,
    all: &[u64],
) -> Result<(), SimError> {
    let err = |error| SimError::Trace { path: path.display().to_string(), error };
    let mut out = BufWriter::new(File::create(path).map_err(err)?);
    for trial in kept {
        let mut part = File::open(part_path(path, trial)).map_err(err)?;
        std::io::copy(&mut part, &mut out).map_err(err)?;
    }
    out.flush().map_err(err)?;
    for &trial in all {
        let _ = std::fs::remove_file(part_path(path, trial));
    }
    Ok(())
}
