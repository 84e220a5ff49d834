//! hashicorp/raft's `Config` timeouts.
//!
//! `ValidateConfig` (config.go, also on reload) refuses `HeartbeatTimeout`, `ElectionTimeout`
//! or `LeaderLeaseTimeout` under 5 ms ("… timeout is too low"), `CommitTimeout` under 1 ms,
//! `LeaderLeaseTimeout > HeartbeatTimeout` ("leader lease timeout cannot be larger than
//! heartbeat timeout") and `ElectionTimeout < HeartbeatTimeout` ("election timeout must be
//! equal or greater than heartbeat timeout"). A follower's timer is
//! `randomTimeout(HeartbeatTimeout)`, `[HT, 2·HT)`, and it campaigns only if its last contact is
//! at least `HT` old; the leader heartbeats each follower every `[HT/10, HT/5)`.

use serde::Serialize;

use super::super::knobs::Whole;

/// The least of the three timeouts hashicorp/raft accepts, ms.
pub const MIN_TIMEOUT_MS: u64 = 5;
/// hashicorp/raft's default `CommitTimeout`, ms: kept, as it paces commits, not detection.
pub const DEFAULT_COMMIT_TIMEOUT_MS: u64 = 50;

/// The four timeouts, ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Timeouts {
    /// `HeartbeatTimeout`: a follower's timeout is drawn from `[HT, 2·HT)`.
    pub heartbeat_timeout_ms: u64,
    /// `ElectionTimeout`: a candidate's.
    pub election_timeout_ms: u64,
    /// `LeaderLeaseTimeout`.
    pub leader_lease_timeout_ms: u64,
    /// `CommitTimeout`.
    pub commit_timeout_ms: u64,
}

impl Timeouts {
    /// `HeartbeatTimeout` and `ElectionTimeout` at the recommended minimum (at least 5 ms), the
    /// lease at most the heartbeat timeout.
    pub fn nearest(w: &Whole, lease_ms: f64) -> Timeouts {
        let ht = w.min_ms.max(MIN_TIMEOUT_MS);
        let lease = (lease_ms.floor().max(0.0) as u64).clamp(MIN_TIMEOUT_MS, ht);
        Timeouts {
            heartbeat_timeout_ms: ht,
            election_timeout_ms: ht,
            leader_lease_timeout_ms: lease,
            commit_timeout_ms: DEFAULT_COMMIT_TIMEOUT_MS,
        }
    }

    /// The fields as Go writes them.
    pub fn written(&self) -> String {
        format!(
            "HeartbeatTimeout: {}ms, ElectionTimeout: {}ms, LeaderLeaseTimeout: {}ms, \
             CommitTimeout: {}ms",
            self.heartbeat_timeout_ms,
            self.election_timeout_ms,
            self.leader_lease_timeout_ms,
            self.commit_timeout_ms
        )
    }

    /// hashicorp/raft's own check, with its words.
    pub fn validate(&self) -> Result<(), String> {
        if self.heartbeat_timeout_ms < MIN_TIMEOUT_MS {
            return Err("heartbeat timeout is too low".into());
        }
        if self.election_timeout_ms < MIN_TIMEOUT_MS {
            return Err("election timeout is too low".into());
        }
        if self.commit_timeout_ms < 1 {
            return Err("commit timeout is too low".into());
        }
        if self.leader_lease_timeout_ms < MIN_TIMEOUT_MS {
            return Err("leader lease timeout is too low".into());
        }
        if self.leader_lease_timeout_ms > self.heartbeat_timeout_ms {
            return Err("leader lease timeout cannot be larger than heartbeat timeout".into());
        }
        if self.election_timeout_ms < self.heartbeat_timeout_ms {
            return Err("election timeout must be equal or greater than heartbeat timeout".into());
        }
        Ok(())
    }

    /// A follower's draw, ms: `[HT, 2·HT)`, continuous (the upper end is the supremum).
    pub fn follower_timeouts_ms(&self) -> (u64, u64) {
        (self.heartbeat_timeout_ms, 2 * self.heartbeat_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashicorp_refuses_a_lease_above_the_heartbeat_timeout_and_timeouts_under_5_ms() {
        // config.go, ValidateConfig.
        let t = |ht, et, llt| Timeouts {
            heartbeat_timeout_ms: ht,
            election_timeout_ms: et,
            leader_lease_timeout_ms: llt,
            commit_timeout_ms: 50,
        };
        t(1000, 1000, 500).validate().unwrap();
        assert!(t(1000, 1000, 1001).validate().unwrap_err().contains("cannot be larger"));
        assert!(t(1000, 999, 500).validate().unwrap_err().contains("equal or greater"));
        assert!(t(4, 5, 5).validate().unwrap_err().contains("heartbeat timeout is too low"));
        let w = Whole { heartbeat_ms: 1, min_ms: 3, max_ms: 4, step_ms: 1 };
        let n = Timeouts::nearest(&w, 2.85);
        assert_eq!((n.heartbeat_timeout_ms, n.leader_lease_timeout_ms), (5, 5));
        n.validate().unwrap();
    }
}
