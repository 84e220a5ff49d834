//! The driver's metrics, recorded through the [`metrics`] facade: whatever recorder the
//! embedder installs (the `node` command installs a Prometheus exporter) receives them, and
//! without one they cost a branch. Every metric carries a `node` label; per-peer figures carry
//! `peer` too. docs/runtime.md lists them.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use crate::core::{ArrivalStats, Envelope, Event, Instant, Message, Role, Status};

/// A follower's figures for the leader it follows: gap p50, p99, max, and the largest share of
/// its election timeout a gap used.
const LEADER_GAPS: [&str; 4] = [
    "raft_heartbeat_leader_gap_p50_seconds",
    "raft_heartbeat_leader_gap_p99_seconds",
    "raft_heartbeat_leader_gap_max_seconds",
    "raft_heartbeat_leader_max_timeout_fraction",
];

/// A leader's figures for each follower (label `peer`), the same four.
const PEER_GAPS: [&str; 4] = [
    "raft_heartbeat_peer_gap_p50_seconds",
    "raft_heartbeat_peer_gap_p99_seconds",
    "raft_heartbeat_peer_gap_max_seconds",
    "raft_heartbeat_peer_max_timeout_fraction",
];

/// Records one node's metrics.
#[derive(Debug)]
pub(crate) struct Telemetry {
    node: String,
    heartbeat_interval: Duration,
}

impl Telemetry {
    pub(crate) fn new(node: u64, heartbeat_interval: Duration) -> Self {
        Telemetry { node: node.to_string(), heartbeat_interval }
    }

    /// The driver's timer, due at `due`, fired at `now`. A leader's round that goes out more
    /// than half an interval late shows its followers a gap of one and a half intervals: such
    /// rounds are counted as late.
    pub(crate) fn timer_fired(&self, due: Instant, now: Instant, leading: bool) {
        let late = if now > due { now - due } else { Duration::ZERO };
        histogram!("raft_heartbeat_timer_lateness_seconds", "node" => self.node.clone())
            .record(late.as_secs_f64());
        if leading && late > self.heartbeat_interval / 2 {
            counter!("raft_heartbeat_heartbeats_late_total", "node" => self.node.clone())
                .increment(1);
        }
    }

    pub(crate) fn sent(&self, envelope: &Envelope) {
        if matches!(envelope.message, Message::Heartbeat(_)) {
            counter!("raft_heartbeat_heartbeats_sent_total", "node" => self.node.clone())
                .increment(1);
        }
    }

    pub(crate) fn event(&self, event: &Event) {
        let node = || self.node.clone();
        match event {
            Event::ElectionTimeout { .. } => {
                counter!("raft_heartbeat_election_timeouts_total", "node" => node()).increment(1);
            }
            Event::RoleChanged { to: Role::Candidate, .. } => {
                counter!("raft_heartbeat_elections_started_total", "node" => node()).increment(1);
            }
            Event::LeaderChanged { leader: Some(_), .. } => {
                counter!("raft_heartbeat_leader_changes_total", "node" => node()).increment(1);
            }
            Event::QuorumLost { .. } => {
                counter!("raft_heartbeat_quorum_lost_total", "node" => node()).increment(1);
            }
            Event::LeaseExpired { .. } => {
                counter!("raft_heartbeat_leases_expired_total", "node" => node()).increment(1);
            }
            _ => {}
        }
    }

    pub(crate) fn status(&self, status: &Status) {
        let node = || self.node.clone();
        gauge!("raft_heartbeat_term", "node" => node()).set(status.term.0 as f64);
        gauge!("raft_heartbeat_is_leader", "node" => node())
            .set(f64::from(u8::from(status.role == Role::Leader)));
        let lease = status.lease_remaining.unwrap_or_default();
        gauge!("raft_heartbeat_lease_remaining_seconds", "node" => node()).set(lease.as_secs_f64());
        if let Some(a) = &status.leader_arrivals {
            self.arrivals(&LEADER_GAPS, a, None);
        }
        for p in &status.peers {
            if let Some(a) = &p.arrivals {
                self.arrivals(&PEER_GAPS, a, Some(p.id.0));
            }
        }
    }

    fn arrivals(&self, names: &[&'static str; 4], a: &ArrivalStats, peer: Option<u64>) {
        let mut labels = vec![("node", self.node.clone())];
        if let Some(peer) = peer {
            labels.push(("peer", peer.to_string()));
        }
        let values = [a.p50.as_secs_f64(), a.p99.as_secs_f64(), a.max.as_secs_f64()];
        for (name, value) in names.iter().zip(values.into_iter().chain([a.max_timeout_fraction])) {
            gauge!(*name, &labels).set(value);
        }
    }
}
