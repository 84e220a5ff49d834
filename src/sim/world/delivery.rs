//! Messages in and out of a node: delivering one (or making it wait for a pause, a crash or
//! the node's processing), and draining what the node produced (hard state to the disk,
//! messages to the network, events to the trace and the observers).

use super::{Ev, World};
use crate::core::{Envelope, Message, Node, Role, VoteKind};
use crate::sim::checkers::PreVoteStep;
use crate::sim::network::{wire_size, Fate};
use crate::sim::scenario::CrashPoint;
use crate::sim::trace::{DropReason, Record};

impl World<'_> {
    pub(super) fn deliver(&mut self, env: Envelope) {
        let to = (env.to.0 - 1) as usize;
        let machine = &self.machines[to];
        if machine.node.is_none() {
            self.trace.record(self.now, Record::drop(&env, DropReason::Down));
            return;
        }
        if let Some(until) = machine.pause_end(self.now) {
            self.push(until, Ev::Deliver(env));
            return;
        }
        if machine.busy_until > self.now {
            let at = machine.busy_until;
            self.push(at, Ev::Deliver(env));
            return;
        }
        self.trace.record(self.now, Record::deliver(&env));
        let local = self.input_local(to);
        let now = self.now;
        let machine = &mut self.machines[to];
        machine.busy_until = now + machine.processing;
        let before = machine.node.as_ref().expect("checked above").hard_state();
        let (transfer_vote, pre_vote) = match env.message {
            Message::VoteRequest(r) => {
                (r.kind == VoteKind::Transfer, (r.kind == VoteKind::PreVote).then_some(env.from))
            }
            _ => (false, None),
        };
        // A request from the candidate it already voted for in that term, durably: a re-grant
        // elects no one the first grant did not (Raft Figure 2, §5.5).
        let regrant = matches!(env.message, Message::VoteRequest(r)
            if r.kind == VoteKind::Vote && r.term == before.term && before.voted_for == Some(env.from));
        self.checks.message_in(to, transfer_vote || regrant, pre_vote, local);
        if let Message::HeartbeatResponse(r) = env.message {
            if r.success {
                self.checks.answered(to, env.from, r.term, local);
            }
        }
        let pre_vote_step = match env.message {
            Message::VoteRequest(r) if r.kind == VoteKind::PreVote => {
                Some(PreVoteStep::Asked(env.from))
            }
            Message::VoteResponse(r) if r.kind == VoteKind::PreVote && r.granted => {
                Some(PreVoteStep::Granted(env.from))
            }
            _ => None,
        };
        let machine = &mut self.machines[to];
        let node = machine.node.as_mut().expect("checked above");
        if node.handle_message(local, env).is_err() {
            // Only a node outside the receiver's membership is refused (thesis §4.2.3), and a
            // refused request gets no answer to match.
            if pre_vote.is_some() {
                self.checks.pre_vote_unanswered(to);
            }
            self.trace.record(self.now, Record::drop(&env, DropReason::Stranger));
            self.flush(to);
            return;
        }
        if let Some(step) = pre_vote_step {
            self.checks.pre_vote_step(now, to, step, before, node);
        }
        if let Message::Heartbeat(hb) = env.message {
            let accepted = node.role() == Role::Follower
                && node.leader() == Some(env.from)
                && node.term() == hb.term;
            if accepted {
                self.leader_contact_counted(to, env.from, hb.term, local);
            }
        }
        self.flush(to);
    }

    /// Persists, sends and reports what node `i` produced, and re-arms its timer.
    pub(super) fn flush(&mut self, i: usize) {
        let now = self.now;
        let Some(node) = self.machines[i].node.as_mut() else { return };
        if let Some(state) = node.take_hard_state() {
            let machine = &mut self.machines[i];
            let mut done =
                now.max(machine.disk_free_at) + machine.disk.sample(&mut machine.disk_rng);
            if machine.writes_term_then_vote(state) {
                done = done + machine.disk.sample(&mut machine.disk_rng);
            }
            machine.written = state;
            machine.disk_free_at = done;
            let incarnation = machine.incarnation;
            self.push(done, Ev::Persisted { node: i, incarnation, state });
            if !self.faults.armed.is_empty() {
                self.trigger(i, CrashPoint::DuringWrite, done - now);
            }
        }
        while let Some(env) = self.machines[i].node.as_mut().and_then(Node::poll_transmit) {
            self.send(i, env);
        }
        while let Some(event) = self.machines[i].node.as_mut().and_then(Node::poll_event) {
            self.trace.record(now, Record::Node { node: self.machines[i].id, event });
            self.machines[i].user.queue(event);
            self.on_core_event(i, event);
        }
        self.watch_timer(i);
        self.settle_reads(i);
        self.arm(i);
    }

    fn send(&mut self, i: usize, env: Envelope) {
        let bytes = wire_size(&env);
        self.watch.result.messages += 1;
        self.watch.result.bytes += bytes;
        self.trace.record(self.now, Record::send(&env));
        if matches!(env.message, Message::Heartbeat(_)) {
            self.trigger(i, CrashPoint::WithinHeartbeat, self.timing.heartbeat_interval);
        }
        if let Message::VoteResponse(r) = env.message {
            if r.kind == VoteKind::PreVote {
                self.checks.pre_vote_answered(self.now, i, env.to, r.granted);
            }
        }
        match self.net.send(self.now, &env, bytes) {
            Fate::Dropped(reason) => self.trace.record(self.now, Record::drop(&env, reason)),
            Fate::Held => {}
            Fate::Arrives(first, second) => {
                self.push(first, Ev::Deliver(env));
                if let Some(at) = second {
                    self.push(at, Ev::Deliver(env));
                }
            }
        }
    }
}
