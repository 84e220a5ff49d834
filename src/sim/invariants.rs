//! The properties every simulated run must keep, checked as events happen. Each checker is a
//! small state machine fed by the engine, so each can be tested on a hand-made history.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::{Instant, NodeId, Term};

/// The invariants the simulator checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// At most one leader per term (Raft §5.2).
    ElectionSafety,
    /// No two nodes hold a valid lease at the same real time (thesis §6.4.1).
    LeaseSafety,
    /// No follower campaigns less than `election_timeout_min` (by its own clock) after the last
    /// valid heartbeat it accepted.
    NoEarlyTimeout,
    /// After the leader crashes, every live follower stops following it within
    /// `election_timeout_max / clock_rate` (plus pauses and processing) of the last heartbeat
    /// it accepted from it.
    DetectionBound,
    /// Once faults stop and a majority is connected, a leader is known to a majority within the
    /// scenario's bound.
    Liveness,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invariant::ElectionSafety => "election safety",
            Invariant::LeaseSafety => "lease safety",
            Invariant::NoEarlyTimeout => "no early timeout",
            Invariant::DetectionBound => "detection bound",
            Invariant::Liveness => "liveness",
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

/// No early timeout: `node` campaigned `silence` (its own clock) after its last accepted
/// heartbeat; `min` is the minimum election timeout.
pub fn check_timeout(
    at: Instant,
    node: NodeId,
    silence: Duration,
    min: Duration,
) -> Result<(), Violation> {
    if silence < min {
        return Err(Violation {
            invariant: Invariant::NoEarlyTimeout,
            at,
            detail: format!(
                "{node} timed out {silence:?} after its last heartbeat, below the minimum {min:?}"
            ),
        });
    }
    Ok(())
}

/// Detection bound: after a leader crash, a deadline per follower still following it.
#[derive(Debug, Default)]
pub struct DetectionBound {
    crashed: Option<(NodeId, Term)>,
    deadlines: BTreeMap<NodeId, Instant>,
}

impl DetectionBound {
    /// The leader `leader` of `term` crashed; each follower gets its deadline.
    pub fn start(
        &mut self,
        leader: NodeId,
        term: Term,
        deadlines: impl IntoIterator<Item = (NodeId, Instant)>,
    ) {
        self.crashed = Some((leader, term));
        self.deadlines = deadlines.into_iter().collect();
    }

    /// The crashed leader, while followers are still being watched.
    pub fn watching(&self) -> Option<(NodeId, Term)> {
        self.crashed.filter(|_| !self.deadlines.is_empty())
    }

    /// `node` accepted a late heartbeat from the crashed leader: its deadline moves to `deadline`.
    pub fn extend(&mut self, node: NodeId, deadline: Instant) {
        if let Some(d) = self.deadlines.get_mut(&node) {
            *d = (*d).max(deadline);
        }
    }

    /// `node` is paused: a timer due before `until` fires at `until` instead.
    pub fn paused_until(&mut self, node: NodeId, until: Instant) {
        if let Some(deadline) = self.deadlines.get_mut(&node) {
            *deadline = (*deadline).max(until);
        }
    }

    /// `node` stopped following the crashed leader (timed out, or moved to a later term), or
    /// crashed itself.
    pub fn done(&mut self, node: NodeId) {
        self.deadlines.remove(&node);
    }

    /// Fails if a watched follower passed its deadline by `now`.
    pub fn check(&self, now: Instant) -> Result<(), Violation> {
        let Some((leader, term)) = self.crashed.filter(|_| !self.deadlines.is_empty()) else {
            return Ok(());
        };
        match self.deadlines.iter().find(|(_, d)| now > **d) {
            Some((node, deadline)) => Err(Violation {
                invariant: Invariant::DetectionBound,
                at: now,
                detail: format!("{node} still follows {leader} of {term}, which crashed; it had to notice by {deadline}"),
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

    #[test]
    fn lease_safety_fires_on_two_holders() {
        check_leases(t(1), &[(NodeId(1), Term(1))]).unwrap();
        let v = check_leases(t(1), &[(NodeId(1), Term(1)), (NodeId(2), Term(2))]).unwrap_err();
        assert_eq!(v.invariant, Invariant::LeaseSafety);
    }

    #[test]
    fn early_timeout_fires_below_the_minimum() {
        let min = Duration::from_millis(150);
        check_timeout(t(1), NodeId(1), min, min).unwrap();
        let v = check_timeout(t(1), NodeId(1), Duration::from_millis(149), min).unwrap_err();
        assert_eq!(v.invariant, Invariant::NoEarlyTimeout);
    }

    #[test]
    fn detection_bound_fires_when_a_follower_keeps_following_a_crashed_leader() {
        let mut c = DetectionBound::default();
        c.start(NodeId(1), Term(1), [(NodeId(2), t(300)), (NodeId(3), t(300))]);
        c.done(NodeId(2));
        c.extend(NodeId(3), t(310));
        c.paused_until(NodeId(3), t(305));
        c.check(t(310)).unwrap();
        c.paused_until(NodeId(3), t(315));
        c.check(t(315)).unwrap();
        let v = c.check(t(316)).unwrap_err();
        assert_eq!(v.invariant, Invariant::DetectionBound);
        c.done(NodeId(3));
        c.check(t(1000)).unwrap();
        assert_eq!(c.watching(), None);
    }

    #[test]
    fn liveness_fires_without_a_leader() {
        check_liveness(t(1), Some((NodeId(1), Term(3))), Duration::ZERO).unwrap();
        let v = check_liveness(t(1), None, Duration::from_secs(1)).unwrap_err();
        assert_eq!(v.invariant, Invariant::Liveness);
    }
}
