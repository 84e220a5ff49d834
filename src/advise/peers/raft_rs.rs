//! tikv/raft-rs's `Config`: the host ticks the node every `tick_ms`; the node draws its
//! timeout from `[min_election_tick, max_election_tick)` ticks, max excluded.
//!
//! `Config::validate` (src/config.rs) refuses `heartbeat_tick == 0` ("heartbeat tick must
//! greater than 0"), `election_tick <= heartbeat_tick` ("election tick must be greater than
//! heartbeat tick"), `min_election_tick < election_tick` ("min election tick {} must not be less
//! than election_tick {}") and `min_election_tick >= max_election_tick` ("min election tick {}
//! should be less than max election tick {}"); 0 means the defaults `election_tick` and
//! `2·election_tick`.

use serde::Serialize;

use super::super::knobs::Whole;
use super::{fine_tick, gcd};

/// The host's tick and the node's tick counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ticks {
    /// How often the host calls `tick()`, ms.
    pub tick_ms: u64,
    /// `heartbeat_tick`.
    pub heartbeat_tick: u64,
    /// `election_tick`.
    pub election_tick: u64,
    /// `min_election_tick`.
    pub min_election_tick: u64,
    /// `max_election_tick`: one past the longest draw.
    pub max_election_tick: u64,
}

impl Ticks {
    /// A tick dividing the heartbeat and both ends of the range, so all are exact; the range
    /// `[min, max]` inclusive is `[min_election_tick, max_election_tick)`.
    pub fn nearest(w: &Whole) -> Ticks {
        let common = gcd(gcd(w.heartbeat_ms, w.min_ms), w.max_ms);
        let tick = fine_tick(common, w.max_ms - w.min_ms);
        let heartbeat_tick = (w.heartbeat_ms / tick).max(1);
        let election_tick = (w.min_ms / tick).max(heartbeat_tick + 1);
        let max_election_tick = (w.max_ms / tick).max(election_tick) + 1;
        Ticks {
            tick_ms: tick,
            heartbeat_tick,
            election_tick,
            min_election_tick: election_tick,
            max_election_tick,
        }
    }

    /// The fields as a host writes them.
    pub fn written(&self) -> String {
        format!(
            "tick every {} ms, heartbeat_tick: {}, election_tick: {}, min_election_tick: {}, \
             max_election_tick: {}",
            self.tick_ms,
            self.heartbeat_tick,
            self.election_tick,
            self.min_election_tick,
            self.max_election_tick
        )
    }

    /// The bounds raft-rs uses, its zero defaults applied.
    fn bounds(&self) -> (u64, u64) {
        let min =
            if self.min_election_tick == 0 { self.election_tick } else { self.min_election_tick };
        let max = if self.max_election_tick == 0 {
            2 * self.election_tick
        } else {
            self.max_election_tick
        };
        (min, max)
    }

    /// raft-rs's own check, with its words (and a tick the host can run).
    pub fn validate(&self) -> Result<(), String> {
        if self.tick_ms == 0 {
            return Err("the host's tick must be at least 1 ms".into());
        }
        if self.heartbeat_tick == 0 {
            return Err("heartbeat tick must greater than 0".into());
        }
        if self.election_tick <= self.heartbeat_tick {
            return Err("election tick must be greater than heartbeat tick".into());
        }
        let (min, max) = self.bounds();
        if min < self.election_tick {
            return Err(format!(
                "min election tick {min} must not be less than election_tick {}",
                self.election_tick
            ));
        }
        if min >= max {
            return Err(format!(
                "min election tick {min} should be less than max election tick {max}"
            ));
        }
        Ok(())
    }

    /// A follower's draw, ms: `[min, max − 1]` ticks.
    pub fn follower_timeouts_ms(&self) -> (u64, u64) {
        let (min, max) = self.bounds();
        (min * self.tick_ms, max.saturating_sub(1) * self.tick_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_rs_refuses_a_min_election_tick_not_below_the_max() {
        // src/config.rs, Config::validate.
        let t = |min_election_tick, max_election_tick| Ticks {
            tick_ms: 10,
            heartbeat_tick: 2,
            election_tick: 6,
            min_election_tick,
            max_election_tick,
        };
        t(6, 10).validate().unwrap();
        t(0, 0).validate().unwrap();
        assert!(t(5, 10).validate().unwrap_err().contains("must not be less than election_tick"));
        assert!(t(10, 10).validate().unwrap_err().contains("should be less than max"));
        let w = Whole { heartbeat_ms: 20, min_ms: 60, max_ms: 90, step_ms: 1 };
        let n = Ticks::nearest(&w);
        // A 2 ms tick: the coarsest dividing 20, 60 and 90 that draws the 30 ms range in ten
        // steps or more.
        assert_eq!((n.tick_ms, n.heartbeat_tick, n.election_tick), (2, 10, 30));
        assert_eq!((n.min_election_tick, n.max_election_tick), (30, 46));
        assert_eq!(n.follower_timeouts_ms(), (60, 90), "the range is expressed exactly");
    }
}
