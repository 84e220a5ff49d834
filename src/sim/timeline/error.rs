//! Why a trace cannot be drawn.

use thiserror::Error;

/// A trace file that cannot be read, or a window of it that holds nothing.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TimelineError {
    /// The file could not be read.
    #[error("cannot read the trace at line {line}: {error}")]
    Read {
        /// The line being read (1-based).
        line: usize,
        /// What the OS said (in the message, so not also the error's source).
        error: std::io::Error,
    },
    /// A line is not a trace record: not JSON, a missing or mistyped field, a node id 0.
    #[error("line {line} is not a trace record: {problem}")]
    BadLine {
        /// The line (1-based).
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// The file holds no record at all.
    #[error("the trace holds no record")]
    EmptyTrace,
    /// The file holds no record of the trial asked for.
    #[error("the trace holds no trial {trial} (its first trial is {first})")]
    UnknownTrial {
        /// The trial asked for.
        trial: u64,
        /// The first trial in the file.
        first: u64,
    },
    /// More nodes than a picture has room for.
    #[error("node n{node} is beyond the {max} lanes a timeline draws")]
    TooManyNodes {
        /// The highest node id seen.
        node: u64,
        /// The most lanes drawn.
        max: u64,
    },
    /// The window asked for is empty, or lies outside the trial.
    #[error(
        "the window {from_ms} ms to {to_ms} ms holds nothing: trial {trial} spans 0 to {end_ms} ms"
    )]
    EmptyWindow {
        /// The trial.
        trial: u64,
        /// Start of the window asked for, ms.
        from_ms: f64,
        /// End of the window asked for, ms.
        to_ms: f64,
        /// Time of the trial's last record, ms.
        end_ms: f64,
    },
}
