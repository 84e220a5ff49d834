//! The embedder's hosts in the loop (`sim::Host`): built at every boot, fed their node's events
//! after each engine event, their payloads carried by the simulated network, their timers kept
//! in the engine's queue; and the embedder's invariants, checked after every event.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::{Ev, World};
use crate::core::{Contact, Event, InputError, Instant, LogPosition, Node, NodeId, Term};
use crate::sim::checkers::MAX_DISPATCHES;
use crate::sim::harness::{View, WorldView};
use crate::sim::host::{Host, HostCtx, HostWorld};
use crate::sim::network::{Fate, Payload, PAYLOAD_FRAME};
use crate::sim::rng::{rng_for, Stream};
use crate::sim::trace::{DropReason, Record};

/// A node's embedder host and what belongs to it.
#[derive(Default)]
pub(super) struct UserSlot {
    /// Whether the node has a host in this incarnation (it is out of its slot during its own
    /// callbacks, and still sees the events they cause).
    active: bool,
    host: Option<Box<dyn Host>>,
    /// Events of the node the host has not been shown yet.
    events: VecDeque<Event>,
    /// What the host persisted; survives crashes.
    durable: Option<Vec<u8>>,
    /// Payloads sent while the node's hard state was being written: they leave once it is
    /// durable, as the core's own messages do (Raft: persist before responding).
    held: Vec<(NodeId, Vec<u8>)>,
    rng: Option<ChaCha8Rng>,
}

impl fmt::Debug for UserSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserSlot")
            .field("host", &self.host.is_some())
            .field("events", &self.events)
            .field("durable", &self.durable.as_ref().map(Vec::len))
            .finish()
    }
}

impl UserSlot {
    /// The node reported `event`: the host will see it.
    pub(super) fn queue(&mut self, event: Event) {
        if self.active {
            self.events.push_back(event);
        }
    }

    /// The node crashed: its host and what it had not seen are gone; what it persisted stays.
    pub(super) fn crash(&mut self) {
        self.active = false;
        self.host = None;
        self.events.clear();
        self.held.clear();
        self.rng = None;
    }
}

impl World<'_> {
    /// Builds node `i`'s host for its new incarnation, if the run has hosts, and starts it.
    pub(super) fn start_user(&mut self, i: usize) {
        let Some(make) = self.harness.hosts.as_ref() else { return };
        let machine = &mut self.machines[i];
        let stream =
            Stream::Host { node: machine.id.0, incarnation: u64::from(machine.incarnation) };
        machine.user.rng = Some(rng_for(self.watch.result.seed, stream));
        machine.user.host = Some(make(machine.id));
        machine.user.active = true;
        machine.user.events.clear();
        self.with_user(i, |h, ctx| h.on_start(ctx));
    }

    /// Runs `f` on node `i`'s host with a context, if the node is up with a host.
    fn with_user(&mut self, i: usize, f: impl FnOnce(&mut dyn Host, &mut HostCtx<'_>)) {
        if self.machines[i].node.is_none() {
            return;
        }
        let Some(mut host) = self.machines[i].user.host.take() else { return };
        let incarnation = self.machines[i].incarnation;
        f(host.as_mut(), &mut HostCtx::new(self, i));
        let slot = &mut self.machines[i];
        if slot.node.is_some() && slot.incarnation == incarnation {
            slot.user.host = Some(host);
        }
    }

    /// Shows every host the events its node reported, in node order, until none is left.
    pub(super) fn dispatch_events(&mut self) {
        if self.harness.hosts.is_none() {
            return;
        }
        let mut dispatched = 0;
        loop {
            let mut any = false;
            for i in 0..self.machines.len() {
                while let Some(event) = self.machines[i].user.events.pop_front() {
                    any = true;
                    dispatched += 1;
                    if dispatched > MAX_DISPATCHES {
                        self.machines[i].user.events.clear();
                        self.checks.endless_dispatch(self.now);
                        return;
                    }
                    self.with_user(i, |h, ctx| h.on_event(ctx, &event));
                }
            }
            if !any {
                return;
            }
        }
    }

    /// A host's payload reached node `to`'s host (or waits for its pause, or is lost with it).
    pub(super) fn deliver_payload(&mut self, payload: Payload) {
        let to = (payload.to.0 - 1) as usize;
        let machine = &self.machines[to];
        if machine.node.is_none() || !machine.user.active {
            let (from, to) = (payload.from, payload.to);
            self.trace.record(self.now, Record::PayloadDrop { from, to, reason: DropReason::Down });
            return;
        }
        if let Some(until) = machine.pause_end(self.now) {
            self.push(until, Ev::DeliverPayload(payload));
            return;
        }
        let bytes = payload.bytes.len() as u64;
        let (from, to_id) = (payload.from, payload.to);
        self.trace.record(self.now, Record::PayloadDeliver { from, to: to_id, bytes });
        self.with_user(to, |h, ctx| h.on_message(ctx, from, &payload.bytes));
    }

    /// Node `i`'s host timer `token`, set in incarnation `incarnation`, is due.
    pub(super) fn on_host_timer(&mut self, i: usize, incarnation: u32, token: u64) {
        let machine = &self.machines[i];
        if machine.incarnation != incarnation || machine.node.is_none() {
            return;
        }
        if let Some(until) = machine.pause_end(self.now) {
            self.push(until, Ev::HostTimer { node: i, incarnation, token });
            return;
        }
        self.trace.record(self.now, Record::HostTimer { node: machine.id, token });
        self.with_user(i, |h, ctx| h.on_timer(ctx, token));
    }

    /// The embedder's invariants, after every event; the first broken one is the violation.
    pub(super) fn check_user_invariants(&mut self) {
        if !self.checks.wants_user_view() {
            return;
        }
        let mut invariants = self.checks.take_user();
        let checked = invariants.check(self.now, &View::new(&*self));
        self.checks.user_checked(invariants, checked);
    }
}

impl HostWorld for World<'_> {
    fn host_id(&self, i: usize) -> NodeId {
        self.machines[i].id
    }

    fn host_now(&self, i: usize) -> Instant {
        self.local(i)
    }

    fn host_node(&self, i: usize) -> &Node {
        self.machines[i].node.as_ref().expect("a host runs only while its node is up")
    }

    fn host_input(&mut self, i: usize, input: &mut dyn FnMut(&mut Node, Instant)) {
        let local = self.input_local(i);
        if let Some(node) = self.machines[i].node.as_mut() {
            input(node, local);
        }
        self.flush(i);
    }

    fn host_update(&mut self, i: usize, update: &mut dyn FnMut(&mut Node)) {
        if let Some(node) = self.machines[i].node.as_mut() {
            update(node);
        }
        self.flush(i);
    }

    fn host_leader_contact(
        &mut self,
        i: usize,
        from: NodeId,
        term: Term,
        leader_commit: u64,
    ) -> Result<Contact, InputError> {
        let local = self.input_local(i);
        let node = self.machines[i].node.as_mut().expect("a host runs only while its node is up");
        let outcome = node.leader_contact(local, from, term, leader_commit);
        if outcome == Ok(Contact::Counted) {
            self.leader_contact_counted(i, from, term, local);
        }
        self.flush(i);
        outcome
    }

    fn host_append_acknowledged(
        &mut self,
        i: usize,
        from: NodeId,
        term: Term,
        sent_at: Instant,
    ) -> Result<Contact, InputError> {
        let local = self.input_local(i);
        self.checks.answered(i, from, term, local);
        let node = self.machines[i].node.as_mut().expect("a host runs only while its node is up");
        let outcome = node.append_acknowledged(local, from, term, sent_at);
        self.flush(i);
        outcome
    }

    fn host_set_last_log(&mut self, i: usize, last_log: LogPosition) {
        let machine = &mut self.machines[i];
        machine.log = last_log;
        if let Some(node) = machine.node.as_mut() {
            node.set_last_log(last_log);
        }
    }

    fn host_send(&mut self, i: usize, to: NodeId, bytes: Vec<u8>) {
        let machine = &mut self.machines[i];
        if machine.written != machine.stored {
            machine.user.held.push((to, bytes));
            return;
        }
        self.send_payload(i, to, bytes);
    }

    fn host_set_timer(&mut self, i: usize, after: Duration, token: u64) {
        // At least a microsecond: a timer that fires at once, again and again, would hold
        // virtual time still.
        let after = after.max(Duration::from_micros(1));
        let machine = &self.machines[i];
        let due = machine.clock.real(machine.clock.local(self.now) + after).max(self.now);
        let incarnation = machine.incarnation;
        self.push(due, Ev::HostTimer { node: i, incarnation, token });
    }

    fn host_rng(&mut self, i: usize) -> &mut ChaCha8Rng {
        self.machines[i].user.rng.as_mut().expect("a host's generator is made with it")
    }

    fn host_persist(&mut self, i: usize, bytes: Vec<u8>) {
        self.machines[i].user.durable = Some(bytes);
    }

    fn host_persisted(&self, i: usize) -> Option<&[u8]> {
        self.machines[i].user.durable.as_deref()
    }

    fn host_members(&self) -> Vec<NodeId> {
        let m = self.membership();
        let mut ids: Vec<NodeId> = m.voters.iter().chain(&m.learners).copied().collect();
        ids.sort_unstable();
        ids
    }

    fn host_voters(&self) -> Vec<NodeId> {
        let mut ids = self.membership().voters.clone();
        ids.sort_unstable();
        ids
    }
}

impl World<'_> {
    /// Node `i`'s hard state is durable: the payloads its host sent meanwhile leave now.
    pub(super) fn release_held_sends(&mut self, i: usize) {
        let machine = &mut self.machines[i];
        if machine.written != machine.stored || machine.user.held.is_empty() {
            return;
        }
        for (to, bytes) in std::mem::take(&mut machine.user.held) {
            self.send_payload(i, to, bytes);
        }
    }

    fn send_payload(&mut self, i: usize, to: NodeId, bytes: Vec<u8>) {
        let from = self.machines[i].id;
        if to == from || !(1..=self.machines.len() as u64).contains(&to.0) {
            // No link leads there: dropped where the trace shows it.
            let reason = DropReason::Stranger;
            self.trace.record(self.now, Record::PayloadDrop { from, to, reason });
            return;
        }
        let size = PAYLOAD_FRAME + bytes.len() as u64;
        self.watch.result.messages += 1;
        self.watch.result.bytes += size;
        let (len, digest) = (bytes.len() as u64, xxhash_rust::xxh3::xxh3_64(&bytes));
        self.trace.record(self.now, Record::PayloadSend { from, to, bytes: len, digest });
        let payload = Payload { from, to, bytes };
        match self.net.send_payload(self.now, &payload) {
            Fate::Dropped(reason) => {
                self.trace.record(self.now, Record::PayloadDrop { from, to, reason });
            }
            Fate::Held => {}
            Fate::Arrives(first, second) => {
                if let Some(at) = second {
                    self.push(at, Ev::DeliverPayload(payload.clone()));
                }
                self.push(first, Ev::DeliverPayload(payload));
            }
        }
    }
}

impl WorldView for World<'_> {
    fn view_now(&self) -> Instant {
        self.now
    }

    fn view_trial(&self) -> u64 {
        self.watch.result.trial
    }

    fn view_ids(&self) -> Vec<NodeId> {
        self.machines.iter().map(|h| h.id).collect()
    }

    fn view_node(&self, id: NodeId) -> Option<&Node> {
        self.slot(id)?.node.as_ref()
    }

    fn view_host(&self, id: NodeId) -> Option<&dyn Host> {
        let slot = self.slot(id)?;
        slot.node.as_ref()?;
        slot.user.host.as_deref()
    }

    fn view_paused(&self, id: NodeId) -> bool {
        self.slot(id).is_some_and(|h| h.paused(self.now))
    }

    fn view_incarnation(&self, id: NodeId) -> u32 {
        self.slot(id).map_or(0, |h| h.incarnation)
    }
}

impl World<'_> {
    fn slot(&self, id: NodeId) -> Option<&super::machine::Machine> {
        self.machines.get(usize::try_from(id.0).ok()?.checked_sub(1)?)
    }
}
