//! etcd-io/raft's `Config`: the host ticks the node every `tick_ms`; `HeartbeatTick` and
//! `ElectionTick` count ticks.
//!
//! `Config.validate` (raft.go) refuses `HeartbeatTick <= 0` ("heartbeat tick must be greater
//! than 0") and `ElectionTick <= HeartbeatTick` ("election tick must be greater than heartbeat
//! tick"). A follower's timeout is `ElectionTick + rand(ElectionTick)` ticks: `[ET, 2·ET − 1]`,
//! whatever the upper bound one wants.

use serde::Serialize;

use super::super::knobs::Whole;
use super::{fine_tick, gcd};

/// The host's tick and the node's tick counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ticks {
    /// How often the host calls `Tick()`, ms.
    pub tick_ms: u64,
    /// `HeartbeatTick`.
    pub heartbeat_tick: u64,
    /// `ElectionTick`.
    pub election_tick: u64,
}

impl Ticks {
    /// A tick dividing the heartbeat and the shortest timeout, so both are exact, and fine
    /// enough to draw the range (`[min, 2·min)`, whatever the recommended maximum) in ten steps
    /// or more.
    pub fn nearest(w: &Whole) -> Ticks {
        let tick = fine_tick(gcd(w.heartbeat_ms, w.min_ms), w.min_ms);
        let heartbeat_tick = (w.heartbeat_ms / tick).max(1);
        let election_tick = (w.min_ms / tick).max(heartbeat_tick + 1);
        Ticks { tick_ms: tick, heartbeat_tick, election_tick }
    }

    /// The fields as a host writes them.
    pub fn written(&self) -> String {
        format!(
            "tick every {} ms, HeartbeatTick: {}, ElectionTick: {}",
            self.tick_ms, self.heartbeat_tick, self.election_tick
        )
    }

    /// etcd-io/raft's own check, with its words (and a tick the host can run).
    pub fn validate(&self) -> Result<(), String> {
        if self.tick_ms == 0 {
            return Err("the host's tick must be at least 1 ms".into());
        }
        if self.heartbeat_tick == 0 {
            return Err("heartbeat tick must be greater than 0".into());
        }
        if self.election_tick <= self.heartbeat_tick {
            return Err("election tick must be greater than heartbeat tick".into());
        }
        Ok(())
    }

    /// A follower's draw, ms: `[ET, 2·ET − 1]` ticks.
    pub fn follower_timeouts_ms(&self) -> (u64, u64) {
        let et = self.election_tick;
        (et * self.tick_ms, (2 * et).saturating_sub(1) * self.tick_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcd_raft_refuses_an_election_tick_not_above_the_heartbeat_tick() {
        // raft.go, Config.validate.
        let t =
            |heartbeat_tick, election_tick| Ticks { tick_ms: 10, heartbeat_tick, election_tick };
        t(1, 10).validate().unwrap();
        assert!(t(0, 10).validate().unwrap_err().contains("greater than 0"));
        assert!(t(10, 10).validate().unwrap_err().contains("greater than heartbeat tick"));
        // 300-565 ms at 100 ms heartbeats: ticks of 25 ms draw [300, 575], the nearest to 565
        // of every tick dividing 100 and 300.
        let w = Whole { heartbeat_ms: 100, min_ms: 300, max_ms: 565, step_ms: 1 };
        let n = Ticks::nearest(&w);
        assert_eq!(n, Ticks { tick_ms: 25, heartbeat_tick: 4, election_tick: 12 });
        assert_eq!(n.follower_timeouts_ms(), (300, 575));
    }
}
