//! `raft-heartbeat experiment detectors`: every follower-side detector of a leader's failure
//! (Raft's fixed range, the adaptive timeout, phi accrual), each at several thresholds, on
//! eight environments, measured the way Chen, Toueg & Aguilera (2002) measure a failure
//! detector and by what it costs Raft: failover after a leader crash, and false elections
//! under a healthy leader.
//!
//! Each row runs two scenarios of the environment: leader crashes (failover percentiles and
//! the detection time `T_D`), and fault-free hours (false elections, `T_MR`, `T_M`, `P_A`).
//! The timing is the environment's usual one; the adaptive detectors get the same range and a
//! timeout floor of `--floor-heartbeats` heartbeat intervals, which shrinks the voters' window
//! and the lease with it (docs/architecture.md, *The promise*).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::lab::detectors::{self, Condition, Row};
use raft_heartbeat::lab::LabError;
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::args::{parse_hours, ExperimentArgs};
use super::{output, plot, progress};

/// Options of `experiment detectors`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Leader crashes per row.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    trials: u64,
    /// Fault-free simulated hours per row, in trials of at most one hour (`0.1` is six
    /// minutes).
    #[arg(long, default_value_t = 10.0, value_parser = parse_hours)]
    hours: f64,
    /// The adaptive and phi detectors' timeout floor, in heartbeat intervals (above 1, at
    /// most the usual minimum timeout's).
    #[arg(long, default_value_t = 1.5)]
    floor_heartbeats: f64,
    /// Run only these environments (comma-separated names; default: all).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Turn local health on in every detector, with this threshold in heartbeat intervals
    /// (Config::local_pause_threshold): a node defers its election timeout once after a stall
    /// of its own. Off by default.
    #[arg(long)]
    local_health_heartbeats: Option<f64>,
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
        "raft-heartbeat experiment detectors --json",
        "The followers' failure detectors over their thresholds in eight environments: failover, false elections and Chen, Toueg & Aguilera's quality of service.",
    )
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.common.check_outputs()?;
    let started = std::time::Instant::now();
    let opts = detectors::Options {
        trials: args.trials,
        hours: args.hours,
        floor_heartbeats: args.floor_heartbeats,
        only: args.only.clone(),
        local_health_heartbeats: args.local_health_heartbeats,
        seed: args.common.seed,
        jobs: args.common.jobs,
    };
    let conditions = opts.conditions().map_err(flag_named)?;
    eprintln!(
        "detectors: {} environments x {} detector settings, {} crashes and {} quiet hours each, \
         floor {} heartbeats, local health {}, seed {}",
        conditions.len(),
        detectors::detectors().len(),
        args.trials,
        args.hours,
        args.floor_heartbeats,
        args.local_health_heartbeats.map_or("off".into(), |k| format!("{k} heartbeats")),
        args.common.seed
    );
    let bar = progress::Bar::new("detectors");
    let rows = detectors::run(&opts, &|s, d, t| bar.at(s, d, t))?;
    if args.common.json {
        output::print_json(&Output { rows: &rows })?;
    } else {
        print_table(&conditions, &rows);
    }
    eprintln!("seed {}, {:.0} ms wall", args.common.seed, started.elapsed().as_secs_f64() * 1e3);
    if let Some(path) = &args.common.svg {
        draw(path, &conditions, &rows, args.hours)
            .with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("figure written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A refused option, named by its flag (`floor_heartbeats` is `--floor-heartbeats`).
fn flag_named(e: LabError) -> anyhow::Error {
    match e {
        LabError::Invalid { option, problem } => {
            anyhow::anyhow!("--{}: {problem}", option.replace('_', "-"))
        }
        other => other.into(),
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

fn print_table(envs: &[Condition], rows: &[Row]) {
    for env in envs {
        println!("{}: {}", env.name, env.what);
        println!(
            "  {:<9}{:>10}{:>9}{:>9}{:>9}{:>13}{:>9}{:>10}{:>9}{:>10}",
            "detector",
            "threshold",
            "floor",
            "p50 ms",
            "p99 ms",
            "false el./h",
            "T_D ms",
            "T_MR s",
            "T_M ms",
            "P_A"
        );
        for r in rows.iter().filter(|r| r.scenario == env.name) {
            println!(
                "  {:<9}{:>10}{:>9}{:>9.1}{:>9.1}{:>13.2}{:>9.1}{:>10}{:>9}{:>10.6}",
                r.detector,
                r.threshold,
                r.floor_ms,
                r.failover_ms.p50,
                r.failover_ms.p99,
                r.false_elections_per_hour,
                r.t_d_ms,
                opt(r.t_mr_seconds, 1),
                opt(r.t_m_ms, 1),
                r.p_a
            );
        }
    }
}

/// One panel per environment: failover p50 against false elections per hour (log), each
/// detector a curve through its thresholds, each point labelled with its threshold.
fn draw(path: &PathBuf, envs: &[Condition], rows: &[Row], hours: f64) -> anyhow::Result<()> {
    let columns = envs.len().min(4);
    let lines = envs.len().div_ceil(columns);
    let root =
        SVGBackend::new(path, (430 * columns as u32, 400 * lines as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((lines, columns));
    // A rate of none in the hours run is drawn at half the least rate it could have shown.
    let none = 0.5 / hours;
    let series: [(&str, RGBColor); 3] = [("fixed", BLACK), ("adaptive", BLUE), ("phi", RED)];
    let x = |r: &Row| r.false_elections_per_hour.max(none);
    // One scale for every panel, so environments compare at a glance.
    let hi_x = rows.iter().map(x).fold(100.0 * none, f64::max) * 3.0;
    for (area, env) in panels.iter().zip(envs) {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.scenario == env.name).collect();
        let hi_y = mine.iter().map(|r| r.failover_ms.p50).fold(1.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(area)
            .caption(env.name, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(52)
            .build_cartesian_2d((none * 0.7..hi_x).log_scale(), 0.0..hi_y)?;
        chart
            .configure_mesh()
            .x_desc(format!("false elections per hour (left edge: none in {hours} h)"))
            .y_desc("failover p50, ms")
            .x_label_formatter(&|v| rate_label(*v))
            .draw()?;
        for (name, color) in series {
            let points: Vec<(f64, f64, f64)> = mine
                .iter()
                .filter(|r| r.detector == name)
                .map(|r| (x(r), r.failover_ms.p50, r.threshold))
                .collect();
            let labels = threshold_labels(&points);
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.0, p.1)),
                    color.stroke_width(2),
                ))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(labels.into_iter().map(|(x, y, label)| {
                EmptyElement::at((x, y))
                    + Circle::new((0, 0), 4, color.filled())
                    // Phi's labels below its points, where they do not hide the adaptive's.
                    + Text::new(
                        label,
                        (6, if name == "phi" { 2 } else { -14 }),
                        ("sans-serif", 12).into_font().color(&color),
                    )
            }))?;
        }
        plot::legend_at(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    root.present()?;
    Ok(())
}

/// A log axis's tick as a person writes it: `0.05`, `1`, `300`.
fn rate_label(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let digits = (-v.log10()).ceil() as usize;
        format!("{v:.digits$}")
    }
}

/// Each point with its threshold, runs of points drawn at the same place (a floor that binds
/// every threshold) merged into one labelled `first-last`.
fn threshold_labels(points: &[(f64, f64, f64)]) -> Vec<(f64, f64, String)> {
    let same = |a: &(f64, f64, f64), b: &(f64, f64, f64)| {
        (a.0 / b.0 - 1.0).abs() < 0.02 && (a.1 - b.1).abs() < 2.0
    };
    let mut out = Vec::new();
    let mut first = 0;
    for i in 1..=points.len() {
        if i < points.len() && same(&points[i], &points[first]) {
            continue;
        }
        let (x, y, t) = points[first];
        let last = points[i - 1].2;
        out.push((x, y, if i - 1 > first { format!("{t}-{last}") } else { format!("{t}") }));
        first = i;
    }
    out
}
