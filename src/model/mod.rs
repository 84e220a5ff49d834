//! An exhaustive model checker over the real [`core::Node`](crate::core::Node), built on
//! [stateright](https://docs.rs/stateright): every interleaving of a small cluster's steps,
//! within bounds, with every property judged in every state.
//!
//! # What it explores
//!
//! The nodes are the real core, built from the same configuration the simulator and the
//! runtime use. From any state, any of these steps may come next:
//!
//! - deliver any message in flight, deliver a copy of it (a duplicate), or lose it;
//! - fire the timer of any node whose deadline has passed (a timer may fire late, never
//!   early);
//! - land any node's pending hard-state write (until then the node holds its messages back);
//! - crash a node (it keeps only its durable hard state) and restart it;
//! - move the clock one step.
//!
//! # Why the clock step is sound
//!
//! Every duration of the model (heartbeat interval, election timeout, lease, timer
//! granularity) is a whole number of steps, and every instant a node computes is an input's
//! instant plus such durations, so every deadline and expiry falls on a step. The protocol
//! only compares instants (`now >= deadline`, `now < contact + timeout`), and for an instant
//! `t` in `[k·step, (k+1)·step)` each such comparison with a whole-step instant gives the same
//! answer as at `k·step`. So an execution with inputs at arbitrary instants has a twin with
//! every input moved back to its step, which the model explores, and the two break the same
//! properties. The lease is judged at every state's instant; a lease starts and is extended
//! only at an input, so two leases that ever overlap overlap at some state.
//!
//! # Why one timeout value is enough
//!
//! The election timeout range is a single value, the minimum. A timer may fire any time after
//! its deadline, so every longer draw of a real range is covered; the minimum is the draw the
//! lease and stickiness are tightest against. With one value the draws do not depend on the
//! node's generator, which is what lets nodes be compared up to a renaming of ids.
//!
//! # Bounds and symmetry
//!
//! No term beyond [`Options::max_term`], no time beyond [`Options::horizon_steps`], at most
//! [`Options::max_in_flight`] messages in flight (a message sent beyond it is lost, which the
//! protocol must survive anyway) and at most [`Options::max_crashes`] crashes. Within them the
//! search is complete. Nodes alike in configuration and log are interchangeable: two states
//! equal up to a renaming of such nodes' ids are explored once.

mod check;
mod error;
mod machine;
mod options;
mod properties;
mod state;

pub use check::{check, PropertyReport, Report, Trace, TraceStep};
pub use error::ModelError;
pub use machine::{Machine, Step};
pub use options::{Options, STEP};
pub use properties::{
    Expectation, ELECTED, ELECTION_SAFETY, HANDOVER, LEASE_HELD, LEASE_SAFETY, ONE_VOTE,
};
pub use state::State;
