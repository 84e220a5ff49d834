//! Heartbeat inter-arrival telemetry: the gaps between proofs of life from one peer, over a
//! window of the latest ones, and the largest share of an election timeout a gap used. This is
//! the early warning operators of etcd and goraft asked for: a follower whose silences reach
//! 80% of its timeout is one slow disk or one lost packet from an election.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::time::{duration_nanos, Instant};

/// How many of the latest gaps the percentiles are taken over.
pub const ARRIVAL_WINDOW: usize = 64;

/// The gaps between arrivals from one peer, in a fixed ring: recording never allocates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arrivals {
    last: Option<Instant>,
    gaps: [u64; ARRIVAL_WINDOW],
    /// Gaps recorded so far (the ring holds the latest `ARRIVAL_WINDOW`).
    count: u64,
    max_fraction: f64,
}

impl Default for Arrivals {
    fn default() -> Self {
        Arrivals { last: None, gaps: [0; ARRIVAL_WINDOW], count: 0, max_fraction: 0.0 }
    }
}

impl Arrivals {
    /// Proof of life at `now`; `timeout` is the silence that would have been taken for a
    /// failure, against which the gap since the previous arrival is measured.
    pub(crate) fn record(&mut self, now: Instant, timeout: Duration) {
        if let Some(last) = self.last.filter(|&l| now > l) {
            let gap = duration_nanos(now - last);
            self.gaps[(self.count % ARRIVAL_WINDOW as u64) as usize] = gap;
            self.count += 1;
            let timeout = duration_nanos(timeout);
            if timeout > 0 {
                self.max_fraction = self.max_fraction.max(gap as f64 / timeout as f64);
            }
        }
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
    }

    /// Proof of life at `now` after a gap that was not the peer's doing (this node was
    /// stalled): the next gap starts here, this one is not learned.
    pub(crate) fn restart(&mut self, now: Instant) {
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
    }

    /// Gaps recorded since the figures started.
    pub(crate) fn gaps(&self) -> u64 {
        self.count
    }

    /// The mean and (population) standard deviation of the gaps in the window, in ns.
    pub(crate) fn mean_and_deviation(&self) -> Option<(f64, f64)> {
        let n = self.count.min(ARRIVAL_WINDOW as u64) as usize;
        if n == 0 {
            return None;
        }
        let gaps = &self.gaps[..n];
        let mean = gaps.iter().map(|&g| g as f64).sum::<f64>() / n as f64;
        let var = gaps.iter().map(|&g| (g as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        Some((mean, var.sqrt()))
    }

    /// The figures over the window, if a gap was recorded.
    pub(crate) fn stats(&self) -> Option<ArrivalStats> {
        let n = self.count.min(ARRIVAL_WINDOW as u64) as usize;
        if n == 0 {
            return None;
        }
        let mut sorted = self.gaps;
        let window = &mut sorted[..n];
        window.sort_unstable();
        // Nearest rank: the smallest gap at or above the given share of the window.
        let rank = |p: f64| window[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Some(ArrivalStats {
            gaps: self.count,
            p50: Duration::from_nanos(rank(0.50)),
            p99: Duration::from_nanos(rank(0.99)),
            max: Duration::from_nanos(window[n - 1]),
            max_timeout_fraction: self.max_fraction,
        })
    }
}

/// Heartbeat inter-arrival figures for one peer, in [`Status`](crate::core::Status).
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArrivalStats {
    /// Gaps measured since the figures started: a leadership's start, for a leader's view of a
    /// follower; a leader followed in a new term, for a follower's view of its leader.
    pub gaps: u64,
    /// Median gap over the latest [`ARRIVAL_WINDOW`] gaps.
    #[serde(rename = "p50_ms", with = "super::millis")]
    #[cfg_attr(feature = "schema", schemars(with = "f64"))]
    pub p50: Duration,
    /// 99th-percentile gap (nearest rank) over the same window.
    #[serde(rename = "p99_ms", with = "super::millis")]
    #[cfg_attr(feature = "schema", schemars(with = "f64"))]
    pub p99: Duration,
    /// Longest gap in the same window.
    #[serde(rename = "max_ms", with = "super::millis")]
    #[cfg_attr(feature = "schema", schemars(with = "f64"))]
    pub max: Duration,
    /// The largest share of the election timeout a gap used since the figures started: at 1.0
    /// the silence would have been taken for a failure. For a follower, of the timeout it had
    /// drawn; for a leader's view of a follower, of the minimum election timeout.
    pub max_timeout_fraction: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn figures_are_taken_over_the_latest_gaps_and_the_worst_share_is_kept() {
        let mut a = Arrivals::default();
        assert_eq!(a.stats(), None);
        let mut t = Instant::ZERO;
        a.record(t, ms(150));
        assert_eq!(a.stats(), None, "one arrival is no gap");
        // 99 gaps of 50 ms, then one of 120 ms: 80% of a 150 ms timeout.
        for _ in 0..99 {
            t = t + ms(50);
            a.record(t, ms(150));
        }
        t = t + ms(120);
        a.record(t, ms(150));
        let s = a.stats().unwrap();
        assert_eq!((s.gaps, s.p50, s.max), (100, ms(50), ms(120)));
        assert_eq!(s.p99, ms(120), "one gap in 64 is above the 99th percentile's rank");
        assert!((s.max_timeout_fraction - 0.8).abs() < 1e-9);
        // The window forgets the long gap once 64 newer ones arrive; the worst share stays.
        for _ in 0..64 {
            t = t + ms(40);
            a.record(t, ms(150));
        }
        let s = a.stats().unwrap();
        assert_eq!((s.p50, s.p99, s.max), (ms(40), ms(40), ms(40)));
        assert!((s.max_timeout_fraction - 0.8).abs() < 1e-9);
    }

    #[test]
    fn an_arrival_out_of_order_measures_no_gap() {
        let mut a = Arrivals::default();
        a.record(Instant::from_millis(100), ms(150));
        a.record(Instant::from_millis(90), ms(150));
        a.record(Instant::from_millis(130), ms(150));
        let s = a.stats().unwrap();
        assert_eq!((s.gaps, s.max), (1, ms(30)));
    }
}
