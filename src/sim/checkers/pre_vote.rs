//! Pre-vote changes no term and no vote (thesis §9.6): a node asks whether it could win before
//! it raises its term, so a node that cannot win (one rejoining after a partition, one whose
//! leader is alive to a majority) disrupts nobody. That holds only if the pre-vote round itself
//! leaves every hard state as it was:
//! - becoming a pre-candidate changes neither the node's term nor its vote;
//! - handling a pre-vote request changes neither (the request carries the term the asker would
//!   campaign in, which nobody is in yet);
//! - handling a pre-vote grant changes neither, unless that grant completes a majority and the
//!   node starts the real election: then its term rises by exactly one and it votes for
//!   itself, as a candidate.
//!
//! A pre-vote *refusal* may carry a later term, the refuser's own, which the asker learns like
//! any other (Raft §5.1): that is no change pre-vote made.

use super::{Invariant, Violation};
use crate::core::{HardState, Instant, NodeId, Role};

/// What a node just handled, for this rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PreVoteStep {
    /// Its election timer fired and it became a pre-candidate.
    Began,
    /// A pre-vote request from this node.
    Asked(NodeId),
    /// A granted pre-vote from this node.
    Granted(NodeId),
}

/// Fails if `node`'s hard state went from `before` to `after` (its role now `role`) handling
/// `step`.
pub(crate) fn check(
    at: Instant,
    node: NodeId,
    step: PreVoteStep,
    before: HardState,
    after: HardState,
    role: Role,
) -> Result<(), Violation> {
    if before == after {
        return Ok(());
    }
    let campaign_started = matches!(step, PreVoteStep::Granted(_))
        && matches!(role, Role::Candidate | Role::Leader)
        && before.term.next() == Some(after.term)
        && after.voted_for == Some(node);
    if campaign_started {
        return Ok(());
    }
    let what = match step {
        PreVoteStep::Began => "becoming a pre-candidate".to_string(),
        PreVoteStep::Asked(from) => format!("handling {from}'s pre-vote request"),
        PreVoteStep::Granted(from) => format!("handling {from}'s pre-vote grant"),
    };
    Err(Violation {
        invariant: Invariant::PreVote,
        at,
        detail: format!(
            "{node} went from {} (vote {}) to {} (vote {}) {what}, now {role:?}: a pre-vote \
             round changes no term and no vote (thesis §9.6)",
            before.term,
            vote(before),
            after.term,
            vote(after),
        ),
    })
}

fn vote(h: HardState) -> String {
    h.voted_for.map_or_else(|| "none".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Term;

    fn hs(term: u64, vote: Option<u64>) -> HardState {
        HardState { term: Term(term), voted_for: vote.map(NodeId) }
    }

    const AT: Instant = Instant::ZERO;

    #[test]
    fn a_pre_vote_that_moves_a_term_or_a_vote_fires_the_checker_thesis_9_6() {
        let n1 = NodeId(1);
        let ask = PreVoteStep::Asked(NodeId(2));
        let grant = PreVoteStep::Granted(NodeId(2));
        // Unchanged: fine, whatever the step.
        check(AT, n1, ask, hs(3, Some(2)), hs(3, Some(2)), Role::Follower).unwrap();
        check(AT, n1, PreVoteStep::Began, hs(3, None), hs(3, None), Role::PreCandidate).unwrap();
        // The grant that wins the pre-vote starts the election: one term up, its own vote.
        check(AT, n1, grant, hs(3, None), hs(4, Some(1)), Role::Candidate).unwrap();
        // A request's term adopted; a grant's term adopted without campaigning; a campaign
        // skipping a term; a pre-candidate that bumped its term.
        for (step, before, after, role) in [
            (ask, hs(3, Some(2)), hs(4, None), Role::Follower),
            (grant, hs(3, None), hs(4, None), Role::PreCandidate),
            (grant, hs(3, None), hs(5, Some(1)), Role::Candidate),
            (PreVoteStep::Began, hs(3, None), hs(4, Some(1)), Role::PreCandidate),
        ] {
            let v = check(AT, n1, step, before, after, role).unwrap_err();
            assert_eq!(v.invariant, Invariant::PreVote);
            assert!(v.detail.contains("from T3"), "{}", v.detail);
        }
    }
}
