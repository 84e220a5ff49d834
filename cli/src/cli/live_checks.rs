//! What `cluster` checks over every node's reports, on the one host clock they share: never two
//! nodes holding a valid lease at one instant (thesis §6.4.1), and no vote lost across a
//! restart (Raft Figure 2: `currentTerm` and `votedFor` are persisted before answering).

use std::collections::BTreeMap;

use raft_heartbeat::core::{NodeId, Term};

use super::event_line::LeaseLine;

/// One node's lease from when it took it until it ran out or was given up, µs since the Unix
/// epoch: consecutive extensions in one term make one stint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stint {
    pub node: u64,
    pub term: Term,
    pub since_us: u64,
    pub until_us: u64,
}

impl Stint {
    fn overlaps(&self, other: &Stint) -> bool {
        self.since_us < other.until_us && other.since_us < self.until_us
    }
}

/// Every node's leases as reported.
#[derive(Debug, Default)]
pub struct Leases {
    open: BTreeMap<u64, Stint>,
    closed: Vec<Stint>,
}

/// What the leases show.
#[derive(Debug)]
pub struct LeaseCheck {
    /// Stints seen.
    pub stints: usize,
    /// Pairs of stints of two nodes valid at one instant.
    pub overlaps: Vec<(Stint, Stint)>,
    /// The shortest time from one node's lease running out to another node taking one, µs.
    pub gap_min_us: Option<u64>,
}

impl Leases {
    /// A node's report: its lease taken or extended, or given up.
    pub fn report(&mut self, line: &LeaseLine) {
        let Some(span) = line.lease else {
            self.end(line.node, line.unix_us);
            return;
        };
        if let Some(open) = self.open.get_mut(&line.node) {
            if open.term == span.term && span.since_unix_us <= open.until_us {
                open.until_us = open.until_us.max(span.until_unix_us);
                return;
            }
        }
        let stint = Stint {
            node: line.node,
            term: span.term,
            since_us: span.since_unix_us,
            until_us: span.until_unix_us,
        };
        if let Some(done) = self.open.insert(line.node, stint) {
            self.closed.push(done);
        }
    }

    /// The node holds no lease from `at_us` on: it said so. (A killed node's lease runs its
    /// course: the others cannot tell it from a paused one.)
    fn end(&mut self, node: u64, at_us: u64) {
        if let Some(mut done) = self.open.remove(&node) {
            done.until_us = done.until_us.min(at_us).max(done.since_us);
            self.closed.push(done);
        }
    }

    /// Every stint against every other node's.
    pub fn check(&self) -> LeaseCheck {
        let mut all: Vec<Stint> = self.closed.iter().chain(self.open.values()).copied().collect();
        all.sort_by_key(|s| (s.since_us, s.node));
        let mut overlaps = Vec::new();
        let mut gap_min_us: Option<u64> = None;
        for (k, b) in all.iter().enumerate() {
            let others = all[..k].iter().filter(|a| a.node != b.node);
            overlaps.extend(others.clone().filter(|a| a.overlaps(b)).map(|a| (*a, *b)));
            let before = others.filter(|a| a.until_us <= b.since_us).map(|a| a.until_us).max();
            if let Some(end) = before {
                let gap = b.since_us - end;
                gap_min_us = Some(gap_min_us.map_or(gap, |g| g.min(gap)));
            }
        }
        LeaseCheck { stints: all.len(), overlaps, gap_min_us }
    }
}

/// Every vote each node cast, its own included, in every term, across its incarnations.
#[derive(Debug, Default)]
pub struct Votes {
    cast: BTreeMap<(u64, Term), NodeId>,
    /// A second vote in a term, as a sentence.
    pub lost: Vec<String>,
}

impl Votes {
    /// `node` voted for `candidate` in `term` (itself, when it campaigns).
    pub fn cast(&mut self, node: u64, term: Term, candidate: NodeId) {
        if let Some(first) = self.cast.insert((node, term), candidate) {
            if first != candidate {
                self.lost.push(format!(
                    "n{node} voted for {first} and then for {candidate} in {term}: the first \
                     vote was lost"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::event_line::LeaseSpan;

    fn held(node: u64, term: u64, since_us: u64, until_us: u64) -> LeaseLine {
        let lease =
            Some(LeaseSpan { term: Term(term), since_unix_us: since_us, until_unix_us: until_us });
        LeaseLine { node, lease, unix_us: since_us }
    }

    #[test]
    fn extensions_make_one_stint_and_a_handover_after_it_ran_out_is_no_overlap() {
        let mut l = Leases::default();
        for k in 0..10 {
            l.report(&held(1, 3, 1_000 + 50 * k, 1_150 + 50 * k));
        }
        l.report(&held(2, 4, 1_700, 1_850));
        let c = l.check();
        assert_eq!(c.stints, 2);
        assert!(c.overlaps.is_empty());
        assert_eq!(c.gap_min_us, Some(1_700 - 1_600));
    }

    #[test]
    fn a_lease_taken_before_another_node_ran_out_is_an_overlap() {
        let mut l = Leases::default();
        l.report(&held(1, 3, 1_000, 1_150));
        l.report(&held(2, 4, 1_100, 1_250));
        assert_eq!(l.check().overlaps.len(), 1);
    }

    #[test]
    fn a_lease_given_up_ends_its_stint_then() {
        let mut l = Leases::default();
        l.report(&held(1, 3, 1_000, 1_150));
        l.report(&LeaseLine { node: 1, lease: None, unix_us: 1_050 });
        l.report(&held(3, 5, 1_200, 1_350));
        l.report(&LeaseLine { node: 3, lease: None, unix_us: 1_250 });
        l.report(&held(2, 4, 1_060, 1_200));
        l.report(&held(1, 6, 1_260, 1_400));
        let c = l.check();
        assert!(c.overlaps.is_empty(), "{:?}", c.overlaps);
        assert_eq!(c.gap_min_us, Some(0), "n3 took it as n2's ran out");
    }

    #[test]
    fn a_second_vote_in_a_term_is_a_lost_vote_and_the_same_vote_again_is_not() {
        let mut v = Votes::default();
        v.cast(1, Term(2), NodeId(1));
        v.cast(1, Term(2), NodeId(1));
        v.cast(2, Term(2), NodeId(1));
        assert!(v.lost.is_empty());
        v.cast(1, Term(2), NodeId(3));
        assert_eq!(v.lost.len(), 1, "{:?}", v.lost);
    }
}
