//! Messages in and out of a node: delivering one (or making it wait for a pause, a crash or
//! the node's processing), and draining what the node produced (hard state to the disk,
//! messages to the network, events to the trace and the observers).

use super::host::PreVoteAsked;
use super::{Ev, World};
use crate::core::{Envelope, Message, Node, Role, VoteKind};
use crate::sim::network::{wire_size, Fate};
use crate::sim::scenario::CrashPoint;
use crate::sim::trace::{DropReason, Record};

impl World<'_> {
    pub(super) fn deliver(&mut self, env: Envelope) {
        let to = (env.to.0 - 1) as usize;
        let host = &self.hosts[to];
        if host.node.is_none() {
            self.trace.record(self.now, Record::drop(&env, DropReason::Down));
            return;
        }
        if let Some(until) = host.pause_end(self.now) {
            self.push(until, Ev::Deliver(env));
            return;
        }
        if host.busy_until > self.now {
            let at = host.busy_until;
            self.push(at, Ev::Deliver(env));
            return;
        }
        self.trace.record(self.now, Record::deliver(&env));
        let local = self.input_local(to);
        let now = self.now;
        let host = &mut self.hosts[to];
        host.busy_until = now + host.processing;
        host.handling_transfer_vote =
            matches!(env.message, Message::VoteRequest(r) if r.kind == VoteKind::Transfer);
        if let Message::VoteRequest(r) = env.message {
            if r.kind == VoteKind::PreVote {
                let contact = host.contact_local;
                host.pre_votes.push(PreVoteAsked { candidate: env.from, local, contact });
            }
        }
        let node = host.node.as_mut().expect("checked above");
        if node.handle_message(local, env).is_err() {
            // Only a node outside the receiver's membership is refused (thesis §4.2.3), and a
            // refused request gets no answer to match.
            if matches!(env.message, Message::VoteRequest(r) if r.kind == VoteKind::PreVote) {
                host.pre_votes.pop();
            }
            self.trace.record(self.now, Record::drop(&env, DropReason::Stranger));
            self.flush(to);
            return;
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
        let Some(node) = self.hosts[i].node.as_mut() else { return };
        if let Some(state) = node.take_hard_state() {
            let host = &mut self.hosts[i];
            let mut done = now.max(host.disk_free_at) + host.disk.sample(&mut host.disk_rng);
            if host.writes_term_then_vote(state) {
                done = done + host.disk.sample(&mut host.disk_rng);
            }
            host.written = state;
            host.disk_free_at = done;
            let incarnation = host.incarnation;
            self.push(done, Ev::Persisted { node: i, incarnation, state });
            if !self.armed.is_empty() {
                self.trigger(i, CrashPoint::DuringWrite, done - now);
            }
        }
        while let Some(env) = self.hosts[i].node.as_mut().and_then(Node::poll_transmit) {
            self.send(i, env);
        }
        while let Some(event) = self.hosts[i].node.as_mut().and_then(Node::poll_event) {
            self.trace.record(now, Record::Node { node: self.hosts[i].id, event });
            self.hosts[i].user.queue(event);
            self.on_core_event(i, event);
        }
        self.watch_timer(i);
        self.settle_reads(i);
        self.arm(i);
    }

    fn send(&mut self, i: usize, env: Envelope) {
        let bytes = wire_size(&env);
        self.result.messages += 1;
        self.result.bytes += bytes;
        self.trace.record(self.now, Record::send(&env));
        if matches!(env.message, Message::Heartbeat(_)) {
            self.trigger(i, CrashPoint::WithinHeartbeat, self.heartbeat_interval);
        }
        if let Message::VoteResponse(r) = env.message {
            let asked = &mut self.hosts[i].pre_votes;
            // The core answers each request once, in order.
            let k = asked.iter().position(|a| a.candidate == env.to);
            if let Some(a) = k.filter(|_| r.kind == VoteKind::PreVote).map(|k| asked.remove(k)) {
                if r.granted {
                    self.check_stickiness(i, a.candidate, "pre-vote", a.local, a.contact);
                }
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
