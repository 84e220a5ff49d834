//! The properties every simulated run must keep, checked as events happen. Each checker is a
//! small state machine fed by the engine, so each can be tested on a hand-made history.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::{Instant, LogPosition, NodeId, Term};

/// The invariants the simulator checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// At most one leader per term (Raft §5.2).
    ElectionSafety,
    /// No two nodes hold a valid lease at the same real time (thesis §6.4.1).
    LeaseSafety,
    /// No node times out less than the timeout floor (`election_timeout_min` unless
    /// `election_timeout_floor` is set; by its own clock) after the latest
    /// reset of its timer that the timer rule explains (an accepted heartbeat, a granted vote,
    /// a campaign, a step-down).
    NoEarlyTimeout,
    /// Every live follower or candidate times out, or is reset again, within
    /// `election_timeout_max / clock_rate` (plus pauses, processing and timer lateness) of the
    /// latest reset the timer rule explains: so after a leader crashes, its followers notice.
    DetectionBound,
    /// Every timeout drawn at a reset lies in the range it was drawn from (`[min, max]`, or a
    /// detector's range as wide, starting no earlier than the floor), and over a trial the draws are
    /// uniform (Dvoretzky–Kiefer–Wolfowitz bound, α = 10⁻⁹).
    RandomizedTimeouts,
    /// No node grants a pre-vote, nor with leader stickiness a vote, within the timeout floor
    /// (on its own clock) of accepting a leader's heartbeat, whatever it
    /// learned since (thesis §4.2.3, §9.6): the window the leader lease relies on.
    LeaderStickiness,
    /// Every new leader's log is at least as up to date as that of each voter that granted it
    /// its vote (Raft §5.4.1).
    ElectionRestriction,
    /// Once faults stop and a majority is connected, a leader is known to a majority within the
    /// scenario's bound.
    Liveness,
    /// A read index (thesis §6.4) is confirmed only if no leader of a later term had been
    /// elected when the read was asked: a majority acknowledged a round sent after it.
    ReadIndex,
    /// Every membership change reaches each node as one its core accepts, in log order: a
    /// leader is never more than one change behind the latest (the election restriction keeps
    /// a node lacking a committed change from winning, thesis §4.1), so it never meets a
    /// change of two voters at once.
    MembershipChange,
    /// A node defers an election timeout for its own stall (local health) only after an input
    /// reached it while its timer was overdue by more than `local_pause_threshold` on its own
    /// clock (it was paused, or its timer starved) since the timer was armed, and only once
    /// until the timer is reset otherwise.
    LocalHealth,
    /// An invariant of the embedder's (`sim::Harness`), named in the violation's detail.
    User,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invariant::ElectionSafety => "election safety",
            Invariant::LeaseSafety => "lease safety",
            Invariant::NoEarlyTimeout => "no early timeout",
            Invariant::DetectionBound => "detection bound",
            Invariant::RandomizedTimeouts => "randomized timeouts",
            Invariant::ElectionRestriction => "election restriction",
            Invariant::LeaderStickiness => "leader stickiness",
            Invariant::Liveness => "liveness",
            Invariant::ReadIndex => "read index",
            Invariant::MembershipChange => "membership change",
            Invariant::LocalHealth => "local health",
            Invariant::User => "user invariant",
        })
    }
}

/// A broken invariant: which, when, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant.
    pub invariant: Invariant,
    /// When (simulated real time).
    pub at: Instant,
    /// What was seen.
    pub detail: String,
}

/// Election safety: remembers the leader of every term.
#[derive(Debug, Default)]
pub struct ElectionSafety {
    leaders: BTreeMap<Term, NodeId>,
}

impl ElectionSafety {
    /// `node` became leader of `term` at `at`.
    pub fn on_leader(&mut self, at: Instant, node: NodeId, term: Term) -> Result<(), Violation> {
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

/// Lease safety: given the nodes that believe they hold a valid lease at one instant.
pub fn check_leases(at: Instant, holders: &[(NodeId, Term)]) -> Result<(), Violation> {
    if holders.len() > 1 {
        let list: Vec<String> = holders.iter().map(|(n, t)| format!("{n} ({t})")).collect();
        return Err(Violation {
            invariant: Invariant::LeaseSafety,
            at,
            detail: format!(
                "{} nodes hold a valid lease at once: {}",
                holders.len(),
                list.join(", ")
            ),
        });
    }
    Ok(())
}

/// The election restriction (Raft §5.4.1): remembers, per term and candidate, the logs of the
/// voters that granted it their vote.
#[derive(Debug, Default)]
pub struct ElectionRestriction {
    grants: BTreeMap<(Term, NodeId), Vec<(NodeId, LogPosition)>>,
}

impl ElectionRestriction {
    /// `voter`, whose log ends at `log`, granted `candidate` its vote in `term`.
    pub fn on_grant(&mut self, term: Term, voter: NodeId, log: LogPosition, candidate: NodeId) {
        self.grants.entry((term, candidate)).or_default().push((voter, log));
    }

    /// `leader`, whose log ends at `log`, became leader of `term` at `at`.
    pub fn on_leader(
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

/// Liveness, evaluated at the deadline: `leader` is the leader a majority knows, if any.
pub fn check_liveness(
    at: Instant,
    leader: Option<(NodeId, Term)>,
    bound: Duration,
) -> Result<(), Violation> {
    match leader {
        Some(_) => Ok(()),
        None => Err(Violation {
            invariant: Invariant::Liveness,
            at,
            detail: format!(
                "no leader known to a connected majority {bound:?} after the last fault"
            ),
        }),
    }
}

/// Leader stickiness: `node` grants `what` (a vote or a pre-vote) to `candidate` at `local` on
/// its own clock, having last accepted a heartbeat at `contact`.
pub(crate) fn check_stickiness(
    at: Instant,
    node: NodeId,
    candidate: NodeId,
    what: &str,
    local: Instant,
    contact: Option<Instant>,
    min: Duration,
) -> Result<(), Violation> {
    match contact {
        Some(c) if local < c + min => Err(Violation {
            invariant: Invariant::LeaderStickiness,
            at,
            detail: format!(
                "{node} granted a {what} to {candidate} {:.3} ms after accepting a heartbeat \
                 (by its clock), inside the {:.3} ms window",
                (local - c).as_nanos() as f64 / 1e6,
                min.as_nanos() as f64 / 1e6
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
            check_stickiness(t(9), NodeId(1), NodeId(2), "vote", t(local), contact.map(t), min)
        };
        assert!(grant(100, None).is_ok());
        assert!(grant(250, Some(100)).is_ok());
        let v = grant(249, Some(100)).unwrap_err();
        assert_eq!(v.invariant, Invariant::LeaderStickiness);
        assert!(v.detail.contains("149.000 ms"), "{}", v.detail);
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

    #[test]
    fn lease_safety_fires_on_two_holders() {
        check_leases(t(1), &[(NodeId(1), Term(1))]).unwrap();
        let v = check_leases(t(1), &[(NodeId(1), Term(1)), (NodeId(2), Term(2))]).unwrap_err();
        assert_eq!(v.invariant, Invariant::LeaseSafety);
    }

    #[test]
    fn election_restriction_fires_when_a_voter_has_a_further_log() {
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

    #[test]
    fn liveness_fires_without_a_leader() {
        check_liveness(t(1), Some((NodeId(1), Term(3))), Duration::ZERO).unwrap();
        let v = check_liveness(t(1), None, Duration::from_secs(1)).unwrap_err();
        assert_eq!(v.invariant, Invariant::Liveness);
    }
}
