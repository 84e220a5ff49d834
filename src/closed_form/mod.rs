//! Closed forms of Raft's timing: what the order statistics of uniform timeouts and a
//! log-normal latency say of false timeouts, false elections, split votes and failover, without
//! running the simulator. `advise` orders its candidates with them and the lab's experiments
//! print them beside the simulator's figures; neither takes them on trust.
//!
//! | module | what it answers |
//! |---|---|
//! | [`delay`] | the log-normal [`Delay`] fitted through measured percentiles |
//! | [`false_elections`] | false timeouts (Chen, Toueg & Aguilera 2002), pre-vote's and stickiness's filter (thesis §9.6, §4.2.3), check-quorum step-downs (thesis §6.2) |
//! | [`split_votes`] | the chance an election needs a second round (thesis §9.2) |
//! | [`failover`] | the detection bound and failover's distribution: the first timeout, the election, a split's second round |
//!
//! What they leave out is the simulator's job: loss failing an election round, pauses, timer
//! lateness, clock drift. Where a form and the simulator disagree, the simulator is right.
//!
//! - **False timeouts**: a follower resets its timer when heartbeat 0 arrives, at `D0`;
//!   heartbeat `j` is sent `j·h` later and saves it if it is not lost and arrives before the
//!   timer fires, `j·h + Dj < D0 + T`. The follower times out falsely with probability
//!   `∏ (loss + (1 − loss)·P(D > D0 + T − j·h))`, averaged over `D0` and the drawn `T`.
//! - **False elections**: with pre-vote a false timeout raises no term unless a majority grants
//!   the pre-vote, and a voter grants it only if it too has heard nothing from the leader for
//!   the minimum timeout: the probability of that silence at a random instant, for each of the
//!   other followers, independently. With check quorum a healthy leader steps down when too
//!   few followers were heard within a minimum timeout, which under heavy loss is the larger
//!   of the two.
//! - **Failover**: the first survivor times out `T(1) − φ` after the crash (`T(1)` the least
//!   of the survivors' draws, `φ` the crash's phase in the heartbeat interval), then the
//!   election takes a pre-vote round trip, the candidate's write, a vote round trip with the
//!   voter's write, and the new leader's first heartbeat; a split vote adds another timeout
//!   and election.

pub mod delay;
pub mod failover;
pub mod false_elections;
pub mod split_votes;

pub use delay::Delay;
pub use failover::{
    detection_bound_ms, failover_cdf, failover_cdf_at, failover_quantile, failover_quantile_at,
};
pub use false_elections::{
    false_elections_per_day, false_timeouts_per_day, miss_probability, prevote_pass_probability,
    quorum_losses_per_day, silence_probability,
};
pub use split_votes::split_vote_rate;

/// Milliseconds in a day.
pub(crate) const DAY_MS: f64 = 86_400_000.0;
/// Points of the quadratures over a latency and over the heartbeat phase.
pub(crate) const NODES: usize = 24;
/// Most timeout values averaged over; wider ranges are sampled at this many midpoints.
const MAX_TIMEOUTS: usize = 48;

/// A candidate setting, ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Heartbeat interval.
    pub heartbeat_ms: f64,
    /// Shortest election timeout.
    pub min_ms: f64,
    /// Longest election timeout.
    pub max_ms: f64,
    /// The step timeouts are drawn in.
    pub step_ms: f64,
}

impl Timing {
    /// The timeouts a follower draws, each equally likely: every step of `[min, max]`, or
    /// evenly spread midpoints when there are too many steps to visit.
    pub fn timeouts(&self) -> Vec<f64> {
        let steps = ((self.max_ms - self.min_ms) / self.step_ms).round() as usize + 1;
        if steps <= MAX_TIMEOUTS {
            (0..steps).map(|i| self.min_ms + i as f64 * self.step_ms).collect()
        } else {
            let width = self.max_ms - self.min_ms;
            (0..MAX_TIMEOUTS)
                .map(|i| self.min_ms + width * (i as f64 + 0.5) / MAX_TIMEOUTS as f64)
                .collect()
        }
    }

    /// `P(one draw <= t)`.
    pub(crate) fn timeout_cdf(&self, t: f64) -> f64 {
        if t < self.min_ms {
            return 0.0;
        }
        if t >= self.max_ms {
            return 1.0;
        }
        let steps = ((self.max_ms - self.min_ms) / self.step_ms).round() + 1.0;
        (((t - self.min_ms) / self.step_ms).floor() + 1.0) / steps
    }
}

/// What the closed forms need of a cluster: its network, its disk and its size.
#[derive(Clone, Copy, Debug)]
pub struct Environment {
    /// One-way latency.
    pub latency: Delay,
    /// The durable write of term and vote.
    pub fsync: Delay,
    /// Message loss.
    pub loss: f64,
    /// Voting members.
    pub nodes: u32,
    /// Votes that make a majority.
    pub quorum: u32,
}

impl Environment {
    /// Medians of the latency: the points of a quadrature over it.
    pub(crate) fn latency_points(&self) -> Vec<f64> {
        (0..NODES).map(|i| self.latency.quantile((i as f64 + 0.5) / NODES as f64)).collect()
    }

    /// The least time an election takes once a survivor has timed out: pre-vote round trip,
    /// the candidate's write, the vote round trip with the voter's write, the new leader's
    /// first heartbeat, each at its median.
    pub fn election_ms(&self) -> f64 {
        5.0 * self.latency.median_ms + 2.0 * self.fsync.median_ms
    }

    /// How much later than the first survivor another may time out and still become a
    /// competing candidate before the first's RequestVote reaches it: the first's write and
    /// the request's flight. Both campaigns spend the same pre-vote round trip first, so it
    /// cancels.
    pub fn vote_window_ms(&self) -> f64 {
        self.latency.median_ms + self.fsync.median_ms
    }
}

/// `n` choose `k`, as a float.
pub(crate) fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Five nodes on a LAN: 0.3 ms one way, p99 1 ms, instant disks.
    pub(crate) fn lan(loss: f64) -> Environment {
        Environment {
            latency: Delay::fit(0.3, 1.0, None),
            fsync: Delay::ZERO,
            loss,
            nodes: 5,
            quorum: 3,
        }
    }

    pub(crate) fn timing(h: f64, min: f64, max: f64) -> Timing {
        Timing { heartbeat_ms: h, min_ms: min, max_ms: max, step_ms: 1.0 }
    }
}
