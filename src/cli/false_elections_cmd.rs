//! `raft-heartbeat experiment false-elections`: a healthy leader, a five-node cluster on a LAN,
//! and how often a follower still times out and how often that costs an election, per hour,
//! against loss, against the latency's tail (jitter), and against the heartbeats per minimum
//! timeout: simulated over many fault-free hours beside `advise`'s closed forms.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::advise::{self, model, model::Environment, model::Timing, Profile};
use raft_heartbeat::sim::{self, RunOptions};
use serde::Serialize;

use super::args::ExperimentArgs;
use super::{plot, steps};

/// Heartbeat interval of every row, ms.
const HEARTBEAT_MS: f64 = 50.0;
/// Losses tried at 150-300 ms timeouts and a LAN's latency.
const LOSSES: [f64; 5] = [0.0, 0.05, 0.1, 0.2, 0.3];
/// Latency p99s tried (p50 0.3 ms), ms, at 150-300 ms timeouts and no loss.
const TAILS_MS: [f64; 5] = [1.0, 10.0, 30.0, 60.0, 100.0];
/// Minimum timeouts in heartbeats tried (range `[m, 2m]`), at 20% loss.
const HEARTBEATS_PER_TIMEOUT: [f64; 5] = [1.5, 2.0, 3.0, 4.0, 6.0];
/// Loss of the heartbeats-per-timeout family: enough to see the curve fall over five decades.
const LOSS_OF_HEARTBEATS_FAMILY: f64 = 0.2;
/// Values under this per hour are drawn at it (a log axis has no zero).
const FLOOR_PER_HOUR: f64 = 1e-3;

/// Options of `experiment false-elections`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Fault-free simulated hours per setting (one trial each).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    hours: u64,
    #[command(flatten)]
    common: ExperimentArgs,
}

/// A rate per hour, simulated and by `advise`'s closed form.
#[derive(Serialize)]
struct PerHour {
    simulated: f64,
    closed_form: f64,
}

/// One setting.
#[derive(Serialize)]
struct Row {
    /// `"loss"`, `"jitter"` or `"heartbeats"`: what the family varies.
    family: &'static str,
    /// The varied value: the loss, the latency's p99 (ms), or the minimum timeout in
    /// heartbeats.
    value: f64,
    heartbeat_ms: f64,
    election_timeout_ms: [f64; 2],
    loss: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    hours: f64,
    /// Election timers fired on followers of a healthy leader.
    false_timeouts_per_hour: PerHour,
    /// Leaders elected after each trial's first (every one is false: nothing failed), and
    /// the closed form's elections: false timeouts whose pre-vote wins, and check-quorum
    /// step-downs.
    false_elections_per_hour: PerHour,
    /// Simulated: elections that put another node in charge (the deposed leader sometimes
    /// wins again).
    leader_changes_per_hour: f64,
}

#[derive(Serialize)]
struct Output<'a> {
    rows: &'a [Row],
}

/// One setting to run.
struct Setting {
    family: &'static str,
    value: f64,
    profile: Profile,
    timing: Timing,
}

fn lan(loss: f64, p99: f64) -> Profile {
    Profile { loss, fsync_p50_ms: Some(1.0), fsync_p99_ms: Some(1.5), ..Profile::new(5, 0.3, p99) }
}

fn timing(min_ms: f64) -> Timing {
    Timing { heartbeat_ms: HEARTBEAT_MS, min_ms, max_ms: 2.0 * min_ms, step_ms: 1.0 }
}

fn settings() -> Vec<Setting> {
    let mut out = Vec::new();
    for loss in LOSSES {
        out.push(Setting {
            family: "loss",
            value: loss,
            profile: lan(loss, 1.0),
            timing: timing(150.0),
        });
    }
    for p99 in TAILS_MS {
        out.push(Setting {
            family: "jitter",
            value: p99,
            profile: lan(0.0, p99),
            timing: timing(150.0),
        });
    }
    for k in HEARTBEATS_PER_TIMEOUT {
        out.push(Setting {
            family: "heartbeats",
            value: k,
            profile: lan(LOSS_OF_HEARTBEATS_FAMILY, 1.0),
            timing: timing(k * HEARTBEAT_MS),
        });
    }
    out
}

fn measure(s: &Setting, hours: u64, seed: u64, jobs: usize) -> anyhow::Result<Row> {
    s.profile.validate()?;
    let scenario = advise::steady_hours_scenario(&s.profile, &s.timing, hours);
    let opts = RunOptions { seed, jobs, keep_trial_results: true, ..RunOptions::default() };
    let report = sim::run(&scenario, &opts, &|_| {})?;
    let hours = report.sim_seconds / 3600.0;
    let false_elections: u64 =
        report.trial_results.iter().map(|r| r.leaders_elected.saturating_sub(1)).sum();
    if let Some(v) = report.violations.first() {
        anyhow::bail!(
            "{} = {}: invariant {:?} broken: {}",
            s.family,
            s.value,
            v.invariant,
            v.detail
        );
    }
    let env = Environment::of(&s.profile);
    Ok(Row {
        family: s.family,
        value: s.value,
        heartbeat_ms: s.timing.heartbeat_ms,
        election_timeout_ms: [s.timing.min_ms, s.timing.max_ms],
        loss: s.profile.loss,
        latency_p50_ms: s.profile.latency_p50_ms,
        latency_p99_ms: s.profile.latency_p99_ms,
        hours,
        false_timeouts_per_hour: PerHour {
            simulated: report.false_suspicions.per_hour,
            closed_form: model::false_timeouts_per_day(&s.timing, &env) / 24.0,
        },
        false_elections_per_hour: PerHour {
            simulated: false_elections as f64 / hours,
            closed_form: model::false_elections_per_day(&s.timing, &env) / 24.0,
        },
        leader_changes_per_hour: report.spurious_leader_changes.per_hour,
    })
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let all = settings();
    eprintln!(
        "false-elections: 5 nodes on a LAN, a healthy leader, {} settings x {} hours, seed {}",
        all.len(),
        args.hours,
        args.common.seed
    );
    let rows = steps::each(&all, "settings", |s| {
        measure(s, args.hours, args.common.seed, args.common.jobs)
    })?;
    if args.common.json {
        println!("{}", serde_json::to_string(&Output { rows: &rows })?);
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
                r.family,
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
        ("loss", "loss (150-300 ms timeouts, LAN)", "message loss"),
        ("jitter", "latency tail (150-300 ms, p50 0.3 ms)", "one-way latency p99, ms"),
        ("heartbeats", "heartbeats per timeout (20% loss)", "minimum timeout / heartbeat interval"),
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
        let corner = if family == "heartbeats" {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        };
        plot::legend_at(&mut chart, corner)?;
    }
    root.present()?;
    Ok(())
}
