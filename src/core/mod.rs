//! The sans-IO core: one node's heartbeats, failure detection and leader election.
//!
//! # What this layer does not do
//!
//! It never touches a socket, a file, the clock or the operating system's randomness. The
//! caller (the *driver*: the simulator, the tokio runtime, or your own event loop) owns all
//! IO and time:
//!
//! ```text
//!            messages in ──►┌──────────┐──► messages out   (poll_transmit)
//!   now, timer fired     ──►│   Node   │──► next deadline  (poll_timeout)
//!   host's log position  ──►│  (core)  │──► events         (poll_event)
//!                           └──────────┘──► hard state     (take_hard_state)
//! ```
//!
//! Randomness comes from a ChaCha8 generator seeded by [`Config::seed`] (stream = node id), so
//! the same inputs always give the same outputs.
//!
//! # Calling contract
//!
//! 1. Build the node with [`Node::new`] (fresh, empty log) or [`Node::restart`] (with the
//!    [`HardState`] read back from storage and the position of the log's last entry, which
//!    votes compare). Both validate the [`Config`].
//! 2. Feed it inputs, each with the current monotonic time `now`:
//!    [`Node::handle_message`] for every message from a peer, [`Node::handle_timeout`] when the
//!    deadline last returned by [`Node::poll_timeout`] has passed, and, if the host replicates
//!    its own entries, [`Node::leader_contact`] / [`Node::append_acknowledged`].
//! 3. After each input, drain the outputs **in this order**:
//!    1. [`Node::take_hard_state`]: if it returns a state, write it durably, then call
//!       [`Node::hard_state_persisted`]. Until then [`Node::poll_transmit`] holds every message
//!       back, so a vote or a new term can never leave the node before it would survive a crash.
//!       A driver that persists asynchronously simply keeps feeding inputs meanwhile.
//!    2. [`Node::poll_transmit`] until `None`, sending each envelope to its `to`.
//!    3. [`Node::poll_event`] until `None`.
//!    4. [`Node::poll_timeout`], to re-arm the single timer.
//!
//! # Time
//!
//! [`Instant`]s must come from a monotonic clock. Time going backwards is not an error that
//! loses input: an input whose `now` is earlier than one already seen is handled at the latest
//! `now` seen, counted in [`Counters::clock_regressions`] and reported as
//! [`Event::ClockWentBackwards`].
//!
//! # Example
//!
//! ```
//! use raft_heartbeat::core::{Config, Instant, Node, NodeId, Role};
//!
//! let mut node = Node::new(Config::new(NodeId(1), [NodeId(1)]), Instant::ZERO).unwrap();
//! // Alone, the node wins its election as soon as its timer fires and its vote is durable.
//! let deadline = node.poll_timeout();
//! node.handle_timeout(deadline);
//! let hard_state = node.take_hard_state().expect("a new term and a vote to persist");
//! // ... write `hard_state` to disk here ...
//! node.hard_state_persisted(deadline, hard_state);
//! assert_eq!(node.role(), Role::Leader);
//! ```

mod arrivals;
mod config;
mod error;
mod event;
mod follower_detector;
mod leader;
mod leader_detector;
mod local_health;
mod membership;
mod message;
mod millis;
mod node;
mod outcome;
mod read_ticket;
mod shadow;
mod status;
mod time;
mod types;
mod votes;

#[cfg(feature = "sim")]
pub(crate) use time::duration_nanos;

#[cfg(test)]
mod tests;

pub use arrivals::{ArrivalStats, ARRIVAL_WINDOW};
pub use config::{Config, ConfigError, TimerRule};
pub use error::{InputError, TransferError};
pub use event::Event;
pub use follower_detector::{FailureDetector, TimeoutDetector, Verdict};
pub use leader_detector::LeaderDetectorKind;
pub use membership::{Membership, MembershipError};
pub use message::{
    Envelope, Heartbeat, HeartbeatResponse, Message, TimeoutNow, VoteKind, VoteRequest,
    VoteResponse,
};
pub use node::Node;
pub use outcome::Contact;
pub use read_ticket::ReadTicket;
pub use shadow::{ShadowStatus, MAX_SHADOWS};
pub use status::{Counters, PeerStatus, Status};
pub use time::Instant;
pub use types::{HardState, LogPosition, NodeId, Role, Term};
