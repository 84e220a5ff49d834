//! What `simulate` leaves behind when a trial breaks an invariant: the trial as a plain
//! scenario file, and a shrunk one that still breaks it, each with the command that replays it
//! and the one that draws its timeline.

use std::path::Path;

use anyhow::Context;
use raft_heartbeat::sim::{self, Scenario, ViolationReport};

/// Where to write and how hard to shrink.
pub struct Options<'a> {
    /// The directory the files go to.
    pub dir: &'a Path,
    /// Shrink at all.
    pub shrink: bool,
    /// Most trials shrinking may run.
    pub max_runs: u64,
}

/// Writes the violating trial's scenario and its shrunk form; prints both paths and the
/// commands that replay them on stderr.
pub fn write(v: &ViolationReport, opts: &Options) -> anyhow::Result<()> {
    let trial = Scenario::parse(&v.trial_scenario)
        .context("the violating trial's scenario does not read back")?;
    let stem = format!("{}-seed{}-trial{}", file_safe(&v.scenario), v.seed, v.trial);
    let header = |what: &str| {
        format!(
            "# {what} of trial {} of scenario {} (seed {}): breaks {} ({}).\n",
            v.trial, v.scenario, v.seed, v.invariant, v.detail
        )
    };
    // Said as an absolute path: the files land in the current folder unless told otherwise.
    let dir = std::path::absolute(opts.dir).unwrap_or_else(|_| opts.dir.to_path_buf());
    eprintln!(
        "writing the violating trial's scenarios to {} (choose with --shrink-dir)",
        dir.display()
    );
    let path = dir.join(format!("{stem}.toml"));
    save(&path, &header("The whole scenario"), &trial)?;
    eprintln!("trial scenario: {}", path.display());
    eprintln!("replay: {}", replay(&path, v));
    eprintln!("draw: {}", draw(&path, v, Some(window(v.at_ms))));
    if !opts.shrink {
        return Ok(());
    }
    eprintln!("shrinking (at most {} trials)...", opts.max_runs);
    let mut shrunk = sim::shrink(&trial, v.seed, v.trial, v.invariant, opts.max_runs);
    // Its own name, so replaying it never overwrites the files of the original trial.
    shrunk.scenario.name = format!("{}-minimal", v.scenario);
    shrunk.scenario.description =
        format!("Trial {} of {} (seed {}), shrunk.", v.trial, v.scenario, v.seed);
    let path = dir.join(format!("{stem}-minimal.toml"));
    save(&path, &header("A shrunk form"), &shrunk.scenario)?;
    eprintln!(
        "minimal scenario: {} ({} of {} timeline steps, {} nodes, {} ms; {} trials run)",
        path.display(),
        shrunk.steps_after,
        shrunk.steps_before,
        shrunk.scenario.cluster.nodes,
        shrunk.scenario.duration_ms,
        shrunk.runs
    );
    eprintln!("replay: {}", replay(&path, v));
    // Shrinking may move the violation; the trial stops at it, so the whole trial ends there.
    eprintln!("draw: {}", draw(&path, v, None));
    Ok(())
}

fn save(path: &Path, header: &str, scenario: &Scenario) -> anyhow::Result<()> {
    let text = scenario.to_toml()?;
    std::fs::write(path, format!("{header}{text}"))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn replay(path: &Path, v: &ViolationReport) -> String {
    format!("raft-heartbeat simulate {} --seed {} --trial {}", path.display(), v.seed, v.trial)
}

/// How much of a trial before its violation a drawing shows, ms: a failover's timeouts and
/// election fit in it.
const DRAW_BEFORE_MS: f64 = 500.0;

/// How much after it, ms (the trial stops at a violation, so this only frames the end).
const DRAW_AFTER_MS: f64 = 100.0;

/// The window drawn around a violation at `at_ms`, whole ms.
fn window(at_ms: f64) -> (f64, f64) {
    ((at_ms - DRAW_BEFORE_MS).floor().max(0.0), (at_ms + DRAW_AFTER_MS).ceil())
}

/// The commands that trace the trial of the scenario at `path` and draw it, over `window`
/// (from, to; ms) or the whole trial.
fn draw(path: &Path, v: &ViolationReport, window: Option<(f64, f64)>) -> String {
    let (trace, svg) = (path.with_extension("jsonl"), path.with_extension("svg"));
    let range = window.map_or_else(String::new, |(from, to)| format!(" --from {from} --to {to}"));
    format!(
        "{} --trace {} && raft-heartbeat timeline {} --svg {}{range}",
        replay(path, v),
        trace.display(),
        trace.display(),
        svg.display()
    )
}

/// A scenario name made safe for a file name.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}
