//! Drives five `core` nodes by hand under virtual time: the smallest complete driver loop.
//! Elects a leader, crashes it, and reports how long the cluster was without one.
//!
//! Run: `cargo run --example in_memory_cluster -- [SEED]`

use std::collections::BTreeMap;
use std::time::Duration;

use raft_heartbeat::core::{Config, Envelope, Event, Instant, Node, NodeId, Role};

/// One-way network latency of this toy network.
const LATENCY: Duration = Duration::from_millis(1);

struct Cluster {
    nodes: BTreeMap<NodeId, Node>,
    crashed: Option<NodeId>,
    /// Messages in flight, keyed by (delivery time, sequence) so ties are deterministic.
    in_flight: BTreeMap<(Instant, u64), Envelope>,
    seq: u64,
    now: Instant,
}

impl Cluster {
    fn new(seed: u64) -> Self {
        let members: Vec<NodeId> = (1..=5).map(NodeId).collect();
        let nodes = members
            .iter()
            .map(|&id| {
                let config = Config::new(id, members.clone()).with(|c| c.seed = seed);
                (id, Node::new(config, Instant::ZERO).expect("the defaults are valid"))
            })
            .collect();
        Cluster { nodes, crashed: None, in_flight: BTreeMap::new(), seq: 0, now: Instant::ZERO }
    }

    /// Advances to the next delivery or deadline and handles it; returns the events it caused.
    fn step(&mut self) -> Vec<(NodeId, Event)> {
        let crashed = self.crashed;
        let next_timer = self
            .nodes
            .iter()
            .filter(|(id, _)| Some(**id) != crashed)
            .map(|(id, n)| (n.poll_timeout(), *id))
            .min();
        let next_message = self.in_flight.first_key_value().map(|((t, _), e)| (*t, e.to));
        let (now, id, message) = match (next_timer, next_message) {
            (Some(timer), Some(msg)) if timer.0 < msg.0 => (timer.0, timer.1, None),
            (_, Some((t, to))) => (t, to, self.in_flight.pop_first().map(|(_, e)| e)),
            (Some((t, id)), None) => (t, id, None),
            (None, None) => unreachable!("live nodes always have a deadline"),
        };
        self.now = now;
        if Some(id) == crashed {
            return Vec::new();
        }
        let node = self.nodes.get_mut(&id).expect("known node");
        match message {
            Some(envelope) => node.handle_message(now, envelope).expect("members only"),
            None => node.handle_timeout(now),
        }
        // The driver contract: persist hard state, then send, then read events.
        if let Some(hard_state) = node.take_hard_state() {
            node.hard_state_persisted(now, hard_state);
        }
        while let Some(envelope) = node.poll_transmit() {
            self.seq += 1;
            self.in_flight.insert((now + LATENCY, self.seq), envelope);
        }
        std::iter::from_fn(|| node.poll_event()).map(|e| (id, e)).collect()
    }

    fn leader(&self) -> Option<NodeId> {
        self.nodes
            .iter()
            .filter(|(id, n)| Some(**id) != self.crashed && n.role() == Role::Leader)
            .map(|(id, _)| *id)
            .next()
    }
}

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    println!("seed {seed}: 5 nodes, heartbeat 50 ms, election timeout 150-300 ms, latency 1 ms");
    let mut cluster = Cluster::new(seed);
    while cluster.leader().is_none() {
        cluster.step();
    }
    let first = cluster.leader().expect("elected");
    println!("{}: {first} leads term {}", cluster.now, cluster.nodes[&first].term());

    // Let it lead for a while, then crash it.
    let crash_at = cluster.now + Duration::from_secs(1);
    while cluster.now < crash_at {
        cluster.step();
    }
    cluster.crashed = Some(first);
    println!("{}: {first} crashes", cluster.now);
    let mut detected = None;
    while cluster.leader().is_none() {
        for (id, event) in cluster.step() {
            if let (Event::ElectionTimeout { silence, .. }, None) = (event, detected) {
                detected = Some(cluster.now);
                println!("{}: {id} times out after {silence:?} of silence", cluster.now);
            }
        }
    }
    let second = cluster.leader().expect("elected");
    println!(
        "{}: {second} leads term {}; {:?} without a leader",
        cluster.now,
        cluster.nodes[&second].term(),
        cluster.now - crash_at
    );
}
