//! Failover on a LAN against the width of the timeout range (minimum fixed at 150 ms) and
//! against the minimum timeout (width fixed at 150 ms): how much randomness an election needs,
//! and what a longer minimum costs.

use serde::Serialize;

use super::{each, lan, LabError, Progress};
use crate::advise;
use crate::closed_form::Timing;

/// Widths tried at a 150 ms minimum, ms.
pub const WIDTHS_MS: [f64; 5] = [5.0, 25.0, 50.0, 150.0, 300.0];
/// Minimums tried at a 150 ms width, ms.
pub const MINIMUMS_MS: [f64; 4] = [50.0, 100.0, 150.0, 300.0];

/// What a row varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The range's width, at a 150 ms minimum.
    Range,
    /// The minimum, at a 150 ms width.
    Minimum,
}

impl Family {
    /// Its name in the rows: `range` or `minimum`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Range => "range",
            Family::Minimum => "minimum",
        }
    }
}

/// One setting's failovers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Row {
    /// What the row varies.
    pub family: Family,
    /// Heartbeat interval, ms.
    pub heartbeat_ms: f64,
    /// The timeout range, ms.
    pub election_timeout_ms: [f64; 2],
    /// Failovers run.
    pub trials: u64,
    /// Failover (crash → every survivor follows a new leader), median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Longest, ms.
    pub max_ms: f64,
    /// Fraction of failovers needing more than one election round.
    pub split_vote_rate: f64,
    /// Every failover, sorted, ms (for the CDF).
    #[serde(skip)]
    pub sorted_ms: Vec<f64>,
}

/// How to run the experiment.
#[derive(Clone, Debug)]
pub struct Options {
    /// Failovers per setting, at least 10.
    pub trials: u64,
    /// The run's seed.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { trials: 5000, seed: 1 }
    }
}

/// Heartbeats at a third of the minimum, whole ms.
fn timing(min: f64, width: f64) -> Timing {
    Timing { heartbeat_ms: (min / 3.0).floor(), min_ms: min, max_ms: min + width, step_ms: 1.0 }
}

/// The settings run, in order: every width, then every minimum.
pub fn settings() -> Vec<(Family, Timing)> {
    let widths = WIDTHS_MS.map(|w| (Family::Range, timing(150.0, w)));
    let minimums = MINIMUMS_MS.map(|m| (Family::Minimum, timing(m, 150.0)));
    widths.into_iter().chain(minimums).collect()
}

/// Runs the experiment: a row per setting (stage `"settings"`).
pub fn run(opts: &Options, progress: Progress) -> Result<Vec<Row>, LabError> {
    if opts.trials < 10 {
        let problem = format!("must be at least 10, got {}", opts.trials);
        return Err(LabError::Invalid { option: "trials", problem });
    }
    let profile = lan();
    each(&settings(), "settings", progress, |(family, t)| {
        let f = advise::failover(&profile, t, opts.trials, opts.seed).map_err(|error| {
            LabError::Advise { what: format!("sweep {}-{} ms", t.min_ms, t.max_ms), error }
        })?;
        Ok(Row {
            family: *family,
            heartbeat_ms: t.heartbeat_ms,
            election_timeout_ms: [t.min_ms, t.max_ms],
            trials: f.trials,
            p50_ms: f.p50_ms,
            p99_ms: f.p99_ms,
            max_ms: f.max_ms,
            split_vote_rate: f.split_vote_rate,
            sorted_ms: f.sorted_ms,
        })
    })
}
