//! The etcd server's `--heartbeat-interval` and `--election-timeout`.
//!
//! etcd refuses to start (server/embed/config.go, `Config.Validate`; the messages of etcd
//! 3.4's `error verifying flags`) when `--heartbeat-interval` is not above 0, when
//! `--election-timeout` is below five heartbeat intervals ("should be at least as 5 times as
//! --heartbeat-interval"), or above 50,000 ms ("is too long, and should be set less than
//! 50000ms"; 50,000 itself passes). Both are whole milliseconds. The server hands its raft
//! library `HeartbeatTick = 1` and `ElectionTick = election / heartbeat` (integer division), so a
//! follower ticks once per heartbeat interval and draws `[ElectionTick, 2·ElectionTick − 1]`
//! ticks.

use serde::Serialize;

use super::super::knobs::Whole;

/// The longest `--election-timeout` etcd accepts, ms.
pub const MAX_ELECTION_TIMEOUT_MS: u64 = 50_000;
/// etcd's least election timeout, in heartbeat intervals.
pub const MIN_HEARTBEATS_PER_TIMEOUT: u64 = 5;

/// The two flags, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Flags {
    /// `--heartbeat-interval`.
    pub heartbeat_interval_ms: u64,
    /// `--election-timeout`.
    pub election_timeout_ms: u64,
}

impl Flags {
    /// The flags nearest to `w` that etcd accepts: the heartbeat kept (etcd's tuning guide ties
    /// it to the round trip; at most a fifth of the longest timeout), and the election timeout
    /// the least whole number of heartbeats, at least five, whose shortest draw is not below
    /// the recommended minimum, within 50 s.
    pub fn nearest(w: &Whole) -> Flags {
        let h = w.heartbeat_ms.clamp(1, MAX_ELECTION_TIMEOUT_MS / MIN_HEARTBEATS_PER_TIMEOUT);
        let ticks =
            w.min_ms.div_ceil(h).max(MIN_HEARTBEATS_PER_TIMEOUT).min(MAX_ELECTION_TIMEOUT_MS / h);
        Flags { heartbeat_interval_ms: h, election_timeout_ms: ticks * h }
    }

    /// `--heartbeat-interval=H --election-timeout=E`.
    pub fn written(&self) -> String {
        format!(
            "--heartbeat-interval={} --election-timeout={}",
            self.heartbeat_interval_ms, self.election_timeout_ms
        )
    }

    /// etcd's own check, with its words.
    pub fn validate(&self) -> Result<(), String> {
        let (h, e) = (self.heartbeat_interval_ms, self.election_timeout_ms);
        if h == 0 {
            return Err(format!("--heartbeat-interval must be >0 (set to {h}ms)"));
        }
        if e == 0 {
            return Err(format!("--election-timeout must be >0 (set to {e}ms)"));
        }
        if MIN_HEARTBEATS_PER_TIMEOUT * h > e {
            return Err(format!(
                "--election-timeout[{e}ms] should be at least as 5 times as \
                 --heartbeat-interval[{h}ms]"
            ));
        }
        if e > MAX_ELECTION_TIMEOUT_MS {
            return Err(format!(
                "--election-timeout[{e}ms] is too long, and should be set less than 50000ms"
            ));
        }
        Ok(())
    }

    /// A follower's draw, ms: `[ElectionTick, 2·ElectionTick − 1]` heartbeat intervals.
    pub fn follower_timeouts_ms(&self) -> (u64, u64) {
        let h = self.heartbeat_interval_ms.max(1);
        let ticks = self.election_timeout_ms / h;
        (ticks * h, (2 * ticks).saturating_sub(1) * h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(h: u64, e: u64) -> Flags {
        Flags { heartbeat_interval_ms: h, election_timeout_ms: e }
    }

    #[test]
    fn etcd_refuses_an_election_timeout_below_five_heartbeats_or_above_fifty_seconds() {
        // server/embed/config.go, Config.Validate; the words of etcd 3.4.
        assert!(flags(2, 6).validate().unwrap_err().contains("should be at least as 5 times"));
        flags(2, 10).validate().unwrap();
        flags(100, 50_000).validate().unwrap();
        assert!(flags(100, 50_001).validate().unwrap_err().contains("too long"));
        assert!(flags(0, 500).validate().unwrap_err().contains("must be >0"));
    }

    #[test]
    fn the_nearest_flags_keep_the_heartbeat_and_round_the_timeout_up_to_whole_ticks() {
        let w = |heartbeat_ms, min_ms, max_ms| Whole { heartbeat_ms, min_ms, max_ms, step_ms: 1 };
        // The LAN recommendation of issue 29: 2 ms / 6 ms is refused; 2 / 10 is the nearest.
        assert_eq!(Flags::nearest(&w(2, 6, 21)), flags(2, 10));
        assert_eq!(Flags::nearest(&w(100, 1000, 2000)), flags(100, 1000));
        // 29 ms is not whole heartbeats of 7: the shortest draw must not fall below it.
        let f = Flags::nearest(&w(7, 29, 61));
        assert_eq!(f, flags(7, 35));
        assert_eq!(f.follower_timeouts_ms(), (35, 63));
        // Beyond 50 s: capped, still accepted.
        let f = Flags::nearest(&w(12_000, 36_000, 48_000));
        assert_eq!(f, flags(10_000, 50_000));
        f.validate().unwrap();
    }
}
