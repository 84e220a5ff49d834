//! A scenario with the embedder's hosts and invariants, run from `cargo test`.
//!
//! [`Simulation::check`] runs every trial and panics on the first broken invariant with what a
//! developer needs: the invariant, what was seen, the last trace records, the trial as a
//! scenario file, a shrunk one that still breaks, and the command that replays it. The run is
//! steered from the environment, so a failure seen in CI replays on a laptop:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `RAFT_HEARTBEAT_SEED` | the run's seed | 1 |
//! | `RAFT_HEARTBEAT_TRIALS` | trials to run | the scenario's |
//! | `RAFT_HEARTBEAT_TRIAL` | run only this trial (a replay) | all |
//! | `RAFT_HEARTBEAT_JOBS` | worker threads (results are the same for any number) | 1 |
//! | `RAFT_HEARTBEAT_DETERMINISM` | `1`, `true`, `yes` or `on`: run twice and compare every trace hash (madsim's self-check); any other value but `0`, `false`, `no`, `off` is refused | off |
//! | `RAFT_HEARTBEAT_SHRINK` | most trials shrinking may run; `0` skips it | 500 |
//! | `RAFT_HEARTBEAT_TRACE` | write the trace here as JSON lines, for `raft-heartbeat timeline` | none |
//!
//! ```
//! use raft_heartbeat::core::NodeId;
//! use raft_heartbeat::sim::{Host, Scenario, Simulation};
//!
//! struct Quiet;
//! impl Host for Quiet {}
//!
//! let scenario = Scenario::builder("quiet").nodes(3).trials(2).duration_ms(2000.0).build().unwrap();
//! let report = Simulation::new(scenario)
//!     .hosts(|_| Box::new(Quiet))
//!     .invariant("at most one leader a term is the core's; one leader at the end is ours", |view| {
//!         let leaders = view.ids().into_iter().filter(|&id| {
//!             view.node(id).is_some_and(|n| n.leader() == Some(id))
//!         });
//!         if leaders.count() > 1 && view.now().as_nanos() > 1_900_000_000 {
//!             return Err("two nodes lead at the end".into());
//!         }
//!         Ok(())
//!     })
//!     .check();
//! assert!(report.violations.is_empty());
//! ```

use std::path::PathBuf;

use super::error::SimError;
use super::harness::{Harness, InvariantCheck, View};
use super::host::Host;
use super::metrics::ViolationReport;
use super::runner::{run, run_checked, Report, RunOptions};
use super::scenario::Scenario;
use super::shrink::shrink_with;
use crate::core::NodeId;

/// Trials shrinking may run by default, from a test.
const SHRINK_RUNS: u64 = 500;

/// A scenario, the embedder's hosts around its nodes, and their invariants.
#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Scenario,
    harness: Harness,
}

impl Simulation {
    /// `scenario` with no host and no invariant of the embedder's yet.
    pub fn new(scenario: Scenario) -> Self {
        Simulation { scenario, harness: Harness::default() }
    }

    /// Runs `make(id)`'s host around every node (built again at each restart).
    pub fn hosts(mut self, make: impl Fn(NodeId) -> Box<dyn Host> + Send + Sync + 'static) -> Self {
        self.harness = self.harness.hosts(make);
        self
    }

    /// Adds an invariant checked at every event; see [`Harness::invariant`].
    pub fn invariant(
        mut self,
        name: &str,
        check: impl Fn(&View<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.harness = self.harness.invariant(name, check);
        self
    }

    /// Adds an invariant with state of its own, built afresh per trial; see
    /// [`Harness::stateful_invariant`].
    pub fn stateful_invariant(
        mut self,
        name: &str,
        make: impl Fn() -> InvariantCheck + Send + Sync + 'static,
    ) -> Self {
        self.harness = self.harness.stateful_invariant(name, make);
        self
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Runs with `opts` (its harness replaced by this simulation's).
    pub fn run(&self, opts: &RunOptions) -> Result<Report, SimError> {
        let opts = RunOptions { harness: self.harness.clone(), ..opts.clone() };
        run(&self.scenario, &opts, &|_| {})
    }

    /// Runs as a test, steered by the environment (module docs), and returns the report; panics
    /// on a broken invariant with the replay, or on an error running the scenario.
    pub fn check(&self) -> Report {
        let env = Env::read();
        let opts = RunOptions {
            seed: env.seed,
            trials: env.trials,
            only_trial: env.trial,
            jobs: env.jobs,
            trace: env.trace.clone(),
            keep_trial_results: env.determinism,
            ..RunOptions::default()
        };
        eprintln!(
            "simulation {}: seed {} (set RAFT_HEARTBEAT_SEED to change it)",
            self.scenario.name, env.seed
        );
        let with_hosts = RunOptions { harness: self.harness.clone(), ..opts.clone() };
        let report = match run_checked(&self.scenario, &with_hosts, &|_| {}) {
            Ok(report) => report,
            Err(SimError::Violated(v)) => panic!("{}", self.replay_report(&v, env.shrink_runs)),
            Err(e) => panic!("simulation {}: {e}", self.scenario.name),
        };
        if env.determinism {
            self.check_determinism(&opts, &report);
        }
        report
    }

    /// The same run again must give the same traces, and its last trial run alone the same
    /// trace as within the run (a host or invariant sharing state between trials would
    /// replay differently alone).
    fn check_determinism(&self, opts: &RunOptions, report: &Report) {
        let broken = |what: &str| {
            format!(
                "simulation {} is not deterministic: {what}, seed {}. A host or an invariant reads \
                 something the simulator does not give it (the wall clock, a HashMap's order, an \
                 unseeded generator, state shared between trials).",
                self.scenario.name, opts.seed
            )
        };
        let again = self.run(opts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            report.trace_hash,
            again.trace_hash,
            "{}",
            broken("the run twice gave two traces")
        );
        let Some(last) = report.trial_results.last() else { return };
        let alone = RunOptions { only_trial: Some(last.trial), ..opts.clone() };
        let alone = self.run(&alone).unwrap_or_else(|e| panic!("{e}"));
        let hash = alone.trial_results.first().map(|r| r.trace_hash);
        assert_eq!(
            hash,
            Some(last.trace_hash),
            "{}",
            broken(&format!("trial {} gave another trace run alone", last.trial))
        );
    }

    /// What [`check`](Self::check) says of `v` when it panics: what broke, the last trace
    /// records, the trial as a scenario file and a shrunk one (shrinking runs at most
    /// `shrink_runs` trials; 0 skips it), and the commands that replay and draw it.
    pub fn replay_report(&self, v: &ViolationReport, shrink_runs: u64) -> String {
        let test = std::thread::current().name().unwrap_or("TEST").to_string();
        let mut out = format!(
            "simulation {}: trial {} broke {} at {:.3} ms: {}\nlast events:\n",
            v.scenario, v.trial, v.invariant, v.at_ms, v.detail
        );
        for line in &v.last_events {
            out.push_str(&format!("  {line}\n"));
        }
        let dir = std::env::temp_dir().join("raft-heartbeat-simulations");
        let stem = format!("{}-seed{}-trial{}", file_safe(&v.scenario), v.seed, v.trial);
        let written = |name: String, text: &str| -> String {
            let path: PathBuf = dir.join(name);
            match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
                Ok(()) => path.display().to_string(),
                Err(e) => format!("(not written: {e})"),
            }
        };
        out.push_str(&format!(
            "the trial as a scenario: {}\n",
            written(format!("{stem}.toml"), &v.trial_scenario)
        ));
        if shrink_runs > 0 {
            if let Ok(trial) = Scenario::parse(&v.trial_scenario) {
                let shrunk = shrink_with(&trial, &self.harness, v, shrink_runs);
                let text = shrunk.scenario.to_toml().unwrap_or_default();
                out.push_str(&format!(
                    "shrunk ({} of {} timeline steps, {} nodes, {} ms): {}\n{text}\n",
                    shrunk.steps_after,
                    shrunk.steps_before,
                    shrunk.scenario.cluster.nodes,
                    shrunk.scenario.duration_ms,
                    written(format!("{stem}-minimal.toml"), &text)
                ));
            }
        }
        out.push_str(&format!(
            "replay: RAFT_HEARTBEAT_SEED={} RAFT_HEARTBEAT_TRIAL={} cargo test {test} -- --exact\n",
            v.seed, v.trial
        ));
        let (from, to) = ((v.at_ms - 500.0).max(0.0), v.at_ms + 100.0);
        out.push_str(&format!(
            "draw: RAFT_HEARTBEAT_SEED={} RAFT_HEARTBEAT_TRIAL={} RAFT_HEARTBEAT_TRACE=trial.jsonl \
             cargo test {test} -- --exact; raft-heartbeat timeline trial.jsonl --svg trial.svg \
             --from {from:.0} --to {to:.0}\n",
            v.seed, v.trial
        ));
        out
    }
}

/// The run's settings from the environment.
struct Env {
    seed: u64,
    trials: Option<u64>,
    trial: Option<u64>,
    jobs: usize,
    determinism: bool,
    shrink_runs: u64,
    trace: Option<PathBuf>,
}

impl Env {
    fn read() -> Env {
        Env {
            seed: number("RAFT_HEARTBEAT_SEED").unwrap_or(1),
            trials: number("RAFT_HEARTBEAT_TRIALS"),
            trial: number("RAFT_HEARTBEAT_TRIAL"),
            jobs: number("RAFT_HEARTBEAT_JOBS").map_or(1, |j| j.max(1) as usize),
            determinism: flag("RAFT_HEARTBEAT_DETERMINISM"),
            shrink_runs: number("RAFT_HEARTBEAT_SHRINK").unwrap_or(SHRINK_RUNS),
            trace: std::env::var_os("RAFT_HEARTBEAT_TRACE").map(PathBuf::from),
        }
    }
}

/// The variable `name` as a number, if set; a value that is not one stops the test, naming it.
fn number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")))
}

/// The variable `name` as a switch: unset is off; a value that is not one of the usual
/// spellings of a boolean stops the test, naming it, rather than leaving the switch off.
fn flag(name: &str) -> bool {
    let Ok(value) = std::env::var(name) else { return false };
    parse_flag(name, &value).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_flag(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "{name}={value:?} is not a switch: use 1, true, yes or on (or 0, false, no, off)"
        )),
    }
}

/// A scenario name made safe for a file name.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_reads_the_usual_spellings_and_refuses_the_rest_by_name() {
        for on in ["1", "true", "TRUE", "yes", "On", " on "] {
            assert_eq!(parse_flag("RAFT_HEARTBEAT_DETERMINISM", on), Ok(true), "{on:?}");
        }
        for off in ["", "0", "false", "No", "off"] {
            assert_eq!(parse_flag("RAFT_HEARTBEAT_DETERMINISM", off), Ok(false), "{off:?}");
        }
        let e = parse_flag("RAFT_HEARTBEAT_DETERMINISM", "ja").unwrap_err();
        assert!(e.starts_with("RAFT_HEARTBEAT_DETERMINISM=\"ja\" is not a switch"), "{e}");
    }
}
