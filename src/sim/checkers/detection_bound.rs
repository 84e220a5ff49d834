//! The detection bound (Raft §5.2; Chen, Toueg & Aguilera's `T_D`): every live follower or
//! candidate times out, or is reset again, within `election_timeout_max / clock_rate` (the top
//! of its detector's range; plus pauses, one processing delay, the largest timer lateness and a
//! microsecond of rounding) of the latest reset the timer rule explains: so after a leader
//! crashes, its followers notice.
//!
//! Its second rule is the contract every timer rests on: a node that has just handled a timer
//! firing at `now` asks to be woken after `now`. One that asks for a deadline it has passed and
//! did not act on would be woken at once, forever, and never time out: the engine would spin at
//! one instant instead of reporting the missed detection.

use super::timer_watch::TimerWatch;
use super::{Invariant, Violation};
use crate::core::{Instant, NodeId};

/// Whether the bound of the timer `w` has passed at `now` (what [`check_bound`] reports), as
/// a cheap test for every event.
pub(crate) fn overdue(w: &TimerWatch, now: Instant) -> bool {
    w.deadline().is_some_and(|d| now > d)
}

/// Fails if `node`, whose timer `w` watches, is past the latest instant its timer could fire.
pub(crate) fn check_bound(w: &TimerWatch, now: Instant, node: NodeId) -> Result<(), Violation> {
    match w.deadline() {
        Some(deadline) if now > deadline => Err(Violation {
            invariant: Invariant::DetectionBound,
            at: now,
            detail: format!(
                "{node} neither timed out nor was reset by {deadline}, election_timeout_max \
                 after its timer's last reset (plus pauses, processing and timer lateness)"
            ),
        }),
        _ => Ok(()),
    }
}

/// Fails if `node`, having handled a timer firing at `local` on its clock, asks to be woken
/// at `next`, not after it.
pub(crate) fn check_next_wake(
    at: Instant,
    node: NodeId,
    local: Instant,
    next: Instant,
) -> Result<(), Violation> {
    if next > local {
        return Ok(());
    }
    Err(Violation {
        invariant: Invariant::DetectionBound,
        at,
        detail: format!(
            "{node} handled its timer at {local} on its clock and asks to be woken at {next}, \
             a deadline it has passed without acting on it: it would never time out"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_past_its_bound_fires_the_checker_unless_paused() {
        let t = Instant::from_millis;
        let mut w = TimerWatch::default();
        w.reset(t(100), t(100), t(400));
        check_bound(&w, t(400), NodeId(1)).unwrap();
        assert_eq!(
            check_bound(&w, t(401), NodeId(1)).unwrap_err().invariant,
            Invariant::DetectionBound
        );
        w.pause(t(900));
        w.pause(t(500));
        check_bound(&w, t(900), NodeId(1)).unwrap();
        assert!(check_bound(&w, t(901), NodeId(1)).is_err(), "a shorter pause ends nothing early");
        w.stop();
        check_bound(&w, t(5000), NodeId(1)).unwrap();
        assert!(!overdue(&w, t(5000)));
    }

    #[test]
    fn a_node_asking_to_be_woken_at_a_deadline_it_passed_fires_the_checker() {
        let t = Instant::from_millis;
        check_next_wake(t(100), NodeId(1), t(100), t(101)).unwrap();
        let v = check_next_wake(t(100), NodeId(1), t(100), t(100)).unwrap_err();
        assert_eq!(v.invariant, Invariant::DetectionBound);
    }
}
