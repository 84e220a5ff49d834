//! Leader heartbeats and failure detection for Raft-style consensus.
//!
//! A leader sends empty AppendEntries heartbeats at a fixed interval; followers reset a
//! randomized election timeout on each valid one and, when it fires, detect the leader's
//! failure and start an election, with pre-vote, leader stickiness, check quorum and a leader
//! lease as Ongaro's thesis describes them.
//!
//! The crate is layered so that each layer can be taken alone:
//!
//! - [`core`]: the sans-IO state machine. No IO, no clock, no OS randomness; builds with
//!   `--no-default-features` and needs only serde, rand and tracing.
//! - `sim` (feature `sim`): the deterministic discrete-event simulator that drives `core` nodes
//!   under virtual time with injected faults, and checks failure-detection timing.
//! - `advise` (feature `sim`): heartbeat interval, timeouts and lease for a measured network,
//!   searched with the closed forms and the simulator.
//! - `model` (feature `model`): an exhaustive model checker (stateright) over the real `core`
//!   nodes of a small cluster, within bounds.
//! - `runtime` (feature `runtime`): the tokio driver, transports and durable hard state that
//!   run the same `core` for real.
//!
//! The pattern implemented is the HeartBeat pattern of *Patterns of Distributed Systems*: the
//! timeout exceeds the heartbeat interval, which exceeds the network round trip.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "sim")]
pub mod advise;
#[cfg(feature = "sim")]
pub mod closed_form;
pub mod core;
#[cfg(feature = "sim")]
pub mod lab;
pub mod link;
#[cfg(feature = "model")]
pub mod model;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "sim")]
pub mod sim;
