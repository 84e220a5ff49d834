//! `raft-heartbeat merge`: the `simulate --shard I/N --json` reports of one run merged into the
//! report of the whole run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use raft_heartbeat::sim::{self, Report};

use super::{output, report};

/// Merges the `--json` reports of a run's shards and prints the whole run's report.
pub fn run(paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let report: Report = output::read_json(&text)
            .with_context(|| format!("{} is not a simulate --json report", path.display()))?;
        reports.push(report);
    }
    let merged = sim::merge(&reports)?;
    if let Some(m) = reports.first().and_then(|r| r.manifest.as_ref()) {
        eprintln!(
            "merged {} shards: scenario {} (content xxh3 {}), seed {}, {} trials, raft-heartbeat {}",
            m.shard.count, merged.scenario, m.scenario_hash, m.seed, m.trials, m.version
        );
    }
    report::print(&merged, true, "SCENARIO")?;
    Ok(report::exit_code(&merged))
}
