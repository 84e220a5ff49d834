//! Membership changes as the simulated log replicates them (thesis §4.1): the leader appends
//! a change and applies it at once; every other live node applies it when it reaches it over
//! an open link, within a heartbeat interval; it commits once a majority of the new voters has
//! it, and the leader is told. One change at a time, as the thesis requires of hosts.
//!
//! Each change is a log entry of its leader's term: a node that applies it has its log
//! extended to it, so the election restriction (Raft §5.4.1) keeps a node that lacks a
//! committed change from being elected, as in Raft. A node applies a change only once its own
//! term has reached the entry's: in Raft the entry comes inside a message of that term or a
//! later one, which would have raised the node's term first (and deposed it, were it the leader
//! of an older term). A deposed leader cut off from the new term never meets the change, and
//! never confirms anything under it.
//!
//! The model never truncates a change: once appended it reaches every node, even if its leader
//! fails first (a Raft leader elected without the entry would remove it instead; here it
//! spreads from the failed leader's log). A change commits for every node at once, and the next
//! waits for it, so the case the host's third rule exists for (a deposed leader's uncommitted
//! configuration coming back, see `Node::set_membership`) does not arise.

use super::{Ev, World};
use crate::core::{LogPosition, Membership, Node, NodeId, Term};
use crate::sim::latency::unit;
use crate::sim::trace::{Fault, Record};

/// Every membership the cluster had, and which is committed.
#[derive(Debug)]
pub(super) struct MembershipLog {
    /// The starting membership first: a machine's index into it is the latest change its log
    /// holds.
    pub(super) memberships: Vec<Membership>,
    /// The log entry of each change (none for the starting membership).
    pub(super) entries: Vec<LogPosition>,
    /// The index of the latest committed membership.
    pub(super) committed: usize,
}

impl MembershipLog {
    pub(super) fn new(start: Membership) -> Self {
        MembershipLog {
            memberships: vec![start],
            entries: vec![LogPosition::default()],
            committed: 0,
        }
    }
}

impl World<'_> {
    /// The latest membership, as the leader's log has it.
    pub(super) fn membership(&self) -> &Membership {
        self.membership_log.memberships.last().expect("the starting membership is always there")
    }

    /// The leader appends `change(latest)`, if a change may be made now: see
    /// [`Action::Add`](crate::sim::scenario::Action::Add).
    pub(super) fn change_membership(&mut self, change: impl FnOnce(&mut Membership)) {
        let Some(leader) = self.current_leader() else { return };
        if self.membership_log.committed < self.membership_log.memberships.len() - 1
            || self.machines[leader].paused(self.now)
        {
            return;
        }
        let mut next = self.membership().clone();
        change(&mut next);
        if next == *self.membership() || next.validate_change_from(self.membership()).is_err() {
            return;
        }
        self.trace.record(
            self.now,
            Record::Fault {
                node: Some(self.machines[leader].id),
                fault: Fault::Membership {
                    voters: next.voters.len() as u64,
                    learners: next.learners.len() as u64,
                },
            },
        );
        // After every entry in any log: the simulated logs are fixed, and the change must be
        // newer than all of them for the election restriction to protect it.
        let index = self.machines.iter().map(|h| h.log.index).max().unwrap_or(0) + 1;
        let term = self.machines[leader].node.as_ref().map_or(Term(0), Node::term);
        self.membership_log.memberships.push(next);
        self.membership_log.entries.push(LogPosition::new(term, index));
        self.apply_memberships(leader);
        let interval = self.timing.heartbeat_interval;
        for i in (0..self.machines.len()).filter(|&i| i != leader) {
            if self.machines[i].node.is_some() {
                let lag = interval.mul_f64(unit(&mut self.faults.rng));
                let incarnation = self.machines[i].incarnation;
                self.push(self.now + lag, Ev::Membership { node: i, incarnation });
            }
        }
    }

    /// The latest membership tries to reach machine `i`: it applies every change it has not, in
    /// order, if some node that has them can reach it; otherwise it tries again an interval
    /// later. A paused machine applies them when it resumes.
    pub(super) fn on_membership(&mut self, i: usize, incarnation: u32) {
        let latest = self.membership_log.memberships.len() - 1;
        let machine = &self.machines[i];
        if machine.node.is_none()
            || machine.incarnation != incarnation
            || machine.membership >= latest
        {
            return;
        }
        let again = if let Some(until) = machine.pause_end(self.now) {
            Some(until)
        } else if !self.reachable_by_holder(i) {
            Some(self.now + self.timing.heartbeat_interval)
        } else {
            None
        };
        if let Some(at) = again {
            self.push(at, Ev::Membership { node: i, incarnation });
            return;
        }
        self.apply_memberships(i);
    }

    /// Machine `i` applies, in order, every change it has not.
    fn apply_memberships(&mut self, i: usize) {
        let latest = self.membership_log.memberships.len() - 1;
        let local = self.input_local(i);
        let from = self.machines[i].membership + 1;
        let mut reached = from - 1;
        for v in from..=latest {
            let next = self.membership_log.memberships[v].clone();
            let entry = self.membership_log.entries[v];
            let machine = &mut self.machines[i];
            let Some(node) = machine.node.as_mut() else { return };
            if entry.term > node.term() {
                // In Raft the entry reaches this node only inside a message of its term or a
                // later one, which would first raise the node's term (deposing it, were it
                // the leader of an older term): it waits until the node has learned that term
                // from the cluster's own messages.
                break;
            }
            if let Err(e) = node.set_membership(local, next) {
                self.checks.membership_refused(self.now, i, v, latest, &e);
                return;
            }
            machine.log = machine.log.max(entry);
            node.set_last_log(machine.log);
            self.checks.voters_changed(i, local, &node.config().members);
            reached = v;
        }
        let machine = &mut self.machines[i];
        machine.membership = reached;
        if reached < latest {
            let incarnation = machine.incarnation;
            self.push(
                self.now + self.timing.heartbeat_interval,
                Ev::Membership { node: i, incarnation },
            );
        }
        if reached >= from && self.membership_log.committed == reached {
            // Reached it after it committed: a leader it removed must step down too.
            self.commit_at(i);
        }
        self.flush(i);
        self.try_commit();
    }

    /// Machine `i` learns that the latest membership is committed, when it is not paused.
    pub(super) fn commit_at(&mut self, i: usize) {
        if let Some(until) = self.machines[i].pause_end(self.now) {
            let incarnation = self.machines[i].incarnation;
            self.push(until, Ev::MembershipCommitted { node: i, incarnation });
            return;
        }
        let local = self.input_local(i);
        if let Some(node) = self.machines[i].node.as_mut() {
            node.membership_committed(local);
        }
    }

    /// A paused machine's [`commit_at`](Self::commit_at), at its resumption.
    pub(super) fn on_membership_committed(&mut self, i: usize, incarnation: u32) {
        if self.machines[i].incarnation == incarnation && self.machines[i].node.is_some() {
            self.commit_at(i);
            self.flush(i);
        }
    }

    /// Whether a live, running node that has the latest membership has an open link to machine
    /// `i`; or, if no live node has it (its leader failed before it spread), whether `i` is
    /// alive at all: the change then spreads from the failed leader's log, as the model never
    /// truncates a change.
    fn reachable_by_holder(&self, i: usize) -> bool {
        let latest = self.membership_log.memberships.len() - 1;
        let to: NodeId = self.machines[i].id;
        let mut holders = self.machines.iter().filter(|h| h.id != to && h.membership == latest);
        if !holders.clone().any(|h| h.node.is_some()) {
            return true;
        }
        holders.any(|h| h.node.is_some() && !h.paused(self.now) && self.net.open(h.id, to))
    }

    /// Commits the change under way once a majority of its voters has it, telling every node
    /// that has it (the leader it removed then steps down, thesis §4.2.2).
    fn try_commit(&mut self) {
        let version = self.membership_log.memberships.len() - 1;
        if self.membership_log.committed == version {
            return;
        }
        let membership = &self.membership_log.memberships[version];
        let holding = self
            .machines
            .iter()
            .filter(|h| h.membership >= version && membership.is_voter(h.id))
            .count();
        if holding < membership.quorum() {
            return;
        }
        self.membership_log.committed = version;
        for i in 0..self.machines.len() {
            if self.machines[i].membership == version && self.machines[i].node.is_some() {
                self.commit_at(i);
                self.flush(i);
            }
        }
    }

    /// After machine `i` restarts: it boots with the membership its log holds, and catches up.
    pub(super) fn catch_up(&mut self, i: usize) {
        if self.machines[i].membership < self.membership_log.memberships.len() - 1 {
            let incarnation = self.machines[i].incarnation;
            self.push(self.now, Ev::Membership { node: i, incarnation });
        }
    }
}
