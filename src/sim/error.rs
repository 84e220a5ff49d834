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
    /// An error in a named file.
    #[error("scenario {path}: {source}")]
    InFile {
        /// The file.
        path: String,
        /// The error.
        source: Box<ScenarioError>,
    },
}

impl ScenarioError {
    /// The same error, attributed to the file at `path`.
    pub fn in_file(self, path: &Path) -> ScenarioError {
        ScenarioError::InFile { path: path.display().to_string(), source: Box::new(self) }
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
    #[error("cannot write trace {path}: {source}")]
    Trace {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A command-line option is out of range.
    #[error("{0}")]
    Usage(String),
}
