//! The election restriction (Raft §5.4.1): every new leader's log is at least as up to date as
//! that of each voter that granted it its vote.

use std::collections::BTreeMap;

use super::{Invariant, Violation};
use crate::core::{Instant, LogPosition, NodeId, Term};

/// Remembers, per term and candidate, the logs of the voters that granted it their vote.
#[derive(Debug, Default)]
pub(crate) struct ElectionRestriction {
    grants: BTreeMap<(Term, NodeId), Vec<(NodeId, LogPosition)>>,
}

impl ElectionRestriction {
    /// `voter`, whose log ends at `log`, granted `candidate` its vote in `term`.
    pub(crate) fn on_grant(
        &mut self,
        term: Term,
        voter: NodeId,
        log: LogPosition,
        candidate: NodeId,
    ) {
        self.grants.entry((term, candidate)).or_default().push((voter, log));
    }

    /// `leader`, whose log ends at `log`, became leader of `term` at `at`.
    pub(crate) fn on_leader(
        &self,
        at: Instant,
        leader: NodeId,
        term: Term,
        log: LogPosition,
    ) -> Result<(), Violation> {
        let voters = self.grants.get(&(term, leader)).map(Vec::as_slice).unwrap_or_default();
        match voters.iter().find(|(_, voter_log)| *voter_log > log) {
            Some((voter, voter_log)) => Err(Violation {
                invariant: Invariant::ElectionRestriction,
                at,
                detail: format!(
                    "{leader} became leader of {term} with its log at {}:{}, with the vote of \
                     {voter} whose log is further, at {}:{}",
                    log.term, log.index, voter_log.term, voter_log.index
                ),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn election_restriction_fires_when_a_voter_has_a_further_log() {
        let t = Instant::from_millis;
        let mut c = ElectionRestriction::default();
        let (short, long) = (LogPosition::new(Term(1), 5), LogPosition::new(Term(1), 9));
        c.on_grant(Term(2), NodeId(2), short, NodeId(1));
        c.on_grant(Term(3), NodeId(3), long, NodeId(2));
        c.on_leader(t(1), NodeId(1), Term(2), short).unwrap();
        c.on_leader(t(1), NodeId(2), Term(3), long).unwrap();
        c.on_grant(Term(4), NodeId(3), long, NodeId(1));
        let v = c.on_leader(t(2), NodeId(1), Term(4), short).unwrap_err();
        assert_eq!(v.invariant, Invariant::ElectionRestriction);
    }
}
