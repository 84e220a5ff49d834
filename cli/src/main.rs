//! `raft-heartbeat`: run simulations and experiments from the command line. This file only
//! parses the command and hands it to its module in `cli/`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

use cli::{
    advise_cmd, cluster_cmd, defaults_cmd, detectors_cmd, false_elections_cmd, figure16_cmd,
    merge_cmd, model_check_cmd, node_cmd, schema_cmd, simulate_cmd, split_votes_cmd, sweep_cmd,
    timeline_cmd,
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
    Simulate(simulate_cmd::Args),
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
    /// Start a live local cluster of `node` processes, kill and pause its leader repeatedly,
    /// measure each failover next to the simulator's prediction, and check leases, terms and
    /// votes on the host's clock.
    Cluster(cluster_cmd::Args),
    /// Draw one trial of a `simulate --trace` file as an SVG timeline: a lane per node with
    /// its roles, terms, timeouts, faults and messages.
    Timeline(timeline_cmd::Args),
    /// Explore every interleaving of a small cluster of real core nodes within bounds
    /// (stateright) and report each safety property held or broken, with the shortest
    /// counterexample.
    ModelCheck(model_check_cmd::Args),
    /// Merge the `--json` reports of the shards of one run into the report of the whole run.
    Merge {
        /// Reports written by `simulate --shard I/N --json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
    /// Print the JSON Schema of an output (`--json`, a trace line, a node's line), as kept in
    /// docs/schemas/.
    Schema {
        /// Which output.
        #[arg(value_enum)]
        output: schema_cmd::Name,
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
    /// each over its threshold in eight environments: failover against false elections, and
    /// Chen, Toueg & Aguilera's quality of service.
    Detectors(detectors_cmd::Args),
    /// `advise` beside etcd's defaults, etcd's tuning rule, hashicorp/raft's and openraft's
    /// defaults on a LAN, cross-zone, a WAN and a lossy link, each under its own timers.
    Defaults(defaults_cmd::Args),
}

fn main() -> ExitCode {
    quiet_on_closed_stdout();
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
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Experiment { which: Experiment::Figure16(args) } => figure16_cmd::run(args),
        Command::Experiment { which: Experiment::SplitVotes(args) } => split_votes_cmd::run(args),
        Command::Experiment { which: Experiment::Sweep(args) } => sweep_cmd::run(args),
        Command::Experiment { which: Experiment::FalseElections(args) } => {
            false_elections_cmd::run(args)
        }
        Command::Experiment { which: Experiment::Detectors(args) } => detectors_cmd::run(args),
        Command::Experiment { which: Experiment::Defaults(args) } => defaults_cmd::run(args),
        Command::Advise(args) => advise_cmd::run(args),
        Command::ModelCheck(args) => model_check_cmd::run(args),
        Command::Merge { reports } => merge_cmd::run(reports),
        Command::Timeline(args) => timeline_cmd::run(args),
        Command::Node(args) => node_cmd::run(args),
        Command::Cluster(args) => cluster_cmd::run(args),
        Command::Schema { output } => schema_cmd::run(output),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A reader that stops early (`simulate ... | head`) closes the pipe: `println!` then panics
/// with "failed printing to stdout: Broken pipe". End quietly with status 0 instead, as Unix
/// tools do; every other panic is reported as before.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
}
