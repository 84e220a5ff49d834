//! What the node made of an input the host reports on its own behalf (its replication
//! traffic): counted, or ignored and why. The host learns of stale or conflicting contact
//! instead of an `Ok` that hides it.

use super::types::{NodeId, Term};

/// The outcome of [`Node::leader_contact`](super::Node::leader_contact) and
/// [`Node::append_acknowledged`](super::Node::append_acknowledged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a contact that was not counted says why"]
pub enum Contact {
    /// Counted: as a heartbeat from the leader, or as a follower's acknowledgment for check
    /// quorum, the lease and the failure detector.
    Counted,
    /// Of a term older than this node's (`current`): ignored (Raft §5.1).
    Stale {
        /// This node's term.
        current: Term,
    },
    /// Another node already leads this term as far as this node knows: refused, and counted
    /// in [`Counters::conflicting_leaders`](super::Counters::conflicting_leaders) (two leaders
    /// of one term break election safety, Raft §5.2).
    ConflictingLeader {
        /// The leader this node knows for the term (`None`: this node itself leads it).
        known: Option<NodeId>,
    },
    /// An acknowledgment of a later term: this node learned it and stepped down (Raft §5.1).
    SteppedDown {
        /// The later term.
        term: Term,
    },
    /// An acknowledgment while this node does not lead: ignored.
    NotLeading,
}
