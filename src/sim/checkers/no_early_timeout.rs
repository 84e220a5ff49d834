//! No early timeout (Raft §5.2): no node times out less than the timeout floor
//! (`election_timeout_min` unless `election_timeout_floor` is set; by its own clock) after the
//! latest reset of its timer that the timer rule explains (an accepted heartbeat, a granted
//! vote, a campaign, a step-down).

use std::time::Duration;

use super::timer_watch::TimerWatch;
use super::{Invariant, Violation};
use crate::core::{Instant, NodeId};

/// `node`, whose timer `w` watches, timed out at `local` on its own clock (real time `at`).
pub(crate) fn check_fire(
    w: &TimerWatch,
    at: Instant,
    node: NodeId,
    local: Instant,
    floor: Duration,
) -> Result<(), Violation> {
    let Some(armed) = w.armed_local else { return Ok(()) };
    let waited = local - armed;
    if waited < floor {
        return Err(Violation {
            invariant: Invariant::NoEarlyTimeout,
            at,
            detail: format!(
                "{node} timed out {waited:?} after its timer's last reset (by its own clock), \
                 below the minimum {floor:?}"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_early_timeout_fires_the_checker() {
        let t = Instant::from_millis;
        let mut w = TimerWatch::default();
        w.reset(t(100), t(100), t(400));
        let min = Duration::from_millis(150);
        check_fire(&w, t(250), NodeId(1), t(250), min).unwrap();
        let v = check_fire(&w, t(249), NodeId(1), t(249), min).unwrap_err();
        assert_eq!(v.invariant, Invariant::NoEarlyTimeout);
    }
}
