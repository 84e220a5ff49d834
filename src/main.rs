//! `raft-heartbeat`: run simulations and experiments from the command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use raft_heartbeat::sim::{self, Report, RunOptions, Scenario, Shard};

mod cli;

use cli::args::at_least_one;
use cli::{
    advise_cmd, cluster_cmd, detectors_cmd, false_elections_cmd, figure16_cmd, node_cmd,
    reproducer, split_votes_cmd, sweep_cmd, table, timeline_cmd,
};

/// Leader heartbeats and failure detection for Raft-style consensus.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario's trials under virtual time and report failure-detection timing.
    Simulate(SimulateArgs),
    /// Reproduce a published experiment.
    Experiment {
        #[command(subcommand)]
        which: Experiment,
    },
    /// Recommend a heartbeat interval, election timeouts and lease for a measured network,
    /// with the failover time and false-election rate they give (closed forms and simulator).
    Advise(advise_cmd::Args),
    /// Run one member of a real cluster over TCP until ctrl-c.
    Node(node_cmd::Args),
    /// Start a live local cluster of `node` processes, kill its leader repeatedly, and measure
    /// each failover next to the simulator's prediction.
    Cluster(cluster_cmd::Args),
    /// Draw one trial of a `simulate --trace` file as an SVG timeline: a lane per node with
    /// its roles, terms, timeouts, faults and messages.
    Timeline(timeline_cmd::Args),
    /// Merge the `--json` reports of the shards of one run into the report of the whole run.
    Merge {
        /// Reports written by `simulate --shard I/N --json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum Experiment {
    /// Figure 16 of the Raft paper: time to detect and replace a crashed leader.
    Figure16(figure16_cmd::Args),
    /// The Raft thesis's split votes (§9.2): elections needing more than one round against
    /// the latency, simulated beside the closed form.
    SplitVotes(split_votes_cmd::Args),
    /// Failover on a LAN against the width of the timeout range and against its minimum.
    Sweep(sweep_cmd::Args),
    /// False timeouts and false elections per hour under a healthy leader, against loss,
    /// the latency's tail and the heartbeats per timeout, simulated beside the closed forms.
    FalseElections(false_elections_cmd::Args),
    /// The followers' detectors of a leader's failure (fixed range, adaptive, phi accrual),
    /// each over its threshold on seven environments: failover against false elections, and
    /// Chen, Toueg & Aguilera's quality of service.
    Detectors(detectors_cmd::Args),
}

#[derive(clap::Args, Debug)]
struct SimulateArgs {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A real node logs its role changes by default; simulations run thousands of nodes, so
    // they log only what RUST_LOG asks for.
    let default = if matches!(cli.command, Command::Node(_)) { "info" } else { "error" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let outcome = match cli.command {
        Command::Simulate(args) => simulate(args),
        Command::Experiment { which: Experiment::Figure16(args) } => figure16_cmd::run(args),
        Command::Experiment { which: Experiment::SplitVotes(args) } => split_votes_cmd::run(args),
        Command::Experiment { which: Experiment::Sweep(args) } => sweep_cmd::run(args),
        Command::Experiment { which: Experiment::FalseElections(args) } => {
            false_elections_cmd::run(args)
        }
        Command::Experiment { which: Experiment::Detectors(args) } => detectors_cmd::run(args),
        Command::Advise(args) => advise_cmd::run(args),
        Command::Merge { reports } => merge(reports),
        Command::Timeline(args) => timeline_cmd::run(args),
        Command::Node(args) => node_cmd::run(args),
        Command::Cluster(args) => cluster_cmd::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A progress bar on stderr for runs long enough to want one, when stderr is a terminal.
pub(crate) fn progress_bar(total: u64, what: &str) -> Option<ProgressBar> {
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

fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(&args.scenario)?;
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
    print_report(&report, args.json, &args.scenario.display().to_string())?;
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
    Ok(exit_code(&report))
}

fn merge(paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let report: Report = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a simulate --json report", path.display()))?;
        reports.push(report);
    }
    let merged = sim::merge(&reports)?;
    print_report(&merged, true, "SCENARIO")?;
    Ok(exit_code(&merged))
}

/// Prints the report, and on stderr each violation with the command that replays its trial
/// from `scenario_path`.
fn print_report(report: &Report, json: bool, scenario_path: &str) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        print!("{}", table::render(report));
    }
    for v in &report.violations {
        eprintln!(
            "\nVIOLATION of {} in trial {} at {:.3} ms: {}",
            v.invariant, v.trial, v.at_ms, v.detail
        );
        eprintln!("last events:");
        for line in &v.last_events {
            eprintln!("  {line}");
        }
        eprintln!(
            "replay: raft-heartbeat simulate {scenario_path} --seed {} --trial {} --trace trial-{}.jsonl",
            v.seed, v.trial, v.trial
        );
    }
    Ok(())
}

fn exit_code(report: &Report) -> ExitCode {
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
