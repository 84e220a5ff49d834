//! Monotonic time as the core sees it.
//!
//! The core never reads a clock. Every input carries an [`Instant`] chosen by the driver: the
//! simulator passes virtual time, the tokio runtime passes the time elapsed since it started.
//! An `Instant` is a count of nanoseconds since an origin the driver picks; only differences
//! between instants of one node mean anything.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A point on one node's monotonic clock, in nanoseconds since the driver's origin.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Instant(u64);

impl Instant {
    /// The driver's origin.
    pub const ZERO: Instant = Instant(0);

    /// The instant `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// The instant `millis` milliseconds after the origin (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis.saturating_mul(1_000_000))
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// Converts a duration to whole nanoseconds, saturating at `u64::MAX` (about 584 years).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    // In u64, not through `as_nanos`'s u128: this is on every hot path of the core.
    d.as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(u64::from(d.subsec_nanos())))
        .unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the end of time instead of overflowing.
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(duration_nanos(rhs)))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the origin instead of underflowing.
    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_sub(duration_nanos(rhs)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, like [`Instant::saturating_duration_since`].
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

impl fmt::Display for Instant {
    /// Milliseconds with microsecond precision, e.g. `t=150.250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}.{:03}ms", self.0 / 1_000_000, (self.0 / 1_000) % 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_convert_to_nanoseconds_exactly_and_saturate() {
        for d in [Duration::ZERO, Duration::new(3, 7), Duration::from_nanos(u64::MAX)] {
            assert_eq!(u128::from(duration_nanos(d)), d.as_nanos());
        }
        assert_eq!(duration_nanos(Duration::MAX), u64::MAX);
        assert_eq!(
            duration_nanos(Duration::from_nanos(u64::MAX) + Duration::from_nanos(1)),
            u64::MAX
        );
    }

    #[test]
    fn adding_a_huge_duration_saturates_instead_of_panicking() {
        assert_eq!(Instant::from_nanos(5) + Duration::MAX, Instant::from_nanos(u64::MAX));
    }

    #[test]
    fn subtracting_a_later_instant_gives_zero() {
        assert_eq!(Instant::from_millis(1) - Instant::from_millis(2), Duration::ZERO);
        assert_eq!(Instant::from_millis(3) - Instant::from_millis(1), Duration::from_millis(2));
    }

    #[test]
    fn display_shows_milliseconds_with_microseconds() {
        assert_eq!(Instant::from_nanos(150_250_999).to_string(), "t=150.250ms");
    }
}
