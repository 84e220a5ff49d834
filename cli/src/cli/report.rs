//! A simulation report as `simulate` and `merge` print it: the table or JSON on stdout, each
//! violation with the command that replays it on stderr, and the exit code.

use std::process::ExitCode;

use raft_heartbeat::sim::Report;

use super::{output, table};

/// Prints the report, and on stderr each violation with the command that replays its trial
/// from `scenario_path`.
pub fn print(report: &Report, json: bool, scenario_path: &str) -> anyhow::Result<()> {
    if json {
        output::print_json(report)?;
    } else {
        print!("{}", table::render(report));
    }
    for v in &report.violations {
        eprintln!(
            "\nVIOLATION of {} in trial {} at {:.3} ms: {}",
            v.invariant, v.trial, v.at_ms, v.detail
        );
        eprintln!("last events:");
        for line in &v.last_events {
            eprintln!("  {line}");
        }
        eprintln!(
            "replay: raft-heartbeat simulate {scenario_path} --seed {} --trial {} --trace trial-{}.jsonl",
            v.seed, v.trial, v.trial
        );
    }
    Ok(())
}

/// The JSON Schema of `simulate --json` and `merge`.
pub fn schema() -> schemars::Schema {
    output::schema_of::<Report>(
        "raft-heartbeat simulate --json (and merge)",
        "A scenario's trials under virtual time: failure-detection timing, elections, false \
         alarms, the detector's quality of service, violations and the trace hash.",
    )
}

/// 0 for a clean run, 1 when an invariant broke.
pub fn exit_code(report: &Report) -> ExitCode {
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
