//! The driver's metrics, recorded through the [`metrics`] facade: whatever recorder the
//! embedder installs (the `node` command installs a Prometheus exporter) receives them. Handles
//! are registered once, at the driver's start or when a follower is first seen, so recording
//! allocates nothing. Every metric carries a `node` label; per-follower figures carry `peer`
//! too. docs/runtime.md lists them.

use std::collections::BTreeMap;
use std::time::Duration;

use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};

use crate::core::{
    ArrivalStats, Envelope, Event, Instant, LeaderDetectorKind, Message, NodeId, Role, Status,
};

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
    timer_lateness: Histogram,
    heartbeats_late: Counter,
    heartbeats_sent: Counter,
    election_timeouts: Counter,
    election_timeouts_deferred: Counter,
    /// Per shadow detector, in the configured order.
    shadow_suspicions: Vec<Counter>,
    elections_started: Counter,
    leader_changes: Counter,
    quorum_lost: Counter,
    leases_expired: Counter,
    term: Gauge,
    is_leader: Gauge,
    lease_remaining: Gauge,
    leader_gaps: [Gauge; 4],
    /// Per follower, registered when the leader first reports it.
    peer_gaps: BTreeMap<NodeId, [Gauge; 4]>,
}

impl Telemetry {
    pub(crate) fn new(
        node: u64,
        heartbeat_interval: Duration,
        shadows: &[LeaderDetectorKind],
    ) -> Self {
        let node = node.to_string();
        let labels = [("node", node.clone())];
        let shadow_suspicions = shadows
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let labels = [
                    ("node", node.clone()),
                    ("shadow", i.to_string()),
                    ("detector", kind.to_string()),
                ];
                counter!("raft_heartbeat_shadow_suspicions_total", &labels)
            })
            .collect();
        Telemetry {
            heartbeat_interval,
            timer_lateness: histogram!("raft_heartbeat_timer_lateness_seconds", &labels),
            heartbeats_late: counter!("raft_heartbeat_heartbeats_late_total", &labels),
            heartbeats_sent: counter!("raft_heartbeat_heartbeats_sent_total", &labels),
            election_timeouts: counter!("raft_heartbeat_election_timeouts_total", &labels),
            election_timeouts_deferred: counter!(
                "raft_heartbeat_election_timeouts_deferred_total",
                &labels
            ),
            shadow_suspicions,
            elections_started: counter!("raft_heartbeat_elections_started_total", &labels),
            leader_changes: counter!("raft_heartbeat_leader_changes_total", &labels),
            quorum_lost: counter!("raft_heartbeat_quorum_lost_total", &labels),
            leases_expired: counter!("raft_heartbeat_leases_expired_total", &labels),
            term: gauge!("raft_heartbeat_term", &labels),
            is_leader: gauge!("raft_heartbeat_is_leader", &labels),
            lease_remaining: gauge!("raft_heartbeat_lease_remaining_seconds", &labels),
            leader_gaps: LEADER_GAPS.map(|name| gauge!(name, &labels)),
            peer_gaps: BTreeMap::new(),
            node,
        }
    }

    /// The driver's timer, due at `due`, fired at `now`. A leader's round that goes out more
    /// than half an interval late shows its followers a gap of one and a half intervals: such
    /// rounds are counted as late.
    pub(crate) fn timer_fired(&self, due: Instant, now: Instant, leading: bool) {
        let late = if now > due { now - due } else { Duration::ZERO };
        self.timer_lateness.record(late.as_secs_f64());
        if leading && late > self.heartbeat_interval / 2 {
            self.heartbeats_late.increment(1);
        }
    }

    pub(crate) fn sent(&self, envelope: &Envelope) {
        if matches!(envelope.message, Message::Heartbeat(_)) {
            self.heartbeats_sent.increment(1);
        }
    }

    pub(crate) fn event(&self, event: &Event) {
        let counter = match event {
            Event::ElectionTimeout { .. } => &self.election_timeouts,
            Event::ElectionTimeoutDeferred { .. } => &self.election_timeouts_deferred,
            Event::ShadowSuspected { index, .. } => match self.shadow_suspicions.get(*index) {
                Some(counter) => counter,
                None => return,
            },
            Event::RoleChanged { to: Role::Candidate, .. } => &self.elections_started,
            Event::LeaderChanged { leader: Some(_), .. } => &self.leader_changes,
            Event::QuorumLost { .. } => &self.quorum_lost,
            Event::LeaseExpired { .. } => &self.leases_expired,
            _ => return,
        };
        counter.increment(1);
    }

    /// Sets the gauges from `status`. Figures that no longer apply (a follower's view of its
    /// leader once it leads, a leader's view of a follower once it stops leading or the
    /// follower leaves) are set to zero rather than left at their last value.
    pub(crate) fn status(&mut self, status: &Status) {
        self.term.set(status.term.0 as f64);
        self.is_leader.set(f64::from(u8::from(status.role == Role::Leader)));
        self.lease_remaining.set(status.lease_remaining.unwrap_or_default().as_secs_f64());
        set_gaps(&self.leader_gaps, status.leader_arrivals.as_ref());
        for gauges in self.peer_gaps.values() {
            set_gaps(gauges, None);
        }
        for p in &status.peers {
            let gauges = self.peer_gaps.entry(p.id).or_insert_with(|| {
                let labels = [("node", self.node.clone()), ("peer", p.id.0.to_string())];
                PEER_GAPS.map(|name| gauge!(name, &labels))
            });
            set_gaps(gauges, p.arrivals.as_ref());
        }
    }
}

/// The four figures of `stats`, or zeros.
fn set_gaps(gauges: &[Gauge; 4], stats: Option<&ArrivalStats>) {
    let values = stats.map_or([0.0; 4], |a| {
        [a.p50.as_secs_f64(), a.p99.as_secs_f64(), a.max.as_secs_f64(), a.max_timeout_fraction]
    });
    for (gauge, value) in gauges.iter().zip(values) {
        gauge.set(value);
    }
}
