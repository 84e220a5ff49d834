//! Property test of the core through its public API: random schedules of delivery, loss,
//! duplication, reordering, timer firings, late persistence, crashes, time going backwards and
//! messages from strangers never panic a node, never elect two leaders in one term (Raft §5.2,
//! Election Safety) and never lower a live node's term (Raft §5.1).

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use raft_heartbeat::core::{
    Config, Envelope, HardState, Heartbeat, HeartbeatResponse, Instant, LogPosition, Message, Node,
    NodeId, Role, Term, VoteKind, VoteRequest, VoteResponse,
};

#[derive(Clone, Debug)]
enum Op {
    /// Deliver the in-flight message at this index; keep a copy to duplicate it later.
    Deliver { index: usize, keep_copy: bool },
    /// Lose the in-flight message at this index.
    Drop { index: usize },
    /// Advance the clock and fire a node's timers.
    Tick { node: usize, advance_ms: u16 },
    /// Persist a node's pending hard state.
    Persist { node: usize },
    /// Crash a node and restart it at once from what it persisted.
    Crash { node: usize },
    /// Fire a node's timers with a time earlier than the clock.
    Backwards { node: usize, back_ms: u16 },
    /// A made-up message, from a stranger or (never as a granted vote) from a member.
    Forge { from: u64, to: usize, kind: u8, term: u64, flag: bool, round: u64 },
    /// The host moves a node's last log position forward.
    Append { node: usize },
    /// Deliver everything in flight, newest first, including what the deliveries send.
    Flood,
    /// From now on, persist hard state only on `Persist` (lazy) or after every step.
    Disk { lazy: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (any::<usize>(), any::<bool>()).prop_map(|(index, keep_copy)| Op::Deliver { index, keep_copy }),
        1 => any::<usize>().prop_map(|index| Op::Drop { index }),
        3 => (any::<usize>(), 0u16..400).prop_map(|(node, advance_ms)| Op::Tick { node, advance_ms }),
        3 => any::<usize>().prop_map(|node| Op::Persist { node }),
        1 => any::<usize>().prop_map(|node| Op::Crash { node }),
        1 => (any::<usize>(), 0u16..1000).prop_map(|(node, back_ms)| Op::Backwards { node, back_ms }),
        1 => (1u64..10, any::<usize>(), 0u8..4, 0u64..20, any::<bool>(), 0u64..50)
            .prop_map(|(from, to, kind, term, flag, round)| Op::Forge { from, to, kind, term, flag, round }),
        1 => any::<usize>().prop_map(|node| Op::Append { node }),
        1 => any::<bool>().prop_map(|lazy| Op::Disk { lazy }),
        2 => Just(Op::Flood),
    ]
}

struct World {
    n: usize,
    configs: Vec<Config>,
    nodes: Vec<Node>,
    stored: Vec<HardState>,
    now: Instant,
    in_flight: Vec<Envelope>,
    /// Every (term, leader) ever seen.
    leaders: BTreeMap<Term, NodeId>,
    /// Each node's term when last looked at, reset when it crashes.
    terms: Vec<Term>,
    lazy_disk: bool,
}

impl World {
    fn new(n: usize, pre_vote: bool, check_quorum: bool, sticky: bool, seed: u64) -> Self {
        let members: Vec<NodeId> = (1..=n as u64).map(NodeId).collect();
        let configs: Vec<Config> = members
            .iter()
            .map(|&id| {
                Config::new(id, members.clone()).with(|c| {
                    c.pre_vote = pre_vote;
                    c.check_quorum = check_quorum;
                    c.leader_stickiness = sticky;
                    c.leader_lease = sticky;
                    c.seed = seed;
                })
            })
            .collect();
        let nodes = configs.iter().map(|c| Node::new(c.clone(), Instant::ZERO).unwrap()).collect();
        World {
            n,
            configs,
            nodes,
            stored: vec![HardState::default(); n],
            now: Instant::ZERO,
            in_flight: Vec::new(),
            leaders: BTreeMap::new(),
            terms: vec![Term(0); n],
            lazy_disk: false,
        }
    }

    /// Takes a node's output; persists its hard state first unless the schedule delays it.
    fn collect(&mut self, i: usize) {
        if !self.lazy_disk {
            self.persist(i);
        }
        while let Some(env) = self.nodes[i].poll_transmit() {
            self.in_flight.push(env);
        }
        while self.nodes[i].poll_event().is_some() {}
    }

    fn persist(&mut self, i: usize) {
        if let Some(hs) = self.nodes[i].take_hard_state() {
            self.stored[i] = hs;
            self.nodes[i].hard_state_persisted(self.now, hs);
        }
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Deliver { index, keep_copy } if !self.in_flight.is_empty() => {
                let i = index % self.in_flight.len();
                let env = if keep_copy { self.in_flight[i] } else { self.in_flight.swap_remove(i) };
                let to = env.to.0 as usize - 1;
                self.nodes[to].handle_message(self.now, env).expect("honest traffic is accepted");
                self.collect(to);
            }
            Op::Drop { index } if !self.in_flight.is_empty() => {
                let i = index % self.in_flight.len();
                self.in_flight.swap_remove(i);
            }
            Op::Tick { node, advance_ms } => {
                let i = node % self.n;
                self.now = self.now + Duration::from_millis(advance_ms.into());
                let due = self.nodes[i].poll_timeout();
                self.nodes[i].handle_timeout(self.now.max(due));
                self.now = self.now.max(due);
                self.collect(i);
            }
            Op::Persist { node } => {
                let i = node % self.n;
                self.persist(i);
                self.collect(i);
            }
            Op::Disk { lazy } => self.lazy_disk = lazy,
            Op::Flood => {
                for _ in 0..200 {
                    let Some(env) = self.in_flight.pop() else {
                        break;
                    };
                    let to = env.to.0 as usize - 1;
                    self.nodes[to]
                        .handle_message(self.now, env)
                        .expect("honest traffic is accepted");
                    self.collect(to);
                    self.check()?;
                }
            }
            Op::Crash { node } => {
                let i = node % self.n;
                let restarted = Node::restart(
                    self.configs[i].clone(),
                    self.stored[i],
                    LogPosition::default(),
                    self.now,
                );
                self.nodes[i] = restarted.unwrap();
                self.terms[i] = self.stored[i].term;
            }
            Op::Backwards { node, back_ms } => {
                let i = node % self.n;
                self.nodes[i].handle_timeout(self.now - Duration::from_millis(back_ms.into()));
                self.collect(i);
            }
            Op::Forge { from, to, kind, term, flag, round } => {
                let term = Term(term);
                let message = match kind {
                    0 => Message::Heartbeat(Heartbeat {
                        term,
                        leader_last_log: LogPosition::default(),
                        leader_commit: round,
                        round,
                    }),
                    1 => {
                        Message::HeartbeatResponse(HeartbeatResponse { term, success: flag, round })
                    }
                    2 => Message::VoteRequest(VoteRequest {
                        term,
                        last_log: LogPosition::new(term, round),
                        kind: if flag { VoteKind::PreVote } else { VoteKind::Vote },
                    }),
                    // Members never forge granted votes: Raft does not tolerate lying members.
                    _ => Message::VoteResponse(VoteResponse {
                        term,
                        granted: from as usize > self.n,
                        kind: if flag { VoteKind::PreVote } else { VoteKind::Vote },
                    }),
                };
                let to = to % self.n;
                let env = Envelope { from: NodeId(from), to: NodeId(to as u64 + 1), message };
                let result = self.nodes[to].handle_message(self.now, env);
                assert_eq!(result.is_err(), from as usize > self.n || from == to as u64 + 1);
                self.collect(to);
            }
            Op::Append { node } => {
                let i = node % self.n;
                let term = self.nodes[i].term();
                self.nodes[i].set_last_log(LogPosition::new(term, self.now.as_nanos()));
            }
            Op::Deliver { .. } | Op::Drop { .. } => {}
        }
        self.check()
    }

    fn check(&mut self) -> Result<(), TestCaseError> {
        for (i, node) in self.nodes.iter().enumerate() {
            prop_assert!(node.term() >= self.terms[i], "node {} term went down", i + 1);
            self.terms[i] = node.term();
            if node.role() == Role::Leader {
                let first = *self.leaders.entry(node.term()).or_insert(node.id());
                prop_assert_eq!(first, node.id(), "two leaders in {}", node.term());
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_schedules_never_elect_two_leaders_in_a_term_nor_lower_a_term(
        n in 3usize..=5,
        flags in any::<(bool, bool, bool)>(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..600),
    ) {
        let (pre_vote, check_quorum, sticky) = flags;
        let mut world = World::new(n, pre_vote, check_quorum, sticky, seed);
        for op in ops {
            world.apply(op)?;
        }
    }
}

/// The property above must be able to fail: with a member lying about votes, two nodes win
/// the same term, and the checker sees it.
#[test]
fn the_election_safety_check_catches_a_forged_vote() {
    let mut world = World::new(3, false, true, true, 1);
    for i in 0..2 {
        let due = world.nodes[i].poll_timeout();
        world.now = world.now.max(due);
        world.nodes[i].handle_timeout(world.now);
        assert_eq!(world.nodes[i].term(), Term(1));
        let hs = world.nodes[i].take_hard_state().unwrap();
        world.nodes[i].hard_state_persisted(world.now, hs);
        let liar = NodeId(3);
        let vote = VoteResponse { term: Term(1), granted: true, kind: VoteKind::Vote };
        let env =
            Envelope { from: liar, to: NodeId(i as u64 + 1), message: Message::VoteResponse(vote) };
        world.nodes[i].handle_message(world.now, env).unwrap();
    }
    assert!(world.check().is_err());
}
