//! Applying faults: a timeline step's action resolved to nodes (by id or by role, drawn from
//! the timeline's generator) and applied to machines and links; crashes armed for a later point
//! (within a heartbeat, during a write, after an election) and triggered when a node reaches it.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::{Ev, World};
use crate::core::{Instant, Node, NodeId, Role};
use crate::sim::latency::unit;
use crate::sim::network::{Network, Packet};
use crate::sim::scenario::{ms, Action, CrashPoint, RoleTarget, Scenario, Side, Step, Target};
use crate::sim::trace::{Fault, Record};

/// The faults the trial has yet to apply, and the generator that picks their nodes.
#[derive(Debug)]
pub(super) struct Faults {
    /// The timeline's generator: which node a role names when several fit, a crash's moment
    /// in its window, a membership change's spread.
    pub(super) rng: ChaCha8Rng,
    /// Crashes waiting for their moment.
    pub(super) armed: Vec<ArmedCrash>,
    /// Crashes whose window closed while they were queued to happen.
    pub(super) disarmed: Vec<u64>,
    pub(super) next_arm: u64,
    /// Timeline steps and scheduled crashes still in the queue.
    pub(super) pending: usize,
}

impl Faults {
    pub(super) fn new(rng: ChaCha8Rng) -> Self {
        Faults { rng, armed: Vec::new(), disarmed: Vec::new(), next_arm: 0, pending: 0 }
    }
}

/// A crash waiting for its moment (see [`CrashPoint`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct ArmedCrash {
    id: u64,
    /// The node to crash, or `None` for whichever node reaches the point first.
    node: Option<usize>,
    point: CrashPoint,
    restart_after: Option<Duration>,
}

impl World<'_> {
    fn resolve(&mut self, target: Target) -> Option<usize> {
        match target {
            Target::Id(id) => Some((id - 1) as usize),
            Target::Role(RoleTarget::Leader) => self.current_leader(),
            Target::Role(RoleTarget::Follower) => {
                let leader = self.current_leader();
                let members = self.membership();
                let followers: Vec<usize> = (0..self.machines.len())
                    .filter(|&i| Some(i) != leader && self.machines[i].node.is_some())
                    .filter(|&i| members.contains(self.machines[i].id))
                    .collect();
                self.pick(&followers)
            }
            Target::Role(RoleTarget::Candidate) => {
                let campaigning: Vec<usize> = (0..self.machines.len())
                    .filter(|&i| {
                        self.machines[i].live().is_some_and(|n| {
                            matches!(n.role(), Role::PreCandidate | Role::Candidate)
                        })
                    })
                    .collect();
                if campaigning.is_empty() {
                    self.resolve(Target::Role(RoleTarget::Random))
                } else {
                    self.pick(&campaigning)
                }
            }
            Target::Role(RoleTarget::Deposed) => {
                let term = |i: usize| self.machines[i].live().map(Node::term);
                let current = self.current_leader().and_then(term);
                let deposed: Vec<usize> = (0..self.machines.len())
                    .filter(|&i| self.machines[i].live().is_some_and(|n| n.role() == Role::Leader))
                    .filter(|&i| term(i) < current)
                    .collect();
                self.pick(&deposed)
            }
            Target::Role(RoleTarget::Random) => {
                let live: Vec<usize> =
                    (0..self.machines.len()).filter(|&i| self.machines[i].node.is_some()).collect();
                self.pick(&live)
            }
        }
    }

    /// Applies `fault` (a partition or repair of the network's) to the links between the nodes
    /// `from` and `to` name, resolved in that order.
    fn links(
        &mut self,
        from: &[Target],
        to: &[Target],
        fault: fn(&mut Network, &[NodeId], &[NodeId]),
    ) {
        let from: Vec<usize> = from.iter().filter_map(|&t| self.resolve(t)).collect();
        let to: Vec<usize> = to.iter().filter_map(|&t| self.resolve(t)).collect();
        let (from, to) = (self.ids(&from), self.ids(&to));
        fault(&mut self.net, &from, &to);
        self.network_fault();
    }

    /// Queues the delivery of messages a hold released.
    fn deliver_released(&mut self, released: Vec<(Instant, Packet)>) {
        for (at, packet) in released {
            match packet {
                Packet::Protocol(env) => self.push(at, Ev::Deliver(env)),
                Packet::Payload(payload) => self.push(at, Ev::DeliverPayload(payload)),
            }
        }
        self.network_fault();
    }

    fn pick(&mut self, among: &[usize]) -> Option<usize> {
        if among.is_empty() {
            return None;
        }
        let i = (unit(&mut self.faults.rng) * among.len() as f64) as usize;
        Some(among[i.min(among.len() - 1)])
    }

    /// The live leader of the highest term.
    pub(super) fn current_leader(&self) -> Option<usize> {
        (0..self.machines.len())
            .filter(|&i| self.machines[i].live().is_some_and(|n| n.role() == Role::Leader))
            .max_by_key(|&i| self.machines[i].live().map(Node::term))
    }

    fn ids(&self, idx: &[usize]) -> Vec<NodeId> {
        idx.iter().map(|&i| self.machines[i].id).collect()
    }

    fn network_fault(&mut self) {
        self.trace.record(self.now, Record::Fault { node: None, fault: Fault::Network });
    }

    /// Crashes node `i`, which reached `point`, if a crash waits for that: at a uniformly random
    /// instant of the next `span`.
    pub(super) fn trigger(&mut self, i: usize, point: CrashPoint, span: Duration) {
        let Some(k) = self
            .faults
            .armed
            .iter()
            .position(|a| a.point == point && a.node.is_none_or(|n| n == i))
        else {
            return;
        };
        let armed = self.faults.armed.remove(k);
        self.faults.pending -= 1;
        let offset = Duration::from_secs_f64(span.as_secs_f64() * unit(&mut self.faults.rng));
        let again = armed.node.is_none().then_some((armed.id, armed.point));
        let restart_after = armed.restart_after;
        self.push(self.now + offset, Ev::Crash { node: i, restart_after, again });
    }

    /// An armed crash reached its moment: node `i` crashes, and restarts `restart_after` later.
    /// A crash meant for the leader waits for the next leader's moment instead if node `i`
    /// was deposed in between (the Raft paper's Figure 16 crashes a leader, not a follower).
    pub(super) fn on_crash(
        &mut self,
        i: usize,
        restart_after: Option<Duration>,
        again: Option<(u64, CrashPoint)>,
    ) {
        if let Some((id, point)) = again {
            let deposed = self.machines[i].live().is_some_and(|n| n.role() != Role::Leader);
            if deposed && self.faults.disarmed.contains(&id) {
                return;
            }
            if deposed {
                self.faults.armed.push(ArmedCrash { id, node: None, point, restart_after });
                self.faults.pending += 1;
                return;
            }
        }
        self.crash(i);
        if let Some(after) = restart_after {
            self.push(self.now + after, Ev::Restart { node: i });
        }
    }

    /// The crash armed as `id` waited its whole window: it will not happen.
    pub(super) fn disarm(&mut self, id: u64) {
        if let Some(k) = self.faults.armed.iter().position(|a| a.id == id) {
            self.faults.armed.remove(k);
            self.faults.pending -= 1;
        } else {
            self.faults.disarmed.push(id);
        }
    }

    /// One bulk transfer from `from` to every peer, and the next one queued if due before
    /// `until`. Resolved at every transfer: the leader's stream moves with the leadership.
    pub(super) fn on_bulk(&mut self, from: Target, bytes: u64, every: Duration, until: Instant) {
        if let Some(sender) = self.resolve(from).filter(|&f| self.machines[f].node.is_some()) {
            for to in 0..self.machines.len() {
                if to != sender {
                    self.net.bulk(self.now, self.machines[sender].id, self.machines[to].id, bytes);
                }
            }
        }
        if self.now + every < until {
            self.push(self.now + every, Ev::Bulk { from, bytes, every, until });
        }
    }

    /// Applies a timeline step's action.
    pub(super) fn apply(&mut self, action: Action) {
        match action {
            Action::Crash { node, at, window_ms, restart_after_ms } => {
                let restart_after = restart_after_ms.map(ms);
                let any = node == Target::Role(RoleTarget::Leader) && at.follows_leadership();
                let who = if any {
                    None
                } else {
                    let Some(i) = self.resolve(node) else { return };
                    Some(i)
                };
                match (at, who) {
                    (CrashPoint::Now, Some(i)) => self.on_crash(i, restart_after, None),
                    (CrashPoint::Now, None)
                    | (
                        CrashPoint::WithinHeartbeat
                        | CrashPoint::DuringWrite
                        | CrashPoint::AfterElection,
                        _,
                    ) => {
                        self.faults.next_arm += 1;
                        let id = self.faults.next_arm;
                        self.faults.armed.push(ArmedCrash {
                            id,
                            node: who,
                            point: at,
                            restart_after,
                        });
                        self.faults.pending += 1;
                        if let Some(window) = window_ms {
                            self.push(self.now + ms(window), Ev::Disarm { id });
                        }
                    }
                }
            }
            Action::Restart { node } => {
                if let Some(i) = self.resolve(node) {
                    self.restart(i);
                }
            }
            Action::Pause { node, for_ms } => {
                let Some(i) = self.resolve(node) else { return };
                if self.machines[i].node.is_none() {
                    return;
                }
                let d = ms(for_ms);
                let until = self.now + d;
                let machine = &mut self.machines[i];
                let start = machine.paused_until.unwrap_or(self.now);
                machine.paused_until = Some(until.max(start));
                let (id, incarnation) = (machine.id, machine.incarnation);
                let slack = self.detection_slack(&self.machines[i]);
                self.checks.timer_paused(i, until + slack);
                self.trace.record(
                    self.now,
                    Record::Fault {
                        node: Some(id),
                        fault: Fault::Pause { for_ns: d.as_nanos() as u64 },
                    },
                );
                self.push(until, Ev::Resume { node: i, incarnation });
            }
            Action::Isolate { node } => {
                let Some(i) = self.resolve(node) else { return };
                let others: Vec<usize> = (0..self.machines.len()).filter(|&j| j != i).collect();
                let (a, b) = (self.ids(&[i]), self.ids(&others));
                self.net.partition(&a, &b);
                self.network_fault();
            }
            Action::Split { leader_in } => {
                let n = self.machines.len();
                let leader = self.current_leader().unwrap_or(0);
                let minority_size = (n - 1) / 2;
                let mut order: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
                // Deterministic shuffle of the others.
                for k in (1..order.len()).rev() {
                    let j = (unit(&mut self.faults.rng) * (k + 1) as f64) as usize;
                    order.swap(k, j.min(k));
                }
                let (mut side_a, side_b): (Vec<usize>, Vec<usize>) = match leader_in {
                    Side::Minority => (
                        order[..minority_size.saturating_sub(1)].to_vec(),
                        order[minority_size.saturating_sub(1)..].to_vec(),
                    ),
                    Side::Majority => (
                        order[..n - minority_size - 1].to_vec(),
                        order[n - minority_size - 1..].to_vec(),
                    ),
                };
                side_a.push(leader);
                let (a, b) = (self.ids(&side_a), self.ids(&side_b));
                self.net.partition(&a, &b);
                self.network_fault();
            }
            Action::Partition { groups } => {
                for (k, a) in groups.iter().enumerate() {
                    for b in &groups[k + 1..] {
                        let a: Vec<NodeId> = a.iter().map(|&x| NodeId(x)).collect();
                        let b: Vec<NodeId> = b.iter().map(|&x| NodeId(x)).collect();
                        self.net.partition(&a, &b);
                    }
                }
                self.network_fault();
            }
            Action::OneWayPartition { from, to } => {
                self.links(&from, &to, Network::partition_one_way);
            }
            Action::Repair { from, to } => self.links(&from, &to, Network::repair),
            Action::OneWayRepair { from, to } => self.links(&from, &to, Network::repair_one_way),
            Action::Bridge { node } => {
                let Some(i) = self.resolve(node) else { return };
                let others: Vec<usize> = (0..self.machines.len()).filter(|&j| j != i).collect();
                let (left, right) = others.split_at(others.len() / 2);
                let (a, b) = (self.ids(left), self.ids(right));
                self.net.partition(&a, &b);
                self.network_fault();
            }
            Action::Hold { from, to } => {
                if let (Some(f), Some(t)) = (self.resolve(from), self.resolve(to)) {
                    self.net.hold(self.machines[f].id, self.machines[t].id);
                    self.network_fault();
                }
            }
            Action::Release { from, to } => {
                let (Some(f), Some(t)) = (self.resolve(from), self.resolve(to)) else { return };
                let released = self.net.release(self.now, self.machines[f].id, self.machines[t].id);
                self.deliver_released(released);
            }
            Action::ReleaseAll => {
                let released = self.net.release_all(self.now);
                self.deliver_released(released);
            }
            Action::Delay { from, to, extra_ms } => {
                let from: Vec<usize> = from.into_iter().filter_map(|t| self.resolve(t)).collect();
                let to: Vec<usize> = to.into_iter().filter_map(|t| self.resolve(t)).collect();
                for &f in &from {
                    for &t in &to {
                        let (a, b) = (self.machines[f].id, self.machines[t].id);
                        self.net.set_extra_delay(a, b, ms(extra_ms));
                    }
                }
                self.network_fault();
            }
            Action::Redeliver { count } => {
                for _ in 0..count {
                    if let Some((at, env)) = self.net.redeliver(self.now) {
                        self.push(at, Ev::Deliver(env));
                    }
                }
                self.network_fault();
            }
            Action::RepairAll => {
                self.net.repair_all();
                self.network_fault();
            }
            Action::SetLoss { loss } => {
                self.net.set_loss(loss);
                self.network_fault();
            }
            Action::SetLatency { latency } => {
                self.net.set_latency(&latency);
                self.network_fault();
            }
            Action::Read { node } => {
                let Some(leader) = self.resolve(node) else { return };
                if self.machines[leader].paused(self.now) {
                    return;
                }
                let local = self.input_local(leader);
                let Some(node) = self.machines[leader].node.as_mut() else { return };
                if let Some(ticket) = node.heartbeat_now(local) {
                    self.checks.read_asked(self.now, leader, ticket);
                }
                self.flush(leader);
            }
            Action::Transfer { to } => {
                let Some(leader) = self.current_leader() else { return };
                let Some(target) = self.resolve(to) else { return };
                if target == leader || self.machines[leader].paused(self.now) {
                    return;
                }
                let (target, local) = (self.machines[target].id, self.input_local(leader));
                let Some(node) = self.machines[leader].node.as_mut() else { return };
                if node.transfer_leadership(local, target).is_ok() {
                    let _ = node.transfer_caught_up(local);
                }
                self.flush(leader);
            }
            Action::Add { node, learner } => {
                let Some(i) = self.resolve(node) else { return };
                let id = self.machines[i].id;
                self.change_membership(|m| {
                    m.voters.retain(|&v| v != id);
                    m.learners.retain(|&l| l != id);
                    if learner {
                        m.learners.push(id);
                    } else {
                        m.voters.push(id);
                    }
                });
            }
            Action::Remove { node } => {
                let Some(i) = self.resolve(node) else { return };
                let id = self.machines[i].id;
                self.change_membership(|m| {
                    m.voters.retain(|&v| v != id);
                    m.learners.retain(|&l| l != id);
                });
            }
            Action::ClockRate { node, rate } => {
                let Some(i) = self.resolve(node) else { return };
                let now = self.now;
                let machine = &mut self.machines[i];
                machine.clock = machine.clock.with_rate(now, rate);
                machine.pending = None;
                if let Some(armed) = self.checks.timer_armed_local(i) {
                    let bound = self.timer_bound(i, armed);
                    self.checks.timer_rebound(i, bound);
                }
                let machine = &self.machines[i];
                let id = machine.id;
                self.trace.record(
                    now,
                    Record::Fault {
                        node: Some(id),
                        fault: Fault::ClockRate { ppm: (rate * 1e6) as u64 },
                    },
                );
                self.arm(i);
            }
            Action::Bulk { from, bytes, every_ms, for_ms } => {
                let until = self.now + ms(for_ms);
                self.push(self.now, Ev::Bulk { from, bytes, every: ms(every_ms), until });
            }
        }
    }
}

/// The longest a crash point waits past its window: a heartbeat interval (within-heartbeat,
/// after-election) or the slowest bounded disk write (during-write), in ms.
pub(crate) fn point_wait(scenario: &Scenario) -> f64 {
    let disk = |d: &crate::sim::latency::Latency| d.max_ms().unwrap_or(0.0);
    scenario
        .nodes
        .iter()
        .filter_map(|n| n.disk.as_ref())
        .map(disk)
        .fold(scenario.cluster.heartbeat_ms.max(disk(&scenario.network.disk)), f64::max)
}

/// When a step's effect ends: its time, plus its duration for pauses and bulk transfers, and
/// for crashes the wait for their moment (at most its window and `point_wait`) and the
/// downtime.
pub(super) fn step_end(step: &Step, point_wait: f64) -> f64 {
    match step.action {
        Action::Pause { for_ms, .. } | Action::Bulk { for_ms, .. } => step.at_ms + for_ms,
        Action::Crash { at, window_ms, restart_after_ms, .. } => {
            let wait =
                if at == CrashPoint::Now { 0.0 } else { window_ms.unwrap_or(0.0) + point_wait };
            step.at_ms + wait + restart_after_ms.unwrap_or(0.0)
        }
        Action::Restart { .. }
        | Action::Isolate { .. }
        | Action::Split { .. }
        | Action::Partition { .. }
        | Action::OneWayPartition { .. }
        | Action::Repair { .. }
        | Action::OneWayRepair { .. }
        | Action::Bridge { .. }
        | Action::Hold { .. }
        | Action::Release { .. }
        | Action::ReleaseAll
        | Action::Delay { .. }
        | Action::Redeliver { .. }
        | Action::RepairAll
        | Action::SetLoss { .. }
        | Action::SetLatency { .. }
        | Action::Read { .. }
        | Action::Transfer { .. }
        | Action::Add { .. }
        | Action::Remove { .. }
        | Action::ClockRate { .. } => step.at_ms,
    }
}
