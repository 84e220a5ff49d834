//! The deterministic simulator: many `core` nodes under virtual time, with injected delays,
//! loss, duplication, partitions, pauses, crashes, slow disks and clock drift.
//!
//! A run is a scenario (a TOML file, see [`Scenario`]) and a seed. Each trial derives its own
//! seed from the run's seed and its index, and from that one generator per node, per link, per
//! disk and for the timeline, so the same scenario and seed give byte-identical traces on any
//! machine and any number of threads. Invariants ([`Invariant`]) are checked at every event; a
//! violation stops the run with the command that replays it.
//!
//! An embedder puts their own code in the loop: a [`Host`] around every node, invariants of
//! their own over a [`View`] of the world, a scenario built in Rust ([`Scenario::builder`]),
//! and [`Simulation::check`] to run it all from `cargo test` with the replay on failure.
//!
//! ```
//! use raft_heartbeat::sim::{run, RunOptions, Scenario};
//!
//! let scenario = Scenario::parse(r#"
//!     name = "doc"
//!     duration_ms = 3000
//!     trials = 4
//!     stop_after_recovery = true
//!     [cluster]
//!     nodes = 3
//!     [[timeline]]
//!     at_ms = 1000
//!     action = "crash"
//!     node = "leader"
//! "#).unwrap();
//! let report = run(&scenario, &RunOptions { seed: 7, ..RunOptions::default() }, &|_| {}).unwrap();
//! assert!(report.violations.is_empty());
//! assert_eq!(report.time_without_leader_ms.count, 4);
//! ```

mod builder;
mod checkers;
mod error;
mod harness;
mod host;
mod latency;
mod metrics;
mod network;
mod queue;
mod rng;
mod runner;
mod scenario;
mod shrink;
mod simulation;
mod swarm;
pub mod timeline;
mod trace;
mod trace_hash;
mod world;

pub use crate::link::Lanes;
pub use builder::ScenarioBuilder;
pub use checkers::{Invariant, Violation};
pub use error::{ScenarioError, SimError};
pub use harness::{Harness, HostFactory, InvariantCheck, View};
pub use host::{Host, HostCtx};
pub use latency::Latency;
pub use metrics::{ShadowResult, Summary, TrialResult, ViolationReport};
pub use rng::trial_seed;
pub use runner::{
    merge, run, run_checked, run_trial, Qos, Rate, Report, RunOptions, ShadowReport, Shard,
};
pub use scenario::{
    Action, CheckSpec, ClusterSpec, CrashPoint, LinkSpec, NetworkSpec, NodeSpec, RoleTarget,
    Scenario, Side, Step, SwarmSpec, Target, VoteWrites,
};
pub use shrink::{shrink, shrink_with, Shrunk};
pub use simulation::Simulation;
pub use trace_hash::{BadTraceHash, TraceHash};
