//! Leader stickiness (thesis §4.2.3, §9.6): no node grants a pre-vote, nor with leader
//! stickiness a vote, within the timeout floor (on its own clock) of accepting a leader's
//! heartbeat, whatever it learned since: the window the leader lease relies on. A leadership
//! transfer's vote is granted despite it, by design (thesis §3.10), and so is a retransmitted
//! request from the candidate the node already voted for in that term, durably (Raft Figure 2,
//! §5.5): that vote was cast before the window began, and granting it again elects no one the
//! first grant did not.

use std::time::Duration;

use super::{Invariant, Violation};
use crate::core::{Instant, NodeId};

/// A pre-vote request a node handled, as it stood when it decided.
#[derive(Clone, Copy, Debug)]
struct PreVoteAsked {
    candidate: NodeId,
    local: Instant,
    contact: Option<Instant>,
}

/// What one node's grants are judged by.
#[derive(Clone, Debug, Default)]
struct Voter {
    /// When, on its own clock, it last accepted a heartbeat. Kept across a crash: the window
    /// in which it must not vote outlives a restart.
    contact: Option<Instant>,
    /// Pre-vote requests handled and not yet answered on the wire (an answer waits for any
    /// hard state being written), with the node's clock and last contact when it decided.
    pre_votes: Vec<PreVoteAsked>,
    /// The message being handled is a vote request the window does not bind: a leadership
    /// transfer's, or a retransmission from the candidate it already voted for in that term.
    exempt_vote: bool,
}

/// Every node's window, and the pre-votes it has yet to answer.
#[derive(Debug)]
pub(crate) struct LeaderStickiness {
    /// The window: the timeout floor.
    window: Duration,
    /// Whether votes (not only pre-votes) are held to it: the scenario's `leader_stickiness`.
    votes_too: bool,
    voters: Vec<Voter>,
}

impl LeaderStickiness {
    pub(crate) fn new(nodes: usize, window: Duration, votes_too: bool) -> Self {
        LeaderStickiness { window, votes_too, voters: vec![Voter::default(); nodes] }
    }

    /// Node `i` accepted a leader's heartbeat (or its host counted contact) at `local`.
    pub(crate) fn contact(&mut self, i: usize, local: Instant) {
        self.voters[i].contact = Some(local);
    }

    /// Node `i` restarts having never made a term durable: it never acknowledged a heartbeat
    /// (an answer waits for the term it carries to be written), so no lease counts on its
    /// window.
    pub(crate) fn forget_contact(&mut self, i: usize) {
        self.voters[i].contact = None;
    }

    /// Node `i` crashed: its unanswered pre-votes are gone with it.
    pub(crate) fn crashed(&mut self, i: usize) {
        self.voters[i].pre_votes.clear();
    }

    /// Node `i` is handed a message; `exempt_vote`: a vote request the window does not bind.
    pub(crate) fn handling(&mut self, i: usize, exempt_vote: bool) {
        self.voters[i].exempt_vote = exempt_vote;
    }

    /// Node `i` is handed `candidate`'s pre-vote request at `local`.
    pub(crate) fn pre_vote_asked(&mut self, i: usize, candidate: NodeId, local: Instant) {
        let v = &mut self.voters[i];
        v.pre_votes.push(PreVoteAsked { candidate, local, contact: v.contact });
    }

    /// Node `i` refused the pre-vote request it was just handed (a stranger's): no answer.
    pub(crate) fn pre_vote_unanswered(&mut self, i: usize) {
        self.voters[i].pre_votes.pop();
    }

    /// Node `i` (`id`) answers `candidate`'s pre-vote on the wire at `at`: a grant is judged
    /// by the clock and contact it decided with. The core answers each request once, in order.
    pub(crate) fn pre_vote_answered(
        &mut self,
        at: Instant,
        i: usize,
        id: NodeId,
        candidate: NodeId,
        granted: bool,
    ) -> Result<(), Violation> {
        let asked = &mut self.voters[i].pre_votes;
        let Some(k) = asked.iter().position(|a| a.candidate == candidate) else { return Ok(()) };
        let a = asked.remove(k);
        if !granted {
            return Ok(());
        }
        check_window(at, id, a.candidate, "pre-vote", a.local, a.contact, self.window)
    }

    /// Node `i` (`id`) granted `candidate` its vote at `local` on its clock.
    pub(crate) fn vote_granted(
        &self,
        at: Instant,
        i: usize,
        id: NodeId,
        candidate: NodeId,
        local: Instant,
    ) -> Result<(), Violation> {
        let v = &self.voters[i];
        if !self.votes_too || v.exempt_vote {
            return Ok(());
        }
        check_window(at, id, candidate, "vote", local, v.contact, self.window)
    }
}

/// `node` grants `what` (a vote or a pre-vote) to `candidate` at `local` on its own clock,
/// having last accepted a heartbeat at `contact`.
fn check_window(
    at: Instant,
    node: NodeId,
    candidate: NodeId,
    what: &str,
    local: Instant,
    contact: Option<Instant>,
    window: Duration,
) -> Result<(), Violation> {
    match contact {
        Some(c) if local < c + window => Err(Violation {
            invariant: Invariant::LeaderStickiness,
            at,
            detail: format!(
                "{node} granted a {what} to {candidate} {:.3} ms after accepting a heartbeat \
                 (by its clock), inside the {:.3} ms window",
                (local - c).as_nanos() as f64 / 1e6,
                window.as_nanos() as f64 / 1e6
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn stickiness_fires_on_a_grant_inside_the_window_only() {
        let min = Duration::from_millis(150);
        let grant = |local: u64, contact: Option<u64>| {
            check_window(t(9), NodeId(1), NodeId(2), "vote", t(local), contact.map(t), min)
        };
        assert!(grant(100, None).is_ok());
        assert!(grant(250, Some(100)).is_ok());
        let v = grant(249, Some(100)).unwrap_err();
        assert_eq!(v.invariant, Invariant::LeaderStickiness);
        assert!(v.detail.contains("149.000 ms"), "{}", v.detail);
    }

    #[test]
    fn a_pre_vote_is_judged_by_the_contact_it_was_decided_with_and_a_transfer_vote_passes() {
        let mut s = LeaderStickiness::new(2, Duration::from_millis(150), true);
        s.contact(0, t(100));
        s.pre_vote_asked(0, NodeId(2), t(200));
        // Contact learned after deciding changes nothing.
        s.forget_contact(0);
        let v = s.pre_vote_answered(t(201), 0, NodeId(1), NodeId(2), true).unwrap_err();
        assert!(v.detail.contains("pre-vote"), "{}", v.detail);
        s.pre_vote_asked(0, NodeId(2), t(210));
        s.pre_vote_answered(t(211), 0, NodeId(1), NodeId(2), false).unwrap();
        s.contact(1, t(100));
        assert!(s.vote_granted(t(200), 1, NodeId(2), NodeId(1), t(200)).is_err());
        s.handling(1, true);
        s.vote_granted(t(200), 1, NodeId(2), NodeId(1), t(200)).unwrap();
    }
}
