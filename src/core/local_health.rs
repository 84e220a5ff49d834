//! Local health (Lifeguard, Dadgar et al. 2017; the HeartBeat pattern's advice after
//! CASSANDRA-9183): a node that was itself paused or starved does not take the silence it
//! caused for its leader's failure.
//!
//! A node that stopped running (a stop-the-world collection, a suspended VM, a starved
//! executor) wakes with its election deadline past and its leader's heartbeats still unread
//! in its inbox; if the timer is handled first, it suspects a leader that never failed. The
//! node cannot see its inbox, but it can see its own lateness: with local health on, it asks to
//! be woken every heartbeat interval (the pattern's *periodic check*), and an input that
//! arrives later than the check was due by more than the configured threshold means it was not
//! running. An election timeout that was due during such a stall is deferred once: the node
//! draws a fresh timeout from the same range instead of campaigning, so the heartbeats it
//! missed can arrive. Deferring never makes a node vote sooner, so the stickiness window and the lease are
//! untouched; it costs at most one timeout of failover time when the leader really failed.

use std::time::Duration;

use super::time::Instant;

/// What a node knows of its own liveness.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalHealth {
    /// The lateness of a periodic check that counts as a stall.
    threshold: Duration,
    /// How often the node checks itself.
    period: Duration,
    /// When the next periodic check is due.
    next_check: Instant,
    /// The latest stall seen: the input that ended it, and how late the check was then.
    stall: Option<(Instant, Duration)>,
    /// An election timeout was deferred since the timer was last reset by anything else.
    deferred: bool,
}

impl LocalHealth {
    /// Checks every `period` from `now`; a check late by more than `threshold` is a stall.
    pub(crate) fn new(threshold: Duration, period: Duration, now: Instant) -> Self {
        LocalHealth { threshold, period, next_check: now + period, stall: None, deferred: false }
    }

    /// Every input passes through here at `now`: a stall is noted, and the next check planned.
    pub(crate) fn observe(&mut self, now: Instant) {
        if now < self.next_check {
            return;
        }
        let late = now - self.next_check;
        if late > self.threshold {
            self.stall = Some((now, late));
        }
        self.next_check = now + self.period;
    }

    /// When the node must next be woken to check itself.
    pub(crate) fn next_check(&self) -> Instant {
        self.next_check
    }

    /// The election timer due at `deadline` fires: if the node saw a stall of its own at or
    /// after that deadline (so the heartbeats that would have reset the timer may still be
    /// unread), and has not deferred since the timer was last reset otherwise, how late the
    /// check that saw it was. A stall that ended before the deadline changes nothing: what
    /// waited in the inbox was read then, and the silence since is the leader's.
    pub(crate) fn stall_past(&self, deadline: Instant) -> Option<Duration> {
        let (at, late) = self.stall?;
        (!self.deferred && at >= deadline).then_some(late)
    }

    /// Whether a stall was seen after `since`: a gap between two contacts that spans it was
    /// partly the node's own.
    pub(crate) fn stalled_after(&self, since: Instant) -> bool {
        self.stall.is_some_and(|(at, _)| at > since)
    }

    /// Marks the deferral just made; call after the timer is redrawn.
    pub(crate) fn mark_deferred(&mut self) {
        self.deferred = true;
    }

    /// The election timer was redrawn: by a leader's contact, a vote or a campaign, or a
    /// deferral (which [`mark_deferred`](Self::mark_deferred) then marks).
    pub(crate) fn timer_reset(&mut self) {
        self.deferred = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn at(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn checks_on_time_see_no_stall() {
        let mut h = LocalHealth::new(ms(25), ms(50), at(0));
        for _ in 0..20 {
            let due = h.next_check();
            h.observe(due + ms(25));
            assert_eq!(h.next_check(), due + ms(75));
        }
        assert_eq!(h.stall_past(at(0)), None);
    }

    #[test]
    fn a_late_check_is_a_stall_that_defers_once_a_timeout_due_before_it() {
        let mut h = LocalHealth::new(ms(25), ms(50), at(0));
        h.observe(at(40));
        assert_eq!(h.next_check(), at(50), "an input before the check is due plans nothing");
        h.observe(at(176));
        assert_eq!(h.next_check(), at(226));
        assert_eq!(h.stall_past(at(177)), None, "a stall over before the deadline defers nothing");
        assert_eq!(h.stall_past(at(176)), Some(ms(126)));
        assert!(h.stalled_after(at(100)) && !h.stalled_after(at(176)));
        h.timer_reset();
        h.mark_deferred();
        assert_eq!(h.stall_past(at(150)), None, "once until the timer is reset otherwise");
        h.timer_reset();
        assert_eq!(h.stall_past(at(150)), Some(ms(126)));
    }

    #[test]
    fn lateness_up_to_the_threshold_is_not_a_stall() {
        let mut h = LocalHealth::new(ms(25), ms(50), at(0));
        h.observe(at(75));
        assert_eq!(h.stall_past(at(0)), None);
        h.observe(at(151));
        assert_eq!(h.stall_past(at(0)), Some(ms(26)));
    }
}
