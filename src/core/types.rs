//! The small value types of the protocol: node ids, terms, log positions, roles, hard state.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The identity of one cluster member. Ids are chosen by the operator and never reused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A Raft term: a logical clock that fences stale leaders (Raft §5.1).
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Term(pub u64);

impl Term {
    /// The last term a node can enter: `u64::MAX - 1`. A node in it cannot campaign, and every
    /// input carrying a later term (`u64::MAX`) is refused with
    /// [`InputError::TermOutOfRange`](crate::core::InputError::TermOutOfRange). Without this
    /// bound a node in `u64::MAX` could never move on, and a saturating increment would let it
    /// vote for itself in a term where it had already voted for another.
    pub const LAST: Term = Term(u64::MAX - 1);

    /// The next term, or `None` past [`Term::LAST`].
    pub fn next(self) -> Option<Term> {
        (self < Term::LAST).then(|| Term(self.0 + 1))
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0)
    }
}

/// The position of the last entry of a log, as the host's log reports it.
///
/// Ordered the way Raft §5.4.1 compares logs: the later term wins, and with equal terms the
/// longer log wins. The derived ordering compares `term` first, then `index`.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LogPosition {
    /// Term of the last entry (zero for an empty log).
    pub term: Term,
    /// Index of the last entry (zero for an empty log).
    pub index: u64,
}

impl LogPosition {
    /// A position at `index` written in `term`.
    pub const fn new(term: Term, index: u64) -> Self {
        LogPosition { term, index }
    }
}

/// What a node is doing in the protocol.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Role {
    /// Follows the leader it hears from, and times out when it hears nothing.
    Follower,
    /// Asks whether it could win before disturbing anyone's term (thesis §9.6).
    PreCandidate,
    /// Has raised its term and asks for votes (Raft §5.2).
    Candidate,
    /// Sends heartbeats and watches its followers.
    Leader,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        })
    }
}

/// What must survive a crash: the current term and the vote cast in it (Raft §5.2, Figure 2).
///
/// A node that forgot its vote could vote twice in one term and let two leaders be elected.
/// See [`Node::take_hard_state`](crate::core::Node::take_hard_state) for the persistence contract.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HardState {
    /// The latest term this node has seen.
    pub term: Term,
    /// The candidate this node voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_end_at_the_last_usable_term() {
        assert_eq!(Term(0).next(), Some(Term(1)));
        assert_eq!(Term(u64::MAX - 2).next(), Some(Term::LAST));
        assert_eq!(Term::LAST.next(), None);
        assert_eq!(Term(u64::MAX).next(), None);
    }

    #[test]
    fn later_term_beats_longer_log_as_raft_5_4_1_says() {
        let short_new = LogPosition::new(Term(3), 1);
        let long_old = LogPosition::new(Term(2), 100);
        assert!(short_new > long_old);
        assert!(LogPosition::new(Term(2), 101) > long_old);
    }
}
