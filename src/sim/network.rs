//! The simulated network: directed links with latency, loss, duplication, cuts, holds, and a
//! bandwidth-limited queue shared with bulk transfers (head-of-line blocking).

use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::latency::{unit, Sampler};
use super::rng::{rng_for, Stream};
use super::scenario::{Action, Scenario};
use super::trace::DropReason;
use crate::core::{duration_nanos, Envelope, Instant, Message, NodeId};
use crate::link::Lanes;

/// What happens to one message sent on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped.
    Dropped(DropReason),
    /// Queued on a held link until released.
    Held,
    /// Arrives at the first instant, and a duplicate at the second if any.
    Arrives(Instant, Option<Instant>),
}

#[derive(Debug)]
struct Link {
    latency: Sampler,
    loss: f64,
    rng: ChaCha8Rng,
    /// When the link's shared queue is next free to start sending.
    free_at: Instant,
    cut: bool,
    held: Option<Vec<Packet>>,
    /// Latency added to every message while a spike lasts.
    extra: Duration,
}

/// A host's own message (`sim::Host`): opaque bytes from one host to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Payload {
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    pub(crate) bytes: Vec<u8>,
}

/// Anything a link carries: the protocol's messages and the hosts' payloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Packet {
    Protocol(Envelope),
    Payload(Payload),
}

/// Bytes of a payload's frame besides its own: two ids and a length, as the runtime's codec
/// frames it.
pub(crate) const PAYLOAD_FRAME: u64 = 16 + 4;

/// Most sent messages kept for stale deliveries: a uniform sample of everything sent.
const HISTORY: usize = 128;

/// A uniform sample of the messages sent so far (reservoir sampling), for stale deliveries.
#[derive(Debug)]
struct History {
    kept: Vec<Envelope>,
    seen: u64,
    rng: ChaCha8Rng,
}

/// Every directed link of a cluster of `n` nodes, ids `1..=n`.
#[derive(Debug)]
pub struct Network {
    n: u64,
    links: Vec<Link>,
    duplicate: f64,
    /// Bytes per nanosecond, if bandwidth is limited.
    bytes_per_ns: Option<f64>,
    lane: Lanes,
    /// Kept only when the scenario redelivers old messages.
    history: Option<History>,
}

/// The size of a message on the wire: a fixed-width encoding of its fields (two ids, a tag,
/// and the message's integers), as the runtime's codec sends it.
pub fn wire_size(env: &Envelope) -> u64 {
    let body = match env.message {
        Message::Heartbeat(_) => 8 + 16 + 8 + 8,
        Message::HeartbeatResponse(_) => 8 + 1 + 8,
        Message::VoteRequest(_) => 8 + 16 + 1,
        Message::VoteResponse(_) => 8 + 1 + 1,
        Message::TimeoutNow(_) => 8,
    };
    16 + 4 + body
}

impl Network {
    /// The network of `scenario`, its generators split from `trial_seed`.
    pub fn new(scenario: &Scenario, trial_seed: u64) -> Self {
        let n = scenario.cluster.nodes;
        let net = &scenario.network;
        let mut links = Vec::with_capacity((n * n) as usize);
        for from in 1..=n {
            for to in 1..=n {
                let spec = scenario.links.iter().find(|l| l.from == from && l.to == to);
                let latency =
                    spec.and_then(|s| s.latency.clone()).unwrap_or_else(|| net.latency.clone());
                links.push(Link {
                    latency: latency.sampler(),
                    loss: spec.and_then(|s| s.loss).unwrap_or(net.loss),
                    rng: rng_for(trial_seed, Stream::Link { from, to }),
                    free_at: Instant::ZERO,
                    cut: false,
                    held: None,
                    extra: Duration::ZERO,
                });
            }
        }
        Network {
            n,
            links,
            duplicate: net.duplicate,
            bytes_per_ns: net.bandwidth_mbps.map(|mbps| mbps * 1e6 / 8.0 / 1e9),
            lane: net.lane,
            history: scenario
                .timeline
                .iter()
                .any(|s| matches!(s.action, Action::Redeliver { .. }))
                .then(|| History {
                    kept: Vec::with_capacity(HISTORY),
                    seen: 0,
                    rng: rng_for(trial_seed, Stream::History),
                }),
        }
    }

    fn index(&self, from: NodeId, to: NodeId) -> usize {
        ((from.0 - 1) * self.n + (to.0 - 1)) as usize
    }

    fn link(&mut self, from: NodeId, to: NodeId) -> &mut Link {
        let i = self.index(from, to);
        &mut self.links[i]
    }

    /// Sends `env` of `bytes` at `now`.
    pub fn send(&mut self, now: Instant, env: &Envelope, bytes: u64) -> Fate {
        let duplicate = self.duplicate;
        let serialize = self.transmit_time(bytes);
        let dedicated = self.lane == Lanes::Dedicated;
        if let Some(h) = self.history.as_mut() {
            h.seen += 1;
            if h.kept.len() < HISTORY {
                h.kept.push(*env);
            } else {
                let j = (unit(&mut h.rng) * h.seen as f64) as usize;
                if let Some(slot) = h.kept.get_mut(j) {
                    *slot = *env;
                }
            }
        }
        let link = self.link(env.from, env.to);
        if link.cut {
            return Fate::Dropped(DropReason::Cut);
        }
        if let Some(queue) = link.held.as_mut() {
            queue.push(Packet::Protocol(*env));
            return Fate::Held;
        }
        if link.loss > 0.0 && unit(&mut link.rng) < link.loss {
            return Fate::Dropped(DropReason::Loss);
        }
        let departs = if dedicated {
            now + serialize
        } else {
            let start = now.max(link.free_at);
            link.free_at = start + serialize;
            link.free_at
        };
        // In nanoseconds, as `Instant + Duration` would saturate: this runs for every message.
        let base = departs.as_nanos().saturating_add(duration_nanos(link.extra));
        let arrive = |link: &mut Link| {
            Instant::from_nanos(base.saturating_add(link.latency.sample_nanos(&mut link.rng)))
        };
        let first = arrive(link);
        let second = (duplicate > 0.0 && unit(&mut link.rng) < duplicate).then(|| arrive(link));
        Fate::Arrives(first, second)
    }

    /// Sends a host's `payload` at `now`. It goes through the link's shared queue whatever the
    /// lanes: under [`Lanes::Dedicated`] only the protocol has a lane of its own, so a large
    /// payload delays the payloads behind it, never a heartbeat; under [`Lanes::Shared`] the
    /// heartbeats queue behind it too.
    pub(crate) fn send_payload(&mut self, now: Instant, payload: &Payload) -> Fate {
        let duplicate = self.duplicate;
        let serialize = self.transmit_time(PAYLOAD_FRAME + payload.bytes.len() as u64);
        let link = self.link(payload.from, payload.to);
        if link.cut {
            return Fate::Dropped(DropReason::Cut);
        }
        if let Some(queue) = link.held.as_mut() {
            queue.push(Packet::Payload(payload.clone()));
            return Fate::Held;
        }
        if link.loss > 0.0 && unit(&mut link.rng) < link.loss {
            return Fate::Dropped(DropReason::Loss);
        }
        let start = now.max(link.free_at);
        link.free_at = start + serialize;
        let departs = link.free_at + link.extra;
        let first = departs + link.latency.sample(&mut link.rng);
        let second = (duplicate > 0.0 && unit(&mut link.rng) < duplicate)
            .then(|| departs + link.latency.sample(&mut link.rng));
        Fate::Arrives(first, second)
    }

    /// A bulk payload of `bytes` from `from` to `to` occupies the link's shared queue.
    pub fn bulk(&mut self, now: Instant, from: NodeId, to: NodeId, bytes: u64) {
        let serialize = self.transmit_time(bytes);
        let link = self.link(from, to);
        if !link.cut {
            let start = now.max(link.free_at);
            link.free_at = start + serialize;
        }
    }

    fn transmit_time(&self, bytes: u64) -> Duration {
        match self.bytes_per_ns {
            Some(rate) => Duration::from_nanos((bytes as f64 / rate).ceil() as u64),
            None => Duration::ZERO,
        }
    }

    fn set_cut(&mut self, from: NodeId, to: NodeId, cut: bool) {
        if from != to {
            self.link(from, to).cut = cut;
        }
    }

    /// Partitions (`cut`) or repairs every link from a node of `from` to a node of `to`.
    fn set_cuts(&mut self, from: &[NodeId], to: &[NodeId], cut: bool) {
        for &x in from {
            for &y in to {
                self.set_cut(x, y, cut);
            }
        }
    }

    /// Partitions every link between the two sets, both ways.
    pub fn partition(&mut self, a: &[NodeId], b: &[NodeId]) {
        self.set_cuts(a, b, true);
        self.set_cuts(b, a, true);
    }

    /// Partitions every link from a node of `from` to a node of `to`, one way.
    pub fn partition_one_way(&mut self, from: &[NodeId], to: &[NodeId]) {
        self.set_cuts(from, to, true);
    }

    /// Repairs every link between the two sets, both ways (holds stay).
    pub fn repair(&mut self, a: &[NodeId], b: &[NodeId]) {
        self.set_cuts(a, b, false);
        self.set_cuts(b, a, false);
    }

    /// Repairs every link from a node of `from` to a node of `to`, one way (holds stay).
    pub fn repair_one_way(&mut self, from: &[NodeId], to: &[NodeId]) {
        self.set_cuts(from, to, false);
    }

    /// Repairs every partitioned link (holds stay).
    pub fn repair_all(&mut self) {
        for link in &mut self.links {
            link.cut = false;
        }
    }

    /// Starts queueing everything on `from → to`.
    pub fn hold(&mut self, from: NodeId, to: NodeId) {
        let link = self.link(from, to);
        link.held.get_or_insert_with(Vec::new);
    }

    /// Releases the held link `from → to`: each queued message gets a fresh latency from
    /// `now`.
    pub(crate) fn release(
        &mut self,
        now: Instant,
        from: NodeId,
        to: NodeId,
    ) -> Vec<(Instant, Packet)> {
        let link = self.link(from, to);
        let held = link.held.take().unwrap_or_default();
        held.into_iter()
            .map(|packet| (now + link.extra + link.latency.sample(&mut link.rng), packet))
            .collect()
    }

    /// Releases every held link.
    pub(crate) fn release_all(&mut self, now: Instant) -> Vec<(Instant, Packet)> {
        let mut out = Vec::new();
        for from in 1..=self.n {
            for to in 1..=self.n {
                if from != to {
                    out.extend(self.release(now, NodeId(from), NodeId(to)));
                }
            }
        }
        out
    }

    /// Sets the latency added to `from → to` (zero ends a spike).
    pub fn set_extra_delay(&mut self, from: NodeId, to: NodeId, extra: Duration) {
        if from != to {
            self.link(from, to).extra = extra;
        }
    }

    /// A copy of a message sent earlier, delivered again from `now` unless its link is cut or
    /// held: chosen at random among the kept messages of terms older than the newest kept (a
    /// copy of a current-term message is only a duplicate), or among all if every one is of the
    /// same term.
    pub fn redeliver(&mut self, now: Instant) -> Option<(Instant, Envelope)> {
        let h = self.history.as_mut()?;
        let newest = h.kept.iter().map(|e| e.message.term()).max()?;
        let old: Vec<&Envelope> = h.kept.iter().filter(|e| e.message.term() < newest).collect();
        let pool = if old.is_empty() { h.kept.iter().collect() } else { old };
        let i = ((unit(&mut h.rng) * pool.len() as f64) as usize).min(pool.len() - 1);
        let env = *pool[i];
        let link = self.link(env.from, env.to);
        if link.cut || link.held.is_some() {
            return None;
        }
        Some((now + link.extra + link.latency.sample(&mut link.rng), env))
    }

    /// Sets the one-way latency of every link (messages in flight keep theirs).
    pub fn set_latency(&mut self, latency: &super::latency::Latency) {
        for link in &mut self.links {
            link.latency = latency.sampler();
        }
    }

    /// Sets the loss probability of every link.
    pub fn set_loss(&mut self, loss: f64) {
        for link in &mut self.links {
            link.loss = loss;
        }
    }

    /// Whether `from → to` carries messages now (not cut, not held).
    pub fn open(&self, from: NodeId, to: NodeId) -> bool {
        let link = &self.links[self.index(from, to)];
        !link.cut && link.held.is_none()
    }

    /// Whether both directions between `a` and `b` carry messages.
    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        a == b || (self.open(a, b) && self.open(b, a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Heartbeat, LogPosition, Term};
    use crate::sim::scenario::Scenario;

    fn scenario(extra: &str) -> Scenario {
        Scenario::parse(&format!("name = \"t\"\nduration_ms = 10\n[cluster]\nnodes = 3\n{extra}"))
            .unwrap()
    }

    fn hb(from: u64, to: u64) -> Envelope {
        let hb = Heartbeat {
            term: Term(1),
            leader_last_log: LogPosition::default(),
            leader_commit: 0,
            round: 1,
        };
        Envelope { from: NodeId(from), to: NodeId(to), message: Message::Heartbeat(hb) }
    }

    #[test]
    fn partitioned_repaired_held_and_released_links_behave() {
        let mut net = Network::new(&scenario(""), 1);
        let t = Instant::from_millis(10);
        assert_eq!(net.send(t, &hb(1, 2), 60), Fate::Arrives(t + Duration::from_micros(500), None));
        net.partition(&[NodeId(1)], &[NodeId(2), NodeId(3)]);
        assert_eq!(net.send(t, &hb(2, 1), 60), Fate::Dropped(DropReason::Cut));
        assert!(!net.connected(NodeId(1), NodeId(3)));
        assert!(net.connected(NodeId(2), NodeId(3)));
        net.repair(&[NodeId(3)], &[NodeId(1)]);
        assert!(net.connected(NodeId(1), NodeId(3)));
        assert!(!net.open(NodeId(1), NodeId(2)));
        net.repair_one_way(&[NodeId(1)], &[NodeId(2)]);
        assert!(net.open(NodeId(1), NodeId(2)) && !net.open(NodeId(2), NodeId(1)));
        net.partition_one_way(&[NodeId(3)], &[NodeId(2)]);
        assert!(!net.open(NodeId(3), NodeId(2)) && net.open(NodeId(2), NodeId(3)));
        net.repair_all();
        assert!(net.connected(NodeId(2), NodeId(1)) && net.connected(NodeId(3), NodeId(2)));
        net.hold(NodeId(2), NodeId(3));
        assert_eq!(net.send(t, &hb(2, 3), 60), Fate::Held);
        assert!(!net.open(NodeId(2), NodeId(3)));
        let released = net.release_all(t + Duration::from_millis(5));
        assert_eq!(released, vec![(t + Duration::from_micros(5500), Packet::Protocol(hb(2, 3)))]);
        assert!(net.open(NodeId(2), NodeId(3)));
    }

    #[test]
    fn a_heartbeat_waits_behind_a_bulk_transfer_on_a_shared_lane_only() {
        let extra = "[network]\nbandwidth_mbps = 80\nlatency = { dist = \"constant\", ms = 0 }\n";
        for (lane, expected_ms) in [("shared", 100), ("dedicated", 0)] {
            let mut net = Network::new(&scenario(&format!("{extra}lane = \"{lane}\"\n")), 1);
            // 1 MB at 80 Mbit/s = 10 MB/s takes 100 ms.
            net.bulk(Instant::ZERO, NodeId(1), NodeId(2), 1_000_000);
            let Fate::Arrives(at, None) = net.send(Instant::ZERO, &hb(1, 2), 0) else { panic!() };
            assert_eq!(at, Instant::from_millis(expected_ms), "{lane}");
        }
    }

    #[test]
    fn a_payload_queues_behind_a_bulk_transfer_on_either_lane_and_a_heartbeat_only_on_a_shared_one()
    {
        let extra = "[network]\nbandwidth_mbps = 80\nlatency = { dist = \"constant\", ms = 0 }\n";
        for (lane, heartbeat_ms) in [("shared", 200), ("dedicated", 0)] {
            let mut net = Network::new(&scenario(&format!("{extra}lane = \"{lane}\"\n")), 1);
            net.bulk(Instant::ZERO, NodeId(1), NodeId(2), 1_000_000);
            let payload = Payload { from: NodeId(1), to: NodeId(2), bytes: vec![0; 999_980] };
            // Behind the bulk's 100 ms, its own 1 MB frame takes another 100 ms.
            let Fate::Arrives(at, None) = net.send_payload(Instant::ZERO, &payload) else {
                panic!()
            };
            assert_eq!(at, Instant::from_millis(200), "{lane}");
            let Fate::Arrives(at, None) = net.send(Instant::ZERO, &hb(1, 2), 0) else { panic!() };
            assert_eq!(at, Instant::from_millis(heartbeat_ms), "{lane}");
        }
        let mut net = Network::new(&scenario(""), 1);
        net.hold(NodeId(2), NodeId(1));
        let payload = Payload { from: NodeId(2), to: NodeId(1), bytes: vec![7] };
        assert_eq!(net.send_payload(Instant::ZERO, &payload), Fate::Held);
        let released = net.release_all(Instant::from_millis(1));
        assert_eq!(released[0].1, Packet::Payload(payload), "a hold keeps payloads too");
    }

    #[test]
    fn loss_and_duplication_happen_at_their_rates() {
        let mut net = Network::new(&scenario("[network]\nloss = 0.2\nduplicate = 0.1\n"), 9);
        let (mut lost, mut dup) = (0, 0);
        for _ in 0..10_000 {
            match net.send(Instant::ZERO, &hb(1, 2), 60) {
                Fate::Dropped(DropReason::Loss) => lost += 1,
                Fate::Arrives(_, Some(_)) => dup += 1,
                _ => {}
            }
        }
        assert!((1800..2200).contains(&lost), "{lost}");
        assert!((650..950).contains(&dup), "{dup}");
    }
}
