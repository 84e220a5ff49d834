//! What the engine knows of each node's election timer, from the timer rule alone: the model
//! three checkers judge by ([`no_early_timeout`](super::no_early_timeout),
//! [`detection_bound`](super::detection_bound), [`local_health`](super::local_health)).
//!
//! The engine never reads a node's timer to decide when it should fire. It watches the inputs
//! and events that the rule (Raft's Figure 2, or etcd-raft's, see
//! [`TimerRule`](crate::core::TimerRule)) says reset the timer (an accepted heartbeat, a granted
//! vote, a campaign, a leader's or, under etcd's rule, a candidate's step-down, a boot) and
//! records each here. A core that resets its timer where the rule does not, or fails to where
//! it does, breaks one of the three.

use crate::core::Instant;

/// One node's timer as the rule sees it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimerWatch {
    /// The latest reset the rule explains, on the node's own clock; `None` while it leads or
    /// is down.
    pub(crate) armed_local: Option<Instant>,
    /// The same reset, in real time.
    pub(crate) armed_real: Option<Instant>,
    /// That reset was a deferral (local health).
    pub(crate) deferred: bool,
    /// The real instant by which the node must have timed out or been reset again.
    pub(crate) bound: Option<Instant>,
    /// A pause keeps the node's timer from firing until this real instant (plus slack).
    pub(crate) paused_floor: Option<Instant>,
    /// The node deferred its timeout: the next reset is that deferral's redraw. Kept when the
    /// timer stops.
    pub(crate) deferral_next: bool,
}

impl TimerWatch {
    /// The node's timer was reset at `real` time, `local` on its clock; `bound` is the real
    /// instant by which it must fire. The reset is a deferral's if one was just made.
    pub(crate) fn reset(&mut self, real: Instant, local: Instant, bound: Instant) {
        self.deferred = std::mem::take(&mut self.deferral_next);
        self.armed_local = Some(local);
        self.armed_real = Some(real);
        self.bound = Some(bound);
    }

    /// The node runs no election timer (it leads, or is down).
    pub(crate) fn stop(&mut self) {
        *self = TimerWatch { deferral_next: self.deferral_next, ..TimerWatch::default() };
    }

    /// The node is paused until `until`: its timer may fire that late.
    pub(crate) fn pause(&mut self, until: Instant) {
        self.paused_floor = Some(self.paused_floor.map_or(until, |p| p.max(until)));
    }

    /// The latest real instant at which the node's timer may still fire.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let bound = self.bound?;
        Some(self.paused_floor.map_or(bound, |p| bound.max(p)))
    }
}
