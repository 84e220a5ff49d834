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

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::arrivals::Arrivals;
use super::time::{duration_nanos, Instant};

/// Which detector a follower runs; see [`Config::leader_detector`](crate::core::Config).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[non_exhaustive]
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
    /// The phi accrual detector (Hayashibara et al. 2004, as Akka runs it): the suspicion
    /// `φ(t) = −log10 P(a gap longer than t)` under a normal fit of the latest 64 gaps, with
    /// the deviation at least a tenth of the mean (Akka's 100 ms `min-std-deviation` for its 1 s
    /// interval). φ only rises with the silence, so "campaign when φ reaches `threshold`" is a
    /// timeout, the silence at which it does; never below the timeout floor, spread as wide as
    /// the configured range. Until 8 gaps are seen, the configured range.
    Phi {
        /// The φ at which the follower suspects its leader (Akka's default is 8, Cassandra's 8).
        threshold: f64,
    },
}

impl std::fmt::Display for LeaderDetectorKind {
    /// The detector and its parameter, as `fixed`, `adaptive 4` or `phi 8`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaderDetectorKind::Fixed => f.write_str("fixed"),
            LeaderDetectorKind::Adaptive { deviations } => write!(f, "adaptive {deviations}"),
            LeaderDetectorKind::Phi { threshold } => write!(f, "phi {threshold}"),
        }
    }
}

/// The follower's view of its leader's liveness.
pub(crate) trait LeaderDetector: std::fmt::Debug + Send + Sync {
    /// A copy in the current state, for a node being forked.
    fn boxed_clone(&self) -> Box<dyn LeaderDetector>;

    /// Operation one: the leader was heard from at `now`.
    fn heartbeat(&mut self, now: Instant);

    /// The leader was heard from at `now` after a stall of this node's own: the gap since the
    /// last contact was partly this node's, so it is not learned; the next one starts here.
    fn resume(&mut self, now: Instant);

    /// A new leader (or none): forget the old one's history.
    fn reset(&mut self);

    /// The range the next timeout after a contact is drawn from, before the node clamps it.
    fn timeout_range(&self) -> (Duration, Duration);

    /// [`timeout_range`](Self::timeout_range) as the node draws from it: starting no earlier
    /// than `floor`, and never ending before it starts.
    fn floored_range(&self, floor: Duration) -> (Duration, Duration) {
        let (lo, hi) = self.timeout_range();
        let lo = lo.max(floor);
        (lo, hi.max(lo))
    }
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
            min_deviation: 0.0,
            gaps: Arrivals::default(),
        }),
        LeaderDetectorKind::Phi { threshold } => Box::new(Adaptive {
            min,
            floor,
            spread: max - min,
            deviations: phi_deviations(threshold),
            min_deviation: PHI_MIN_DEVIATION,
            gaps: Arrivals::default(),
        }),
    }
}

/// A timeout drawn uniformly from `[lo, hi]` (Raft §5.2), in whole `step`s from `lo` when
/// `step` is not zero.
pub(crate) fn draw(rng: &mut ChaCha8Rng, lo: Duration, hi: Duration, step: Duration) -> Duration {
    let (min, max) = (duration_nanos(lo), duration_nanos(hi));
    let step = duration_nanos(step);
    let timeout = if step == 0 {
        rng.random_range(min..=max)
    } else {
        min + step * rng.random_range(0..=(max - min) / step)
    };
    Duration::from_nanos(timeout)
}

/// The smallest deviation the phi detector assumes, as a share of the mean gap.
const PHI_MIN_DEVIATION: f64 = 0.1;

/// Where a normal gap distribution's tail reaches `φ = threshold`, in standard deviations above
/// the mean: the root `y` of `φ(y) = log10(1 + e^(y (1.5976 + 0.070566 y²)))`, Akka's logistic
/// approximation of the normal tail, solved in closed form (Cardano: the cubic rises, so it has
/// one real root).
fn phi_deviations(threshold: f64) -> f64 {
    const A: f64 = 0.070566;
    const B: f64 = 1.5976;
    // ln(10^θ − 1), without overflow for a large θ.
    let c = threshold * std::f64::consts::LN_10 + (-(10f64.powf(-threshold))).ln_1p();
    let (p, q) = (B / A, -c / A);
    let root = (q * q / 4.0 + p * p * p / 27.0).sqrt();
    (-q / 2.0 + root).cbrt() + (-q / 2.0 - root).cbrt()
}

#[derive(Clone, Debug)]
struct Fixed {
    min: Duration,
    max: Duration,
}

impl LeaderDetector for Fixed {
    fn boxed_clone(&self) -> Box<dyn LeaderDetector> {
        Box::new(self.clone())
    }

    fn heartbeat(&mut self, _now: Instant) {}

    fn resume(&mut self, _now: Instant) {}

    fn reset(&mut self) {}

    fn timeout_range(&self) -> (Duration, Duration) {
        (self.min, self.max)
    }
}

/// Gaps the adaptive detector needs before it adapts.
const ADAPTIVE_WARMUP: u64 = 8;

/// The adaptive detector, and the phi detector, which is the adaptive one with `deviations`
/// from its threshold and a deviation of at least [`PHI_MIN_DEVIATION`] of the mean.
#[derive(Clone, Debug)]
struct Adaptive {
    min: Duration,
    floor: Duration,
    spread: Duration,
    deviations: f64,
    /// The least deviation assumed, as a share of the mean gap.
    min_deviation: f64,
    gaps: Arrivals,
}

impl LeaderDetector for Adaptive {
    fn boxed_clone(&self) -> Box<dyn LeaderDetector> {
        Box::new(self.clone())
    }

    fn heartbeat(&mut self, now: Instant) {
        // The share of a timeout a gap used is the node's telemetry; here it plays no part.
        self.gaps.record(now, Duration::ZERO);
    }

    fn resume(&mut self, now: Instant) {
        self.gaps.restart(now);
    }

    fn reset(&mut self) {
        self.gaps = Arrivals::default();
    }

    fn timeout_range(&self) -> (Duration, Duration) {
        let fitted = self.gaps.mean_and_deviation().filter(|_| self.gaps.gaps() >= ADAPTIVE_WARMUP);
        let Some((mean, deviation)) = fitted else {
            return (self.min, self.min + self.spread);
        };
        let deviation = deviation.max(self.min_deviation * mean);
        let start = (mean + self.deviations * deviation).clamp(0.0, u64::MAX as f64 / 4.0) as u64;
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

    /// Akka's logistic approximation of `−log10 P(gap > mean + y σ)`.
    fn phi_at(y: f64) -> f64 {
        (1.0 + (y * (1.5976 + 0.070566 * y * y)).exp()).log10()
    }

    #[test]
    fn the_phi_threshold_is_reached_where_the_closed_form_says_hayashibara_2004() {
        for threshold in [0.5, 1.0, 3.0, 8.0, 16.0, 100.0] {
            let y = phi_deviations(threshold);
            assert!((phi_at(y) - threshold).abs() < 1e-9 * threshold.max(1.0), "{threshold}: {y}");
        }
        // φ rises with the silence, so a higher threshold waits longer.
        assert!(phi_deviations(1.0) < phi_deviations(3.0));
        assert!(phi_deviations(3.0) < phi_deviations(8.0));
        // Half the gaps are longer than the mean: φ = log10 2 there.
        assert!(phi_deviations(2f64.log10()).abs() < 1e-9);
    }

    #[test]
    fn the_phi_detector_assumes_a_tenth_of_the_mean_as_the_least_deviation() {
        let mut d = build(LeaderDetectorKind::Phi { threshold: 8.0 }, ms(150), ms(300), ms(60));
        let mut t = Instant::ZERO;
        beat(&mut d, &mut t, 7, 50, 50);
        assert_eq!(d.timeout_range(), (ms(150), ms(300)), "the configured range until warmed up");
        // Steady 50 ms gaps: no spread seen, 5 ms assumed, so 50 + 5 y(8) ms.
        beat(&mut d, &mut t, 64, 50, 50);
        let start = 50.0 + 5.0 * phi_deviations(8.0);
        let (lo, hi) = d.timeout_range();
        assert!((lo.as_secs_f64() * 1e3 - start).abs() < 1e-3, "{lo:?} against {start} ms");
        assert_eq!(hi - lo, ms(150), "as wide as the configured range");
        // Gaps of 50 and 100 ms: deviation 25 ms, above the least, so 75 + 25 y(8) ms.
        beat(&mut d, &mut t, 64, 50, 100);
        let start = 75.0 + 25.0 * phi_deviations(8.0);
        let (lo, _) = d.timeout_range();
        assert!((lo.as_secs_f64() * 1e3 - start).abs() < 1e-3, "{lo:?} against {start} ms");
    }
}
