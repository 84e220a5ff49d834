//! The protocol itself: time and validation, the follower's side, elections, the leader's
//! side, state changes. Reached only through the node's inputs and commands (`mod.rs`).

use super::*;

impl Node {
    // ----- time and validation -------------------------------------------------------------

    /// Applies the rule for time going backwards: an earlier `now` than already seen is
    /// replaced by the latest seen, reported once as [`Event::ClockWentBackwards`] and counted.
    pub(super) fn observe(&mut self, now: Instant) -> Instant {
        if now < self.now {
            self.counters.clock_regressions += 1;
            self.events.push_back(Event::ClockWentBackwards { by: self.now - now });
            return self.now;
        }
        self.now = now;
        if let Some(health) = self.local_health.as_mut() {
            health.observe(now);
        }
        self.shadows.check(now, &mut self.events);
        now
    }

    pub(super) fn check_sender(&mut self, from: NodeId, to: NodeId) -> Result<(), InputError> {
        if to != self.config.id {
            self.counters.misaddressed += 1;
            return Err(InputError::Misaddressed { to, this: self.config.id });
        }
        if from == self.config.id {
            self.counters.misaddressed += 1;
            return Err(InputError::FromSelf(from));
        }
        // The leader this node follows stays heard after a membership change removed it: it
        // leads until the change commits, then steps down (thesis §4.2.2).
        if self.peer_index(from).is_none() && self.leader != Some(from) {
            self.counters.from_strangers += 1;
            return Err(InputError::NotAMember { from });
        }
        Ok(())
    }

    pub(super) fn check_term(&mut self, from: NodeId, term: Term) -> Result<(), InputError> {
        if term > Term::LAST {
            self.counters.terms_out_of_range += 1;
            return Err(InputError::TermOutOfRange { from, term });
        }
        Ok(())
    }

    pub(super) fn peer_index(&self, id: NodeId) -> Option<usize> {
        self.peers.binary_search(&id).ok()
    }

    /// Acknowledgements from voting peers that make a majority with this node: one fewer than
    /// `quorum` when it votes, `quorum` when a leader leads a membership without itself
    /// (thesis §4.2.2).
    pub(super) fn acks_needed(&self) -> usize {
        self.quorum - usize::from(self.voter)
    }

    pub(super) fn is_voting_peer(&self, id: NodeId) -> bool {
        self.peer_index(id).is_some_and(|i| self.peer_voter[i])
    }

    pub(super) fn is_durable(&self) -> bool {
        self.hard == self.persisted
    }

    // ----- follower side ----------------------------------------------------------------------

    pub(super) fn on_heartbeat(&mut self, now: Instant, from: NodeId, m: Heartbeat) {
        let success = if m.term < self.hard.term {
            // Raft §5.1: reject a stale leader and tell it the current term.
            self.counters.stale += 1;
            false
        } else {
            let counted = self.accept_leader(now, from, m.term, m.leader_commit);
            if counted == Contact::Counted {
                self.leader_last_log = Some(m.leader_last_log);
            }
            counted == Contact::Counted
        };
        let reply = HeartbeatResponse { term: self.hard.term, success, round: m.round };
        self.send(from, Message::HeartbeatResponse(reply));
    }

    /// Valid contact from `from`, the leader of `term >= self.term`: counted, unless another
    /// leader of the same term is already known.
    pub(super) fn accept_leader(
        &mut self,
        now: Instant,
        from: NodeId,
        term: Term,
        leader_commit: u64,
    ) -> Contact {
        if term > self.hard.term {
            self.become_follower(now, term, None);
        }
        let conflict = match self.leader {
            Some(known) => known != from,
            None => self.role == Role::Leader,
        };
        if conflict {
            self.counters.conflicting_leaders += 1;
            tracing::error!(node = %self.config.id, term = %term, claimant = %from, known = ?self.leader, "two leaders claim one term");
            return Contact::ConflictingLeader { known: self.leader };
        }
        if self.role != Role::Follower {
            // Raft §5.2: a candidate that hears from a leader of its term steps down.
            self.set_role(Role::Follower);
        }
        self.set_leader(Some(from));
        let new_leadership = self.arrivals_of != Some((from, self.hard.term));
        if new_leadership {
            self.arrivals_of = Some((from, self.hard.term));
            self.leader_arrivals = Arrivals::default();
            self.leader_detector.reset();
        }
        // A gap this node's own stall stretched says nothing of the leader: not learned.
        let own_stall = !new_leadership
            && self
                .last_leader_contact
                .is_some_and(|t| self.local_health.is_some_and(|h| h.stalled_after(t)));
        self.shadows.contact(now, new_leadership, own_stall);
        if own_stall {
            self.leader_arrivals.restart(now);
            self.leader_detector.resume(now);
        } else {
            self.leader_arrivals.record(now, self.election_deadline - self.timer_started);
            self.leader_detector.heartbeat(now);
        }
        self.last_leader_contact = Some(now);
        // The detector decides how long a silence to wait for, never below the floor, which
        // every voter's promise and the leader's lease rest on. The voter promises to refuse
        // votes until its own timer could fire (capped at the minimum, which is as long as a
        // lease can ever rely on): a longer window would refuse the candidates that its
        // detector and its peers' already let campaign, a shorter one would break the lease.
        let (lo, hi) = self.leader_detector.floored_range(self.config.timeout_floor());
        let fence = now + lo.min(self.config.election_timeout_min);
        self.withhold_votes_until = Some(self.withhold_votes_until.map_or(fence, |u| u.max(fence)));
        self.draw_timeout(now, lo, hi);
        if leader_commit > self.leader_commit {
            self.leader_commit = leader_commit;
            self.events.push_back(Event::LeaderCommit { index: leader_commit });
        }
        Contact::Counted
    }

    pub(super) fn on_election_timeout(&mut self, now: Instant) {
        let deadline = self.election_deadline;
        let stall = self.local_health.and_then(|h| h.stall_past(deadline));
        if let Some(stalled) = stall.filter(|_| self.role == Role::Follower) {
            // Local health: the silence may be this node's own; give the heartbeats waiting
            // in its inbox one more timeout to arrive.
            self.events.push_back(Event::ElectionTimeoutDeferred { term: self.hard.term, stalled });
            tracing::info!(node = %self.config.id, term = %self.hard.term, ?stalled, "election timeout deferred: this node was stalled");
            let (lo, hi) = self.timer_range;
            self.draw_timeout(now, lo, hi);
            if let Some(health) = self.local_health.as_mut() {
                health.mark_deferred();
            }
            return;
        }
        let silence = self.last_leader_contact.map(|t| now - t);
        self.events.push_back(Event::ElectionTimeout { term: self.hard.term, silence });
        tracing::info!(node = %self.config.id, term = %self.hard.term, ?silence, "election timeout");
        self.set_leader(None);
        if !self.voter {
            // A learner, or a node removed from the membership, detects the silence but does
            // not campaign: it could not be elected, and its term would disturb the voters.
            self.reset_election_timer(now);
        } else if self.config.pre_vote {
            self.campaign(now, Role::PreCandidate, false);
        } else {
            self.campaign(now, Role::Candidate, false);
        }
    }

    /// Whether this node must refuse votes and pre-votes at `now` (thesis §4.2.3, §9.6): it
    /// accepted a leader's contact (or restarted) within the window it promised then (at least
    /// the timeout floor), on its own clock, whatever terms it has learned since; or it leads
    /// and has heard from a majority within a minimum election timeout.
    ///
    /// The window is kept in `withhold_votes_until`, not derived from "a known leader": a late
    /// response of a higher term clears the known leader without making the leader's lease any
    /// shorter, so it must not open the window early.
    pub(super) fn votes_withheld(&self, now: Instant) -> bool {
        let min = self.config.election_timeout_min;
        let leading =
            self.role == Role::Leader && self.lead.quorum_contact.is_none_or(|t| now - t < min);
        leading || self.withhold_votes_until.is_some_and(|until| now < until)
    }

    // ----- elections ----------------------------------------------------------------------

    /// Starts a pre-vote (thesis §9.6) or a real election (Raft §5.2) with a fresh timeout;
    /// `transfer` marks an election a leader asked for (thesis §3.10).
    pub(super) fn campaign(&mut self, now: Instant, role: Role, transfer: bool) {
        let Some(next) = self.hard.term.next() else {
            // The terms are used up (see `Term::LAST`): campaigning would reuse this term and
            // overwrite a vote already cast in it.
            tracing::error!(node = %self.config.id, term = %self.hard.term, "no term left to campaign in");
            self.reset_election_timer(now);
            return;
        };
        if role == Role::Candidate {
            self.set_term(next);
            self.hard.voted_for = Some(self.config.id);
        }
        let term = next;
        self.set_role(role);
        self.votes.clear();
        self.reset_election_timer(now);
        let kind = match (role, transfer) {
            (Role::PreCandidate, _) => VoteKind::PreVote,
            (_, true) => VoteKind::Transfer,
            _ => VoteKind::Vote,
        };
        let request = VoteRequest { term, last_log: self.last_log, kind };
        for i in 0..self.peers.len() {
            self.send(self.peers[i], Message::VoteRequest(request));
        }
        self.try_win(now);
    }

    /// Thesis §3.10: the leader hands over; campaign at once, skipping pre-vote, with a vote
    /// request voters grant despite stickiness.
    pub(super) fn on_timeout_now(&mut self, now: Instant, from: NodeId, m: TimeoutNow) {
        if m.term < self.hard.term || self.role == Role::Leader || !self.voter {
            self.counters.stale += 1;
            return;
        }
        if m.term > self.hard.term {
            self.become_follower(now, m.term, None);
        }
        tracing::info!(node = %self.config.id, term = %self.hard.term, leader = %from, "leadership handed over: campaigning");
        self.set_leader(None);
        self.campaign(now, Role::Candidate, true);
    }

    pub(super) fn on_vote_request(&mut self, now: Instant, from: NodeId, m: VoteRequest) {
        let withheld = self.votes_withheld(now);
        let log_ok = m.last_log >= self.last_log;
        if m.kind == VoteKind::PreVote {
            // Thesis §9.6: agree only to a later term, an up-to-date log, and no live leader.
            let granted = m.term > self.hard.term && log_ok && !withheld;
            let term = if granted { m.term } else { self.hard.term };
            self.send(
                from,
                Message::VoteResponse(VoteResponse { term, granted, kind: VoteKind::PreVote }),
            );
            return;
        }
        let asked_by_leader = m.kind == VoteKind::Transfer;
        // Figure 2 grants when votedFor is candidateId: a retransmitted request from the
        // candidate this node already voted for in this term (a restart lost the answer) is
        // granted again. That changes nothing: the vote was cast, durably, before any window
        // that binds it now (§5.5: RPCs are idempotent).
        let regrant = m.term == self.hard.term && self.hard.voted_for == Some(from);
        if m.term >= self.hard.term
            && self.config.leader_stickiness
            && withheld
            && !asked_by_leader
            && !regrant
        {
            // Thesis §4.2.3: neither update the term nor grant the vote. A request of the
            // current term is refused too: the term may have been learned from a late message
            // after the leader's contact, with no vote cast in it yet.
            self.counters.sticky_refusals += 1;
            let reply = VoteResponse { term: self.hard.term, granted: false, kind: VoteKind::Vote };
            self.send(from, Message::VoteResponse(reply));
            return;
        }
        if m.term > self.hard.term {
            self.become_follower(now, m.term, None);
        }
        let granted =
            m.term == self.hard.term && self.hard.voted_for.is_none_or(|v| v == from) && log_ok;
        if m.term < self.hard.term {
            self.counters.stale += 1;
        }
        if granted {
            self.hard.voted_for = Some(from);
            self.reset_election_timer(now);
            self.events.push_back(Event::VoteGranted { term: self.hard.term, candidate: from });
        }
        let reply = VoteResponse { term: self.hard.term, granted, kind: VoteKind::Vote };
        self.send(from, Message::VoteResponse(reply));
    }

    pub(super) fn on_vote_response(&mut self, now: Instant, from: NodeId, m: VoteResponse) {
        // Only voters' answers count (thesis §4.1); a learner's vote changes nothing, but its
        // term is still learned below.
        let index = self.peer_index(from).filter(|&i| self.peer_voter[i]);
        let pre_vote = m.kind == VoteKind::PreVote;
        let expected = match (m.kind, self.role) {
            (VoteKind::PreVote, Role::PreCandidate) => self.hard.term.next().unwrap_or(Term::LAST),
            (VoteKind::Vote, Role::Candidate) => self.hard.term,
            _ if m.term > self.hard.term && !(pre_vote && m.granted) => {
                self.become_follower(now, m.term, None);
                return;
            }
            _ => {
                self.counters.stale += 1;
                return;
            }
        };
        if m.granted && m.term == expected {
            if let Some(i) = index {
                self.votes.record(i, true);
                self.try_win(now);
            }
        } else if !m.granted && m.term > self.hard.term {
            self.become_follower(now, m.term, None);
        } else if !m.granted && m.term == self.hard.term {
            if let Some(i) = index {
                self.votes.record(i, false);
            }
            if self.votes.refused() >= self.quorum
                && self.config.timer_rule == TimerRule::ResetOnStepDown
            {
                // etcd-raft: this campaign cannot win; wait as a follower with a fresh timer.
                // Under Raft's Figure 2 the candidate waits for its own timer instead (§5.2).
                self.become_follower(now, self.hard.term, None);
            }
        } else {
            self.counters.stale += 1;
        }
    }

    /// Moves on if the campaign has a majority: a pre-candidate starts the real election, a
    /// candidate becomes leader once its own vote is durable.
    pub(super) fn try_win(&mut self, now: Instant) {
        if self.votes.granted() < self.quorum {
            return;
        }
        match self.role {
            Role::PreCandidate => self.campaign(now, Role::Candidate, false),
            Role::Candidate if self.is_durable() => self.become_leader(now),
            _ => {}
        }
    }

    // ----- leader side ------------------------------------------------------------------------

    pub(super) fn become_leader(&mut self, now: Instant) {
        self.set_role(Role::Leader);
        self.set_leader(Some(self.config.id));
        self.lead.reset(now, self.acks_needed());
        self.detector.reset(&self.peers, now);
        self.shadows.stop();
        self.broadcast_heartbeat(now);
    }

    pub(super) fn broadcast_heartbeat(&mut self, now: Instant) {
        let round = self.lead.start_round(now, self.acks_needed());
        let heartbeat = Heartbeat {
            term: self.hard.term,
            leader_last_log: self.last_log,
            leader_commit: self.commit_index,
            round,
        };
        for i in 0..self.peers.len() {
            self.send(self.peers[i], Message::Heartbeat(heartbeat));
        }
        self.lead.next_heartbeat = now + self.config.heartbeat_interval;
        self.note_lease(now);
    }

    pub(super) fn on_heartbeat_response(
        &mut self,
        now: Instant,
        from: NodeId,
        m: HeartbeatResponse,
    ) {
        if m.term > self.hard.term {
            self.become_follower(now, m.term, None);
        } else if m.term < self.hard.term || self.role != Role::Leader || !m.success {
            self.counters.stale += 1;
        } else {
            let sent_at = self.lead.sent_at(m.round);
            self.record_ack(now, from, sent_at);
        }
    }

    pub(super) fn record_ack(&mut self, now: Instant, from: NodeId, sent_at: Option<Instant>) {
        let Some(index) = self.peer_index(from) else {
            return;
        };
        self.lead.ack(index, now, sent_at, self.acks_needed());
        self.lead.record_arrival(index, now, self.config.election_timeout_min);
        if let Some(Verdict::Recovered) = self.detector.heartbeat_received(from, now) {
            self.events.push_back(Event::PeerRecovered { peer: from });
        }
        self.note_lease(now);
    }

    pub(super) fn check_quorum_deadline(&self) -> Option<Instant> {
        if !self.config.check_quorum {
            return None;
        }
        self.lead.quorum_contact.map(|t| t + self.config.election_timeout_min)
    }

    /// Tracks whether the lease is held, reporting [`Event::LeaseExpired`] when it lapses.
    pub(super) fn note_lease(&mut self, now: Instant) {
        let held = self.lease_valid(now);
        if self.lead.lease_held && !held {
            self.events.push_back(Event::LeaseExpired { term: self.hard.term });
        }
        self.lead.lease_held = held;
    }

    // ----- state changes --------------------------------------------------------------------

    /// Becomes a follower of `term` (which may be the current one) following `leader`.
    ///
    /// A former leader draws a fresh timeout: it ran no election timer while it led. A former
    /// candidate keeps the timer it has under [`TimerRule::Figure2`] and draws a fresh one
    /// under [`TimerRule::ResetOnStepDown`].
    pub(super) fn become_follower(&mut self, now: Instant, term: Term, leader: Option<NodeId>) {
        let was = self.role;
        if was == Role::Leader && self.lead.lease_held {
            // A lease ends with the leadership: the host must stop serving lease reads now.
            self.lead.lease_held = false;
            self.events.push_back(Event::LeaseExpired { term: self.hard.term });
        }
        self.set_term(term);
        if was != Role::Follower {
            self.set_role(Role::Follower);
            if was == Role::Leader || self.config.timer_rule == TimerRule::ResetOnStepDown {
                self.reset_election_timer(now);
            }
        }
        self.set_leader(leader);
    }

    pub(super) fn set_term(&mut self, term: Term) {
        if term <= self.hard.term {
            return;
        }
        tracing::info!(node = %self.config.id, from = %self.hard.term, to = %term, "term changed");
        self.events.push_back(Event::TermChanged { from: self.hard.term, to: term });
        self.hard = HardState { term, voted_for: None };
        self.set_leader(None);
    }

    pub(super) fn set_role(&mut self, role: Role) {
        if role == self.role {
            return;
        }
        tracing::info!(node = %self.config.id, term = %self.hard.term, from = %self.role, to = %role, "role changed");
        self.events.push_back(Event::RoleChanged {
            term: self.hard.term,
            from: self.role,
            to: role,
        });
        if self.role == Role::Leader {
            self.lead.lease_held = false;
        }
        self.role = role;
    }

    pub(super) fn set_leader(&mut self, leader: Option<NodeId>) {
        if leader == self.leader {
            return;
        }
        self.leader = leader;
        self.leader_last_log = None;
        self.events.push_back(Event::LeaderChanged { term: self.hard.term, leader });
    }

    /// Draws a fresh timeout uniformly from `[min, max]` (Raft §5.2), counted from `now`.
    pub(super) fn reset_election_timer(&mut self, now: Instant) {
        self.draw_timeout(now, self.config.election_timeout_min, self.config.election_timeout_max);
    }

    /// Draws a fresh timeout uniformly from `[lo, hi]`, in whole `timer_granularity` steps
    /// from `lo` if there is a step, counted from `now`.
    pub(super) fn draw_timeout(&mut self, now: Instant, lo: Duration, hi: Duration) {
        let timeout = leader_detector::draw(&mut self.rng, lo, hi, self.config.timer_granularity);
        self.election_deadline = now + timeout;
        self.timer_started = now;
        self.timer_range = (lo, hi);
        if let Some(health) = self.local_health.as_mut() {
            health.timer_reset();
        }
    }

    pub(super) fn send(&mut self, to: NodeId, message: Message) {
        self.outbox.push_back(Envelope { from: self.config.id, to, message });
    }
}
