//! `raft-heartbeat schema NAME`: the JSON Schema of one of the command line's outputs, as kept
//! in `docs/schemas/NAME.schema.json`.

use std::process::ExitCode;

use clap::ValueEnum;
use schemars::Schema;

use super::{
    advise_cmd, cluster_cmd, defaults_cmd, detectors_cmd, event_line, false_elections_cmd,
    figure16_cmd, model_check_cmd, output, report, split_votes_cmd, sweep_cmd,
};

/// An output of the command line with a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Name {
    /// `simulate --json` and `merge`.
    Simulate,
    /// `advise --json`.
    Advise,
    /// `cluster --json`.
    Cluster,
    /// A line of `cluster --events-out`.
    ClusterEvents,
    /// `model-check --json`.
    ModelCheck,
    /// `experiment figure16 --json`.
    Figure16,
    /// `experiment split-votes --json`.
    SplitVotes,
    /// `experiment sweep --json`.
    Sweep,
    /// `experiment false-elections --json`.
    FalseElections,
    /// `experiment detectors --json`.
    Detectors,
    /// `experiment defaults --json`.
    Defaults,
    /// A line of `simulate --trace`.
    Trace,
    /// A line of `node`'s stdout.
    Node,
}

impl Name {
    /// The output's JSON Schema.
    pub fn schema(self) -> Schema {
        match self {
            Name::Simulate => report::schema(),
            Name::Advise => advise_cmd::schema(),
            Name::Cluster => cluster_cmd::schema(),
            Name::ClusterEvents => cluster_cmd::events_schema(),
            Name::ModelCheck => model_check_cmd::schema(),
            Name::Figure16 => figure16_cmd::schema(),
            Name::SplitVotes => split_votes_cmd::schema(),
            Name::Sweep => sweep_cmd::schema(),
            Name::FalseElections => false_elections_cmd::schema(),
            Name::Detectors => detectors_cmd::schema(),
            Name::Defaults => defaults_cmd::schema(),
            Name::Trace => output::titled(
                raft_heartbeat::sim::trace_line_schema(),
                "a line of a raft-heartbeat simulate --trace file",
                "One object per line: a message sent, delivered or dropped, a disk write, a core \
                 event or an injected fault, with its trial and its virtual time in ns.",
            ),
            Name::Node => event_line::schema(),
        }
    }
}

/// Prints the schema, pretty, with a final newline.
pub fn run(name: Name) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(&name.schema())?);
    Ok(ExitCode::SUCCESS)
}
