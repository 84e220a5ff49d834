//! `raft-heartbeat experiment figure16`: the Raft paper's Figure 16, as a table, JSON or SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::core::TimerRule;
use raft_heartbeat::lab::figure16::{self, CurveResult, Figure16, Model};
use raft_heartbeat::sim::{Latency, VoteWrites};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::args::{check_output, ExperimentArgs};
use super::output;
use super::progress;

/// Options of `experiment figure16`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Trials per curve (default: the paper's 1000, and 100 for 150-150). The 150-150 curve
    /// always gets a tenth of this, as in the paper.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    #[command(flatten)]
    common: ExperimentArgs,
    /// When a node redraws its election timeout: `figure2` (Raft's and LogCabin's, which the
    /// paper measured) or `reset-on-step-down` (etcd-raft's), to compare the two.
    #[arg(long, value_enum, default_value_t = Rule::Figure2)]
    timer_rule: Rule,
    /// Timers fire up to this late, uniformly, ms (the model: 0.1). The 150-150 curve depends
    /// on it most.
    #[arg(long, value_parser = non_negative)]
    timer_lateness_ms: Option<f64>,
    /// The step of the timeout draw, ms; 0 for any duration (the model: 1, as LogCabin drew).
    #[arg(long, value_parser = non_negative)]
    timer_granularity_ms: Option<f64>,
    /// Mean of one disk write, ms (the model: see docs/figure16.md).
    #[arg(long, value_parser = non_negative)]
    disk_mean_ms: Option<f64>,
    /// Standard deviation of one disk write, ms.
    #[arg(long, value_parser = non_negative)]
    disk_std_ms: Option<f64>,
    /// A voter writes its new term and vote `together` or `term-then-vote` (the model, as
    /// LogCabin did).
    #[arg(long, value_enum)]
    vote_writes: Option<Writes>,
    /// Also run 150-150 and 150-151 at each of several timer latenesses (0.05 to 0.5 ms) and
    /// draw their cumulative curves to this SVG file.
    #[arg(long)]
    lateness_svg: Option<PathBuf>,
}

/// [`VoteWrites`], as a command-line value.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Writes {
    /// One write for the term and the vote.
    Together,
    /// The term, then the vote.
    TermThenVote,
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a non-negative number of ms")),
    }
}

impl Args {
    /// The paper's setup as modelled, with any parameter given on the command line instead.
    fn model(&self) -> Model {
        let base = Model::logcabin_2014();
        let (mean, std) = match base.disk {
            Latency::Normal { mean_ms, std_ms } => (mean_ms, std_ms),
            _ => (0.0, 0.0),
        };
        Model {
            timer_rule: self.timer_rule.into(),
            timer_granularity_ms: self.timer_granularity_ms.unwrap_or(base.timer_granularity_ms),
            timer_lateness_ms: self.timer_lateness_ms.unwrap_or(base.timer_lateness_ms),
            disk: Latency::Normal {
                mean_ms: self.disk_mean_ms.unwrap_or(mean),
                std_ms: self.disk_std_ms.unwrap_or(std),
            },
            vote_writes: match self.vote_writes {
                None => base.vote_writes,
                Some(Writes::Together) => VoteWrites::Together,
                Some(Writes::TermThenVote) => VoteWrites::TermThenVote,
            },
            ..base
        }
    }
}

/// The core's [`TimerRule`], as a command-line value (the names its serde form uses).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Raft's Figure 2 and LogCabin's: timers redrawn on heartbeats, granted votes, campaigns.
    Figure2,
    /// etcd-raft's: also redrawn when a candidate steps down.
    ResetOnStepDown,
}

impl Rule {
    /// The name given on the command line, e.g. `reset-on-step-down`.
    fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default()
    }
}

impl From<Rule> for TimerRule {
    fn from(rule: Rule) -> Self {
        match rule {
            Rule::Figure2 => TimerRule::Figure2,
            Rule::ResetOnStepDown => TimerRule::ResetOnStepDown,
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct Output<'a> {
    seed: u64,
    timer_rule: TimerRule,
    timer_lateness_ms: f64,
    timer_granularity_ms: f64,
    disk: &'a Latency,
    vote_writes: VoteWrites,
    curves: &'a [CurveResult],
    wall_ms: f64,
}

/// The JSON Schema of `--json`'s output.
pub fn schema() -> Schema {
    output::schema_of::<Output<'static>>(
        "raft-heartbeat experiment figure16 --json",
        "Figure 16 of the Raft paper reproduced: the time without a leader after a crash, per timeout range.",
    )
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.common.check_outputs()?;
    if let Some(path) = &args.lateness_svg {
        check_output(path)?;
    }
    let started = std::time::Instant::now();
    let curves = figure16::curves();
    let total: u64 = curves.iter().map(|c| figure16::trials_for(c, args.trials)).sum();
    let rule = TimerRule::from(args.timer_rule);
    let opts = figure16::Options {
        trials: args.trials,
        model: args.model(),
        lateness: args.lateness_svg.is_some(),
        seed: args.common.seed,
        jobs: args.common.jobs,
    };
    let model = &opts.model;
    eprintln!(
        "figure16: {} curves, {total} trials, seed {}, timer rule {}",
        curves.len(),
        args.common.seed,
        args.timer_rule.name()
    );
    let bar = progress::Bar::new("figure16");
    // The curves' own wall time, without the lateness study's runs after them.
    let curves_ms = std::cell::Cell::new(None);
    let Figure16 { curves: results, by_lateness } = figure16::run(&opts, &|stage, done, total| {
        bar.at(stage, done, total);
        if stage == "curves" && done == total {
            curves_ms.set(Some(started.elapsed().as_secs_f64() * 1e3));
        }
    })?;
    let wall_ms = curves_ms.get().unwrap_or_else(|| started.elapsed().as_secs_f64() * 1e3);
    if args.common.json {
        output::print_json(&Output {
            seed: args.common.seed,
            timer_rule: rule,
            timer_lateness_ms: model.timer_lateness_ms,
            timer_granularity_ms: model.timer_granularity_ms,
            disk: &model.disk,
            vote_writes: model.vote_writes,
            curves: &results,
            wall_ms,
        })?;
    } else {
        println!(
            "{:<10}{:>7}{:>10}{:>10}{:>10}{:>10}{:>10}   (time without leader, ms)",
            "curve", "trials", "mean", "p50", "p90", "p99", "max"
        );
        for r in &results {
            let s = &r.time_without_leader_ms;
            println!(
                "{:<10}{:>7}{:>10.1}{:>10.1}{:>10.1}{:>10.1}{:>10.1}",
                r.label, s.count, s.mean, s.p50, s.p90, s.p99, s.max
            );
        }
        println!(
            "seed {}, timer rule {}, {:.0} ms wall",
            args.common.seed,
            args.timer_rule.name(),
            wall_ms
        );
    }
    if let Some(path) = &args.common.svg {
        draw(path, &results).with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("figure written to {}", path.display());
    }
    if let Some(path) = &args.lateness_svg {
        draw_lateness(path, &by_lateness)
            .with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("lateness figure written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// One panel per nearly-equal range (150-150, 150-151): a cumulative curve per lateness.
fn draw_lateness(path: &PathBuf, runs: &[(f64, CurveResult)]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1100, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);
    for (area, label) in [(&left, "150-150"), (&right, "150-151")] {
        let mine: Vec<&(f64, CurveResult)> =
            runs.iter().filter(|(_, r)| r.label == label).collect();
        let hi = mine.iter().flat_map(|(_, r)| r.samples.last()).fold(1000.0f64, |a, b| a.max(*b));
        let lo = mine.iter().flat_map(|(_, r)| r.samples.first()).fold(hi, |a, b| a.min(*b));
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{label} ms: timers up to L ms late"), ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d((lo * 0.8..hi * 1.2).log_scale(), 0f64..100f64)?;
        chart
            .configure_mesh()
            .x_desc("time without leader, ms (log scale)")
            .y_desc("cumulative %")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (k, (lateness, r)) in mine.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let n = r.samples.len().max(1) as f64;
            let points =
                r.samples.iter().enumerate().map(|(i, &x)| (x, 100.0 * (i + 1) as f64 / n));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(format!("L = {lateness} ms"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        super::plot::legend(&mut chart)?;
    }
    root.present()?;
    Ok(())
}

/// Two panels of cumulative distributions: randomness (log x) above, scale below.
fn draw(path: &PathBuf, results: &[CurveResult]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (900, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(450);
    let randomness: Vec<&CurveResult> =
        results.iter().filter(|r| r.label.starts_with("150-")).collect();
    let scale: Vec<&CurveResult> =
        results.iter().filter(|r| !r.label.starts_with("150-") || r.label == "150-300").collect();
    let max_top =
        randomness.iter().flat_map(|r| r.samples.last()).fold(1000.0f64, |a, b| a.max(*b));
    let mut chart = ChartBuilder::on(&top)
        .caption("time without leader: randomness (log scale)", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d((100f64..max_top * 1.1).log_scale(), 0f64..100f64)?;
    chart.configure_mesh().x_desc("ms").y_desc("cumulative %").draw()?;
    plot(&mut chart, &randomness)?;
    let max_bottom =
        scale.iter().flat_map(|r| r.samples.last()).fold(100.0f64, |a, b| a.max(*b)).min(600.0);
    let mut chart = ChartBuilder::on(&bottom)
        .caption("time without leader: scale", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..max_bottom, 0f64..100f64)?;
    chart.configure_mesh().x_desc("ms").y_desc("cumulative %").draw()?;
    plot(&mut chart, &scale)?;
    root.present()?;
    Ok(())
}

fn plot<'a, X, DB>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    curves: &[&CurveResult],
) -> anyhow::Result<()>
where
    X: Ranged<ValueType = f64>,
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
{
    for (k, r) in curves.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let n = r.samples.len().max(1) as f64;
        let points = r.samples.iter().enumerate().map(|(i, &x)| (x, 100.0 * (i + 1) as f64 / n));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(format!("{} ms", r.label))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    super::plot::legend(chart)?;
    Ok(())
}
