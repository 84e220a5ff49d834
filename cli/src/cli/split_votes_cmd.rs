//! `raft-heartbeat experiment split-votes`: the Raft thesis's split votes (§9.2), simulated
//! beside the closed form, as a table, JSON or SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::closed_form::split_votes::first_round_fails;
use raft_heartbeat::lab::split_votes::{self, Row, LATENCIES_MS, MIN_MS, RANGE_MS};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::args::ExperimentArgs;
use super::{output, plot, progress};

/// Options of `experiment split-votes`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Trials per latency.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    trials: u64,
    #[command(flatten)]
    common: ExperimentArgs,
}

#[derive(Serialize, JsonSchema)]
struct Output<'a> {
    rows: &'a [Row],
}

/// The JSON Schema of `--json`'s output.
pub fn schema() -> Schema {
    output::schema_of::<Output<'static>>(
        "raft-heartbeat experiment split-votes --json",
        "Elections needing more than one round against the latency, simulated beside the thesis's closed form (§9.2).",
    )
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.common.check_outputs()?;
    let started = std::time::Instant::now();
    eprintln!(
        "split-votes: 5 servers, leader crashed, timeouts {MIN_MS}-{} ms, {} latencies x {} \
         trials, seed {}",
        MIN_MS + RANGE_MS,
        LATENCIES_MS.len(),
        args.trials,
        args.common.seed
    );
    let opts = split_votes::Options {
        trials: args.trials,
        seed: args.common.seed,
        jobs: args.common.jobs,
    };
    let bar = progress::Bar::new("split-votes");
    let rows = split_votes::run(&opts, &|s, d, t| bar.at(s, d, t))?;
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    if args.common.json {
        output::print_json(&Output { rows: &rows })?;
    } else {
        println!(
            "{:>10}{:>9}{:>12}{:>13}{:>8}   (elections needing more than one round)",
            "latency ms", "trials", "simulated", "closed form", "ratio"
        );
        for r in &rows {
            let ratio = if r.closed_form > 0.0 { r.simulated / r.closed_form } else { f64::NAN };
            println!(
                "{:>10.1}{:>9}{:>12.5}{:>13.5}{:>8.2}",
                r.latency_ms, r.trials, r.simulated, r.closed_form, ratio
            );
        }
    }
    for r in rows.iter().filter(|r| r.unrecovered > 0) {
        eprintln!("{} ms: {} trials found no leader in time", r.latency_ms, r.unrecovered);
    }
    eprintln!("seed {}, {:.0} ms wall", args.common.seed, wall_ms);
    if let Some(path) = &args.common.svg {
        draw(path, &rows).with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("figure written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Both fractions against the latency, log-log: the closed form as a line over the whole
/// range, the simulated fractions as points.
fn draw(path: &PathBuf, rows: &[Row]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (800, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let floor = rows
        .iter()
        .flat_map(|r| [r.simulated, r.closed_form])
        .filter(|v| *v > 0.0)
        .fold(1.0f64, f64::min)
        / 2.0;
    let (lo, hi) = (LATENCIES_MS[0] * 0.8, LATENCIES_MS[LATENCIES_MS.len() - 1] * 1.25);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("split votes: 5 servers, leader crashed, timeouts over {RANGE_MS} ms"),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale(), (floor..1.0f64).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("one-way latency, ms")
        .y_desc("elections needing more than one round")
        .draw()?;
    let line = (0..=200).map(|i| {
        let x = lo * (hi / lo).powf(f64::from(i) / 200.0);
        (x, first_round_fails(4, 3, x / RANGE_MS).max(floor))
    });
    chart
        .draw_series(LineSeries::new(line, BLUE.stroke_width(2)))?
        .label("closed form (thesis §9.2 model)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    let points = rows.iter().filter(|r| r.simulated > 0.0);
    chart
        .draw_series(points.map(|r| Circle::new((r.latency_ms, r.simulated), 5, RED.filled())))?
        .label("simulated")
        .legend(|(x, y)| Circle::new((x + 8, y), 5, RED.filled()));
    plot::legend(&mut chart)?;
    root.present()?;
    Ok(())
}
