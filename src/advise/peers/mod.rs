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

/// One peer's setting: its values, and what they change from the recommendation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Peer {
    /// The system and its values.
    #[serde(flatten)]
    pub setting: PeerSetting,
    /// What the peer's setting changes from the recommendation, in words; empty when nothing.
    pub differs: String,
}

/// A peer's values, typed; in JSON `{"system": "etcd", "values": {...}}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
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
    let peer = |setting: PeerSetting| Peer { differs: differs(w, &setting), setting };
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
    match setting {
        PeerSetting::Etcd(f) if f.heartbeat_interval_ms != w.heartbeat_ms => changes.push(format!(
            "heartbeats every {} ms, not {}",
            f.heartbeat_interval_ms, w.heartbeat_ms
        )),
        PeerSetting::HashicorpRaft(t) => changes.push(format!(
            "the leader heartbeats every {}-{} ms (HeartbeatTimeout/10 to /5), not every {} ms",
            t.heartbeat_timeout_ms / 10,
            t.heartbeat_timeout_ms / 5,
            w.heartbeat_ms
        )),
        PeerSetting::Etcd(_)
        | PeerSetting::EtcdRaft(_)
        | PeerSetting::RaftRs(_)
        | PeerSetting::Openraft(_) => {}
    }
    changes.join("; ")
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
