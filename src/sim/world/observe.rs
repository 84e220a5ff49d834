//! Watching the cluster: the failover being measured, false suspicions and spurious leader
//! changes, and what the checkers are told of each node's events (src/sim/checkers/ holds the
//! rules).

use std::time::Duration;

use super::World;
use crate::core::{Event, Instant, NodeId, Role, Term, TimerRule};
use crate::sim::metrics::TrialResult;
use crate::sim::scenario::CrashPoint;

/// What the trial measures as it goes.
#[derive(Debug)]
pub(super) struct Watch {
    /// The failover, once a leader crashed.
    pub(super) failover: Option<Failover>,
    /// The latest leader seen elected.
    pub(super) last_leader: Option<Elected>,
    /// The figures so far.
    pub(super) result: TrialResult,
}

impl Watch {
    pub(super) fn new(result: TrialResult) -> Self {
        Watch { failover: None, last_leader: None, result }
    }
}

/// The failover being measured: the first crash of a leader in the trial.
#[derive(Debug)]
pub(super) struct Failover {
    crash_at: Instant,
    old_term: Term,
    detected_at: Option<Instant>,
    /// The first suspicion of each shadow detector after the crash.
    shadow_detected_at: Vec<Option<Instant>>,
    candidate_terms: Vec<Term>,
    recovered: Option<Recovery>,
}

/// When a failover ended, and the term of the leader every live node then followed.
#[derive(Clone, Copy, Debug)]
struct Recovery {
    at: Instant,
    term: Term,
}

/// The latest leader seen elected.
#[derive(Clone, Copy, Debug)]
pub(super) struct Elected {
    node: usize,
}

impl Failover {
    pub(super) fn recovered(&self) -> bool {
        self.recovered.is_some()
    }

    /// Writes the failover's figures into `result`.
    pub(super) fn report(&self, result: &mut TrialResult) {
        result.detection_ms = self.detected_at.map(|d| millis(d - self.crash_at));
        for (shadow, at) in result.shadows.iter_mut().zip(&self.shadow_detected_at) {
            shadow.detection_ms = at.map(|d| millis(d - self.crash_at));
        }
        let Some(Recovery { at, term }) = self.recovered else { return };
        result.time_without_leader_ms = Some(millis(at - self.crash_at));
        result.term_increase = term.0 - self.old_term.0;
        let mut terms = self.candidate_terms.clone();
        terms.sort_unstable();
        terms.dedup();
        result.election_rounds = terms.len() as u64;
        result.split_votes = terms.iter().filter(|t| **t != term).count() as u64;
    }
}

impl World<'_> {
    pub(super) fn start_failover(&mut self, term: Term) {
        self.watch.failover = Some(Failover {
            crash_at: self.now,
            old_term: term,
            detected_at: None,
            shadow_detected_at: vec![None; self.scenario.cluster.shadow_detectors.len()],
            candidate_terms: Vec::new(),
            recovered: None,
        });
    }

    /// Node `i` counted contact from `leader` of `term` at `local` on its clock (a heartbeat
    /// it accepted, or its host's own replication): the timer rule's reset, the stickiness
    /// window's start, the end of a mistake, perhaps a failover's end.
    pub(super) fn leader_contact_counted(
        &mut self,
        i: usize,
        leader: NodeId,
        term: Term,
        local: Instant,
    ) {
        let machine = &mut self.machines[i];
        machine.last_heartbeat = Some(super::machine::HeardFrom { leader, term });
        machine.reset_pending = true;
        self.checks.leader_contact(i, local);
        self.end_mistake(i);
        self.on_heartbeat_accepted(leader, term);
    }

    fn on_heartbeat_accepted(&mut self, leader: NodeId, term: Term) {
        let Some(f) = &self.watch.failover else { return };
        if f.recovered.is_some() || term <= f.old_term {
            return;
        }
        // Recovered once every live node follows this leader of this term (Raft §9.3's
        // "until the other servers receive the new leader's first heartbeat").
        let members = self.membership();
        let all = self.machines.iter().all(|h| match h.live() {
            None => true,
            // A node outside the membership hears no leader.
            Some(_) if !members.contains(h.id) => true,
            Some(n) if n.id() == leader => n.role() == Role::Leader && n.term() == term,
            Some(_) => h.last_heartbeat == Some(super::machine::HeardFrom { leader, term }),
        });
        if all {
            let at = self.now;
            if let Some(f) = self.watch.failover.as_mut() {
                f.recovered = Some(Recovery { at, term });
            }
        }
    }

    /// Records a reset of node `i`'s timer if the input just handled made one by the rule, and
    /// checks the timeout the node drew for it.
    pub(super) fn watch_timer(&mut self, i: usize) {
        let local = self.local(i);
        let reset = std::mem::take(&mut self.machines[i].reset_pending);
        let Some(node) = self.machines[i].node.as_ref() else { return };
        let Some(deadline) = node.election_deadline() else {
            self.checks.timer_stopped(i);
            return;
        };
        if !reset {
            return;
        }
        let bound = self.timer_bound(i, local);
        let machine = &self.machines[i];
        let from = machine
            .node
            .as_ref()
            .map_or(self.timing.timeout_floor, |n| n.election_timeout_range().0);
        self.checks.timer_reset(self.now, i, local, bound, deadline - local, from);
    }

    pub(super) fn on_core_event(&mut self, i: usize, event: Event) {
        let id = self.machines[i].id;
        if let Event::RoleChanged { from, to, .. } = event {
            // The timer rule: a campaign and a leader's step-down reset the timer; under
            // etcd's rule, so does a candidate's step-down.
            let campaign = matches!(to, Role::PreCandidate | Role::Candidate);
            let candidate_steps_down = self.timing.timer_rule == TimerRule::ResetOnStepDown
                && matches!(from, Role::PreCandidate | Role::Candidate)
                && to == Role::Follower;
            if campaign || from == Role::Leader || candidate_steps_down {
                self.machines[i].reset_pending = true;
            }
        }
        match event {
            Event::RoleChanged { term, to: Role::Leader, .. } => {
                self.end_mistake(i);
                self.watch.result.leaders_elected += 1;
                let local = self.local(i);
                let machine = &self.machines[i];
                let voters = machine.node.as_ref().map_or(&[][..], |n| &n.config().members[..]);
                self.checks.leader_elected(self.now, i, term, machine.log, local, voters);
                if !self.faults.armed.is_empty() {
                    self.trigger(i, CrashPoint::AfterElection, self.timing.heartbeat_interval);
                }
                // Spurious: the previous leader did not fail, it was deposed (or paused); one
                // removed from the voters stepped down as planned (thesis §4.2.2).
                if let Some(prev) = self.watch.last_leader {
                    let voter = self.membership().is_voter(self.machines[prev.node].id);
                    if prev.node != i && voter && self.reachable_by_majority(prev.node) {
                        self.watch.result.spurious_leader_changes += 1;
                    }
                }
                self.watch.last_leader = Some(Elected { node: i });
            }
            Event::TermChanged { to, .. } => {
                // A campaign, counted by its term: a candidate that times out again under
                // Figure 2's rule stays a candidate, so its role does not change, only its term.
                let campaigned = self.machines[i]
                    .live()
                    .is_some_and(|n| n.role() == Role::Candidate && n.term() == to);
                // Every campaign resets the timer (Raft Figure 2), also one a leadership
                // transfer's TimeoutNow starts in a node that was already a candidate, which
                // changes neither its role nor times it out.
                if campaigned {
                    self.machines[i].reset_pending = true;
                }
                if let Some(f) = self.watch.failover.as_mut().filter(|f| f.recovered.is_none()) {
                    if campaigned {
                        f.candidate_terms.push(to);
                    }
                }
            }
            Event::VoteGranted { term, candidate } => {
                self.machines[i].reset_pending = true;
                let (local, log) = (self.local(i), self.machines[i].log);
                self.checks.vote_granted(self.now, i, term, log, candidate, local);
            }
            Event::ShadowSuspected { index, .. } => {
                if !self.membership().contains(id) {
                    return;
                }
                let false_suspicion = self.watch.last_leader.is_some_and(|l| {
                    l.node != i
                        && self.healthy_leader(l.node)
                        && self.net.open(self.machines[l.node].id, id)
                });
                let now = self.now;
                if let Some(s) = self.watch.result.shadows.get_mut(index) {
                    s.suspicions += 1;
                    s.false_suspicions += u64::from(false_suspicion);
                }
                if let Some(f) = self.watch.failover.as_mut().filter(|f| f.recovered.is_none()) {
                    if let Some(at) = f.shadow_detected_at.get_mut(index).filter(|a| a.is_none()) {
                        *at = Some(now);
                    }
                }
            }
            Event::ElectionTimeoutDeferred { .. } => {
                let local = self.local(i);
                self.checks.deferred(self.now, i, local);
                self.machines[i].reset_pending = true;
                self.watch.result.timeouts_deferred += 1;
            }
            Event::ElectionTimeout { .. } => {
                let local = self.local(i);
                self.checks.timed_out(self.now, i, local);
                self.machines[i].reset_pending = true;
                // A node outside the membership hears no leader: its silence detects nothing.
                if !self.membership().contains(id) {
                    return;
                }
                // False: a healthy leader could still reach this node.
                let healthy = |l: usize| {
                    l != i && self.healthy_leader(l) && self.net.open(self.machines[l].id, id)
                };
                if self.watch.last_leader.is_some_and(|l| healthy(l.node)) {
                    self.watch.result.false_suspicions += 1;
                    let now = self.now;
                    self.machines[i].mistake_since.get_or_insert(now);
                }
                let now = self.now;
                if let Some(f) = self.watch.failover.as_mut().filter(|f| f.detected_at.is_none()) {
                    f.detected_at = Some(now);
                }
            }
            _ => {}
        }
    }

    /// Node `i`'s mistake, if it is making one, is over: it trusts a leader again (or leads).
    pub(super) fn end_mistake(&mut self, i: usize) {
        if let Some(since) = self.machines[i].mistake_since.take() {
            let d = secs(self.now - since);
            self.watch.result.mistake_seconds += d;
            self.watch.result.ended_mistake_seconds += d;
            self.watch.result.mistakes_ended += 1;
        }
    }

    /// Node `i` stops being watched (it crashed, or the trial ended): its up time and any
    /// mistake under way are accounted for; a mistake cut short by a crash counts as ended.
    pub(super) fn end_watch(&mut self, i: usize) {
        if let Some(since) = self.machines[i].up_since.take() {
            self.watch.result.up_seconds += secs(self.now - since);
        }
        self.end_mistake(i);
    }

    /// Whether node `i` is alive and can exchange messages with a majority of the voters
    /// (itself included, if it votes).
    fn reachable_by_majority(&self, i: usize) -> bool {
        let machine = &self.machines[i];
        machine.node.is_some() && self.voters_connected_to(machine.id) >= self.membership().quorum()
    }

    /// Live voters of the latest membership connected to `id`, itself included if it votes.
    fn voters_connected_to(&self, id: NodeId) -> usize {
        let m = self.membership();
        self.machines
            .iter()
            .filter(|h| h.node.is_some() && m.is_voter(h.id) && self.net.connected(id, h.id))
            .count()
    }

    /// Whether node `i` leads, is alive, and can exchange messages with a majority.
    fn healthy_leader(&self, i: usize) -> bool {
        self.machines[i].live().is_some_and(|n| n.role() == Role::Leader)
            && self.reachable_by_majority(i)
    }

    /// The checks after every event: at most one valid lease at a time, and every timer within
    /// its bound.
    pub(super) fn check(&mut self) {
        // Only the first violation is reported: skip building the holders after one.
        if self.checks.violation().is_some() {
            return;
        }
        let leaders = self
            .machines
            .iter()
            .filter(|h| h.live().is_some_and(|n| n.role() == Role::Leader))
            .count();
        // Two leases at once need two nodes that think they lead.
        let mut holders = [(NodeId(0), Term(0)); 2];
        let mut count = 0;
        if leaders > 1 {
            for (i, h) in self.machines.iter().enumerate() {
                let Some(node) = h.live() else { continue };
                if node.role() == Role::Leader
                    && !h.paused(self.now)
                    && node.lease_valid(self.local(i))
                {
                    if count < 2 {
                        holders[count] = (h.id, node.term());
                    }
                    count += 1;
                }
            }
        }
        let holders = (leaders > 1).then_some(&holders[..count.min(2)]);
        self.checks.after_event(self.now, holders);
    }

    /// The liveness deadline passed: if it is still pending and a majority is connected, a
    /// leader must be known to a majority by now.
    pub(super) fn on_liveness_deadline(&mut self, bound: Duration) {
        let judged = self.majority_connected().then(|| self.known_leader());
        self.checks.liveness_deadline(self.now, bound, judged);
    }

    fn majority_connected(&self) -> bool {
        let quorum = self.membership().quorum();
        self.machines.iter().any(|a| a.node.is_some() && self.voters_connected_to(a.id) >= quorum)
    }

    /// The leader that a majority of the voters, alive, follow in its term, if any.
    pub(super) fn known_leader(&self) -> Option<(NodeId, Term)> {
        self.machines.iter().filter_map(|h| h.live()).filter(|n| n.role() == Role::Leader).find_map(
            |leader| {
                let m = self.membership();
                let followers = self
                    .machines
                    .iter()
                    .filter(|h| m.is_voter(h.id))
                    .filter_map(|h| h.live())
                    .filter(|n| n.term() == leader.term() && n.leader() == Some(leader.id()))
                    .count();
                (followers >= m.quorum()).then_some((leader.id(), leader.term()))
            },
        )
    }
}

fn secs(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e9
}

fn millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

impl World<'_> {
    /// Confirms node `i`'s reads a majority has acknowledged a round for (the read-index
    /// checker judges each).
    pub(super) fn settle_reads(&mut self, i: usize) {
        self.checks.settle_reads(self.now, i, self.machines[i].node.as_ref());
    }
}
