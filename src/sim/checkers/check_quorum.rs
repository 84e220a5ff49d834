//! Check quorum (thesis §6.2): a leader steps down once a minimum election timeout passes, on
//! its own clock, without a successful heartbeat round to a majority of its voters. Learners
//! count in no majority (thesis §4.2.1), and the leader counts once, itself, if it votes.
//!
//! The checker keeps its own record of what each leader heard: the successful answers of its
//! term (heartbeat responses, and its host's acknowledgements of its own AppendEntries),
//! delivered to it, on its clock. From that record it works out the latest instant a majority
//! of the leader's voters had been heard, and judges the leader at each of its timer firings:
//! one at or past that instant plus the minimum election timeout must find it no longer
//! leading. The core arms a timer for its own check-quorum deadline, so a core that counts the
//! same answers steps down at exactly that firing; one that counts learners, or itself twice,
//! or never checks, is still leading.
//!
//! A voter added while the node leads counts as heard from the change, as the core counts it;
//! a voter removed is forgotten, so that added again it counts from then, not from an answer
//! it gave before. A change the checker was not told of (an embedder's host calling
//! `set_membership` itself) is noticed at the next timer firing and counted from then: later
//! than the core counts it, so the checker allows at least as long as the core, never less.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Invariant, Violation};
use crate::core::{Instant, NodeId, Term};

/// What one leader heard, on its clock.
#[derive(Clone, Debug)]
struct Leading {
    term: Term,
    /// The latest successful answer of `term` from each peer; for a voter not heard from
    /// yet, when the node became leader or, for one added since, when the checker first saw
    /// it among the voters.
    heard: BTreeMap<NodeId, Instant>,
}

/// Each node's leadership, by index.
#[derive(Debug)]
pub(crate) struct CheckQuorum {
    leading: Vec<Option<Leading>>,
    /// The minimum election timeout: the silence check quorum allows.
    window: Duration,
    on: bool,
    scratch: Vec<Instant>,
}

impl CheckQuorum {
    /// The checker of `nodes` nodes allowing `window` (the minimum election timeout); `on`:
    /// whether the cluster runs check quorum at all (if not, nothing is checked).
    pub(crate) fn new(nodes: usize, window: Duration, on: bool) -> Self {
        CheckQuorum { leading: vec![None; nodes], window, on, scratch: Vec::new() }
    }

    /// Node `i` became leader of `term` at `local` on its clock, with `voters`.
    pub(crate) fn elected(&mut self, i: usize, term: Term, local: Instant, voters: &[NodeId]) {
        if let Some(slot) = self.leading.get_mut(i) {
            let heard = voters.iter().map(|&v| (v, local)).collect();
            *slot = Some(Leading { term, heard });
        }
    }

    /// Node `i`, leading `term` as the message reached it, was handed a successful answer of
    /// `term` from `from` at `local`.
    pub(crate) fn answered(&mut self, i: usize, from: NodeId, term: Term, local: Instant) {
        let Some(Some(l)) = self.leading.get_mut(i) else { return };
        if l.term == term {
            let at = l.heard.entry(from).or_insert(local);
            *at = (*at).max(local);
        }
    }

    /// Node `i`'s voters became `voters` at `local` on its clock: one added counts as heard
    /// from then (as the core counts it), one removed is forgotten (so that, added again, it
    /// counts from then too).
    pub(crate) fn voters_changed(&mut self, i: usize, local: Instant, voters: &[NodeId]) {
        let Some(Some(l)) = self.leading.get_mut(i) else { return };
        l.heard.retain(|v, _| voters.contains(v));
        for &v in voters {
            l.heard.entry(v).or_insert(local);
        }
    }

    /// Node `i` crashed: whatever it led, it leads no more.
    pub(crate) fn crashed(&mut self, i: usize) {
        if let Some(slot) = self.leading.get_mut(i) {
            *slot = None;
        }
    }

    /// Judges node `i` (id `id`) right after one of its timer firings at `local` on its
    /// clock (real time `at`). `leads`: the term it leads now, if any; `voters`: its voters
    /// now.
    pub(crate) fn after_timer(
        &mut self,
        at: Instant,
        i: usize,
        id: NodeId,
        local: Instant,
        leads: Option<Term>,
        voters: &[NodeId],
    ) -> Result<(), Violation> {
        if !self.on {
            return Ok(());
        }
        let tracked = self.leading.get(i).and_then(Option::as_ref).map(|l| l.term);
        if leads.is_none() || tracked != leads {
            return Ok(());
        }
        // A change the checker was not told of (a host's own): seen now, so judged leniently.
        self.voters_changed(i, local, voters);
        let Some(Some(l)) = self.leading.get_mut(i) else { return Ok(()) };
        let times = &mut self.scratch;
        times.clear();
        for &v in voters {
            times.push(if v == id { local } else { l.heard.get(&v).copied().unwrap_or(local) });
        }
        let majority = voters.len() / 2 + 1;
        times.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&contact) = times.get(majority - 1) else { return Ok(()) };
        let due = contact + self.window;
        if local < due {
            return Ok(());
        }
        Err(Violation {
            invariant: Invariant::CheckQuorum,
            at,
            detail: format!(
                "{id} still leads {} at {local} on its clock, but a majority of its {} voters \
                 was last heard at {contact}: check quorum should have stepped it down at \
                 {due}, a minimum election timeout later (thesis §6.2)",
                l.term,
                voters.len()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    const VOTERS: [NodeId; 5] = [NodeId(1), NodeId(2), NodeId(3), NodeId(4), NodeId(5)];

    #[test]
    fn a_leader_that_heard_no_majority_for_a_minimum_timeout_must_have_stepped_down_thesis_6_2() {
        let mut c = CheckQuorum::new(5, Duration::from_millis(150), true);
        c.elected(0, Term(2), t(100), &VOTERS);
        // n2 answers throughout, n3 until 200 ms: with n1, a majority until 200 ms.
        for ms in [150, 200] {
            c.answered(0, NodeId(2), Term(2), t(ms));
            c.answered(0, NodeId(3), Term(2), t(ms));
        }
        c.answered(0, NodeId(2), Term(2), t(340));
        c.answered(0, NodeId(3), Term(1), t(340)); // an answer of another term counts not
        c.after_timer(t(349), 0, NodeId(1), t(349), Some(Term(2)), &VOTERS).unwrap();
        let v = c.after_timer(t(350), 0, NodeId(1), t(350), Some(Term(2)), &VOTERS).unwrap_err();
        assert_eq!(v.invariant, Invariant::CheckQuorum);
        assert!(
            v.detail.contains("t=200.000ms") && v.detail.contains("t=350.000ms"),
            "{}",
            v.detail
        );
        // Stepped down (or leading a later term): nothing to judge.
        c.after_timer(t(350), 0, NodeId(1), t(350), None, &VOTERS).unwrap();
        c.after_timer(t(350), 0, NodeId(1), t(350), Some(Term(3)), &VOTERS).unwrap();
    }

    #[test]
    fn learners_and_the_leader_itself_count_once_at_most() {
        let mut c = CheckQuorum::new(5, Duration::from_millis(150), true);
        let voters = [NodeId(1), NodeId(2), NodeId(3)];
        c.elected(0, Term(2), t(0), &voters);
        // Three voters: n1 and n2 make the majority. n4, a learner, answers; it counts not.
        c.answered(0, NodeId(4), Term(2), t(300));
        c.answered(0, NodeId(1), Term(2), t(300)); // itself, as if it had answered
        assert!(c.after_timer(t(150), 0, NodeId(1), t(150), Some(Term(2)), &voters).is_err());
        c.answered(0, NodeId(2), Term(2), t(160));
        c.after_timer(t(300), 0, NodeId(1), t(300), Some(Term(2)), &voters).unwrap();
        assert!(c.after_timer(t(310), 0, NodeId(1), t(310), Some(Term(2)), &voters).is_err());
    }

    #[test]
    fn a_voter_added_while_leading_counts_from_when_it_is_first_seen() {
        let mut c = CheckQuorum::new(5, Duration::from_millis(150), true);
        c.elected(0, Term(2), t(0), &[NodeId(1), NodeId(2)]);
        c.answered(0, NodeId(2), Term(2), t(100));
        c.after_timer(t(100), 0, NodeId(1), t(100), Some(Term(2)), &[NodeId(1), NodeId(2)])
            .unwrap();
        // n3 and n4 join at 200 ms: a majority of four is n1, n2 and one of them.
        let four = [NodeId(1), NodeId(2), NodeId(3), NodeId(4)];
        c.after_timer(t(200), 0, NodeId(1), t(200), Some(Term(2)), &four).unwrap();
        c.answered(0, NodeId(2), Term(2), t(300));
        c.after_timer(t(349), 0, NodeId(1), t(349), Some(Term(2)), &four).unwrap();
        assert!(c.after_timer(t(350), 0, NodeId(1), t(350), Some(Term(2)), &four).is_err());
    }

    #[test]
    fn a_voter_removed_and_added_again_counts_from_its_return_not_its_old_answers() {
        let mut c = CheckQuorum::new(2, Duration::from_millis(150), true);
        let two = [NodeId(1), NodeId(2)];
        c.elected(0, Term(1), t(0), &two);
        c.answered(0, NodeId(2), Term(1), t(100));
        c.voters_changed(0, t(110), &[NodeId(1)]);
        c.after_timer(t(500), 0, NodeId(1), t(500), Some(Term(1)), &[NodeId(1)]).unwrap();
        c.voters_changed(0, t(600), &two);
        c.after_timer(t(749), 0, NodeId(1), t(749), Some(Term(1)), &two).unwrap();
        assert!(c.after_timer(t(750), 0, NodeId(1), t(750), Some(Term(1)), &two).is_err());
    }

    #[test]
    fn without_check_quorum_nothing_is_checked() {
        let mut c = CheckQuorum::new(1, Duration::from_millis(150), false);
        c.elected(0, Term(2), t(0), &VOTERS);
        c.after_timer(t(9000), 0, NodeId(1), t(9000), Some(Term(2)), &VOTERS).unwrap();
    }
}
