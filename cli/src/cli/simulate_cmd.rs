//! `raft-heartbeat simulate`: a scenario's trials under virtual time, the report as a table or
//! JSON, and on a violation the trial's scenario written and shrunk beside the replay command.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use raft_heartbeat::sim::{self, RunOptions, Scenario, Shard};

use super::args::{at_least_one, check_output};
use super::{report, reproducer};

/// Options of `simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scenario file (TOML), e.g. simulations/leader-crash.toml.
    scenario: PathBuf,
    /// The run's seed; each trial derives its own from it and its index.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of trials (default: the scenario's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    /// Run only this trial (as a violation report's replay command does).
    #[arg(long, conflicts_with = "shard")]
    trial: Option<u64>,
    /// Print exactly one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Stream every trial's trace to this file, as JSON lines, in trial order.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Worker threads; results are identical for any number.
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    jobs: usize,
    /// Run every N-th trial, starting at I (0-based), e.g. 0/4; merge shards with `merge`.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// On a violation, write the trial's scenario and its shrunk form here.
    #[arg(long, default_value = ".")]
    shrink_dir: PathBuf,
    /// On a violation, write the trial's scenario but do not shrink it.
    #[arg(long)]
    no_shrink: bool,
    /// Most trials shrinking may run.
    #[arg(long, default_value_t = 2000)]
    shrink_runs: u64,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// A progress bar on stderr for runs long enough to want one, when stderr is a terminal.
fn progress_bar(total: u64, what: &str) -> Option<ProgressBar> {
    if total < 20 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:40}] {pos}/{len} trials, {elapsed} elapsed, eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    Some(bar)
}

/// Runs the scenario's trials and prints the report; exit 1 on a violation.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(&args.scenario)?;
    if let Some(path) = &args.trace {
        check_output(path)?;
    }
    let opts = RunOptions {
        seed: args.seed,
        trials: args.trials,
        only_trial: args.trial,
        jobs: args.jobs,
        shard: args.shard,
        trace: args.trace.clone(),
        keep_trial_results: false,
        harness: Default::default(),
    };
    let trials = args.trial.map_or(opts.trials.unwrap_or(scenario.trials), |_| 1);
    eprintln!(
        "scenario {} ({}), seed {}, {} trials",
        scenario.name,
        args.scenario.display(),
        args.seed,
        trials
    );
    let bar = progress_bar(trials, &scenario.name);
    let report = sim::run(&scenario, &opts, &|done| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report::print(&report, args.json, &args.scenario.display().to_string())?;
    if let Some(trace) = &args.trace {
        eprintln!("trace written to {}", trace.display());
    }
    if let Some(v) = report.violations.first() {
        let opts = reproducer::Options {
            dir: &args.shrink_dir,
            shrink: !args.no_shrink,
            max_runs: args.shrink_runs,
        };
        reproducer::write(v, &opts)?;
    }
    Ok(report::exit_code(&report))
}
