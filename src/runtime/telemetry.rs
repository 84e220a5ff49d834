//! The driver's metrics, recorded through the [`metrics`] facade: whatever recorder the
//! embedder installs (the `node` command installs a Prometheus exporter) receives them. Handles
//! are registered once, at the driver's start or when a follower is first seen, so recording
//! allocates nothing. Every metric carries a `node` label; per-follower figures carry `peer`
//! too. docs/runtime.md lists them.

use std::collections::BTreeMap;
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter,
    Gauge, Histogram, Unit,
};

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

/// Bucket bounds of every `_seconds` histogram, s: `2^(k/6)` from about 7.6 µs to 64 s, each
/// 12% above the last, so a percentile read from the buckets (as Prometheus's
/// `histogram_quantile` or `advise --from-metrics` do) is within 6% of the true one.
/// An exporter applies them (the `node` command does).
pub fn buckets_seconds() -> Vec<f64> {
    (-102..=36).map(|k| 2f64.powf(f64::from(k) / 6.0)).collect()
}

/// A heartbeat round still waiting for a follower's answer is counted unanswered (lost, for
/// failure detection) after this many heartbeat intervals.
const UNANSWERED_AFTER_ROUNDS: u32 = 10;

/// A leader's view of one follower's heartbeat round trips.
#[derive(Debug)]
struct RoundTrips {
    /// Send to answer, s.
    seconds: Histogram,
    answered: Counter,
    unanswered: Counter,
    /// Rounds sent and not yet answered, by round: when each was sent.
    outstanding: BTreeMap<u64, Instant>,
}

/// Gives every metric its HELP text and unit (Prometheus's checker refuses a page without),
/// in the words of docs/runtime.md's table.
fn describe() {
    let counters = [
        (
            "raft_heartbeat_election_timeouts_total",
            "Election timers that fired (a suspected leader).",
        ),
        (
            "raft_heartbeat_election_timeouts_deferred_total",
            "Election timeouts deferred after a stall of the node's own (local health).",
        ),
        (
            "raft_heartbeat_shadow_suspicions_total",
            "Times a shadow detector would have suspected the leader.",
        ),
        ("raft_heartbeat_elections_started_total", "Campaigns as candidate."),
        ("raft_heartbeat_leader_changes_total", "Leaders learned or become."),
        ("raft_heartbeat_quorum_lost_total", "Check-quorum step-downs (Raft thesis 6.2)."),
        (
            "raft_heartbeat_leases_expired_total",
            "Leases that ran out or ended with the leadership.",
        ),
        (
            "raft_heartbeat_heartbeats_sent_total",
            "Heartbeat messages sent, one per follower per round.",
        ),
        (
            "raft_heartbeat_heartbeats_late_total",
            "Leader timer firings more than half a heartbeat interval late.",
        ),
        ("raft_heartbeat_heartbeats_answered_total", "Heartbeat rounds a follower answered."),
        (
            "raft_heartbeat_heartbeats_unanswered_total",
            "Heartbeat rounds with no answer after ten heartbeat intervals.",
        ),
    ];
    for (name, help) in counters {
        describe_counter!(name, Unit::Count, help);
    }
    let histograms = [
        (
            "raft_heartbeat_timer_lateness_seconds",
            "How late the driver's timer fired after the core's deadline.",
        ),
        (
            "raft_heartbeat_heartbeat_round_trip_seconds",
            "A heartbeat's send to its answer, at the leader.",
        ),
        ("raft_heartbeat_hard_state_write_seconds", "A durable write of the term and vote."),
        (
            "raft_heartbeat_leaderless_seconds",
            "A failover as this node saw it: from losing its leader to following or becoming the next.",
        ),
    ];
    for (name, help) in histograms {
        describe_histogram!(name, Unit::Seconds, help);
    }
    let gauges = [
        ("raft_heartbeat_term", Unit::Count, "Current term."),
        ("raft_heartbeat_is_leader", Unit::Count, "1 while leading, else 0."),
        ("raft_heartbeat_lease_remaining_seconds", Unit::Seconds, "Lease left, 0 without one."),
        (LEADER_GAPS[0], Unit::Seconds, "At a follower: median gap between the leader's heartbeats, over the latest 64."),
        (LEADER_GAPS[1], Unit::Seconds, "At a follower: 99th percentile gap between the leader's heartbeats, over the latest 64."),
        (LEADER_GAPS[2], Unit::Seconds, "At a follower: longest gap between the leader's heartbeats, over the latest 64."),
        (LEADER_GAPS[3], Unit::Count, "At a follower: the largest share of its election timeout a silence used."),
        (PEER_GAPS[0], Unit::Seconds, "At the leader: median gap between a follower's acknowledgements."),
        (PEER_GAPS[1], Unit::Seconds, "At the leader: 99th percentile gap between a follower's acknowledgements."),
        (PEER_GAPS[2], Unit::Seconds, "At the leader: longest gap between a follower's acknowledgements."),
        (PEER_GAPS[3], Unit::Count, "At the leader: the largest share of the minimum election timeout a follower's silence used."),
    ];
    for (name, unit, help) in gauges {
        describe_gauge!(name, unit, help);
    }
}

/// Records one node's metrics.
#[derive(Debug)]
pub(crate) struct Telemetry {
    node: String,
    heartbeat_interval: Duration,
    timer_lateness: Histogram,
    hard_state_write: Histogram,
    /// From losing a leader to having the next one.
    leaderless: Histogram,
    /// When this node lost the leader it had, while it has none.
    leaderless_since: Option<Instant>,
    /// Per follower, registered when the leader first sends it a heartbeat.
    round_trips: BTreeMap<NodeId, RoundTrips>,
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
        describe();
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
            hard_state_write: histogram!("raft_heartbeat_hard_state_write_seconds", &labels),
            leaderless: histogram!("raft_heartbeat_leaderless_seconds", &labels),
            leaderless_since: None,
            round_trips: BTreeMap::new(),
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

    /// A durable write of the term and vote took `took`.
    pub(crate) fn hard_state_written(&self, took: Duration) {
        self.hard_state_write.record(took.as_secs_f64());
    }

    /// `envelope` left at `now`: a heartbeat starts a round trip to its follower, and rounds
    /// unanswered for [`UNANSWERED_AFTER_ROUNDS`] intervals are counted lost.
    pub(crate) fn sent(&mut self, envelope: &Envelope, now: Instant) {
        let Message::Heartbeat(heartbeat) = &envelope.message else { return };
        self.heartbeats_sent.increment(1);
        let node = &self.node;
        let trips = self.round_trips.entry(envelope.to).or_insert_with(|| {
            let labels = [("node", node.clone()), ("peer", envelope.to.0.to_string())];
            RoundTrips {
                seconds: histogram!("raft_heartbeat_heartbeat_round_trip_seconds", &labels),
                answered: counter!("raft_heartbeat_heartbeats_answered_total", &labels),
                unanswered: counter!("raft_heartbeat_heartbeats_unanswered_total", &labels),
                outstanding: BTreeMap::new(),
            }
        });
        let horizon = self.heartbeat_interval * UNANSWERED_AFTER_ROUNDS;
        let expired = trips
            .outstanding
            .iter()
            .filter(|(_, &sent)| now.saturating_duration_since(sent) > horizon)
            .count();
        for _ in 0..expired {
            trips.outstanding.pop_first();
        }
        trips.unanswered.increment(expired as u64);
        trips.outstanding.insert(heartbeat.round, now);
    }

    /// `envelope` arrived at `now`: a follower's answer closes its round trip.
    pub(crate) fn received(&mut self, envelope: &Envelope, now: Instant) {
        let Message::HeartbeatResponse(response) = &envelope.message else { return };
        let Some(trips) = self.round_trips.get_mut(&envelope.from) else { return };
        if let Some(sent) = trips.outstanding.remove(&response.round) {
            trips.seconds.record(now.saturating_duration_since(sent).as_secs_f64());
            trips.answered.increment(1);
        }
    }

    /// Counts `event`, and times a failover: from a `LeaderChanged` to no leader (this node's
    /// timer fired, or a higher term arrived) to the next `LeaderChanged` naming one. A node
    /// that starts without a leader records nothing until it has had one.
    pub(crate) fn event(&mut self, event: &Event, now: Instant) {
        match event {
            Event::LeaderChanged { leader: None, .. } => {
                self.leaderless_since.get_or_insert(now);
            }
            Event::LeaderChanged { leader: Some(_), .. } => {
                if let Some(since) = self.leaderless_since.take() {
                    self.leaderless.record(now.saturating_duration_since(since).as_secs_f64());
                }
            }
            _ => {}
        }
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
