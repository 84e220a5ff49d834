//! How a follower decides that its leader has failed: the election timeout seen as a failure
//! detector with the HeartBeat pattern's two operations, *heartbeat received* (`heartbeat`)
//! and the periodic check, which is the node's election timer armed from `timeout_range`.
//!
//! The node draws each timeout after a contact uniformly from the range the detector gives,
//! so the randomization that breaks split votes (Raft §5.2) survives every detector, and it
//! clamps the range's start to at least the timeout floor ([`Config::timeout_floor`], by
//! default `election_timeout_min`): the stickiness window and the leader's lease rest on no
//! voter campaigning sooner (docs/architecture.md). A detector may therefore wait longer than
//! the configured range, and shorter only down to the floor.
//!
//! [`Config::timeout_floor`]: crate::core::Config::timeout_floor

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::arrivals::Arrivals;
use super::time::Instant;

/// Which detector a follower runs; see [`Config::leader_detector`](crate::core::Config).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum LeaderDetectorKind {
    /// Raft's randomized timeout: `[election_timeout_min, election_timeout_max]` after every
    /// contact.
    #[default]
    Fixed,
    /// A timeout that follows the observed heartbeat gaps: it starts at their mean plus
    /// `deviations` standard deviations over the latest 64 (Jacobson's retransmission timer,
    /// and Dynatune's idea), never below the timeout floor, and spreads as wide as the
    /// configured range. Until 8 gaps are seen, the configured range.
    Adaptive {
        /// Standard deviations above the mean gap.
        deviations: f64,
    },
}

/// The follower's view of its leader's liveness.
pub(crate) trait LeaderDetector: std::fmt::Debug + Send {
    /// Operation one: the leader was heard from at `now`.
    fn heartbeat(&mut self, now: Instant);

    /// A new leader (or none): forget the old one's history.
    fn reset(&mut self);

    /// The range the next timeout after a contact is drawn from, before the node clamps it.
    fn timeout_range(&self) -> (Duration, Duration);
}

/// Builds the detector `kind` for the configured range `[min, max]` and timeout `floor`.
pub(crate) fn build(
    kind: LeaderDetectorKind,
    min: Duration,
    max: Duration,
    floor: Duration,
) -> Box<dyn LeaderDetector> {
    match kind {
        LeaderDetectorKind::Fixed => Box::new(Fixed { min, max }),
        LeaderDetectorKind::Adaptive { deviations } => Box::new(Adaptive {
            min,
            floor,
            spread: max - min,
            deviations,
            gaps: Arrivals::default(),
        }),
    }
}

#[derive(Debug)]
struct Fixed {
    min: Duration,
    max: Duration,
}

impl LeaderDetector for Fixed {
    fn heartbeat(&mut self, _now: Instant) {}

    fn reset(&mut self) {}

    fn timeout_range(&self) -> (Duration, Duration) {
        (self.min, self.max)
    }
}

/// Gaps the adaptive detector needs before it adapts.
const ADAPTIVE_WARMUP: u64 = 8;

#[derive(Debug)]
struct Adaptive {
    min: Duration,
    floor: Duration,
    spread: Duration,
    deviations: f64,
    gaps: Arrivals,
}

impl LeaderDetector for Adaptive {
    fn heartbeat(&mut self, now: Instant) {
        // The share of a timeout a gap used is the node's telemetry; here it plays no part.
        self.gaps.record(now, Duration::ZERO);
    }

    fn reset(&mut self) {
        self.gaps = Arrivals::default();
    }

    fn timeout_range(&self) -> (Duration, Duration) {
        let fitted = self.gaps.mean_and_deviation().filter(|_| self.gaps.gaps() >= ADAPTIVE_WARMUP);
        let Some((mean, deviation)) = fitted else {
            return (self.min, self.min + self.spread);
        };
        let start = (mean + self.deviations * deviation).min(u64::MAX as f64 / 4.0) as u64;
        let start = Duration::from_nanos(start).max(self.floor);
        (start, start.saturating_add(self.spread))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds `count` heartbeats to `d`, gaps alternating `even` and `odd` ms, from `t` on.
    fn beat(d: &mut Box<dyn LeaderDetector>, t: &mut Instant, count: u32, even: u64, odd: u64) {
        for i in 0..count {
            *t = *t + ms(if i % 2 == 0 { even } else { odd });
            d.heartbeat(*t);
        }
    }

    #[test]
    fn the_fixed_detector_is_rafts_range() {
        let d = build(LeaderDetectorKind::Fixed, ms(150), ms(300), ms(150));
        assert_eq!(d.timeout_range(), (ms(150), ms(300)));
    }

    #[test]
    fn the_adaptive_detector_follows_the_gaps_but_never_starts_below_the_minimum() {
        let mut d =
            build(LeaderDetectorKind::Adaptive { deviations: 4.0 }, ms(150), ms(300), ms(150));
        let mut t = Instant::ZERO;
        beat(&mut d, &mut t, 5, 50, 50);
        assert_eq!(d.timeout_range(), (ms(150), ms(300)), "the configured range until warmed up");
        // Steady 50 ms gaps: mean plus four deviations is 50 ms, below the floor.
        beat(&mut d, &mut t, 40, 50, 50);
        assert_eq!(d.timeout_range(), (ms(150), ms(300)));
        // Every other heartbeat lost: gaps of 50 and 100 ms, mean 75, deviation 25: 175 ms.
        beat(&mut d, &mut t, 64, 50, 100);
        assert_eq!(d.timeout_range(), (ms(175), ms(325)), "as wide as the configured range");
        d.reset();
        assert_eq!(d.timeout_range(), (ms(150), ms(300)), "a new leader starts afresh");
    }

    #[test]
    fn below_the_minimum_the_adaptive_detector_stops_at_the_floor() {
        let kind = LeaderDetectorKind::Adaptive { deviations: 4.0 };
        let mut d = build(kind, ms(150), ms(300), ms(80));
        let mut t = Instant::ZERO;
        beat(&mut d, &mut t, 7, 50, 50);
        assert_eq!(d.timeout_range(), (ms(150), ms(300)), "the configured range until warmed up");
        // Steady 50 ms gaps with 5 ms of jitter: mean 52.5, deviation 2.5, start 62.5 ms.
        beat(&mut d, &mut t, 64, 50, 55);
        assert_eq!(d.timeout_range(), (ms(80), ms(230)), "no lower than the floor");
        // Gaps of 50 and 70 ms: mean 60, deviation 10, start 100 ms, between floor and minimum.
        beat(&mut d, &mut t, 64, 50, 70);
        assert_eq!(d.timeout_range(), (ms(100), ms(250)));
    }
}
