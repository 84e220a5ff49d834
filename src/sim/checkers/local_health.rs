//! Local health (Lifeguard; CASSANDRA-9183): a node defers an election timeout for its own
//! stall only after an input reached it while its timer was overdue by more than
//! `local_pause_threshold` on its own clock (it was paused, or its timer starved) since the
//! timer was armed, and only once until the timer is reset otherwise.

use super::timer_watch::TimerWatch;
use super::{Invariant, Violation};
use crate::core::{Instant, NodeId};

/// The latest stall the engine saw each node in.
#[derive(Debug)]
pub(crate) struct LocalHealth {
    /// The latest real instant an input found each node stalled.
    stalled_at: Vec<Option<Instant>>,
}

impl LocalHealth {
    pub(crate) fn new(nodes: usize) -> Self {
        LocalHealth { stalled_at: vec![None; nodes] }
    }

    /// An input found node `i` stalled at `at`.
    pub(crate) fn stall_seen(&mut self, i: usize, at: Instant) {
        self.stalled_at[i] = Some(at);
    }

    /// Node `i` (`node`), whose timer `w` watches, deferred its election timeout at `at`.
    pub(crate) fn check_deferral(
        &self,
        w: &TimerWatch,
        at: Instant,
        i: usize,
        node: NodeId,
    ) -> Result<(), Violation> {
        check_deferral(w, at, node, self.stalled_at[i])
    }
}

/// `node`, whose timer `w` watches, deferred at `at`; its latest stall was at `stalled_at`.
fn check_deferral(
    w: &TimerWatch,
    at: Instant,
    node: NodeId,
    stalled_at: Option<Instant>,
) -> Result<(), Violation> {
    let broken = |detail: String| Violation { invariant: Invariant::LocalHealth, at, detail };
    let Some(armed) = w.armed_real else { return Ok(()) };
    if w.deferred {
        return Err(broken(format!(
            "{node} deferred its election timeout twice in a row, with no contact, vote or \
             campaign between"
        )));
    }
    if stalled_at.is_none_or(|s| s <= armed) {
        return Err(broken(format!(
            "{node} deferred its election timeout for a stall of its own, but none reached \
             it since its timer was armed at {armed} (latest: {stalled_at:?})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferral_without_a_stall_since_the_reset_or_a_second_one_fires_the_checker() {
        let t = Instant::from_millis;
        let mut w = TimerWatch::default();
        w.reset(t(100), t(100), t(400));
        check_deferral(&w, t(500), NodeId(1), Some(t(450))).unwrap();
        let none = check_deferral(&w, t(500), NodeId(1), None).unwrap_err();
        assert_eq!(none.invariant, Invariant::LocalHealth);
        let stale = check_deferral(&w, t(500), NodeId(1), Some(t(100))).unwrap_err();
        assert!(stale.detail.contains("none reached"), "{}", stale.detail);
        w.deferral_next = true;
        w.reset(t(500), t(500), t(800));
        let twice = check_deferral(&w, t(900), NodeId(1), Some(t(850))).unwrap_err();
        assert!(twice.detail.contains("twice"), "{}", twice.detail);
    }
}
