//! The recommended setting in each peer's own knobs, checked by that peer's own start-up rules
//! and timer semantics (read from each project's source; each file quotes its rule and where
//! the peer enforces it). A setting a peer would refuse is never printed: where a peer cannot
//! express the recommendation, the nearest setting it accepts is printed with what it changes.
//!
//! | file | peer | knobs |
//! |---|---|---|
//! | `etcd.rs` | etcd server | `--heartbeat-interval`, `--election-timeout` |
//! | `etcd_raft.rs` | etcd-io/raft | a tick, `HeartbeatTick`, `ElectionTick` |
//! | `raft_rs.rs` | tikv/raft-rs | a tick, `heartbeat_tick`, `election_tick`, `min_election_tick`, `max_election_tick` |
//! | `hashicorp.rs` | hashicorp/raft | `HeartbeatTimeout`, `ElectionTimeout`, `LeaderLeaseTimeout`, `CommitTimeout` |
//! | `openraft.rs` | openraft | `heartbeat_interval`, `election_timeout_min`, `election_timeout_max` |

pub mod etcd;
pub mod etcd_raft;
pub mod hashicorp;
pub mod openraft;
pub mod raft_rs;

use serde::Serialize;

use super::knobs::Whole;
use crate::closed_form::Timing;

/// One peer's setting: its values, and what they change from the recommendation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Peer {
    /// The system and its values.
    #[serde(flatten)]
    pub setting: PeerSetting,
    /// What the peer's setting changes from the recommendation, in words; empty when nothing.
    pub differs: String,
    /// Where it differs: what the setting gives under the peer's own timers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted: Option<PeerPredicted>,
}

/// What a peer's setting gives, simulated under that peer's timer semantics
/// ([`PeerSetting::timing`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PeerPredicted {
    /// Failover trials simulated.
    pub trials: u64,
    /// Failover median, ms.
    pub failover_p50_ms: f64,
    /// Failover 99th percentile, ms.
    pub failover_p99_ms: f64,
    /// Elections while the leader lives, cluster-wide, per day (closed form).
    pub false_elections_per_day: f64,
}

/// A peer's values, typed; in JSON `{"system": "etcd", "values": {...}}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "system", content = "values", rename_all = "kebab-case")]
pub enum PeerSetting {
    /// The etcd server's flags.
    Etcd(etcd::Flags),
    /// etcd-io/raft's `Config`, with the host's tick.
    EtcdRaft(etcd_raft::Ticks),
    /// tikv/raft-rs's `Config`, with the host's tick.
    RaftRs(raft_rs::Ticks),
    /// hashicorp/raft's `Config`.
    HashicorpRaft(hashicorp::Timeouts),
    /// openraft's `Config`.
    Openraft(openraft::Timeouts),
}

impl PeerSetting {
    /// The system's name, as in JSON.
    pub fn system(&self) -> &'static str {
        match self {
            PeerSetting::Etcd(_) => "etcd",
            PeerSetting::EtcdRaft(_) => "etcd-raft",
            PeerSetting::RaftRs(_) => "raft-rs",
            PeerSetting::HashicorpRaft(_) => "hashicorp-raft",
            PeerSetting::Openraft(_) => "openraft",
        }
    }

    /// The setting as its users write it (flags, or the `Config` fields).
    pub fn written(&self) -> String {
        match self {
            PeerSetting::Etcd(f) => f.written(),
            PeerSetting::EtcdRaft(t) => t.written(),
            PeerSetting::RaftRs(t) => t.written(),
            PeerSetting::HashicorpRaft(t) => t.written(),
            PeerSetting::Openraft(t) => t.written(),
        }
    }

    /// The peer's own start-up check of these values: `Err` with the peer's reason if it
    /// would refuse them.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            PeerSetting::Etcd(f) => f.validate(),
            PeerSetting::EtcdRaft(t) => t.validate(),
            PeerSetting::RaftRs(t) => t.validate(),
            PeerSetting::HashicorpRaft(t) => t.validate(),
            PeerSetting::Openraft(t) => t.validate(),
        }
    }

    /// The setting as the simulator runs it under the peer's semantics: the heartbeat interval
    /// its leader keeps (hashicorp/raft's draw from `[HT/10, HT/5)` at its mean), the range a
    /// follower draws from ([`follower_timeouts_ms`](Self::follower_timeouts_ms)) and the step
    /// of its draw (the tick; the etcd server ticks once a heartbeat interval).
    pub fn timing(&self) -> Timing {
        let (lo, hi) = self.follower_timeouts_ms();
        let (heartbeat, step) = match self {
            PeerSetting::Etcd(f) => (f.heartbeat_interval_ms, f.heartbeat_interval_ms),
            PeerSetting::EtcdRaft(t) => (t.heartbeat_tick * t.tick_ms, t.tick_ms),
            PeerSetting::RaftRs(t) => (t.heartbeat_tick * t.tick_ms, t.tick_ms),
            PeerSetting::HashicorpRaft(t) => ((t.heartbeat_timeout_ms * 3).div_ceil(20), 1),
            PeerSetting::Openraft(t) => (t.heartbeat_interval_ms, 1),
        };
        Timing {
            heartbeat_ms: heartbeat.max(1) as f64,
            min_ms: lo as f64,
            max_ms: hi as f64,
            step_ms: step.max(1) as f64,
        }
    }

    /// The range a follower's election timeout is drawn from under the peer's semantics, ms,
    /// both ends included.
    pub fn follower_timeouts_ms(&self) -> (u64, u64) {
        match self {
            PeerSetting::Etcd(f) => f.follower_timeouts_ms(),
            PeerSetting::EtcdRaft(t) => t.follower_timeouts_ms(),
            PeerSetting::RaftRs(t) => t.follower_timeouts_ms(),
            PeerSetting::HashicorpRaft(t) => t.follower_timeouts_ms(),
            PeerSetting::Openraft(t) => t.follower_timeouts_ms(),
        }
    }
}

/// Every peer's nearest accepted setting to `w`, with a lease of `lease_ms`.
pub fn all(w: &Whole, lease_ms: f64) -> Vec<Peer> {
    let peer =
        |setting: PeerSetting| Peer { differs: differs(w, &setting), setting, predicted: None };
    vec![
        peer(PeerSetting::Etcd(etcd::Flags::nearest(w))),
        peer(PeerSetting::EtcdRaft(etcd_raft::Ticks::nearest(w))),
        peer(PeerSetting::RaftRs(raft_rs::Ticks::nearest(w))),
        peer(PeerSetting::HashicorpRaft(hashicorp::Timeouts::nearest(w, lease_ms))),
        peer(PeerSetting::Openraft(openraft::Timeouts::nearest(w))),
    ]
}

/// What `setting` changes from `w`: the heartbeat interval and the timeouts a follower draws.
fn differs(w: &Whole, setting: &PeerSetting) -> String {
    let mut changes = Vec::new();
    let (lo, hi) = setting.follower_timeouts_ms();
    if (lo, hi) != (w.min_ms, w.max_ms) {
        changes.push(format!(
            "a follower draws its timeout from [{lo}, {hi}] ms, not [{}, {}]",
            w.min_ms, w.max_ms
        ));
    }
    let step = setting.timing().step_ms as u64;
    if step != w.step_ms.max(1) {
        changes.push(format!(
            "timeouts fire on a {step} ms tick (drawn in steps of {step} ms), not every {} ms",
            w.step_ms.max(1)
        ));
    }
    match setting {
        PeerSetting::Etcd(f) if f.heartbeat_interval_ms != w.heartbeat_ms => changes.push(format!(
            "heartbeats every {} ms, not {}",
            f.heartbeat_interval_ms, w.heartbeat_ms
        )),
        PeerSetting::HashicorpRaft(t) => changes.push(format!(
            "the leader heartbeats every {}-{} ms (HeartbeatTimeout/10 to /5), not every {} ms",
            t.heartbeat_timeout_ms as f64 / 10.0,
            t.heartbeat_timeout_ms as f64 / 5.0,
            w.heartbeat_ms
        )),
        PeerSetting::Etcd(_)
        | PeerSetting::EtcdRaft(_)
        | PeerSetting::RaftRs(_)
        | PeerSetting::Openraft(_) => {}
    }
    changes.join("; ")
}

/// The tick for a tick-driven peer: of the divisors of `common` (so every setting is a whole
/// number of ticks), the coarsest that still draws a range `width_ms` wide in ten steps or
/// more. A coarser tick costs the host less but draws timeouts on a coarse grid, and the
/// simulator shows what that costs: on a 140 ms tick etcd-raft's failover p99 for a
/// 140 / 420-525 ms recommendation was 1,220 ms against 475.
fn fine_tick(common: u64, width_ms: u64) -> u64 {
    let finest_useful = (width_ms / 10).max(1);
    (1..=common.max(1)).rev().find(|t| common % t == 0 && *t <= finest_useful).unwrap_or(1)
}

/// The greatest common divisor, for a tick that divides every setting.
fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recommendations of every shape advise gives: a LAN's, cross-zone, a WAN's, the guide's
    /// example, a minimum below five heartbeats, a width of zero, and extremes.
    fn shapes() -> Vec<Whole> {
        let w = |heartbeat_ms, min_ms, max_ms| Whole { heartbeat_ms, min_ms, max_ms, step_ms: 1 };
        vec![
            w(2, 6, 21),
            w(10, 30, 80),
            w(240, 720, 1450),
            w(100, 300, 600),
            w(20, 60, 60),
            w(1, 3, 4),
            w(7, 29, 61),
            w(9_000, 40_000, 90_000),
            w(12_000, 36_000, 48_000),
        ]
    }

    #[test]
    fn every_printed_peer_setting_passes_that_peers_own_start_up_check() {
        for w in shapes() {
            for p in all(&w, w.min_ms as f64 * 0.95) {
                p.setting.validate().unwrap_or_else(|e| {
                    panic!("{} refuses {} for {w:?}: {e}", p.setting.system(), p.setting.written())
                });
                let (lo, hi) = p.setting.follower_timeouts_ms();
                assert!(lo <= hi, "{}: [{lo}, {hi}]", p.setting.system());
            }
        }
    }

    #[test]
    fn each_peer_runs_under_its_own_timers() {
        let w = Whole { heartbeat_ms: 6, min_ms: 69, max_ms: 138, step_ms: 1 };
        let timing = |system: &str| {
            all(&w, 65.0)
                .into_iter()
                .find(|p| p.setting.system() == system)
                .unwrap()
                .setting
                .timing()
        };
        // etcd ticks once a heartbeat interval: timeouts on a 6 ms grid, [72, 138].
        let etcd = timing("etcd");
        assert_eq!(
            (etcd.heartbeat_ms, etcd.min_ms, etcd.max_ms, etcd.step_ms),
            (6.0, 72.0, 138.0, 6.0)
        );
        // hashicorp/raft: a follower checks within [HT, 2HT); the leader heartbeats every
        // HT/10 to HT/5, 10.35 ms on average, taken as 11.
        let hashicorp = timing("hashicorp-raft");
        assert_eq!(
            (hashicorp.heartbeat_ms, hashicorp.min_ms, hashicorp.max_ms),
            (11.0, 69.0, 138.0)
        );
        // openraft draws from [min, max): the nearest setting's max is one past.
        let openraft = timing("openraft");
        assert_eq!((openraft.min_ms, openraft.max_ms, openraft.step_ms), (69.0, 138.0, 1.0));
    }

    #[test]
    fn json_names_the_system_and_types_its_values() {
        let w = Whole { heartbeat_ms: 2, min_ms: 6, max_ms: 21, step_ms: 1 };
        let json = serde_json::to_value(all(&w, 5.7)).unwrap();
        assert_eq!(json[0]["system"], "etcd");
        assert_eq!(json[0]["values"]["heartbeat_interval_ms"], 2);
        assert_eq!(json[0]["values"]["election_timeout_ms"], 10);
        assert!(json[0]["differs"].as_str().unwrap().contains("[10, 18] ms"), "{json}");
        let systems: Vec<&str> =
            json.as_array().unwrap().iter().map(|p| p["system"].as_str().unwrap()).collect();
        assert_eq!(systems, ["etcd", "etcd-raft", "raft-rs", "hashicorp-raft", "openraft"]);
    }
}
