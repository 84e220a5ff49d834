//! Randomized timeouts (Raft §5.2, §9.3): every timeout drawn at a reset lies in the range it
//! was drawn from (`[min, max]`, or a detector's range as wide, starting no earlier than the
//! floor), and over a trial the draws are uniform (Dvoretzky–Kiefer–Wolfowitz bound,
//! α = 10⁻⁹): the randomization that breaks split votes survives every detector.

use std::time::Duration;

use super::{Invariant, Violation};
use crate::core::{duration_nanos, Instant, NodeId};

/// Histogram bins of the normalized draws: the uniformity test compares the empirical
/// distribution with the uniform one at each bin edge.
const BINS: usize = 64;

/// The uniformity test's false-alarm probability per trial.
const UNIFORMITY_ALPHA: f64 = 1e-9;

/// Fewer draws than this are not tested for uniformity: the tolerance would be too wide to
/// mean anything.
const MIN_DRAWS: u64 = 200;

/// The timeouts drawn in one trial, normalized to `[0, 1]` over `[min, max]`; with a timer
/// granularity, the index of each among the `values` multiples of the step.
#[derive(Clone, Debug)]
pub(crate) struct Draws {
    min: Duration,
    max: Duration,
    /// The earliest a range may start (the configured timeout floor; `min` unless set).
    floor: Duration,
    /// Zero for continuous draws, or the step every draw is a multiple of.
    step: u64,
    /// How many distinct values a draw can take with a step (unused without one).
    values: u64,
    bins: [u64; BINS],
    count: u64,
}

impl Draws {
    pub(crate) fn new(min: Duration, max: Duration, granularity: Duration) -> Self {
        let step = duration_nanos(granularity);
        let values = duration_nanos(max - min).checked_div(step).map_or(0, |n| n + 1);
        Draws { min, max, floor: min, step, values, bins: [0; BINS], count: 0 }
    }

    /// Lets a detector's range start as early as `floor` (at most `min`).
    pub(crate) fn with_floor(self, floor: Duration) -> Self {
        Draws { floor: floor.min(self.min), ..self }
    }

    /// `node` drew `drawn` at a reset from a range starting at `from`: `min` for Raft's
    /// range, later or (down to the floor) earlier for a detector. The draw must lie in
    /// `[from, from + (max - min)]`, a whole number of steps from `from` when timeouts have a
    /// granularity, and is binned by its offset from `from`, so uniformity is judged for any
    /// detector.
    pub(crate) fn record(
        &mut self,
        at: Instant,
        node: NodeId,
        drawn: Duration,
        from: Duration,
    ) -> Result<(), Violation> {
        let broken =
            |detail: String| Violation { invariant: Invariant::RandomizedTimeouts, at, detail };
        let to = from + (self.max - self.min);
        if from < self.floor || drawn < from || drawn > to {
            return Err(broken(format!(
                "{node} armed a timeout of {drawn:?} at a reset, outside [{from:?}, {to:?}] \
                 (the range may start late, never before {:?})",
                self.floor
            )));
        }
        let offset = duration_nanos(drawn - from);
        if self.step > 0 {
            if offset % self.step != 0 {
                return Err(broken(format!(
                    "{node} armed a timeout of {drawn:?} at a reset, not a whole number of \
                     {:?} steps",
                    Duration::from_nanos(self.step)
                )));
            }
            if self.values > 1 {
                let k = offset / self.step;
                self.bins[(k * BINS as u64 / self.values) as usize] += 1;
                self.count += 1;
            }
            return Ok(());
        }
        let span = duration_nanos(self.max - self.min);
        if span > 0 {
            let x = offset as f64 / span as f64;
            self.bins[((x * BINS as f64) as usize).min(BINS - 1)] += 1;
            self.count += 1;
        }
        Ok(())
    }

    /// The uniform distribution function at the upper edge of bin `i`: continuous, or over
    /// the `values` equally likely steps (value `k` falls in bin `k * BINS / values`).
    fn uniform_below(&self, i: usize) -> f64 {
        if self.step == 0 {
            return (i + 1) as f64 / BINS as f64;
        }
        let within = ((i as u64 + 1) * self.values).div_ceil(BINS as u64).min(self.values);
        within as f64 / self.values as f64
    }

    /// The largest gap between the draws' distribution and the uniform one, at the bin edges.
    fn distance(&self) -> f64 {
        let mut below = 0;
        let mut worst: f64 = 0.0;
        for (i, n) in self.bins.iter().enumerate() {
            below += n;
            let empirical = below as f64 / self.count as f64;
            worst = worst.max((empirical - self.uniform_below(i)).abs());
        }
        worst
    }

    /// Uniformity over the trial: by the Dvoretzky–Kiefer–Wolfowitz inequality, `n` uniform
    /// draws stray more than `sqrt(ln(2/α) / 2n)` from the uniform distribution function with
    /// probability at most α.
    pub(crate) fn check(&self, at: Instant) -> Result<(), Violation> {
        if self.count < MIN_DRAWS {
            return Ok(());
        }
        let n = self.count as f64;
        let tolerance = ((2.0 / UNIFORMITY_ALPHA).ln() / (2.0 * n)).sqrt();
        let distance = self.distance();
        if distance > tolerance {
            return Err(Violation {
                invariant: Invariant::RandomizedTimeouts,
                at,
                detail: format!(
                    "{} timeouts drawn in [{:?}, {:?}] are not uniform: their distribution \
                     strays {distance:.3} from the uniform one, beyond the tolerance \
                     {tolerance:.3} (α = {UNIFORMITY_ALPHA})",
                    self.count, self.min, self.max
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn uniform_draws_pass_and_skewed_or_out_of_range_ones_fail() {
        let (min, max) = (Duration::from_millis(150), Duration::from_millis(300));
        let mut uniform = Draws::new(min, max, Duration::ZERO);
        let mut skewed = Draws::new(min, max, Duration::ZERO);
        for i in 0..1000u64 {
            let x = Duration::from_nanos((i * 7919) % 1000 * 150_000);
            uniform.record(t(0), NodeId(1), min + x, min).unwrap();
            skewed.record(t(0), NodeId(1), min + x / 2, min).unwrap();
        }
        uniform.check(t(1)).unwrap();
        let v = skewed.check(t(1)).unwrap_err();
        assert_eq!(v.invariant, Invariant::RandomizedTimeouts);
        let v = uniform.record(t(2), NodeId(3), Duration::from_millis(149), min).unwrap_err();
        assert_eq!(v.invariant, Invariant::RandomizedTimeouts);
        // A detector's range may start late, and is judged from where it starts; never early.
        let late = min + Duration::from_millis(25);
        let mut shifted = Draws::new(min, max, Duration::ZERO);
        for i in 0..1000u64 {
            let x = Duration::from_nanos((i * 7919) % 1000 * 150_000);
            shifted.record(t(0), NodeId(1), late + x, late).unwrap();
        }
        shifted.check(t(1)).unwrap();
        let early = Duration::from_millis(140);
        let v = shifted.record(t(2), NodeId(1), early, early).unwrap_err();
        assert!(v.detail.contains("never before"), "{}", v.detail);
    }

    #[test]
    fn draws_in_whole_steps_pass_and_off_step_or_lopsided_ones_fail() {
        let (min, max, step) =
            (Duration::from_millis(150), Duration::from_millis(151), Duration::from_millis(1));
        let mut even = Draws::new(min, max, step);
        let mut lopsided = Draws::new(min, max, step);
        for i in 0..1000u64 {
            even.record(t(0), NodeId(1), min + step * (i % 2) as u32, min).unwrap();
            lopsided.record(t(0), NodeId(1), min + step * u32::from(i % 4 == 0), min).unwrap();
        }
        even.check(t(1)).unwrap();
        assert_eq!(lopsided.check(t(1)).unwrap_err().invariant, Invariant::RandomizedTimeouts);
        let off = even.record(t(2), NodeId(2), min + Duration::from_micros(500), min).unwrap_err();
        assert!(off.detail.contains("whole number"), "{}", off.detail);

        // More values than bins: 151 steps of 1 ms over [150, 300].
        let (min, max) = (Duration::from_millis(150), Duration::from_millis(300));
        let mut wide = Draws::new(min, max, step);
        for i in 0..15_100u64 {
            wide.record(t(0), NodeId(1), min + step * (i * 7919 % 151) as u32, min).unwrap();
        }
        wide.check(t(1)).unwrap();
    }
}
