//! `raft-heartbeat experiment detectors`: every follower-side detector of a leader's failure
//! (Raft's fixed range, the adaptive timeout, phi accrual), each at several thresholds, on
//! seven environments, measured the way Chen, Toueg & Aguilera (2002) measure a failure
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
use raft_heartbeat::advise::{self, model::Timing, Profile};
use raft_heartbeat::core::LeaderDetectorKind;
use raft_heartbeat::sim::{
    self, Action, Latency, Report, RoleTarget, RunOptions, Scenario, Step, Target,
};
use serde::Serialize;

use super::args::ExperimentArgs;
use super::{plot, steps};

/// The fixed detector's minimum timeouts, as multiples of the environment's usual one, in
/// whole timer steps (its range is always `[min, 2 min]`, as Raft's 150-300 ms is).
const FIXED_SCALES: [f64; 5] = [0.5, 0.75, 1.0, 1.5, 2.0];
/// The adaptive detector's deviations above the mean gap.
const ADAPTIVE_DEVIATIONS: [f64; 4] = [1.0, 2.0, 4.0, 8.0];
/// The phi detector's thresholds: 1, 2 and 3 are the paper's 10%, 1% and 0.1% chances of a
/// wrong suspicion; 8 is Akka's and Cassandra's default.
const PHI_THRESHOLDS: [f64; 4] = [1.0, 2.0, 3.0, 8.0];
/// Heartbeats the detectors hear before the leader crashes: the adaptive window's 64 gaps.
const WARMUP_HEARTBEATS: f64 = 64.0;
/// The leader's stop-the-world pauses in `gc-pauses`, ms, one a second, in turn: young-
/// generation collections of a loaded JVM or Go heap, all shorter than the usual minimum
/// timeout less a heartbeat interval, so a fixed-range follower never takes one for a crash.
const GC_PAUSES_MS: [f64; 5] = [20.0, 40.0, 60.0, 80.0, 100.0];
/// A follower's stop-the-world pauses in `follower-pauses`, ms, one a second (a follower of
/// the leader at random), in turn: old-generation collections of a loaded JVM heap, from below
/// Raft's usual minimum timeout to past its maximum (Cassandra logs a pause from 200 ms,
/// `gc_log_threshold_in_ms`; CASSANDRA-9183's pauses marked every peer down).
const FOLLOWER_PAUSES_MS: [f64; 5] = [100.0, 200.0, 300.0, 400.0, 500.0];
/// Time between two pauses, ms.
const GC_PERIOD_MS: f64 = 1000.0;

/// Options of `experiment detectors`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Leader crashes per row.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    trials: u64,
    /// Fault-free simulated hours per row (one trial each).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    hours: u64,
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

/// An environment: a network, a disk, a timing, and the faults of a healthy cluster.
struct Environment {
    name: &'static str,
    what: &'static str,
    profile: Profile,
    timing: Timing,
    /// Who stops the world now and then, and for how long in turn.
    pauses: Option<(RoleTarget, &'static [f64])>,
}

/// Five nodes on a LAN (0.3 ms one way, p99 1 ms), votes fsynced to an SSD (1 ms, p99 1.5).
fn lan() -> Profile {
    Profile { fsync_p50_ms: Some(1.0), fsync_p99_ms: Some(1.5), ..Profile::new(5, 0.3, 1.0) }
}

/// Raft's §5.2 example: 50 ms heartbeats, 150-300 ms timeouts.
const LAN_TIMING: Timing =
    Timing { heartbeat_ms: 50.0, min_ms: 150.0, max_ms: 300.0, step_ms: 1.0 };

fn environments() -> Vec<Environment> {
    let lan_env =
        |name, what, profile| Environment { name, what, profile, timing: LAN_TIMING, pauses: None };
    vec![
        lan_env("lan", "LAN, 0.3 ms one way (p99 1 ms)", lan()),
        Environment {
            name: "wan",
            what: "WAN, 30-40 ms one way; 100 ms heartbeats, 500-1000 ms timeouts (simulations/wan.toml)",
            profile: Profile {
                latency: Some(Latency::Uniform { min_ms: 30.0, max_ms: 40.0 }),
                ..lan()
            },
            timing: Timing { heartbeat_ms: 100.0, min_ms: 500.0, max_ms: 1000.0, step_ms: 1.0 },
            pauses: None,
        },
        lan_env(
            "jittery",
            "LAN with a long tail: p50 0.3 ms, p99 30 ms (a shared, virtualized network)",
            Profile { latency_p99_ms: 30.0, ..lan() },
        ),
        lan_env("lossy-5", "LAN, 5% of messages lost", Profile { loss: 0.05, ..lan() }),
        lan_env("lossy-20", "LAN, 20% of messages lost", Profile { loss: 0.2, ..lan() }),
        Environment {
            name: "gc-pauses",
            what: "LAN, the leader stops the world every second for 20-100 ms in turn",
            profile: lan(),
            timing: LAN_TIMING,
            pauses: Some((RoleTarget::Leader, &GC_PAUSES_MS)),
        },
        Environment {
            name: "follower-pauses",
            what: "LAN, every second a follower stops the world for 100-500 ms in turn",
            profile: lan(),
            timing: LAN_TIMING,
            pauses: Some((RoleTarget::Follower, &FOLLOWER_PAUSES_MS)),
        },
        lan_env(
            "slow-disk",
            "LAN, fsync p50 10 ms, p99 40 ms (four times etcd's 10 ms p99 guidance)",
            Profile { fsync_p50_ms: Some(10.0), fsync_p99_ms: Some(40.0), ..lan() },
        ),
    ]
}

/// A detector at one threshold.
#[derive(Clone, Copy)]
struct Detector {
    name: &'static str,
    /// The fixed range's minimum timeout (ms), the adaptive deviations, or phi's threshold.
    threshold: f64,
}

fn detectors() -> Vec<Detector> {
    let fixed = FIXED_SCALES.map(|s| Detector { name: "fixed", threshold: s });
    let adaptive = ADAPTIVE_DEVIATIONS.map(|k| Detector { name: "adaptive", threshold: k });
    let phi = PHI_THRESHOLDS.map(|p| Detector { name: "phi", threshold: p });
    fixed.into_iter().chain(adaptive).chain(phi).collect()
}

/// Failover percentiles, ms.
#[derive(Serialize)]
struct Failover {
    p50: f64,
    p99: f64,
}

/// One detector at one threshold in one environment.
#[derive(Serialize)]
struct Row {
    detector: &'static str,
    /// The fixed range's minimum timeout (ms), the adaptive deviations, or phi's threshold.
    threshold: f64,
    scenario: &'static str,
    heartbeat_ms: f64,
    /// The range the detector's timeouts are as wide as (the fixed one's is its own).
    election_timeout_ms: [f64; 2],
    /// The shortest timeout it may draw.
    floor_ms: f64,
    /// Local health's threshold, ms, when on.
    local_pause_threshold_ms: Option<f64>,
    /// Election timeouts deferred for a node's own stall, per quiet hour.
    timeouts_deferred_per_hour: f64,
    /// Leader crash → every survivor follows a new leader.
    failover_ms: Failover,
    failovers: u64,
    /// Leaders elected under a healthy leader, after each hour's first.
    false_elections_per_hour: f64,
    /// Election timers fired under a healthy leader.
    false_suspicions_per_hour: f64,
    /// Elections that put another node in charge of a healthy cluster.
    spurious_leader_changes_per_hour: f64,
    /// Detection time: leader crash → first election timeout, mean.
    t_d_ms: f64,
    /// Mistake recurrence time, up seconds per false suspicion; null when none was seen.
    t_mr_s: Option<f64>,
    /// Mistake duration, ms; null when none was seen.
    t_m_ms: Option<f64>,
    /// Query accuracy probability.
    p_a: f64,
    hours: f64,
}

#[derive(Serialize)]
struct Output<'a> {
    rows: &'a [Row],
}

/// The timing, detector and floor a row runs.
fn configure(s: &mut Scenario, env: &Environment, d: Detector, floor_heartbeats: f64) {
    let c = &mut s.cluster;
    match d.name {
        "fixed" => {
            // In whole timer steps, as the simulator draws them.
            let step = env.timing.step_ms;
            let min = (env.timing.min_ms * d.threshold / step).round() * step;
            c.election_timeout_ms = [min, 2.0 * min];
        }
        name => {
            c.leader_detector = if name == "adaptive" {
                LeaderDetectorKind::Adaptive { deviations: d.threshold }
            } else {
                LeaderDetectorKind::Phi { threshold: d.threshold }
            };
            c.election_timeout_floor_ms = Some(floor_heartbeats * env.timing.heartbeat_ms);
        }
    }
}

/// The pauses of `who`, each of `lengths` in turn, from `from` until `until`, ms.
fn pauses(who: RoleTarget, lengths: &[f64], from: f64, until: f64) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut at = from;
    while at < until {
        let for_ms = lengths[steps.len() % lengths.len()];
        steps.push(Step { at_ms: at, action: Action::Pause { node: Target::Role(who), for_ms } });
        at += GC_PERIOD_MS;
    }
    steps
}

/// The two scenarios of a row: crashes after the detectors warmed up, and quiet hours.
fn scenarios(env: &Environment, d: Detector, args: &Args) -> (Scenario, Scenario) {
    let mut crash = advise::failover_scenario(&env.profile, &env.timing, args.trials);
    let warmup = WARMUP_HEARTBEATS * env.timing.heartbeat_ms;
    let settled = crash.timeline[0].at_ms;
    crash.timeline[0].at_ms += warmup;
    crash.duration_ms += warmup;
    let mut quiet = advise::steady_hours_scenario(&env.profile, &env.timing, args.hours);
    if let Some((who, lengths)) = env.pauses {
        let mut steps = pauses(who, lengths, settled, settled + warmup);
        steps.append(&mut crash.timeline);
        crash.timeline = steps;
        quiet.timeline = pauses(who, lengths, settled, quiet.duration_ms);
    }
    for s in [&mut crash, &mut quiet] {
        s.name = format!("detectors-{}", env.name);
        configure(s, env, d, args.floor_heartbeats);
        s.cluster.local_pause_threshold_ms =
            args.local_health_heartbeats.map(|k| k * env.timing.heartbeat_ms);
    }
    (crash, quiet)
}

fn run_checked(s: &Scenario, seed: u64, jobs: usize, what: &str) -> anyhow::Result<Report> {
    s.validate().with_context(|| format!("{what}: the scenario is invalid"))?;
    let opts = RunOptions { seed, jobs, ..RunOptions::default() };
    let report = sim::run(s, &opts, &|_| {})?;
    if let Some(v) = report.violations.first() {
        anyhow::bail!(
            "{what}: invariant {:?} broken in trial {}: {}",
            v.invariant,
            v.trial,
            v.detail
        );
    }
    Ok(report)
}

fn measure(env: &Environment, d: Detector, args: &Args) -> anyhow::Result<Row> {
    let (crash, quiet) = scenarios(env, d, args);
    let what = format!("{} {} {} (seed {})", env.name, d.name, d.threshold, args.common.seed);
    let failover = run_checked(&crash, args.common.seed, args.common.jobs, &what)?;
    let healthy = run_checked(&quiet, args.common.seed, args.common.jobs, &what)?;
    let hours = healthy.sim_seconds / 3600.0;
    let c = &crash.cluster;
    Ok(Row {
        detector: d.name,
        threshold: if d.name == "fixed" { c.election_timeout_ms[0] } else { d.threshold },
        scenario: env.name,
        heartbeat_ms: c.heartbeat_ms,
        election_timeout_ms: c.election_timeout_ms,
        floor_ms: c.election_timeout_floor_ms.unwrap_or(c.election_timeout_ms[0]),
        local_pause_threshold_ms: c.local_pause_threshold_ms,
        timeouts_deferred_per_hour: healthy.timeouts_deferred.per_hour,
        failover_ms: Failover {
            p50: failover.time_without_leader_ms.p50,
            p99: failover.time_without_leader_ms.p99,
        },
        failovers: failover.time_without_leader_ms.count as u64,
        false_elections_per_hour: healthy.leaders_elected.total.saturating_sub(healthy.trials)
            as f64
            / hours,
        false_suspicions_per_hour: healthy.false_suspicions.per_hour,
        spurious_leader_changes_per_hour: healthy.spurious_leader_changes.per_hour,
        t_d_ms: failover.detection_ms.mean,
        t_mr_s: healthy.qos.t_mr_s,
        t_m_ms: healthy.qos.t_m_ms,
        p_a: healthy.qos.p_a,
        hours,
    })
}

fn check(args: &Args, envs: &[Environment]) -> anyhow::Result<()> {
    for name in &args.only {
        if !envs.iter().any(|e| e.name == name) {
            let known: Vec<&str> = envs.iter().map(|e| e.name).collect();
            anyhow::bail!("--only: no environment {name:?} (known: {})", known.join(", "));
        }
    }
    let f = args.floor_heartbeats;
    let lowest =
        envs.iter().map(|e| e.timing.min_ms / e.timing.heartbeat_ms).fold(f64::MAX, f64::min);
    if let Some(k) = args.local_health_heartbeats.filter(|k| !(k.is_finite() && *k > 0.0)) {
        anyhow::bail!("--local-health-heartbeats must be a positive number, got {k}");
    }
    if !(f.is_finite() && f > 1.0 && f <= lowest) {
        anyhow::bail!(
            "--floor-heartbeats must be above 1 and at most {lowest} (a floor lies above the \
             heartbeat interval and at most at the minimum timeout), got {f}"
        );
    }
    Ok(())
}

/// Runs the experiment.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let envs = environments();
    check(&args, &envs)?;
    let envs: Vec<Environment> = envs
        .into_iter()
        .filter(|e| args.only.is_empty() || args.only.iter().any(|o| o == e.name))
        .collect();
    let work: Vec<(&Environment, Detector)> =
        envs.iter().flat_map(|e| detectors().into_iter().map(move |d| (e, d))).collect();
    eprintln!(
        "detectors: {} environments x {} detector settings, {} crashes and {} quiet hours each, \
         floor {} heartbeats, local health {}, seed {}",
        envs.len(),
        detectors().len(),
        args.trials,
        args.hours,
        args.floor_heartbeats,
        args.local_health_heartbeats.map_or("off".into(), |k| format!("{k} heartbeats")),
        args.common.seed
    );
    let rows = steps::each(&work, "rows", |(e, d)| measure(e, *d, &args))?;
    if args.common.json {
        println!("{}", serde_json::to_string(&Output { rows: &rows })?);
    } else {
        print_table(&envs, &rows);
    }
    eprintln!("seed {}, {:.0} ms wall", args.common.seed, started.elapsed().as_secs_f64() * 1e3);
    if let Some(path) = &args.common.svg {
        draw(path, &envs, &rows, args.hours)
            .with_context(|| format!("cannot draw {}", path.display()))?;
        eprintln!("figure written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

fn print_table(envs: &[Environment], rows: &[Row]) {
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
                opt(r.t_mr_s, 1),
                opt(r.t_m_ms, 1),
                r.p_a
            );
        }
    }
}

/// One panel per environment: failover p50 against false elections per hour (log), each
/// detector a curve through its thresholds, each point labelled with its threshold.
fn draw(path: &PathBuf, envs: &[Environment], rows: &[Row], hours: u64) -> anyhow::Result<()> {
    let columns = envs.len().min(4);
    let lines = envs.len().div_ceil(columns);
    let root =
        SVGBackend::new(path, (430 * columns as u32, 400 * lines as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((lines, columns));
    // A rate of none in the hours run is drawn at half the least rate it could have shown.
    let none = 0.5 / hours as f64;
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
