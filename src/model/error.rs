//! The model checker's errors.

use thiserror::Error;

/// Why a model-checking run could not start.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An option is out of its range.
    #[error("--{option}: {rule}")]
    Option {
        /// The option, as the command line spells it.
        option: &'static str,
        /// What it must be.
        rule: String,
    },
}
