//! The state machine of one node: heartbeats, failure detection and leader election.
//!
//! `mod.rs` holds the node and its contract with the caller, in the order the docs list it
//! (construction, inputs, commands, membership, outputs, queries); `protocol.rs` holds the
//! protocol those inputs drive (time and validation, the follower's side, elections, the
//! leader's side, state changes).

use std::collections::VecDeque;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::arrivals::Arrivals;
use super::config::{Config, ConfigError, TimerRule};
use super::error::{InputError, TransferError};
use super::event::Event;
use super::follower_detector::{FailureDetector, TimeoutDetector, Verdict};
use super::leader::{LeaderState, Transfer};
use super::leader_detector::{self, LeaderDetector};
use super::local_health::LocalHealth;
use super::membership::{Membership, MembershipError};
use super::message::{
    Envelope, Heartbeat, HeartbeatResponse, Message, TimeoutNow, VoteKind, VoteRequest,
    VoteResponse,
};
use super::outcome::Contact;
use super::read_ticket::ReadTicket;
use super::shadow::Shadows;
use super::status::{Counters, PeerStatus, Status};
use super::time::{duration_nanos, Instant};
use super::types::{HardState, LogPosition, NodeId, Role, Term};
use super::votes::VoteTally;

mod fork;
mod protocol;

/// Most heartbeat rounds a leader remembers the send time of. Rounds older than the minimum
/// election timeout are useless for the lease anyway; this caps memory for odd configurations.
const MAX_ROUNDS_KEPT: usize = 4096;

/// One cluster member's heartbeat, failure-detection and election logic. See the
/// [module docs](crate::core) for the calling contract.
#[derive(Debug)]
pub struct Node {
    config: Config,
    /// Every member (voter or learner) but this one, sorted; a peer's index here is its index
    /// everywhere.
    peers: Vec<NodeId>,
    /// Whether each of `peers` votes.
    peer_voter: Vec<bool>,
    /// Whether this node votes: only voters campaign (thesis §4.2.1).
    voter: bool,
    /// Votes that make a majority of the voters.
    quorum: usize,
    lease: Duration,
    rng: ChaCha8Rng,

    hard: HardState,
    persisted: HardState,
    offered: Option<HardState>,

    role: Role,
    leader: Option<NodeId>,
    now: Instant,
    election_deadline: Instant,
    last_leader_contact: Option<Instant>,
    /// No vote and no pre-vote is granted before this instant (thesis §4.2.3, LogCabin's
    /// `withholdVotesUntil`): after the latest accepted leader contact, as long as the timeout
    /// drawn then could last at its shortest, capped at a minimum election timeout and never
    /// below the floor; after a restart, one minimum election timeout. Learning a higher term
    /// never moves it back; this is what the lease of §6.4.1 rests on (see `votes_withheld`).
    withhold_votes_until: Option<Instant>,
    votes: VoteTally,
    lead: LeaderState,
    detector: Box<dyn FailureDetector>,
    /// The follower's detector of the leader's failure, which sets the timeout after contact.
    leader_detector: Box<dyn LeaderDetector>,
    /// Other detectors that only report when they would have suspected the leader.
    shadows: Shadows,
    /// The node's view of its own stalls, when local health is on.
    local_health: Option<LocalHealth>,

    last_log: LogPosition,
    /// The current leader's last entry, from its latest heartbeat.
    leader_last_log: Option<LogPosition>,
    /// Gaps between the contacts of `arrivals_of`, the leadership (leader and term) last
    /// followed.
    leader_arrivals: Arrivals,
    arrivals_of: Option<(NodeId, Term)>,
    /// When the running election timeout was drawn, and the range it was drawn from.
    timer_started: Instant,
    timer_range: (Duration, Duration),
    commit_index: u64,
    leader_commit: u64,

    outbox: VecDeque<Envelope>,
    events: VecDeque<Event>,
    counters: Counters,
}

/// Construction: a fresh member or one restarted from its hard state and log position.
impl Node {
    /// A brand-new member at `now` with an empty log: term zero, no vote, follower, no leader
    /// known. A member that starts with entries (from a snapshot, or a log it kept) is a
    /// [`restart`](Self::restart).
    pub fn new(config: Config, now: Instant) -> Result<Node, ConfigError> {
        Node::restart(config, HardState::default(), LogPosition::default(), now)
    }

    /// A member coming back at `now` with the hard state it persisted before it stopped and
    /// the position of its log's last entry. Votes compare the log (Raft §5.4.1), so it is
    /// taken here: a node started without it would grant votes to shorter logs until the host
    /// called [`set_last_log`](Self::set_last_log).
    pub fn restart(
        config: Config,
        hard_state: HardState,
        last_log: LogPosition,
        now: Instant,
    ) -> Result<Node, ConfigError> {
        let detector = Box::new(TimeoutDetector::new(config.election_timeout_min));
        Node::with_detector(config, hard_state, last_log, detector, now)
    }

    /// Like [`restart`](Self::restart), with another detector for the leader's view of its
    /// followers.
    pub fn with_detector(
        config: Config,
        hard_state: HardState,
        last_log: LogPosition,
        detector: Box<dyn FailureDetector>,
        now: Instant,
    ) -> Result<Node, ConfigError> {
        config.validate()?;
        if hard_state.term > Term::LAST {
            return Err(ConfigError::TermOutOfRange(hard_state.term));
        }
        let membership = config.membership();
        let (peers, peer_voter) = peers_of(config.id, &membership);
        let voter = membership.is_voter(config.id);
        let rounds_kept = usize::try_from(
            duration_nanos(config.election_timeout_min) / duration_nanos(config.heartbeat_interval),
        )
        .unwrap_or(MAX_ROUNDS_KEPT)
        .saturating_add(2)
        .min(MAX_ROUNDS_KEPT);
        let seed = generator_seed(config.seed, hard_state, now);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(config.id.0);
        let mut node = Node {
            quorum: membership.quorum(),
            voter,
            lease: config.lease_duration(),
            rng,
            hard: hard_state,
            persisted: hard_state,
            offered: None,
            role: Role::Follower,
            leader: None,
            now,
            election_deadline: now,
            last_leader_contact: None,
            // Before a crash it may have acknowledged a leader whose lease still runs, and it no
            // longer remembers; a brand-new node (term zero) has acknowledged no one.
            withhold_votes_until: (hard_state.term > Term(0))
                .then(|| now + config.election_timeout_min),
            votes: VoteTally::new(peers.len()),
            lead: LeaderState::new(peer_voter.iter().copied(), rounds_kept),
            peer_voter,
            detector,
            leader_detector: leader_detector::build(
                config.leader_detector,
                config.election_timeout_min,
                config.election_timeout_max,
                config.timeout_floor(),
            ),
            shadows: Shadows::new(
                &config.shadow_detectors,
                (config.election_timeout_min, config.election_timeout_max),
                config.timeout_floor(),
                config.timer_granularity,
                (seed, config.id.0),
            ),
            local_health: config
                .local_pause_threshold
                .map(|t| LocalHealth::new(t, config.heartbeat_interval, now)),
            last_log,
            leader_last_log: None,
            leader_arrivals: Arrivals::default(),
            arrivals_of: None,
            timer_started: now,
            timer_range: (config.election_timeout_min, config.election_timeout_max),
            commit_index: 0,
            leader_commit: 0,
            outbox: VecDeque::with_capacity(2 * peers.len() + 4),
            events: VecDeque::with_capacity(16),
            counters: Counters::default(),
            peers,
            config,
        };
        node.reset_election_timer(now);
        Ok(node)
    }
}

/// Inputs, each carrying `now`: messages from peers, the timer, and what the host reports of
/// its own replication and log. After each, drain the outputs.
impl Node {
    /// Handles one message from a peer, received at `now`.
    ///
    /// Messages from non-members or addressed elsewhere are dropped, counted and reported as
    /// an error; the node's state is untouched. Stale and duplicate messages are harmless.
    pub fn handle_message(&mut self, now: Instant, envelope: Envelope) -> Result<(), InputError> {
        let now = self.observe(now);
        let from = envelope.from;
        self.check_sender(from, envelope.to)?;
        self.check_term(from, envelope.message.term())?;
        match envelope.message {
            Message::Heartbeat(m) => self.on_heartbeat(now, from, m),
            Message::HeartbeatResponse(m) => self.on_heartbeat_response(now, from, m),
            Message::VoteRequest(m) => self.on_vote_request(now, from, m),
            Message::VoteResponse(m) => self.on_vote_response(now, from, m),
            Message::TimeoutNow(m) => self.on_timeout_now(now, from, m),
        }
        Ok(())
    }

    /// Fires every timer due at `now`: the election timeout of a follower or candidate; the
    /// heartbeat round, check quorum, failure detector and lease of a leader; local health's
    /// check and the shadow detectors' deadlines. Calling it early or twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.observe(now);
        if self.role != Role::Leader {
            if now >= self.election_deadline {
                self.on_election_timeout(now);
            }
            return;
        }
        if let Some(deadline) = self.check_quorum_deadline() {
            if now >= deadline {
                self.events.push_back(Event::QuorumLost { term: self.hard.term });
                tracing::warn!(node = %self.config.id, term = %self.hard.term, "no majority heard within the minimum election timeout: stepping down (thesis §6.2)");
                self.become_follower(now, self.hard.term, None);
                return;
            }
        }
        if let Some(t) = self.lead.transfer.filter(|t| now >= t.deadline) {
            self.lead.transfer = None;
            self.events
                .push_back(Event::TransferAborted { term: self.hard.term, target: t.target });
        }
        let events = &mut self.events;
        self.detector.check(now, &mut |peer, verdict| {
            if let Verdict::Suspected(silence) = verdict {
                events.push_back(Event::PeerSuspected { peer, silence });
            }
        });
        self.note_lease(now);
        if now >= self.lead.next_heartbeat {
            self.broadcast_heartbeat(now);
        }
    }

    /// The host received its own AppendEntries (with entries) from `from` in `term`, and
    /// answers it itself: this counts as a heartbeat, so busy replication keeps followers quiet.
    /// Returns whether it was counted, and why not: a stale term, or another leader already
    /// known for the term (the host should then reject the AppendEntries too).
    pub fn leader_contact(
        &mut self,
        now: Instant,
        from: NodeId,
        term: Term,
        leader_commit: u64,
    ) -> Result<Contact, InputError> {
        let now = self.observe(now);
        self.check_sender(from, self.config.id)?;
        self.check_term(from, term)?;
        if term < self.hard.term {
            self.counters.stale += 1;
            return Ok(Contact::Stale { current: self.hard.term });
        }
        Ok(self.accept_leader(now, from, term, leader_commit))
    }

    /// As leader, the host's own AppendEntries sent at `sent_at` was acknowledged by `from` in
    /// `term`: this counts as a heartbeat acknowledgement for check quorum, the lease and the
    /// failure detector. Returns whether it was counted, and why not: a stale term, a later
    /// term (this node stepped down), or this node not leading.
    pub fn append_acknowledged(
        &mut self,
        now: Instant,
        from: NodeId,
        term: Term,
        sent_at: Instant,
    ) -> Result<Contact, InputError> {
        let now = self.observe(now);
        self.check_sender(from, self.config.id)?;
        self.check_term(from, term)?;
        if term > self.hard.term {
            self.become_follower(now, term, None);
            return Ok(Contact::SteppedDown { term });
        }
        if term < self.hard.term {
            self.counters.stale += 1;
            return Ok(Contact::Stale { current: self.hard.term });
        }
        if self.role != Role::Leader {
            self.counters.stale += 1;
            return Ok(Contact::NotLeading);
        }
        self.record_ack(now, from, Some(sent_at));
        Ok(Contact::Counted)
    }

    /// The host's log now ends at `last_log`. Votes compare it (Raft §5.4.1) and heartbeats
    /// carry it.
    pub fn set_last_log(&mut self, last_log: LogPosition) {
        self.last_log = last_log;
    }

    /// The host's commit index, carried in this node's heartbeats while it leads.
    pub fn set_commit_index(&mut self, index: u64) {
        self.commit_index = index;
    }

    /// The driver made `hard_state` durable. Messages held back for it are released.
    pub fn hard_state_persisted(&mut self, now: Instant, hard_state: HardState) {
        let now = self.observe(now);
        self.persisted = hard_state;
        if self.is_durable() {
            self.offered = None;
            self.try_win(now);
        }
    }
}

/// Commands: what the host asks of a leader.
impl Node {
    /// A read arrived at `now` (thesis §6.4): sends a heartbeat round at once, ahead of the
    /// interval, and returns the read's ticket, so the read waits one round trip, not up to
    /// an interval. `None` unless this node leads. Drain the outputs afterwards, as after an
    /// input.
    #[must_use = "the ticket is what majority_acked_since confirms"]
    pub fn heartbeat_now(&mut self, now: Instant) -> Option<ReadTicket> {
        let ticket = self.read_ticket(now)?;
        self.broadcast_heartbeat(ticket.since);
        Some(ticket)
    }

    /// A read arrived at `now` (thesis §6.4): its ticket, confirmed by the next regular round
    /// (or any sent after `now`) without sending one early. `None` unless this node leads.
    #[must_use = "the ticket is what majority_acked_since confirms"]
    pub fn read_ticket(&mut self, now: Instant) -> Option<ReadTicket> {
        let now = self.observe(now);
        (self.role == Role::Leader).then_some(ReadTicket { term: self.hard.term, since: now })
    }

    /// Starts handing leadership over to `target` (thesis §3.10), reported as
    /// [`Event::TransferStarted`]. The host then brings the target's log up to date, stops
    /// accepting new requests, and calls [`transfer_caught_up`](Self::transfer_caught_up).
    /// Abandoned with [`Event::TransferAborted`] if this node still leads an election timeout
    /// (the longest) later. A second call replaces the transfer under way.
    pub fn transfer_leadership(
        &mut self,
        now: Instant,
        target: NodeId,
    ) -> Result<(), TransferError> {
        let now = self.observe(now);
        if self.role != Role::Leader {
            return Err(TransferError::NotLeader);
        }
        if target == self.config.id {
            return Err(TransferError::ToItself(target));
        }
        let Some(index) = self.peer_index(target) else {
            return Err(TransferError::NotAMember(target));
        };
        if !self.peer_voter[index] {
            return Err(TransferError::NotAVoter(target));
        }
        let deadline = now + self.config.election_timeout_max;
        self.lead.transfer = Some(Transfer { target, deadline });
        self.events.push_back(Event::TransferStarted { term: self.hard.term, target });
        Ok(())
    }

    /// The host says the transfer's target has every entry: send it `TimeoutNow`, so it
    /// campaigns at once, and give up the lease for the rest of this term (voters will grant
    /// the target's vote despite stickiness, so the lease's promise no longer holds).
    pub fn transfer_caught_up(&mut self, now: Instant) -> Result<(), TransferError> {
        let _ = self.observe(now);
        if self.role != Role::Leader {
            return Err(TransferError::NotLeader);
        }
        let Some(Transfer { target, .. }) = self.lead.transfer else {
            return Err(TransferError::NoTransfer);
        };
        self.lead.lease_given_up = true;
        if std::mem::take(&mut self.lead.lease_held) {
            // A host tracking its lease from events must stop serving lease reads now.
            self.events.push_back(Event::LeaseExpired { term: self.hard.term });
        }
        self.send(target, Message::TimeoutNow(TimeoutNow { term: self.hard.term }));
        self.events.push_back(Event::TransferSent { term: self.hard.term, target });
        Ok(())
    }
}

/// Membership: what the host tells of configuration entries (thesis §4.1).
impl Node {
    /// The latest configuration in the host's log is now `membership` (thesis §4.1: a server
    /// uses the latest configuration in its log, committed or not). Call it when such an entry
    /// is appended (on the leader, before the entry is sent to anyone), when a follower's log
    /// gains one (by replication or a snapshot, however many changes it skips), and when an
    /// uncommitted one is removed by truncation (with the configuration before it).
    ///
    /// A leader appending a change is held to the single-server rule: at most one voter added
    /// or removed, else [`MembershipError::MoreThanOneVoterChanged`] and nothing changes. Two
    /// more rules are the host's, which the core cannot see: a leader appends a configuration
    /// only once the previous one is committed, and only once it has committed an entry of its
    /// own term (Ongaro's correction of the single-server algorithm, raft-dev 2015). With the
    /// three, any two memberships a leader could be elected under are adjacent, and their
    /// majorities intersect, which is what keeps elections and the lease safe
    /// (docs/architecture.md). A follower only checks that the membership is well formed: its
    /// log may legitimately skip changes.
    ///
    /// Learners receive heartbeats and count in no majority; a node not a voter does not
    /// campaign. A leader left out keeps leading, without counting itself, until
    /// [`membership_committed`](Self::membership_committed) (thesis §4.2.2).
    pub fn set_membership(
        &mut self,
        now: Instant,
        membership: Membership,
    ) -> Result<(), MembershipError> {
        let now = self.observe(now);
        if self.role == Role::Leader {
            membership.validate_change_from(&self.config.membership())?;
        } else {
            membership.validate()?;
        }
        let (peers, peer_voter) = peers_of(self.config.id, &membership);
        let old = std::mem::replace(&mut self.peers, peers);
        self.peer_voter = peer_voter;
        self.voter = membership.is_voter(self.config.id);
        self.quorum = membership.quorum();
        let layout = self.peers.iter().zip(&self.peer_voter);
        self.lead.set_peers(
            layout.map(|(p, &voter)| (voter, old.binary_search(p).ok())),
            now,
            self.acks_needed(),
        );
        self.votes = VoteTally::new(self.peers.len());
        self.detector.peers_changed(&self.peers, now);
        tracing::info!(node = %self.config.id, voters = ?membership.voters, learners = ?membership.learners, "membership changed");
        self.config.members = membership.voters;
        self.config.learners = membership.learners;
        match self.role {
            Role::PreCandidate | Role::Candidate => {
                // Its tally was of the old voters: wait for the timer to campaign afresh, or
                // not at all if it no longer votes.
                self.become_follower(now, self.hard.term, None);
            }
            Role::Leader => {
                self.note_lease(now);
                if let Some(t) = self.lead.transfer.filter(|t| !self.is_voting_peer(t.target)) {
                    // The target can no longer be elected.
                    self.lead.transfer = None;
                    self.events.push_back(Event::TransferAborted {
                        term: self.hard.term,
                        target: t.target,
                    });
                }
            }
            Role::Follower => {}
        }
        Ok(())
    }

    /// The configuration last given to [`set_membership`](Self::set_membership) is committed.
    /// A leader it left out steps down now (thesis §4.2.2); elsewhere this changes nothing.
    pub fn membership_committed(&mut self, now: Instant) {
        let now = self.observe(now);
        if self.role == Role::Leader && !self.voter {
            tracing::info!(node = %self.config.id, term = %self.hard.term, "removed from the voters: stepping down (thesis §4.2.2)");
            self.become_follower(now, self.hard.term, None);
        }
    }
}

/// Outputs, drained in this order after every input: hard state to persist, messages to send,
/// events for the host, and the next deadline.
impl Node {
    /// Hard state the driver must persist, then confirm with
    /// [`hard_state_persisted`](Self::hard_state_persisted). Each new hard state is handed out
    /// once. Until it is confirmed, [`poll_transmit`](Self::poll_transmit) returns `None`, so
    /// no vote or term can leave the node before it would survive a crash.
    #[must_use = "a hard state taken and dropped is never persisted, and every message waits for it"]
    pub fn take_hard_state(&mut self) -> Option<HardState> {
        if self.is_durable() || self.offered == Some(self.hard) {
            return None;
        }
        self.offered = Some(self.hard);
        Some(self.hard)
    }

    /// The next message to send, unless hard state is waiting to be persisted.
    #[must_use = "a message polled and dropped is never sent"]
    pub fn poll_transmit(&mut self) -> Option<Envelope> {
        if !self.is_durable() {
            return None;
        }
        self.outbox.pop_front()
    }

    /// The next event for the host.
    #[must_use = "an event polled and dropped is lost to the host"]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called. There is always a
    /// next deadline: a follower's or candidate's election timeout, a leader's next heartbeat
    /// round (or an earlier check); sooner, with local health on, the node's own periodic
    /// check, and any shadow detector's deadline.
    #[must_use = "without the deadline the host cannot call handle_timeout in time"]
    pub fn poll_timeout(&self) -> Instant {
        let own = [self.local_health.map(|h| h.next_check()), self.shadows.next_deadline()];
        if self.role != Role::Leader {
            return own.into_iter().flatten().fold(self.election_deadline, Instant::min);
        }
        let lease_end = self.lead.lease_end(self.lease).filter(|_| self.lead.lease_held);
        let transfer = self.lead.transfer.map(|t| t.deadline);
        [self.check_quorum_deadline(), self.detector.next_check(), lease_end, transfer]
            .into_iter()
            .chain(own)
            .flatten()
            .fold(self.lead.next_heartbeat, Instant::min)
    }
}

/// Queries: the node's state, read without changing it.
impl Node {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The validated configuration, its `members` and `learners` as the latest
    /// [`set_membership`](Self::set_membership) left them. A node removed from the membership
    /// is in neither list, so this configuration no longer validates: it is not one to restart
    /// the node as a member with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether this node is a voter of its current membership.
    pub fn is_voter(&self) -> bool {
        self.voter
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current term.
    pub fn term(&self) -> Term {
        self.hard.term
    }

    /// The leader this node follows (itself when leading), if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The current hard state, persisted or not.
    pub fn hard_state(&self) -> HardState {
        self.hard
    }

    /// The range the running election timeout was drawn from: `[election_timeout_min,
    /// election_timeout_max]`, or after a leader's contact the follower's detector's range,
    /// which may start later (never earlier).
    pub fn election_timeout_range(&self) -> (Duration, Duration) {
        self.timer_range
    }

    /// The instant at which this node will time out and campaign, unless it leads.
    pub fn election_deadline(&self) -> Option<Instant> {
        (self.role != Role::Leader).then_some(self.election_deadline)
    }

    /// How long this node's lease still lasts at `now` (thesis §6.4.1): `None` unless it leads,
    /// leases are enabled, and a majority acknowledged a round sent less than a lease ago. A
    /// `now` earlier than one an input already carried is taken as that one, as inputs do: an
    /// old instant must not revive a lease that has run out.
    pub fn lease_remaining(&self, now: Instant) -> Option<Duration> {
        if self.role != Role::Leader || !self.config.leader_lease || self.lead.lease_given_up {
            return None;
        }
        let now = now.max(self.now);
        let end = self.lead.lease_end(self.lease)?;
        (now < end).then(|| end - now)
    }

    /// Read index (thesis §6.4): whether this node still leads the term of `ticket` and a
    /// majority (itself included) has acknowledged a heartbeat round of that term sent at or
    /// after the ticket's instant. Keyed to the round's send time, not the acknowledgment's
    /// receipt: a majority that answered a round sent after the read arrived had elected no
    /// newer leader by then, so a read that saw the commit index of that instant may be
    /// served. The ticket comes from [`heartbeat_now`](Self::heartbeat_now) or
    /// [`read_ticket`](Self::read_ticket): a host cannot name an instant of its own.
    pub fn majority_acked_since(&self, ticket: ReadTicket) -> bool {
        self.role == Role::Leader
            && self.hard.term == ticket.term
            && self.lead.lease_start.is_some_and(|sent| sent >= ticket.since)
    }

    /// Whether this node may serve lease-based reads at `now`.
    pub fn lease_valid(&self, now: Instant) -> bool {
        self.lease_remaining(now).is_some()
    }

    /// A snapshot of the node at `now` (a `now` earlier than the latest input's is taken as
    /// that one, as inputs do).
    pub fn status(&self, now: Instant) -> Status {
        let now = now.max(self.now);
        let leading = self.role == Role::Leader;
        let peers = if leading {
            self.peers
                .iter()
                .enumerate()
                .map(|(i, &id)| PeerStatus {
                    id,
                    voter: self.peer_voter[i],
                    last_ack_age: self.lead.peer(i).last_ack_at.map(|t| now - t),
                    suspected: self.detector.is_suspected(id),
                    arrivals: self.lead.peer(i).arrivals.stats(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Status {
            id: self.config.id,
            role: self.role,
            voter: self.voter,
            term: self.hard.term,
            leader: self.leader,
            since_leader_contact: self.last_leader_contact.map(|t| now - t),
            leader_last_log: self.leader_last_log,
            leader_arrivals: self.leader_arrivals.stats().filter(|_| !leading),
            peers,
            majority_ack_age: self.lead.quorum_contact.filter(|_| leading).map(|t| now - t),
            lease_remaining: self.lease_remaining(now),
            transfer_target: self.lead.transfer.filter(|_| leading).map(|t| t.target),
            shadows: self.shadows.status(),
            counters: self.counters,
        }
    }
}

/// The seed of a node's generator: the configured one for a member that never persisted a hard
/// state; otherwise mixed with that hard state and the restart instant, so a member restarted
/// with an unchanged configuration does not replay the timeouts of its last incarnation. Both
/// are inputs, so the same restart still draws the same timeouts.
fn generator_seed(seed: u64, hard_state: HardState, now: Instant) -> u64 {
    if hard_state == HardState::default() {
        return seed;
    }
    let vote = hard_state.voted_for.map_or(0, |v| v.0.wrapping_add(1));
    [hard_state.term.0, vote, now.as_nanos()].into_iter().fold(seed, |x, v| splitmix64(x ^ v))
}

/// SplitMix64's finalizer: a bijection that spreads every input bit over the output.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The members of `membership` other than `id`, sorted, and whether each votes.
fn peers_of(id: NodeId, membership: &Membership) -> (Vec<NodeId>, Vec<bool>) {
    let all = membership.voters.iter().chain(&membership.learners);
    let mut peers: Vec<NodeId> = all.copied().filter(|&m| m != id).collect();
    peers.sort_unstable();
    let voter = peers.iter().map(|&p| membership.is_voter(p)).collect();
    (peers, voter)
}
