//! The lab: experiments that study the protocol's timing with the simulator, each a function
//! from an options struct to a typed result. The command line (`raft-heartbeat experiment`)
//! only turns arguments into options and results into tables, JSON and figures.
//!
//! | module | experiment | what it measures |
//! |---|---|---|
//! | [`figure16`] | `experiment figure16` | Figure 16 of the Raft paper (§9.3): time to replace a crashed leader for several timeout ranges, under a model of LogCabin in 2014 |
//! | [`split_votes`] | `experiment split-votes` | elections needing a second round against the latency (thesis §9.2), beside the closed form |
//! | [`sweep`] | `experiment sweep` | failover on a LAN against the range's width and its minimum |
//! | [`false_elections`] | `experiment false-elections` | false timeouts and elections under a healthy leader against loss, jitter and heartbeats per timeout, beside the closed forms |
//! | [`detectors`] | `experiment detectors` | the followers' detectors (fixed, adaptive, phi) over their thresholds in eight environments: failover against false elections, and Chen, Toueg & Aguilera's quality of service |
//!
//! Every experiment runs its scenarios with [`crate::sim::run_checked`]: a broken invariant
//! ends it with the trial and seed that replay it, never a figure computed from a broken run.
//! The closed forms it prints beside the simulator live in [`crate::closed_form`], shared with
//! `advise`. Each experiment is deterministic in its seed, whatever its number of threads.
//!
//! ```
//! use raft_heartbeat::lab::split_votes::{self, Options, LATENCIES_MS};
//!
//! let opts = Options { trials: 50, seed: 1, jobs: 1 };
//! let rows = split_votes::run(&opts, &|_stage, _done, _total| {}).unwrap();
//! assert_eq!(rows.len(), LATENCIES_MS.len());
//! // A longer latency against the same range splits more votes, in the closed form.
//! assert!(rows.windows(2).all(|w| w[0].closed_form <= w[1].closed_form));
//! ```

pub mod defaults;
pub mod detectors;
pub mod false_elections;
pub mod figure16;
pub mod split_votes;
pub mod sweep;

use thiserror::Error;

use crate::advise::{AdviseError, Host, Profile};
use crate::sim::SimError;

/// Why an experiment could not give its figures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LabError {
    /// An option is out of range; `option` is the options struct's field.
    #[error("{option}: {problem}")]
    Invalid {
        /// The field of the experiment's options.
        option: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A scenario could not run, or broke an invariant.
    #[error("{what}: {error}")]
    Sim {
        /// The setting being measured.
        what: String,
        /// The simulator's error.
        error: SimError,
    },
    /// `advise`'s measurement of a setting failed.
    #[error("{what}: {error}")]
    Advise {
        /// The setting being measured.
        what: String,
        /// The error.
        error: AdviseError,
    },
}

/// The LAN every experiment starts from: five nodes, 0.3 ms one way (p99 1 ms), votes written
/// to an SSD (1 ms, p99 1.5 ms), exact timers and no pauses but those an experiment injects.
pub fn lan() -> Profile {
    Profile {
        fsync_p50_ms: Some(1.0),
        fsync_p99_ms: Some(1.5),
        host: Host::Ideal,
        ..Profile::new(5, 0.3, 1.0)
    }
}

/// Told of an experiment's progress as each stage starts and after each of its steps: the
/// stage (e.g. `"curves"`), steps done, steps in the stage.
pub type Progress<'a> = &'a dyn Fn(&str, usize, usize);

/// Runs `step` on each of `items` in order, telling `progress`, and stops at the first error.
fn each<T, R>(
    items: &[T],
    stage: &str,
    progress: Progress,
    mut step: impl FnMut(&T) -> Result<R, LabError>,
) -> Result<Vec<R>, LabError> {
    let mut out = Vec::with_capacity(items.len());
    progress(stage, 0, items.len());
    for item in items {
        out.push(step(item)?);
        progress(stage, out.len(), items.len());
    }
    Ok(out)
}
