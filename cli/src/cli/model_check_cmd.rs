//! `raft-heartbeat model-check`: every interleaving of a small cluster of real core nodes,
//! within bounds, with each property held or broken; a broken one's shortest execution is
//! printed and, with `--counterexample`, written as JSON.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use raft_heartbeat::core::TimerRule;
use raft_heartbeat::model::{self, Expectation, Options, Report, STEP};

use super::args::OnOff;
use super::output;

/// Options of `model-check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Voters (ids 1..N).
    #[arg(long, default_value_t = 3)]
    nodes: u64,
    /// Learners (ids after the voters).
    #[arg(long, default_value_t = 0)]
    learners: u64,
    /// Voters whose log is one entry behind (the last ones).
    #[arg(long, default_value_t = 1)]
    behind: u64,
    /// No term beyond this is explored.
    #[arg(long, default_value_t = 3)]
    max_term: u64,
    /// The clock stops after this many heartbeat intervals.
    #[arg(long, default_value_t = 8)]
    horizon: u64,
    /// The election timeout, in heartbeat intervals.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
    /// Most messages in flight at once.
    #[arg(long, default_value_t = 4)]
    max_in_flight: usize,
    /// Most crashes in one execution.
    #[arg(long, default_value_t = 1)]
    max_crashes: u32,
    /// Pre-vote (thesis §9.6).
    #[arg(long, default_value = "on")]
    pre_vote: OnOff,
    /// Check quorum (thesis §6.2).
    #[arg(long, default_value = "on")]
    check_quorum: OnOff,
    /// Leader stickiness (thesis §4.2.3).
    #[arg(long, default_value = "on")]
    stickiness: OnOff,
    /// The leader lease (thesis §6.4.1); needs stickiness.
    #[arg(long, default_value = "on")]
    lease: OnOff,
    /// etcd-raft's timer rule (a candidate refused by a majority steps down at once) instead
    /// of Figure 2's.
    #[arg(long)]
    reset_on_step_down: bool,
    /// Whether a timer may fire late (a slow or paused node; covers every longer timeout).
    #[arg(long, default_value = "off")]
    late_timers: OnOff,
    /// Whether the network may duplicate messages.
    #[arg(long, default_value = "on")]
    duplicates: OnOff,
    /// Whether a hard-state write is a step of its own (a node may crash before it lands).
    #[arg(long, default_value = "on")]
    async_writes: OnOff,
    /// Search depth first: memory grows with the depth, not the frontier, but a counterexample
    /// is no longer a shortest one.
    #[arg(long)]
    depth_first: bool,
    /// Stop at the first broken safety property (the run is then reported incomplete).
    #[arg(long)]
    stop_on_failure: bool,
    /// Stop after this many states (the run is then reported incomplete).
    #[arg(long, default_value_t = 50_000_000)]
    max_states: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Write the first broken property's execution here, as JSON.
    #[arg(long)]
    counterexample: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs the checker; exits 1 when a safety property is broken. A liveness example missing
/// from a complete search is reported, not failed: the bounds may be too small to reach it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = Options {
        voters: args.nodes,
        learners: args.learners,
        timeout_steps: args.timeout,
        behind: args.behind,
        pre_vote: args.pre_vote.on(),
        check_quorum: args.check_quorum.on(),
        stickiness: args.stickiness.on(),
        lease: args.lease.on(),
        timer_rule: if args.reset_on_step_down {
            TimerRule::ResetOnStepDown
        } else {
            TimerRule::Figure2
        },
        max_term: args.max_term,
        horizon_steps: args.horizon,
        max_in_flight: args.max_in_flight,
        max_crashes: args.max_crashes,
        late_timers: args.late_timers.on(),
        duplicates: args.duplicates.on(),
        async_writes: args.async_writes.on(),
        depth_first: args.depth_first,
        stop_on_failure: args.stop_on_failure,
        max_states: args.max_states,
        threads: args.threads,
    };
    options.validate()?;
    eprintln!(
        "model-check: {} voters, {} learners, heartbeat {} ms, timeout {} ms, pre-vote {}, check \
         quorum {}, stickiness {}, lease {}; bounds: term {}, horizon {} ms, {} in flight, {} \
         crash(es)",
        options.voters,
        options.learners,
        STEP.as_millis(),
        STEP.as_millis() * u128::from(options.timeout_steps),
        args.pre_vote,
        args.check_quorum,
        args.stickiness,
        args.lease,
        options.max_term,
        STEP.as_millis() * u128::from(options.horizon_steps),
        options.max_in_flight,
        options.max_crashes,
    );
    let bar = spinner();
    let report = model::check(&options, &mut |states, unique| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{states} states, {unique} unique"));
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(path) = &args.counterexample {
        let broken = report
            .properties
            .iter()
            .find(|p| p.expectation == Expectation::Always && !p.holds)
            .and_then(|p| p.counterexample.as_ref().map(|t| (p.name, t)));
        if let Some((name, trace)) = broken {
            let text = serde_json::to_string_pretty(&serde_json::json!({
                "property": name,
                "options": &report.options,
                "trace": trace,
            }))?;
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("counterexample of \"{name}\" written to {}", path.display());
        }
    }
    if args.json {
        output::print_json(&report)?;
    } else {
        print_report(&report);
    }
    let failed = report.properties.iter().any(|p| p.expectation == Expectation::Always && !p.holds);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn spinner() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} model-check: {msg}, {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// The JSON Schema of `model-check --json`.
pub fn schema() -> schemars::Schema {
    output::schema_of::<Report>(
        "raft-heartbeat model-check --json",
        "Every interleaving of a small cluster of real core nodes explored within bounds \
         (stateright): each property held or broken, with the shortest counterexample.",
    )
}

fn print_report(report: &Report) {
    println!(
        "{} search: {} states, {} unique (symmetry: {} renamings), depth {}, {:.1} s",
        if report.complete { "complete" } else { "INCOMPLETE" },
        report.states,
        report.unique_states,
        report.symmetry,
        report.max_depth,
        report.wall_ms as f64 / 1e3,
    );
    for p in &report.properties {
        let verdict = match (p.expectation, p.holds) {
            (Expectation::Always, true) => "holds",
            (Expectation::Always, false) => "BROKEN",
            (Expectation::Sometimes, true) => "example found",
            (Expectation::Sometimes, false) => "no example within the bounds",
        };
        println!("  {:<42} {:<9} {verdict}", p.name, format!("{:?}", p.expectation).to_lowercase());
    }
    for p in report.properties.iter().filter(|p| p.expectation == Expectation::Always && !p.holds) {
        let Some(trace) = &p.counterexample else { continue };
        println!("\ncounterexample: {}", p.name);
        if let Some(finding) = &trace.finding {
            println!("  {finding}");
        }
        for (i, s) in trace.steps.iter().enumerate() {
            println!(
                "  {:>3}. t={:>4} ms  {}\n                   {}",
                i + 1,
                s.at_ms,
                s.step,
                s.state
            );
        }
    }
}
