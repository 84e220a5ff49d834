//! `raft-heartbeat experiment defaults`: `advise` beside etcd's defaults, etcd's tuning rule,
//! hashicorp/raft's and openraft's defaults on four networks, each under its own timers, as a
//! table or JSON rows.

use std::process::ExitCode;

use raft_heartbeat::lab::defaults::{self, Row};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::output;
use super::progress;

/// Options of `experiment defaults`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Failovers per setting.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..))]
    trials: u64,
    /// `advise`'s effort, million simulated events.
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u64).range(1..))]
    effort: u64,
    /// The seed of every run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print exactly one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, JsonSchema)]
struct Output<'a> {
    rows: &'a [Row],
}

/// The JSON Schema of `--json`'s output.
pub fn schema() -> Schema {
    output::schema_of::<Output<'static>>(
        "raft-heartbeat experiment defaults --json",
        "advise beside etcd's, hashicorp/raft's and openraft's defaults and etcd's tuning rule on four networks.",
    )
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    eprintln!(
        "defaults: 4 networks x 5 settings, 5 nodes on the cloud host, {} failovers each, seed {}",
        args.trials, args.seed
    );
    let opts = defaults::Options { trials: args.trials, effort: args.effort, seed: args.seed };
    let bar = progress::Bar::new("defaults");
    let rows = defaults::run(&opts, &|s, d, t| bar.at(s, d, t))?;
    drop(bar);
    if args.json {
        output::print_json(&Output { rows: &rows })?;
    } else {
        println!(
            "{:<11}{:<20}{:>10}{:>15}{:>7}{:>10}{:>10}{:>12}{:>9}{:>9}",
            "network",
            "system",
            "heartbeat",
            "draw",
            "step",
            "p50",
            "p99",
            "false/day",
            "hb/s",
            "stall"
        );
        for r in &rows {
            println!(
                "{:<11}{:<20}{:>10}{:>15}{:>7}{:>10.1}{:>10.1}{:>12}{:>9.0}{:>9.1}",
                r.network,
                r.system,
                r.heartbeat_ms,
                format!("{}-{}", r.election_timeout_ms[0], r.election_timeout_ms[1]),
                r.step_ms,
                r.p50_ms,
                r.p99_ms,
                super::advise_cmd::rate(r.false_elections_per_day),
                r.heartbeats_per_second,
                r.stall_survived_ms
            );
        }
        for r in &rows {
            println!("{:<11}{:<20}{}", r.network, r.system, r.written);
        }
    }
    eprintln!("seed {}, {:.0} ms wall", args.seed, started.elapsed().as_secs_f64() * 1e3);
    Ok(ExitCode::SUCCESS)
}
