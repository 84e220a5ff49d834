//! Cost of the steady-state heartbeat path of the core, in a 5-node cluster:
//! - `follower_heartbeat`: a follower handles one heartbeat and its response is drained;
//! - `leader_round`: a leader fires its heartbeat timer, drains the four heartbeats, handles
//!   the four responses and drains its events.
//!
//! Besides criterion's timings, prints heap allocations per operation, counted by a counting
//! global allocator over 100,000 operations after a warm-up.
//!
//! Run: `cargo bench --bench heartbeat`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use raft_heartbeat::core::{
    Config, Envelope, Heartbeat, HeartbeatResponse, Instant, LogPosition, Message, Node, NodeId,
    Role, Term, VoteKind, VoteResponse,
};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MEMBERS: [NodeId; 5] = [NodeId(1), NodeId(2), NodeId(3), NodeId(4), NodeId(5)];

/// A follower (node 2) and a step function handling the next heartbeat from leader 1.
struct Follower {
    node: Node,
    now: Instant,
    round: u64,
}

impl Follower {
    fn new() -> Self {
        let node = Node::new(Config::new(NodeId(2), MEMBERS), Instant::ZERO).unwrap();
        Follower { node, now: Instant::ZERO, round: 0 }
    }

    fn step(&mut self) {
        self.now = self.now + Duration::from_millis(50);
        self.round += 1;
        let hb = Heartbeat {
            term: Term(1),
            leader_last_log: LogPosition::default(),
            leader_commit: 0,
            round: self.round,
        };
        let env = Envelope { from: NodeId(1), to: NodeId(2), message: Message::Heartbeat(hb) };
        self.node.handle_message(self.now, env).unwrap();
        if let Some(hs) = self.node.take_hard_state() {
            self.node.hard_state_persisted(self.now, hs);
        }
        while let Some(out) = self.node.poll_transmit() {
            black_box(out);
        }
        while let Some(e) = self.node.poll_event() {
            black_box(e);
        }
    }
}

/// Node 1 as leader of five, answering its own rounds on behalf of its followers.
struct Leader {
    node: Node,
    sent: Vec<Envelope>,
}

impl Leader {
    fn new() -> Self {
        let config = Config::new(NodeId(1), MEMBERS).with(|c| c.pre_vote = false);
        let mut node = Node::new(config, Instant::ZERO).unwrap();
        let t = node.poll_timeout();
        node.handle_timeout(t);
        let hs = node.take_hard_state().unwrap();
        node.hard_state_persisted(t, hs);
        for peer in [2, 3] {
            let vote = VoteResponse { term: Term(1), granted: true, kind: VoteKind::Vote };
            let env = Envelope {
                from: NodeId(peer),
                to: NodeId(1),
                message: Message::VoteResponse(vote),
            };
            node.handle_message(t, env).unwrap();
        }
        assert_eq!(node.role(), Role::Leader);
        let mut leader = Leader { node, sent: Vec::with_capacity(8) };
        leader.drain();
        leader
    }

    fn drain(&mut self) {
        self.sent.clear();
        while let Some(out) = self.node.poll_transmit() {
            self.sent.push(out);
        }
        while let Some(e) = self.node.poll_event() {
            black_box(e);
        }
    }

    fn round(&mut self) {
        let now = self.node.poll_timeout();
        self.node.handle_timeout(now);
        self.drain();
        let reply_at = now + Duration::from_micros(300);
        for i in 0..self.sent.len() {
            let Message::Heartbeat(hb) = self.sent[i].message else {
                continue;
            };
            let reply = HeartbeatResponse { term: hb.term, success: true, round: hb.round };
            let env = Envelope {
                from: self.sent[i].to,
                to: NodeId(1),
                message: Message::HeartbeatResponse(reply),
            };
            self.node.handle_message(reply_at, env).unwrap();
        }
        while let Some(e) = self.node.poll_event() {
            black_box(e);
        }
        assert_eq!(self.node.role(), Role::Leader);
    }
}

fn allocations_per_op(mut op: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        op();
    }
    let ops = 100_000;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..ops {
        op();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / ops as f64
}

fn bench(c: &mut Criterion) {
    let mut follower = Follower::new();
    let mut leader = Leader::new();
    println!("allocations per follower heartbeat: {}", allocations_per_op(|| follower.step()));
    println!("allocations per leader round of 5: {}", allocations_per_op(|| leader.round()));

    c.bench_function("follower_heartbeat", |b| b.iter(|| follower.step()));
    c.bench_function("leader_round_5_nodes", |b| b.iter(|| leader.round()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
