//! Read index (thesis §6.4): a read is confirmed only if no leader of a later term had been
//! elected when it was asked: a majority acknowledged a heartbeat round sent after it.

use std::collections::BTreeMap;

use super::{Invariant, Violation};
use crate::core::{Instant, Node, NodeId, Role, Term};

/// A read index waiting for a majority.
#[derive(Clone, Copy, Debug)]
struct PendingRead {
    node: usize,
    term: Term,
    /// The round's send time, on the leader's clock.
    sent_local: Instant,
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

    /// Node `i`, leading `term`, was asked a read at `asked_at` and sent a round at
    /// `sent_local` on its clock to confirm it.
    pub(crate) fn asked(&mut self, i: usize, term: Term, sent_local: Instant, asked_at: Instant) {
        self.reads.push(PendingRead { node: i, term, sent_local, asked_at });
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
            if !node.majority_acked_since(read.sent_local) {
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
