//! `advise`: heartbeat interval, election timeouts and lease for a measured network on a stated
//! host, with the failover time, false-election rate and cost they will give.
//!
//! The rule is the HeartBeat pattern's, timeout > interval > round trip, and the Raft paper's,
//! broadcastTime ≪ electionTimeout ≪ MTBF, made into numbers in five stages, each a typed
//! value handed to the next:
//!
//! | stage | module | value |
//! |---|---|---|
//! | 1. the deployment: the network measured, the host given or assumed | [`profile`](Profile), [`assumptions`](Assumptions) | [`Profile`], [`Assumptions`] |
//! | 2. candidates: a grid keeping the rule, priced by closed forms, within the false-election budget | `grid` | [`Grid`] |
//! | 3. ranking by simulation: successive halving over every eligible candidate | `ranking` | [`Ranking`] |
//! | 4. the winner checked: a long fault-free run and the leader's longest pause | `verify` | [`Quiet`] |
//! | 5. the report: figures, cost, notes, each peer's nearest accepted setting | `report`, `peers` | [`Advice`] |
//!
//! The grid's rule: the heartbeat is a whole number of timer steps above the round trip's p99;
//! the shortest timeout is at least three heartbeats and covers the leader's longest pause plus
//! one heartbeat plus a heartbeat late by the latency's p99.9, held behind the disk's p99 and
//! sent by a late timer; widths run from twice the vote window to four times the shortest
//! timeout. Closed forms order the candidates and decide only what the simulator cannot count
//! in a search (false elections a day); the simulator decides the winner.
//!
//! ```
//! use raft_heartbeat::advise::{advise, Options, Profile};
//!
//! let profile = Profile { failover_p99_ms: Some(600.0), ..Profile::new(5, 0.3, 1.0) };
//! let advice = advise(&profile, &Options::quick()).unwrap();
//! let r = &advice.recommended;
//! assert!(r.election_timeout_ms[0] >= 3 * r.heartbeat_ms);
//! assert!(advice.predicted.failover_ms.p99 <= 600.0);
//! // No host figure was given: a real host's are assumed, and said to be.
//! assert!(advice.assumptions.fsync_p99_ms.value > 0.0);
//! ```

mod assumptions;
mod error;
mod grid;
mod knobs;
mod measured;
pub mod peers;
mod profile;
mod ranking;
mod report;
mod verify;

pub use assumptions::{Assumed, Assumptions, Host, Source};
pub use error::AdviseError;
pub use grid::{stall_ms, Estimate, Grid, LONGEST_MS};
pub use knobs::{Settings, Whole};
pub use measured::{Buckets, Measured, Scrape};
pub use peers::{Peer, PeerPredicted, PeerSetting};
pub use profile::{Profile, DEFAULT_FALSE_ELECTIONS_PER_DAY};
pub use ranking::{failover_p99_floor_ms, Effort, Progress, Ranking, Rung, Tried};
pub use report::{Advice, Cost, Percentiles, Predicted, Recommended, Search};
pub use verify::{
    failover, failover_on, failover_scenario, steady_hours_scenario, Failover, Quiet,
};

/// How hard `advise` looks.
#[derive(Clone, Debug)]
pub struct Options {
    /// The seed of every simulation.
    pub seed: u64,
    /// Trials per candidate at the first rung of the ranking.
    pub screen_trials: u64,
    /// Trials per candidate at the second rung.
    pub climb_trials: u64,
    /// Trials per finalist, and of the setting reported.
    pub final_trials: u64,
    /// Finalists.
    pub finalists: usize,
    /// Simulated events the ranking may spend, millions of five-node events (about 3.5 a
    /// second per core).
    pub effort_million_events: u64,
    /// Trials of the leader's longest pause (none if zero or no pause is planned for).
    pub pause_trials: u64,
    /// Failover trials of each peer's setting that runs differently from the recommendation.
    pub peer_trials: u64,
    /// Worker threads per simulation.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            screen_trials: 300,
            climb_trials: 2000,
            final_trials: 10_000,
            finalists: 3,
            effort_million_events: 150,
            pause_trials: 300,
            peer_trials: 2000,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
        }
    }
}

impl Options {
    /// A fiftieth of the default effort, for examples and tests: figures to a few percent.
    pub fn quick() -> Options {
        Options {
            screen_trials: 100,
            climb_trials: 300,
            final_trials: 1000,
            finalists: 2,
            effort_million_events: 2,
            pause_trials: 20,
            peer_trials: 200,
            jobs: 1,
            ..Options::default()
        }
    }

    fn effort(&self) -> Effort {
        Effort {
            screen_trials: self.screen_trials,
            climb_trials: self.climb_trials,
            final_trials: self.final_trials,
            finalists: self.finalists,
            events: self.effort_million_events.saturating_mul(1_000_000),
            jobs: self.jobs,
            seed: self.seed,
        }
    }
}

/// Finds the setting for `profile`.
pub fn advise(profile: &Profile, opts: &Options) -> Result<Advice, AdviseError> {
    advise_with(profile, opts, &|_, _, _| {})
}

/// Finds the setting for `profile`, telling `progress` of each stage (`"screening"`,
/// `"climbing"`, `"finals"`, `"polishing"` or `"verifying"`, `"checking"`, `"peers"`) as it
/// goes.
pub fn advise_with(
    profile: &Profile,
    opts: &Options,
    progress: Progress,
) -> Result<Advice, AdviseError> {
    profile.validate()?;
    let host = profile.assumptions();
    let env = profile.environment();
    let grid = Grid::of(profile, &host, &env)?;
    let ranking = ranking::rank(profile, &grid, opts.effort(), progress)?;
    progress("checking", 0, 1);
    let timing = ranking.chosen.timing(grid.step_ms);
    let quiet = verify::quiet(profile, &timing, opts.pause_trials, opts.seed, opts.jobs)?;
    progress("checking", 1, 1);
    let mut advice =
        report::report(profile, host, &grid, ranking, quiet, opts.seed, opts.final_trials)?;
    report::predict_peers(&mut advice, profile, opts.peer_trials, opts.seed, opts.jobs, progress)?;
    Ok(advice)
}
