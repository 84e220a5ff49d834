//! The deterministic simulator: many `core` nodes under virtual time, with injected delays,
//! loss, duplication, partitions, pauses, crashes, slow disks and clock drift.
//!
//! | where | what it holds |
//! |---|---|
//! | `scenario/` | the scenario format ([`Scenario`]): the cluster, the network and nodes, the timeline's actions and their targets (every fault is an [`Action`]), the swarm's ranges, validation |
//! | `world/` | the engine: one trial, its event loop, the machines around the nodes, faults applied, membership replicated, the failover measured, the embedder's hosts in the loop |
//! | `checkers/` | every invariant the simulator checks, one file each ([`Invariant`] lists them) |
//! | `runner.rs`, `metrics.rs` | many trials over jobs and shards, merged into a [`Report`]; per-trial figures |
//! | `swarm.rs`, `shrink.rs` | per-trial random clusters and fault mixes; a violating trial shrunk to a small scenario |
//! | `network.rs`, `latency.rs`, `queue.rs`, `rng.rs` | links and lanes, delay distributions, the event queue, seeds split per trial, node, link and disk |
//! | `trace.rs`, `trace_hash.rs` | the streamed, hashed trace |
//! | `error.rs` | the layer's typed errors: [`ScenarioError`], [`SimError`] |
//! | `timeline/` | one trial of a trace drawn as an SVG timeline |
//! | `host.rs`, `harness.rs`, `simulation.rs`, `builder.rs` | the embedder's side: [`Host`] and [`HostCtx`], user invariants over a [`View`], [`Simulation::check`] for `cargo test`, [`Scenario::builder`] |
//!
//! The experiments built on the simulator are in [`crate::lab`], its closed forms in
//! [`crate::closed_form`].
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
    merge, run, run_checked, run_trial, Manifest, Qos, Rate, Report, RunOptions, ShadowReport,
    Shard,
};
pub use scenario::{
    Action, CheckSpec, ClusterSpec, CrashPoint, LinkSpec, NetworkSpec, NodeSpec, RoleTarget,
    Scenario, Side, Step, SwarmSpec, Target, VoteWrites,
};
pub use shrink::{shrink, shrink_with, Shrunk};
pub use simulation::Simulation;
#[cfg(feature = "schema")]
pub use trace::trace_line_schema;
pub use trace_hash::{BadTraceHash, TraceHash};
