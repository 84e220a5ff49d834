//! A read index's ticket (thesis §6.4): what a leader hands out when a read arrives, and the
//! only thing it confirms a read against.

use super::time::Instant;
use super::types::Term;

/// The term and instant a read was asked at this leader, on its clock. Only the node makes
/// one ([`Node::heartbeat_now`](super::Node::heartbeat_now),
/// [`Node::read_ticket`](super::Node::read_ticket)), so a host cannot confirm a read against
/// an instant it invented, nor against one of a term the node has since left:
/// [`Node::majority_acked_since`](super::Node::majority_acked_since) takes a ticket, and
/// confirms it only in the term it was made in, once a majority acknowledged a round sent at or
/// after its instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadTicket {
    pub(super) term: Term,
    pub(super) since: Instant,
}

impl ReadTicket {
    /// The term the read was asked in.
    pub fn term(&self) -> Term {
        self.term
    }

    /// When the read was asked, on the leader's clock: a round sent at or after it confirms it.
    pub fn since(&self) -> Instant {
        self.since
    }
}
