//! openraft's `Config` timing.
//!
//! `Config::validate` (openraft/src/config/config.rs) refuses `election_timeout_min >=
//! election_timeout_max` ("election_timeout_min({}) must be < election_timeout_max({})") and
//! `election_timeout_min <= heartbeat_interval` ("election_timeout_min({}) must be >
//! heartbeat_interval({})"). The timeout is drawn from `[min, max)` whole milliseconds.

use serde::Serialize;

use super::super::knobs::Whole;

/// The three fields, ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Timeouts {
    /// `heartbeat_interval`.
    pub heartbeat_interval_ms: u64,
    /// `election_timeout_min`.
    pub election_timeout_min_ms: u64,
    /// `election_timeout_max`: one past the longest draw.
    pub election_timeout_max_ms: u64,
}

impl Timeouts {
    /// The recommendation exactly: `[min, max]` inclusive is `[min, max + 1)`.
    pub fn nearest(w: &Whole) -> Timeouts {
        let min = w.min_ms.max(w.heartbeat_ms + 1);
        Timeouts {
            heartbeat_interval_ms: w.heartbeat_ms,
            election_timeout_min_ms: min,
            election_timeout_max_ms: w.max_ms.max(min) + 1,
        }
    }

    /// The fields as a host writes them.
    pub fn written(&self) -> String {
        format!(
            "heartbeat_interval: {}, election_timeout_min: {}, election_timeout_max: {}",
            self.heartbeat_interval_ms, self.election_timeout_min_ms, self.election_timeout_max_ms
        )
    }

    /// openraft's own check, with its words.
    pub fn validate(&self) -> Result<(), String> {
        let (h, min, max) = (
            self.heartbeat_interval_ms,
            self.election_timeout_min_ms,
            self.election_timeout_max_ms,
        );
        if min >= max {
            return Err(format!(
                "election_timeout_min({min}) must be < election_timeout_max({max})"
            ));
        }
        if min <= h {
            return Err(format!("election_timeout_min({min}) must be > heartbeat_interval({h})"));
        }
        Ok(())
    }

    /// A follower's draw, ms: `[min, max − 1]`.
    pub fn follower_timeouts_ms(&self) -> (u64, u64) {
        (self.election_timeout_min_ms, self.election_timeout_max_ms.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openraft_refuses_a_minimum_not_above_the_heartbeat_or_not_below_the_maximum() {
        // openraft/src/config/config.rs, Config::validate.
        let t = |h, min, max| Timeouts {
            heartbeat_interval_ms: h,
            election_timeout_min_ms: min,
            election_timeout_max_ms: max,
        };
        t(50, 150, 300).validate().unwrap();
        assert!(t(50, 300, 300).validate().unwrap_err().contains("must be < election_timeout_max"));
        assert!(t(150, 150, 300).validate().unwrap_err().contains("must be > heartbeat_interval"));
        let w = Whole { heartbeat_ms: 20, min_ms: 60, max_ms: 60, step_ms: 1 };
        let n = Timeouts::nearest(&w);
        assert_eq!(n.follower_timeouts_ms(), (60, 60), "a zero-width range is one value");
        n.validate().unwrap();
    }
}
