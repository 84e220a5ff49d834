//! A tiny virtual-time cluster for the core's unit tests: messages take a fixed latency, time
//! jumps to the next delivery or deadline, hard state is persisted at once. The full
//! simulator lives in `sim`; this harness only has to be obviously right.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::core::{
    Config, Envelope, Event, HardState, Heartbeat, Instant, LogPosition, Message, Node, NodeId,
    Role, Term, VoteKind,
};

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

pub(crate) fn at(n: u64) -> Instant {
    Instant::from_millis(n)
}

/// A message from `from` to `to`.
pub(crate) fn env(from: u64, to: u64, message: Message) -> Envelope {
    Envelope { from: NodeId(from), to: NodeId(to), message }
}

/// An empty heartbeat of `term`, round 1, from a leader with an empty log.
pub(crate) fn heartbeat(term: u64) -> Message {
    Message::Heartbeat(Heartbeat {
        term: Term(term),
        leader_last_log: LogPosition::default(),
        leader_commit: 0,
        round: 1,
    })
}

/// Config for node `id` of the cluster `1..=n`, with defaults and the given seed.
pub(crate) fn config(id: u64, n: u64) -> Config {
    Config { seed: 7, ..Config::new(NodeId(id), (1..=n).map(NodeId)) }
}

/// Persists any hard state at once, then returns every message the node wants to send.
pub(crate) fn outbox(node: &mut Node, now: Instant) -> Vec<Envelope> {
    if let Some(hs) = node.take_hard_state() {
        node.hard_state_persisted(now, hs);
    }
    std::iter::from_fn(|| node.poll_transmit()).collect()
}

pub(crate) fn events(node: &mut Node) -> Vec<Event> {
    std::iter::from_fn(|| node.poll_event()).collect()
}

pub(crate) struct Cluster {
    pub(crate) nodes: BTreeMap<NodeId, Node>,
    pub(crate) now: Instant,
    pub(crate) latency: Duration,
    /// Directed links that drop everything.
    pub(crate) cut: BTreeSet<(NodeId, NodeId)>,
    pub(crate) down: BTreeSet<NodeId>,
    pub(crate) storage: BTreeMap<NodeId, HardState>,
    pub(crate) log: Vec<(Instant, NodeId, Event)>,
    pub(crate) sent: Vec<(Instant, Envelope)>,
    configs: BTreeMap<NodeId, Config>,
    in_flight: BTreeMap<(Instant, u64), Envelope>,
    seq: u64,
}

impl Cluster {
    /// A cluster of `n` nodes with default configs changed by `tweak`, 1 ms one-way latency.
    pub(crate) fn new(n: u64, tweak: impl Fn(&mut Config)) -> Self {
        let mut cluster = Cluster {
            nodes: BTreeMap::new(),
            now: Instant::ZERO,
            latency: ms(1),
            cut: BTreeSet::new(),
            down: BTreeSet::new(),
            storage: BTreeMap::new(),
            log: Vec::new(),
            sent: Vec::new(),
            configs: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            seq: 0,
        };
        for id in 1..=n {
            let mut c = config(id, n);
            tweak(&mut c);
            cluster.configs.insert(NodeId(id), c.clone());
            cluster.nodes.insert(NodeId(id), Node::new(c, Instant::ZERO).expect("valid config"));
        }
        cluster
    }

    pub(crate) fn node(&self, id: u64) -> &Node {
        &self.nodes[&NodeId(id)]
    }

    pub(crate) fn node_mut(&mut self, id: u64) -> &mut Node {
        self.nodes.get_mut(&NodeId(id)).expect("node exists")
    }

    /// Cuts both directions between `id` and every other node.
    pub(crate) fn isolate(&mut self, id: u64) {
        for &other in self.nodes.keys() {
            if other != NodeId(id) {
                self.cut.insert((NodeId(id), other));
                self.cut.insert((other, NodeId(id)));
            }
        }
    }

    pub(crate) fn heal(&mut self) {
        self.cut.clear();
    }

    pub(crate) fn crash(&mut self, id: u64) {
        self.down.insert(NodeId(id));
    }

    /// Brings a crashed node back with the hard state it persisted.
    pub(crate) fn restart(&mut self, id: u64) {
        let id = NodeId(id);
        self.down.remove(&id);
        let hs = self.storage.get(&id).copied().unwrap_or_default();
        let node = Node::restart(self.configs[&id].clone(), hs, LogPosition::default(), self.now)
            .expect("valid config");
        self.nodes.insert(id, node);
    }

    /// The nodes, alive, that think they lead, with their terms.
    pub(crate) fn leaders(&self) -> Vec<(NodeId, Term)> {
        self.nodes
            .iter()
            .filter(|(id, n)| !self.down.contains(id) && n.role() == Role::Leader)
            .map(|(id, n)| (*id, n.term()))
            .collect()
    }

    /// The single live leader of the highest term, if any.
    pub(crate) fn leader(&self) -> Option<NodeId> {
        self.leaders().into_iter().max_by_key(|(_, t)| *t).map(|(id, _)| id)
    }

    /// Runs until `end`, returning early if `stop` holds after a step.
    pub(crate) fn run_until(&mut self, end: Instant, stop: impl Fn(&Cluster) -> bool) -> bool {
        loop {
            if stop(self) {
                return true;
            }
            let next_msg = self.in_flight.keys().next().map(|(t, _)| *t);
            let next_timer = self
                .nodes
                .iter()
                .filter(|(id, _)| !self.down.contains(id))
                .map(|(_, n)| n.poll_timeout())
                .min();
            let Some(next) = [next_msg, next_timer].into_iter().flatten().min() else {
                return false;
            };
            if next > end {
                self.now = end;
                return stop(self);
            }
            self.now = self.now.max(next);
            if next_msg == Some(next) {
                let (_, env) = self.in_flight.pop_first().expect("a message is due");
                if !self.down.contains(&env.to) {
                    let now = self.now;
                    let _ = self.node_mut(env.to.0).handle_message(now, env);
                    self.flush(env.to);
                }
            } else {
                let due: Vec<NodeId> = self
                    .nodes
                    .iter()
                    .filter(|(id, n)| !self.down.contains(id) && n.poll_timeout() == next)
                    .map(|(id, _)| *id)
                    .collect();
                for id in due {
                    let now = self.now;
                    self.node_mut(id.0).handle_timeout(now);
                    self.flush(id);
                }
            }
        }
    }

    /// Runs for `d` of virtual time.
    pub(crate) fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_until(end, |_| false);
    }

    /// Runs until some node leads, at most `limit`; returns it.
    pub(crate) fn elect(&mut self, limit: Duration) -> Option<NodeId> {
        let end = self.now + limit;
        self.run_until(end, |c| c.leader().is_some());
        self.leader()
    }

    /// Runs `command` on node `id` at the current time, then drains its outputs.
    pub(crate) fn command<R>(
        &mut self,
        id: u64,
        command: impl FnOnce(&mut Node, Instant) -> R,
    ) -> R {
        let now = self.now;
        let r = command(self.node_mut(id), now);
        self.flush(NodeId(id));
        r
    }

    /// Persists hard state, queues outgoing messages, records events of node `id`.
    fn flush(&mut self, id: NodeId) {
        let now = self.now;
        let node = self.nodes.get_mut(&id).expect("node exists");
        if let Some(hs) = node.take_hard_state() {
            self.storage.insert(id, hs);
            node.hard_state_persisted(now, hs);
        }
        while let Some(env) = node.poll_transmit() {
            self.sent.push((now, env));
            if !self.cut.contains(&(env.from, env.to)) {
                self.seq += 1;
                self.in_flight.insert((now + self.latency, self.seq), env);
            }
        }
        while let Some(e) = node.poll_event() {
            self.log.push((now, id, e));
        }
    }

    /// Messages of one kind sent so far, by a predicate on the message.
    pub(crate) fn count_sent(&self, pred: impl Fn(&Envelope) -> bool) -> usize {
        self.sent.iter().filter(|(_, e)| pred(e)).count()
    }

    /// Events of node `id` so far.
    pub(crate) fn events_of(&self, id: u64) -> impl Iterator<Item = &Event> {
        self.log.iter().filter(move |(_, n, _)| *n == NodeId(id)).map(|(_, _, e)| e)
    }
}

/// The vote kind named by a test's `pre_vote` flag.
pub(crate) fn kind(pre_vote: bool) -> VoteKind {
    if pre_vote {
        VoteKind::PreVote
    } else {
        VoteKind::Vote
    }
}

pub(crate) fn is_vote_request(e: &Envelope) -> bool {
    matches!(e.message, Message::VoteRequest(r) if r.kind == VoteKind::Vote)
}
