//! Liveness (Raft §5.2, §9.3): once faults stop and a majority is connected, a leader is known
//! to a majority within the scenario's bound (`[check] liveness_within_ms`).

use std::time::Duration;

use super::{Invariant, Violation};
use crate::core::{Instant, NodeId, Term};

/// Whether the run still owes a leader, and from when.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    pending: bool,
    /// When the last fault ends; liveness is judged from then on.
    quiet_at: Instant,
}

impl Liveness {
    /// A leader is owed from `quiet_at`, when the last fault ends.
    pub(crate) fn arm(&mut self, quiet_at: Instant) {
        self.pending = true;
        self.quiet_at = quiet_at;
    }

    /// Whether a leader is still owed.
    pub(crate) fn pending(&self) -> bool {
        self.pending
    }

    /// Whether, at `now`, a leader known to a majority would settle what is owed: one is
    /// owed and the last fault is over.
    pub(crate) fn owed_at(&self, now: Instant) -> bool {
        self.pending && now >= self.quiet_at
    }

    /// A leader is known to a majority after the last fault: nothing is owed any more.
    pub(crate) fn settled(&mut self) {
        self.pending = false;
    }

    /// The deadline passed: whether a leader was still owed (it is owed no longer).
    pub(crate) fn deadline_reached(&mut self) -> bool {
        std::mem::replace(&mut self.pending, false)
    }
}

/// Liveness at the deadline, a majority connected: `leader` is the leader a majority knows.
pub(crate) fn check(
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

    #[test]
    fn liveness_fires_without_a_leader() {
        let t = Instant::from_millis;
        check(t(1), Some((NodeId(1), Term(3))), Duration::ZERO).unwrap();
        let v = check(t(1), None, Duration::from_secs(1)).unwrap_err();
        assert_eq!(v.invariant, Invariant::Liveness);
        let mut l = Liveness::default();
        l.arm(t(10));
        assert!(!l.owed_at(t(9)) && l.owed_at(t(10)), "judged from the last fault");
        l.settled();
        assert!(!l.pending() && !l.deadline_reached());
    }
}
