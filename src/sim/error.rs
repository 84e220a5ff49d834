//! Errors of the simulator layer.

use std::path::Path;

use thiserror::Error;

/// A scenario that cannot be run, with what is wrong and where.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        message: String,
    },
    /// The text is not valid TOML, or does not fit the scenario's shape (unknown or missing key,
    /// wrong type). The message names the key and line.
    #[error("{0}")]
    Syntax(String),
    /// A value is out of range or inconsistent.
    #[error("field `{field}`: {problem}")]
    Invalid {
        /// The field, as a path (`timeline[2].node`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An error in a named file. Its message includes the inner error's, so the inner error
    /// is not also its `source` (a report would print it twice).
    #[error("scenario {path}: {error}")]
    InFile {
        /// The file.
        path: String,
        /// The error.
        error: Box<ScenarioError>,
    },
}

impl ScenarioError {
    /// The same error, attributed to the file at `path`.
    pub fn in_file(self, path: &Path) -> ScenarioError {
        ScenarioError::InFile { path: path.display().to_string(), error: Box::new(self) }
    }
}

/// A run that could not complete.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The trace file could not be written.
    #[error("cannot write trace {path}: {error}")]
    Trace {
        /// The file.
        path: String,
        /// What the OS said (in the message, so not also the error's source).
        error: std::io::Error,
    },
    /// A run needs at least one worker thread.
    #[error("jobs must be at least 1")]
    NoJobs,
    /// A run needs at least one trial.
    #[error("trials must be at least 1")]
    NoTrials,
    /// A shard that selects no trial: its count is zero or its index not below the count.
    #[error("shard {index}/{count}: need 0 <= I < N")]
    BadShard {
        /// The shard's index.
        index: u64,
        /// The number of shards.
        count: u64,
    },
    /// The scenario could not be encoded to hash it for a shard's manifest.
    #[error("cannot hash the scenario for the shard's manifest: {0}")]
    Unhashable(String),
    /// `merge` was given no report.
    #[error("nothing to merge")]
    NothingToMerge,
    /// `merge` was given shards of different runs: their manifests differ in `what`.
    #[error("cannot merge shards of different runs: {what} differs ({first} and {other})")]
    DifferentRuns {
        /// What differs: the scenario's content, the seed, the trials, the shard count, the
        /// version that ran it.
        what: &'static str,
        /// The first shard's value.
        first: String,
        /// The value of a shard that differs.
        other: String,
    },
    /// `merge` was given a report made without `--shard`, which has no manifest and no
    /// per-trial results.
    #[error("only reports made with --shard carry the manifest and per-trial results to merge")]
    NotAShard,
    /// `merge` was given the same shard twice.
    #[error("shard {index}/{count} is given twice: merge each shard once")]
    ShardTwice {
        /// The shard's index.
        index: u64,
        /// The run's shard count.
        count: u64,
    },
    /// `merge` was not given every shard of the run.
    #[error(
        "{absent} of {count} shards missing: {} (the merged run would be incomplete)",
        missing_list(.first, *.absent, *.count)
    )]
    ShardsMissing {
        /// The first missing shards' indices (at most ten).
        first: Vec<u64>,
        /// How many are missing.
        absent: u64,
        /// The run's shard count.
        count: u64,
    },
    /// `merge` was given the same trial twice.
    #[error("two reports contain trial {0}: merge each shard once")]
    DuplicateTrial(u64),
    /// A run that needed to be clean broke an invariant ([`crate::sim::run_checked`]).
    #[error(
        "{} (seed {}): invariant {} broken in trial {} at {:.3} ms: {}",
        .0.scenario, .0.seed, .0.invariant, .0.trial, .0.at_ms, .0.detail
    )]
    Violated(Box<crate::sim::ViolationReport>),
    /// Code run inside a trial panicked: an embedder's host or invariant, or a bug here.
    #[error(
        "trial {trial} of seed {seed} panicked: {message} (replay that trial alone: seed {seed}, \
         trial {trial}; with `Simulation::check`, RAFT_HEARTBEAT_SEED={seed} \
         RAFT_HEARTBEAT_TRIAL={trial})"
    )]
    Panicked {
        /// The trial.
        trial: u64,
        /// The run's seed.
        seed: u64,
        /// What the panic said.
        message: String,
    },
}

fn missing_list(first: &[u64], absent: u64, count: u64) -> String {
    let shown: Vec<String> = first.iter().map(|i| format!("{i}/{count}")).collect();
    let more = absent.saturating_sub(shown.len() as u64);
    if more > 0 {
        format!("{}, and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
