//! Errors of the core's inputs. Each one means the input was dropped, counted in
//! [`Counters`](crate::core::Counters), and left the node's state untouched.

use thiserror::Error;

use super::types::{NodeId, Term};

/// Why the core refused an input from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InputError {
    /// The sender is not a member of this cluster.
    #[error("message from {from}, which is not a member of this cluster: dropped")]
    NotAMember {
        /// The claimed sender.
        from: NodeId,
    },
    /// The message is addressed to another node.
    #[error("message addressed to {to} arrived at {this}: dropped")]
    Misaddressed {
        /// The addressee named in the envelope.
        to: NodeId,
        /// This node.
        this: NodeId,
    },
    /// The message claims to come from this node itself.
    #[error("message claims to come from this node ({0}) itself: dropped")]
    FromSelf(NodeId),
    /// The input carries a term past [`Term::LAST`], which no honest node can reach.
    #[error("input from {from} carries term {term}, past the last usable term: dropped")]
    TermOutOfRange {
        /// The claimed sender.
        from: NodeId,
        /// The term it carried.
        term: Term,
    },
}

/// Why the core refused a leadership-transfer command (thesis §3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransferError {
    /// Only a leader hands over.
    #[error("this node does not lead: only a leader can transfer leadership")]
    NotLeader,
    /// The target is not a member of the cluster.
    #[error("{0} is not a member of this cluster: no transfer")]
    NotAMember(NodeId),
    /// The target is a learner, which could not be elected.
    #[error("{0} is a learner, not a voter: it cannot take over")]
    NotAVoter(NodeId),
    /// The target is this node.
    #[error("a leader cannot transfer leadership to itself ({0})")]
    ToItself(NodeId),
    /// [`transfer_caught_up`](crate::core::Node::transfer_caught_up) without a transfer under way.
    #[error("no leadership transfer is under way")]
    NoTransfer,
}
