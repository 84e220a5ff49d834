//! Your host in the loop: the code that sits around each simulated [`Node`] (a replicated log,
//! a read path, whatever a consensus implementation puts there) runs under the simulator's
//! virtual time and faults, deterministic like the rest.
//!
//! A [`Host`] sees its node's events, sends payloads of its own over the simulated network
//! (the same latency, loss, partitions, holds, bandwidth and lanes as heartbeats, so a large
//! payload really does delay what queues behind it), keeps timers, and reports to its node
//! what a host reports: leader contact and acknowledgements of its own replication, its log's
//! last position and its commit index. Everything it gets comes from the simulator: the time on
//! its node's (drifting) clock, and a generator seeded from the trial's seed, the node and the
//! incarnation.
//!
//! A crash loses the host with its node; a restart builds a new one, which reads back what the
//! old one [`persist`](HostCtx::persist)ed. A paused node's host is paused with it.
//!
//! ```
//! use raft_heartbeat::core::{Event, NodeId};
//! use raft_heartbeat::sim::{Host, HostCtx};
//!
//! /// Counts the leaders its node followed, and tells its peers about each.
//! #[derive(Default)]
//! struct Watcher {
//!     leaders: u64,
//! }
//!
//! impl Host for Watcher {
//!     fn on_event(&mut self, ctx: &mut HostCtx<'_>, event: &Event) {
//!         if let Event::LeaderChanged { leader: Some(_), .. } = event {
//!             self.leaders += 1;
//!             for peer in 1..=3 {
//!                 if NodeId(peer) != ctx.id() {
//!                     ctx.send(NodeId(peer), self.leaders.to_le_bytes().to_vec());
//!                 }
//!             }
//!         }
//!     }
//! }
//! ```

use std::any::Any;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use crate::core::{
    Contact, Event, InputError, Instant, LogPosition, Node, NodeId, ReadTicket, Term, TransferError,
};

/// User code around one simulated node. Every method has a default that does nothing.
pub trait Host: Any {
    /// The node started, at the trial's start or after a crash: read back what an earlier
    /// incarnation [`persist`](HostCtx::persist)ed and tell the node where the log ends.
    fn on_start(&mut self, ctx: &mut HostCtx<'_>) {
        let _ = ctx;
    }

    /// The node reported `event` (in the order it reported them, after the input that caused
    /// them was handled).
    fn on_event(&mut self, ctx: &mut HostCtx<'_>, event: &Event) {
        let _ = (ctx, event);
    }

    /// A payload another host sent with [`HostCtx::send`] arrived.
    fn on_message(&mut self, ctx: &mut HostCtx<'_>, from: NodeId, payload: &[u8]) {
        let _ = (ctx, from, payload);
    }

    /// A timer set with [`HostCtx::set_timer`] fired.
    fn on_timer(&mut self, ctx: &mut HostCtx<'_>, token: u64) {
        let _ = (ctx, token);
    }
}

/// What the simulator does for a host; implemented by the engine.
pub(crate) trait HostWorld {
    fn host_id(&self, i: usize) -> NodeId;
    fn host_now(&self, i: usize) -> Instant;
    fn host_node(&self, i: usize) -> &Node;
    /// Runs `input` on node `i` at its clock's now, then drains what the node produced.
    fn host_input(&mut self, i: usize, input: &mut dyn FnMut(&mut Node, Instant));
    /// [`Node::leader_contact`] on node `i`, seen by the simulator's checks as a heartbeat.
    fn host_leader_contact(
        &mut self,
        i: usize,
        from: NodeId,
        term: Term,
        leader_commit: u64,
    ) -> Result<Contact, InputError>;
    /// [`Node::append_acknowledged`] on node `i`, seen by the simulator's checks as a
    /// heartbeat's answer.
    fn host_append_acknowledged(
        &mut self,
        i: usize,
        from: NodeId,
        term: Term,
        sent_at: Instant,
    ) -> Result<Contact, InputError>;
    fn host_set_last_log(&mut self, i: usize, last_log: LogPosition);
    fn host_send(&mut self, i: usize, to: NodeId, bytes: Vec<u8>);
    fn host_set_timer(&mut self, i: usize, after: Duration, token: u64);
    fn host_rng(&mut self, i: usize) -> &mut ChaCha8Rng;
    fn host_persist(&mut self, i: usize, bytes: Vec<u8>);
    fn host_persisted(&self, i: usize) -> Option<&[u8]>;
    fn host_members(&self) -> Vec<NodeId>;
    fn host_voters(&self) -> Vec<NodeId>;
    /// Runs `update` on node `i`, an input that carries no time, then drains the node.
    fn host_update(&mut self, i: usize, update: &mut dyn FnMut(&mut Node));
}

/// A host's handle on its node and the simulated world, for the length of one callback.
pub struct HostCtx<'w> {
    world: &'w mut (dyn HostWorld + 'w),
    node: usize,
}

impl<'w> HostCtx<'w> {
    pub(crate) fn new(world: &'w mut (dyn HostWorld + 'w), node: usize) -> Self {
        HostCtx { world, node }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.world.host_id(self.node)
    }

    /// Now, on this node's clock (which may drift): the time to give anything that asks.
    pub fn now(&self) -> Instant {
        self.world.host_now(self.node)
    }

    /// The node, to read: its role, term, leader, status, lease, read index.
    pub fn node(&self) -> &Node {
        self.world.host_node(self.node)
    }

    /// Every member of the cluster's latest membership (voters and learners), this one
    /// included, in id order.
    pub fn members(&self) -> Vec<NodeId> {
        self.world.host_members()
    }

    /// The voters of the latest membership, in id order: a majority of these commits.
    pub fn voters(&self) -> Vec<NodeId> {
        self.world.host_voters()
    }

    /// The host received its own AppendEntries from `from` in `term`: counts as a heartbeat
    /// ([`Node::leader_contact`]).
    pub fn leader_contact(
        &mut self,
        from: NodeId,
        term: Term,
        leader_commit: u64,
    ) -> Result<Contact, InputError> {
        self.world.host_leader_contact(self.node, from, term, leader_commit)
    }

    /// As leader, the host's own AppendEntries sent at `sent_at` (on this node's clock) was
    /// acknowledged by `from` in `term` ([`Node::append_acknowledged`]).
    pub fn append_acknowledged(
        &mut self,
        from: NodeId,
        term: Term,
        sent_at: Instant,
    ) -> Result<Contact, InputError> {
        self.world.host_append_acknowledged(self.node, from, term, sent_at)
    }

    /// The host's log now ends at `last_log` ([`Node::set_last_log`]); the simulator's
    /// election-restriction check compares it too, and a restart gives it back to the node.
    pub fn set_last_log(&mut self, last_log: LogPosition) {
        self.world.host_set_last_log(self.node, last_log);
    }

    /// The host's commit index, carried in the node's heartbeats while it leads.
    pub fn set_commit_index(&mut self, index: u64) {
        self.world.host_update(self.node, &mut |n| n.set_commit_index(index));
    }

    /// A read arrived: sends a heartbeat round now and returns the read's ticket
    /// ([`Node::heartbeat_now`]); `None` unless the node leads.
    pub fn heartbeat_now(&mut self) -> Option<ReadTicket> {
        let mut out = None;
        self.world.host_input(self.node, &mut |n, now| out = n.heartbeat_now(now));
        out
    }

    /// Starts handing leadership over to `target` ([`Node::transfer_leadership`], thesis
    /// §3.10); bring its log up to date, then call
    /// [`transfer_caught_up`](Self::transfer_caught_up).
    pub fn transfer_leadership(&mut self, target: NodeId) -> Result<(), TransferError> {
        let mut out = Ok(());
        self.world.host_input(self.node, &mut |n, now| out = n.transfer_leadership(now, target));
        out
    }

    /// The transfer's target has every entry: the node sends it `TimeoutNow` and gives up its
    /// lease ([`Node::transfer_caught_up`]).
    pub fn transfer_caught_up(&mut self) -> Result<(), TransferError> {
        let mut out = Ok(());
        self.world.host_input(self.node, &mut |n, now| out = n.transfer_caught_up(now));
        out
    }

    /// Sends `payload` to `to`'s host over the simulated network, on the payload lane. A
    /// payload to this node itself or to an id outside the cluster is dropped (and traced as
    /// such): there is no link to carry it. While the node's hard state (a term it just
    /// learned, a vote) is being written, payloads wait and leave once it is durable, as the
    /// core's own messages do: an answer must never outrun the term it was given in (Raft
    /// Figure 2, "persist before responding"); a crash meanwhile loses them.
    pub fn send(&mut self, to: NodeId, payload: Vec<u8>) {
        self.world.host_send(self.node, to, payload);
    }

    /// Calls [`Host::on_timer`] with `token` once `after` (at least a microsecond) has passed on
    /// this node's clock, as its rate is when the timer is set. Timers die with the
    /// incarnation that set them.
    pub fn set_timer(&mut self, after: Duration, token: u64) {
        self.world.host_set_timer(self.node, after, token);
    }

    /// This host's generator, seeded from the trial, the node and the incarnation.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        self.world.host_rng(self.node)
    }

    /// Makes `state` durable at once: a later incarnation reads it back with
    /// [`persisted`](Self::persisted). (The simulated disk's latency applies to the node's hard
    /// state, not to this.)
    pub fn persist(&mut self, state: Vec<u8>) {
        self.world.host_persist(self.node, state);
    }

    /// What this node's host last persisted, in any incarnation.
    pub fn persisted(&self) -> Option<&[u8]> {
        self.world.host_persisted(self.node)
    }
}
