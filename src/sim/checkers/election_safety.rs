//! Election safety (Raft §5.2, Figure 3): at most one leader per term.

use std::collections::BTreeMap;

use super::{Invariant, Violation};
use crate::core::{Instant, NodeId, Term};

/// Remembers the leader of every term.
#[derive(Debug, Default)]
pub(crate) struct ElectionSafety {
    leaders: BTreeMap<Term, NodeId>,
}

impl ElectionSafety {
    /// `node` became leader of `term` at `at`.
    pub(crate) fn on_leader(
        &mut self,
        at: Instant,
        node: NodeId,
        term: Term,
    ) -> Result<(), Violation> {
        match self.leaders.insert(term, node) {
            Some(other) if other != node => Err(Violation {
                invariant: Invariant::ElectionSafety,
                at,
                detail: format!("{node} became leader of {term}, which {other} already led"),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn election_safety_fires_on_a_second_leader_in_a_term() {
        let mut c = ElectionSafety::default();
        c.on_leader(t(1), NodeId(1), Term(1)).unwrap();
        c.on_leader(t(2), NodeId(1), Term(1)).unwrap();
        c.on_leader(t(3), NodeId(2), Term(2)).unwrap();
        let v = c.on_leader(t(4), NodeId(3), Term(2)).unwrap_err();
        assert_eq!(v.invariant, Invariant::ElectionSafety);
        assert!(v.detail.contains("n3") && v.detail.contains("n2"), "{}", v.detail);
    }
}
