//! Read index (thesis §6.4): a read is confirmed only if no leader of a later term had been
//! elected when it was asked: a majority acknowledged a heartbeat round sent after it.

use std::collections::BTreeMap;

use super::{Invariant, Violation};
use crate::core::{Instant, Node, NodeId, ReadTicket, Role, Term};

/// A read index waiting for a majority.
#[derive(Clone, Copy, Debug)]
struct PendingRead {
    node: usize,
    term: Term,
    /// The ticket the leader gave the read.
    ticket: ReadTicket,
    /// When (real time) the read was asked.
    asked_at: Instant,
}

/// Reads not yet confirmed, and when each term's leader was elected.
#[derive(Debug, Default)]
pub(crate) struct ReadIndex {
    reads: Vec<PendingRead>,
    elected_at: BTreeMap<Term, Instant>,
}

impl ReadIndex {
    /// A leader of `term` was elected at `at` (the first such instant counts).
    pub(crate) fn elected(&mut self, term: Term, at: Instant) {
        self.elected_at.entry(term).or_insert(at);
    }

    /// Node `i` was asked a read at `asked_at` and gave it `ticket`.
    pub(crate) fn asked(&mut self, i: usize, ticket: ReadTicket, asked_at: Instant) {
        self.reads.push(PendingRead { node: i, term: ticket.term(), ticket, asked_at });
    }

    /// Confirms node `i`'s (`id`, now `node`) reads that a majority has acknowledged a round
    /// for, checking each; reads of a node that no longer leads their term are dropped,
    /// unanswered. Returns the first broken read.
    pub(crate) fn settle(
        &mut self,
        at: Instant,
        i: usize,
        id: NodeId,
        node: Option<&Node>,
    ) -> Option<Violation> {
        if self.reads.iter().all(|r| r.node != i) {
            return None;
        }
        let mut broken = None;
        let mut kept = Vec::with_capacity(self.reads.len());
        for read in std::mem::take(&mut self.reads) {
            if read.node != i {
                kept.push(read);
                continue;
            }
            let Some(node) = node else { continue };
            if node.role() != Role::Leader || node.term() != read.term {
                continue;
            }
            if !node.majority_acked_since(read.ticket) {
                kept.push(read);
                continue;
            }
            let newer = self
                .elected_at
                .range(Term(read.term.0 + 1)..)
                .find(|(_, elected)| **elected <= read.asked_at);
            if let Some((term, elected)) = newer {
                broken.get_or_insert(Violation {
                    invariant: Invariant::ReadIndex,
                    at,
                    detail: format!(
                        "{id} confirmed a read of {} asked at {}, but a leader of {term} had been \
                         elected at {elected}",
                        read.term, read.asked_at
                    ),
                });
            }
        }
        self.reads = kept;
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Config;

    /// A one-node cluster's node, leading term 1 from `t(300)` on: every round it sends is a
    /// majority's at once.
    fn leader() -> Node {
        let t = Instant::from_millis;
        let mut node = Node::new(Config::new(NodeId(1), [NodeId(1)]), t(0)).unwrap();
        node.handle_timeout(t(300));
        while let Some(state) = node.take_hard_state() {
            node.hard_state_persisted(t(300), state);
        }
        assert_eq!(node.role(), Role::Leader, "{:?}", node.status(t(300)));
        node
    }

    #[test]
    fn a_read_confirmed_after_a_later_leader_was_elected_fires_the_checker_thesis_6_4() {
        let t = Instant::from_millis;
        let mut node = leader();
        let ticket = node.read_ticket(t(300)).unwrap();
        let mut c = ReadIndex::default();
        c.elected(Term(1), t(300));
        c.asked(0, ticket, t(350));
        c.asked(1, ticket, t(350));
        assert!(c.settle(t(360), 0, NodeId(1), Some(&node)).is_none(), "no later leader");
        assert_eq!(c.reads.len(), 1, "the other node's read waits");
        // A leader of term 2 elected before the read was asked: confirming it is stale.
        c.elected(Term(2), t(340));
        c.asked(0, ticket, t(350));
        let v = c.settle(t(370), 0, NodeId(1), Some(&node)).unwrap();
        assert_eq!(v.invariant, Invariant::ReadIndex);
        assert!(v.detail.contains("a leader of T2"), "{}", v.detail);
        // A crashed node's reads are dropped, unanswered.
        assert!(c.settle(t(380), 1, NodeId(2), None).is_none());
        assert!(c.reads.is_empty());
    }
}
