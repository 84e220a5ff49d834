//! `raft-heartbeat advise`: heartbeat interval, timeouts and lease for a measured network, as a
//! table, JSON or the predicted failover CDF in SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use plotters::prelude::*;
use raft_heartbeat::advise::{self, Advice, Options, Profile};
use raft_heartbeat::closed_form;

use super::args::check_output;
use super::metrics_source;
use super::output;
use super::plot;
use super::progress::Bar;

/// The JSON Schema of `advise --json`.
pub fn schema() -> schemars::Schema {
    output::schema_of::<raft_heartbeat::advise::Advice>(
        "raft-heartbeat advise --json",
        "The recommended heartbeat interval, election timeouts and lease for a measured network and \
         host, with the assumptions made, the search that chose them, the closed forms and the \
         simulator's measurements, and the settings for this crate and its peers.",
    )
}

/// Options of `advise`. Flags override the `--config` file.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Voting members.
    #[arg(long)]
    nodes: Option<u64>,
    /// One-way latency, median, ms.
    #[arg(long)]
    latency_p50_ms: Option<f64>,
    /// One-way latency, 99th percentile, ms.
    #[arg(long)]
    latency_p99_ms: Option<f64>,
    /// One-way latency, 99.9th percentile, ms.
    #[arg(long)]
    latency_p999_ms: Option<f64>,
    /// Probability that a message is lost.
    #[arg(long)]
    loss: Option<f64>,
    /// Durable write of term and vote, median, ms.
    #[arg(long)]
    fsync_p50_ms: Option<f64>,
    /// Durable write of term and vote, 99th percentile, ms.
    #[arg(long)]
    fsync_p99_ms: Option<f64>,
    /// The longest stall expected on a leader (GC, VM, a throttled container), ms (default:
    /// the host's).
    #[arg(long)]
    max_pause_ms: Option<f64>,
    /// How late the host's timers fire, at worst, ms (default: the host's).
    #[arg(long)]
    timer_lateness_ms: Option<f64>,
    /// The host assumed for the figures not given: `cloud` (fsync p50 1 ms, p99 10 ms, leader
    /// pauses to 50 ms, timers 1 ms late) or `ideal` (none of these: for study only).
    #[arg(long)]
    host: Option<advise::Host>,
    /// Bound on two clocks' rate difference, as a fraction (default 0.05).
    #[arg(long)]
    clock_drift: Option<f64>,
    /// The host's timer step, whole ms (default 1).
    #[arg(long)]
    timer_granularity_ms: Option<f64>,
    /// Goal: failover at the 99th percentile, ms.
    #[arg(long)]
    failover_p99_ms: Option<f64>,
    /// Goal: elections while the leader lives, cluster-wide, per day.
    #[arg(long)]
    false_elections_per_day: Option<f64>,
    /// Build the profile from running nodes' metrics instead of flags: `http://` endpoints
    /// (`node --metrics-addr`) or saved exposition text, one or more; the round trips and
    /// unanswered heartbeats give the latency and loss, the write and timer histograms the
    /// host's figures where they saw enough. Flags given too override what was measured.
    #[arg(long, num_args = 1.., value_name = "URL_OR_FILE")]
    from_metrics: Vec<String>,
    /// A TOML profile with the same keys (`nodes`, `latency_p50_ms`, ...), where the latency
    /// may instead be a named distribution as in a scenario file (`latency = { dist = ... }`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The seed of every simulation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Trials of the recommended setting (and of each finalist).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..))]
    trials: u64,
    /// Simulated events the ranking may spend, in millions (about 3.5 million a second per
    /// core): more screens more candidates on a wide grid.
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    effort: u64,
    /// Worker threads per simulation (default: the cores, up to 8).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// Print exactly one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Draw the predicted failover CDF to this SVG file.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Write the recommended setting's failover scenario here, for `simulate`.
    #[arg(long)]
    scenario_out: Option<PathBuf>,
}

impl Args {
    fn profile(&self) -> anyhow::Result<Profile> {
        let mut p = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Profile::parse(&text).with_context(|| format!("in {}", path.display()))?
            }
            None if !self.from_metrics.is_empty() => {
                let scrape = metrics_source::scrape(&self.from_metrics)?;
                let measured = scrape.measured()?;
                let nodes = self.nodes.unwrap_or(measured.nodes as u64);
                let mut p = Profile::new(nodes, 1.0, 1.0);
                p.measure(measured);
                p
            }
            None => {
                let missing = |name: &str| {
                    anyhow::anyhow!("--{name} is required without --config or --from-metrics")
                };
                Profile::new(
                    self.nodes.ok_or_else(|| missing("nodes"))?,
                    self.latency_p50_ms.ok_or_else(|| missing("latency-p50-ms"))?,
                    self.latency_p99_ms.ok_or_else(|| missing("latency-p99-ms"))?,
                )
            }
        };
        if self.config.is_some() && !self.from_metrics.is_empty() {
            anyhow::bail!("--from-metrics and --config are two profiles: give one");
        }
        for (field, given) in [
            ("latency_p50_ms", self.latency_p50_ms.is_some()),
            ("latency_p99_ms", self.latency_p99_ms.is_some()),
            ("loss", self.loss.is_some()),
            ("fsync_p50_ms", self.fsync_p50_ms.is_some()),
            ("fsync_p99_ms", self.fsync_p99_ms.is_some()),
            ("max_pause_ms", self.max_pause_ms.is_some()),
            ("timer_lateness_ms", self.timer_lateness_ms.is_some()),
        ] {
            if given {
                p.overridden(field);
            }
        }
        let set = |field: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *field = v;
            }
        };
        if let Some(n) = self.nodes {
            p.nodes = n;
        }
        set(&mut p.latency_p50_ms, self.latency_p50_ms);
        set(&mut p.latency_p99_ms, self.latency_p99_ms);
        set(&mut p.loss, self.loss);
        set(&mut p.clock_drift, self.clock_drift);
        set(&mut p.timer_granularity_ms, self.timer_granularity_ms);
        p.latency_p999_ms = self.latency_p999_ms.or(p.latency_p999_ms);
        p.max_pause_ms = self.max_pause_ms.or(p.max_pause_ms);
        p.timer_lateness_ms = self.timer_lateness_ms.or(p.timer_lateness_ms);
        p.host = self.host.unwrap_or(p.host);
        p.fsync_p50_ms = self.fsync_p50_ms.or(p.fsync_p50_ms);
        p.fsync_p99_ms = self.fsync_p99_ms.or(p.fsync_p99_ms);
        p.failover_p99_ms = self.failover_p99_ms.or(p.failover_p99_ms);
        p.false_elections_per_day = self.false_elections_per_day.or(p.false_elections_per_day);
        Ok(p)
    }
}

/// Runs `advise`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.svg {
        check_output(path)?;
    }
    let started = std::time::Instant::now();
    let profile = args.profile()?;
    let defaults = Options::default();
    let opts = Options {
        seed: args.seed,
        final_trials: args.trials,
        effort_million_events: args.effort,
        jobs: args.jobs.map_or(defaults.jobs, |j| j as usize),
        ..defaults
    };
    eprintln!("advise: {} nodes, seed {}, {} jobs", profile.nodes, opts.seed, opts.jobs);
    let bar = Bar::new("advise");
    let advice =
        advise::advise_with(&profile, &opts, &|stage, done, total| bar.at(stage, done, total))?;
    drop(bar);
    if args.json {
        output::print_json(&advice)?;
    } else {
        print!("{}", render(&advice));
    }
    if let Some(path) = &args.scenario_out {
        let timing = advice.closed_form.timing(advice.recommended.timer_granularity_ms as f64);
        let scenario = advise::failover_scenario(&profile, &timing, args.trials);
        std::fs::write(path, scenario.to_toml()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("failover scenario written to {}", path.display());
    }
    if let Some(path) = &args.svg {
        draw(path, &advice).with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("figure written to {}", path.display());
    }
    let search = &advice.search;
    eprintln!(
        "seed {}, {} candidates priced, {} eligible, {} ruled out by their failover floor, {} \
         simulations ({}), {:.0} ms wall",
        advice.seed,
        search.candidates,
        search.eligible,
        search.pruned_by_floor,
        search.simulated.len(),
        search
            .rungs
            .iter()
            .map(|r| format!("{} {} at {} trials", r.candidates, r.name, r.trials))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}

fn render(a: &Advice) -> String {
    let r = &a.recommended;
    let p = &a.predicted;
    let c = &a.closed_form;
    let s = &a.simulated;
    let mut out = String::new();
    let mut line = |l: String| {
        out.push_str(&l);
        out.push('\n');
    };
    if let Some(m) = &a.measured {
        line(format!(
            "measured from {} nodes' metrics: one-way latency p50 {:.3} ms, p99 {:.3} ms ({} round \
             trips), loss {:.4} ({} rounds unanswered); {} durable writes, {} timer firings{}",
            m.nodes,
            m.latency_p50_ms,
            m.latency_p99_ms,
            m.round_trips,
            m.loss,
            m.rounds_unanswered,
            m.writes,
            m.firings,
            m.longest_stall_ms.map_or(String::new(), |s| format!(
                ", the longest stall {s:.1} ms"
            ))
        ));
    }
    line(format!("host ({}), planned for:", a.assumptions.host));
    for (name, f) in a.assumptions.rows() {
        let source = match f.source {
            advise::Source::Given => "given".to_string(),
            advise::Source::Measured => "measured".to_string(),
            advise::Source::Default => format!("assumed: {}", f.basis),
        };
        line(format!("  {name:<28}{:>8}   {source}", short(f.value)));
    }
    line(String::new());
    line(format!(
        "recommended   heartbeat {} ms   election timeout {}-{} ms   lease {:.3} ms   step {} ms",
        r.heartbeat_ms,
        r.election_timeout_ms[0],
        r.election_timeout_ms[1],
        r.lease_ms,
        r.timer_granularity_ms
    ));
    line(format!(
        "              pre-vote {}   check quorum {}   leader stickiness {}",
        on(r.pre_vote),
        on(r.check_quorum),
        on(r.leader_stickiness)
    ));
    line(String::new());
    line(format!("{:<34}{:>14}{:>14}", "predicted", "simulated", "closed form"));
    line(format!("{:<34}{:>14.1}{:>14.1}", "failover p50 (ms)", s.p50_ms, c.failover_p50_ms));
    line(format!("{:<34}{:>14.1}{:>14.1}", "failover p99 (ms)", s.p99_ms, c.failover_p99_ms));
    line(format!("{:<34}{:>14.1}{:>14.1}", "failover p99.9 (ms)", s.p999_ms, c.failover_p999_ms));
    line(format!(
        "{:<34}{:>14.1}{:>14.1}",
        "detection p99 / bound (ms)", s.detection_p99_ms, c.detection_bound_ms
    ));
    line(format!(
        "{:<34}{:>14.5}{:>14.5}",
        "split-vote rate", s.split_vote_rate, c.split_vote_rate
    ));
    line(format!(
        "{:<34}{:>14}{:>14}",
        "false timeouts per day",
        "-",
        rate(p.false_timeouts_per_day)
    ));
    line(format!(
        "{:<34}{:>14}{:>14}",
        "false elections per day",
        "-",
        rate(p.false_elections_per_day)
    ));
    line(format!("{:<34}{:>14.3}", "lease safety margin (ms)", p.lease_safety_margin_ms));
    let cost = &a.cost;
    line(format!(
        "cost: {:.0} heartbeats/s to each follower, {:.0}/s in all ({:.0} messages/s with the \
         answers); a leader stall up to {:.1} ms costs no election",
        cost.heartbeats_per_second_per_follower,
        cost.heartbeats_per_second,
        cost.messages_per_second,
        cost.pause_survived_ms
    ));
    line(format!("({} failover trials, seed {}, trace hash {})", s.trials, a.seed, s.trace_hash));
    line(String::new());
    for n in &a.notes {
        line(format!("- {n}"));
    }
    line(String::new());
    line("this crate, core::Config:".into());
    for l in a.settings.config_rust.lines() {
        line(format!("    {l}"));
    }
    line("raft-heartbeat node --config:".into());
    for l in a.settings.node_toml.lines() {
        line(format!("    {l}"));
    }
    line(String::new());
    for p in &a.settings.peers {
        line(format!("{:<15} {}", p.setting.system(), p.setting.written()));
        if !p.differs.is_empty() {
            line(format!("{:<15} differs: {}", "", p.differs));
        }
    }
    out
}

/// A daily rate, with the negligible shown as such.
pub fn rate(per_day: f64) -> String {
    if per_day < 1e-9 {
        "< 1e-9".into()
    } else {
        format!("{per_day:.3e}")
    }
}

/// A figure to three decimals at most, without trailing zeros.
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The simulated failover CDF beside the closed form's.
fn draw(path: &PathBuf, a: &Advice) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (800, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let sorted = &a.simulated.sorted_ms;
    let hi = sorted.last().copied().unwrap_or(1.0).max(a.closed_form.failover_p999_ms) * 1.05;
    let r = &a.recommended;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "advise: failover, heartbeat {} ms, timeouts {}-{} ms",
                r.heartbeat_ms, r.election_timeout_ms[0], r.election_timeout_ms[1]
            ),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..hi, 0.0..1.0f64)?;
    chart.configure_mesh().x_desc("failover, ms").y_desc("fraction of failovers").draw()?;
    let n = sorted.len().max(1) as f64;
    let simulated = sorted.iter().enumerate().map(|(i, &x)| (x, (i + 1) as f64 / n));
    chart
        .draw_series(LineSeries::new(simulated, RED.stroke_width(2)))?
        .label(format!("simulated ({} trials)", sorted.len()))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(2)));
    let env = a.profile.environment();
    let timing = a.closed_form.timing(r.timer_granularity_ms as f64);
    let closed = (0..=400).map(|i| {
        let x = hi * f64::from(i) / 400.0;
        (x, closed_form::failover_cdf(x, &timing, &env))
    });
    chart
        .draw_series(LineSeries::new(closed, BLUE.stroke_width(2)))?
        .label("closed form")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    plot::legend(&mut chart)?;
    root.present()?;
    Ok(())
}
