//! `raft-heartbeat experiment false-elections`: a healthy leader, a five-node cluster on a LAN,
//! and how often a follower still times out and how often that costs an election, per hour,
//! against loss, against the latency's tail (jitter), and against the heartbeats per minimum
//! timeout: simulated over many fault-free hours beside the closed forms (`closed_form`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::lab::false_elections::{self, Family, PerHour, Row};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::args::{parse_hours, ExperimentArgs};
use super::{output, plot, progress};

/// Values under this per hour are drawn at it (a log axis has no zero).
const FLOOR_PER_HOUR: f64 = 1e-3;

/// Options of `experiment false-elections`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Fault-free simulated hours per setting, in trials of at most one hour (`0.1` is six
    /// minutes).
    #[arg(long, default_value_t = 50.0, value_parser = parse_hours)]
    hours: f64,
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
        "raft-heartbeat experiment false-elections --json",
        "False timeouts and false elections per hour under a healthy leader, simulated beside the closed forms.",
    )
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.common.check_outputs()?;
    let started = std::time::Instant::now();
    let all = false_elections::settings();
    eprintln!(
        "false-elections: 5 nodes on a LAN, a healthy leader, {} settings x {} hours, seed {}",
        all.len(),
        args.hours,
        args.common.seed
    );
    let opts = false_elections::Options {
        hours: args.hours,
        seed: args.common.seed,
        jobs: args.common.jobs,
    };
    let bar = progress::Bar::new("false-elections");
    let rows = false_elections::run(&opts, &|s, d, t| bar.at(s, d, t))?;
    if args.common.json {
        output::print_json(&Output { rows: &rows })?;
    } else {
        println!(
            "{:<11}{:>8}{:>11}{:>6}{:>8}{:>7}{:>13}{:>13}{:>13}{:>13}",
            "family",
            "value",
            "timeouts",
            "loss",
            "p99 ms",
            "hours",
            "timeouts/h",
            "(closed)",
            "elections/h",
            "(closed)"
        );
        for r in &rows {
            println!(
                "{:<11}{:>8}{:>11}{:>6}{:>8}{:>7.1}{:>13.3}{:>13.3}{:>13.3}{:>13.3}",
                r.family.name(),
                r.value,
                format!("{}-{}", r.election_timeout_ms[0], r.election_timeout_ms[1]),
                r.loss,
                r.latency_p99_ms,
                r.hours,
                r.false_timeouts_per_hour.simulated,
                r.false_timeouts_per_hour.closed_form,
                r.false_elections_per_hour.simulated,
                r.false_elections_per_hour.closed_form
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

/// Which of a row's two rates a curve draws.
type Rate = fn(&Row) -> &PerHour;

/// Three panels, one per family: rates per hour on a log axis, simulated as points joined
/// by solid lines, closed forms dashed.
fn draw(path: &PathBuf, rows: &[Row]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1500, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 3));
    let families = [
        (Family::Loss, "loss (150-300 ms timeouts, LAN)", "message loss"),
        (Family::Jitter, "latency tail (150-300 ms, p50 0.3 ms)", "one-way latency p99, ms"),
        (
            Family::Heartbeats,
            "heartbeats per timeout (20% loss)",
            "minimum timeout / heartbeat interval",
        ),
    ];
    let hi = rows
        .iter()
        .map(|r| r.false_timeouts_per_hour.simulated.max(r.false_timeouts_per_hour.closed_form))
        .fold(1.0, f64::max)
        * 3.0;
    for (area, (family, title, x_desc)) in panels.iter().zip(families) {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.family == family).collect();
        let (lo_x, hi_x) =
            mine.iter().fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(r.value), b.max(r.value)));
        let pad = (hi_x - lo_x) * 0.05;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d((lo_x - pad)..(hi_x + pad), (FLOOR_PER_HOUR..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("per hour (at the floor: none seen)")
            .x_label_formatter(&|v| format!("{}", (v * 1000.0).round() / 1000.0))
            .y_label_formatter(&|v| format!("{v}"))
            .draw()?;
        let at = |v: f64| v.max(FLOOR_PER_HOUR);
        let series: [(&str, RGBColor, Rate); 2] = [
            ("false timeouts", BLUE, |r| &r.false_timeouts_per_hour),
            ("false elections", RED, |r| &r.false_elections_per_hour),
        ];
        for (name, color, rate) in series {
            let sim: Vec<(f64, f64)> =
                mine.iter().map(|r| (r.value, at(rate(r).simulated))).collect();
            chart
                .draw_series(LineSeries::new(sim.clone(), color.stroke_width(2)))?
                .label(format!("{name}, simulated"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(sim.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
            let closed: Vec<(f64, f64)> =
                mine.iter().map(|r| (r.value, at(rate(r).closed_form))).collect();
            chart
                .draw_series(DashedLineSeries::new(closed, 6, 4, color.stroke_width(1)))?
                .label(format!("{name}, closed form"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(1))
                });
        }
        let corner = if family == Family::Heartbeats {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        };
        plot::legend_at(&mut chart, corner)?;
    }
    root.present()?;
    Ok(())
}
