//! `raft-heartbeat experiment sweep`: failover on a LAN against the width of the timeout range
//! (minimum fixed at 150 ms) and against the minimum timeout (width fixed at 150 ms), as a
//! table, JSON rows, or the two families of CDFs in SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::lab::sweep::{self, Family, Row};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::args::ExperimentArgs;
use super::{output, plot, progress};

/// Options of `experiment sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Failovers per setting.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..))]
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
        "raft-heartbeat experiment sweep --json",
        "Failover on a LAN against the width of the election timeout range and against its minimum.",
    )
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.common.check_outputs()?;
    let started = std::time::Instant::now();
    let settings = sweep::settings();
    eprintln!(
        "sweep: 5 nodes on a LAN (0.3 ms one way, p99 1 ms), {} settings x {} failovers, seed {}",
        settings.len(),
        args.trials,
        args.common.seed
    );
    let opts = sweep::Options { trials: args.trials, seed: args.common.seed };
    let bar = progress::Bar::new("sweep");
    let rows = sweep::run(&opts, &|s, d, t| bar.at(s, d, t))?;
    if args.common.json {
        output::print_json(&Output { rows: &rows })?;
    } else {
        println!(
            "{:<8}{:>10}{:>13}{:>8}{:>10}{:>10}{:>10}{:>8}   (failover, ms)",
            "family", "heartbeat", "timeouts", "trials", "p50", "p99", "max", "split"
        );
        for r in &rows {
            println!(
                "{:<8}{:>10}{:>13}{:>8}{:>10.1}{:>10.1}{:>10.1}{:>8.4}",
                r.family.name(),
                r.heartbeat_ms,
                format!("{}-{}", r.election_timeout_ms[0], r.election_timeout_ms[1]),
                r.trials,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.split_vote_rate
            );
        }
    }
    eprintln!("seed {}, {:.0} ms wall", args.common.seed, started.elapsed().as_secs_f64() * 1e3);
    if let Some(path) = &args.common.svg {
        draw(path, &rows).with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("figure written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Two panels of cumulative curves: by range, by minimum.
fn draw(path: &PathBuf, rows: &[Row]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);
    for (area, family, title) in [
        (&left, Family::Range, "minimum 150 ms, range widths 5-300 ms"),
        (&right, Family::Minimum, "range 150 ms wide, minimums 50-300 ms"),
    ] {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.family == family).collect();
        let hi = mine.iter().map(|r| r.p99_ms).fold(0.0, f64::max) * 1.3;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..hi, 0.0..1.0f64)?;
        chart.configure_mesh().x_desc("failover, ms").y_desc("fraction of failovers").draw()?;
        for (i, r) in mine.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let n = r.sorted_ms.len().max(1) as f64;
            let points = r.sorted_ms.iter().enumerate().map(|(j, &x)| (x, (j + 1) as f64 / n));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(format!("{}-{} ms", r.election_timeout_ms[0], r.election_timeout_ms[1]))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        plot::legend(&mut chart)?;
    }
    root.present()?;
    Ok(())
}
