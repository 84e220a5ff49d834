//! Drives one `core::Node` with arbitrary inputs: messages from members and strangers, timer
//! firings (early, on time, late), host reports, commands, membership changes, crashes and
//! restarts, and time steps forwards and backwards. Whatever comes in, the node must not panic
//! and must keep its own promises:
//!
//! - its durable term never decreases, and a term never has two votes, across restarts too
//!   (Raft Figure 2, §5.2);
//! - nothing leaves it before the hard state it depends on is durable: while a hard state
//!   waits, `poll_transmit` returns nothing; every message's term is durable; every vote
//!   granted is the durable vote (the module docs' calling contract);
//! - a pre-vote request or answer changes neither term nor vote (thesis §9.6);
//! - only a leader holds a lease or a read ticket (thesis §6.4).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use raft_heartbeat::core::{
    Config, Envelope, HardState, Heartbeat, HeartbeatResponse, Instant, LogPosition, Membership,
    Message, Node, NodeId, Role, Term, TimeoutNow, TimerRule, VoteKind, VoteRequest,
    VoteResponse,
};

/// The node under test.
const ME: NodeId = NodeId(1);

#[derive(Arbitrary, Debug)]
struct Case {
    pre_vote: bool,
    check_quorum: bool,
    /// Stickiness, and the lease on top of it.
    sticky: u8,
    reset_on_step_down: bool,
    /// Node 4 joins as a learner.
    learner: bool,
    /// The node starts from this hard state (a restart) when not zero.
    start_term: u8,
    start_vote: u8,
    steps: Vec<Step>,
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// Time passes, in milliseconds.
    Advance(u16),
    /// The clock jumps back, in milliseconds.
    Back(u8),
    /// The timer fires now, whatever the deadline.
    Fire,
    /// The timer fires at its deadline.
    FireOnTime,
    /// The driver makes the pending hard state durable.
    Persist,
    /// The node crashes and restarts from its durable hard state.
    Restart { last_term: u8, last_index: u8 },
    Receive { from: u8, to_me: bool, term: u8, kind: Kind },
    LeaderContact { from: u8, term: u8, commit: u8 },
    AppendAcknowledged { from: u8, term: u8, ago_ms: u8 },
    SetLastLog { term: u8, index: u8 },
    SetCommitIndex(u8),
    HeartbeatNow,
    /// A read ticket taken now, checked now or at the next `Check`.
    ReadTicket,
    Check,
    Transfer(u8),
    TransferCaughtUp,
    SetMembership { voters: u8, learners: u8 },
    MembershipCommitted,
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Heartbeat { last_term: u8, last_index: u8, commit: u8, round: u8 },
    HeartbeatResponse { success: bool, round: u8 },
    VoteRequest { last_term: u8, last_index: u8, kind: u8 },
    VoteResponse { granted: bool, kind: u8 },
    TimeoutNow,
}

/// Ids 1 to 4 are members (4 may be a learner); 5 is a stranger.
fn id(raw: u8) -> NodeId {
    NodeId(u64::from(raw % 5) + 1)
}

fn vote_kind(raw: u8) -> VoteKind {
    match raw % 3 {
        0 => VoteKind::PreVote,
        1 => VoteKind::Vote,
        _ => VoteKind::Transfer,
    }
}

fn set(bits: u8) -> Vec<NodeId> {
    (0..5).filter(|b| bits & (1 << b) != 0).map(|b| NodeId(b + 1)).collect()
}

fn message(term: Term, kind: &Kind) -> Message {
    let pos = |t: u8, i: u8| LogPosition::new(Term(u64::from(t)), u64::from(i));
    match *kind {
        Kind::Heartbeat { last_term, last_index, commit, round } => Message::Heartbeat(Heartbeat {
            term,
            leader_last_log: pos(last_term, last_index),
            leader_commit: u64::from(commit),
            round: u64::from(round),
        }),
        Kind::HeartbeatResponse { success, round } => {
            Message::HeartbeatResponse(HeartbeatResponse { term, success, round: u64::from(round) })
        }
        Kind::VoteRequest { last_term, last_index, kind } => Message::VoteRequest(VoteRequest {
            term,
            last_log: pos(last_term, last_index),
            kind: vote_kind(kind),
        }),
        Kind::VoteResponse { granted, kind } => {
            Message::VoteResponse(VoteResponse { term, granted, kind: vote_kind(kind) })
        }
        Kind::TimeoutNow => Message::TimeoutNow(TimeoutNow { term }),
    }
}

/// What the harness knows of the node, to check its promises.
struct Harness {
    config: Config,
    node: Node,
    now: Instant,
    /// What the driver last made durable: all a restart gets back.
    durable: HardState,
    /// The hard state taken and not yet durable.
    pending: Option<HardState>,
    /// The vote each term carried, as made durable or sent: one per term, ever. (A vote only
    /// in memory is lost with a crash, and may be cast again otherwise.)
    votes: Vec<(Term, NodeId)>,
    ticket: Option<raft_heartbeat::core::ReadTicket>,
}

impl Harness {
    fn record_vote(&mut self, hard: HardState) {
        if let Some(v) = hard.voted_for {
            match self.votes.iter().find(|(t, _)| *t == hard.term) {
                Some(&(_, earlier)) => {
                    assert_eq!(earlier, v, "two votes in {:?}: {earlier:?} and {v:?}", hard.term)
                }
                None => self.votes.push((hard.term, v)),
            }
        }
    }

    /// Drains the outputs in the documented order and checks each against what is durable.
    fn drain(&mut self) {
        if let Some(hard) = self.node.take_hard_state() {
            assert!(hard.term >= self.durable.term, "a hard state below the durable term");
            self.pending = Some(hard);
        }
        if self.pending.is_some_and(|p| p != self.durable) {
            assert_eq!(self.node.poll_transmit(), None, "a message left before its hard state was durable");
        }
        while let Some(Envelope { from, to, message }) = self.node.poll_transmit() {
            assert_eq!(from, ME, "a message sent under another id");
            assert_ne!(to, ME, "a message to itself");
            // A pre-vote asks about the next term and its answer echoes the asker's: neither
            // is a term this node has entered.
            let entered = match message {
                Message::VoteRequest(VoteRequest { kind: VoteKind::PreVote, term, .. }) => {
                    Term(term.0.saturating_sub(1))
                }
                Message::VoteResponse(VoteResponse { kind: VoteKind::PreVote, .. }) => Term(0),
                _ => message.term(),
            };
            assert!(entered <= self.durable.term, "{message:?} carries a term not yet durable");
            if let Message::VoteResponse(VoteResponse { granted: true, kind, term }) = message {
                // Granted in its term, the vote must be durable; a later durable term also
                // keeps the node from voting again in that one.
                if kind != VoteKind::PreVote {
                    self.record_vote(HardState { term, voted_for: Some(to) });
                    assert!(
                        self.durable.term > term
                            || self.durable == HardState { term, voted_for: Some(to) },
                        "a vote for {to:?} in {term:?} granted while only {:?} was durable",
                        self.durable
                    );
                }
            }
        }
        while self.node.poll_event().is_some() {}
        let _ = self.node.poll_timeout();
        if self.node.lease_valid(self.now) {
            assert_eq!(self.node.role(), Role::Leader, "a lease held by a non-leader");
        }
    }

    fn step(&mut self, step: &Step) {
        let term = |t: u8| Term(u64::from(t));
        let before = self.node.hard_state();
        match *step {
            Step::Advance(ms) => self.now = self.now + Duration::from_millis(u64::from(ms)),
            Step::Back(ms) => self.now = self.now - Duration::from_millis(u64::from(ms)),
            Step::Fire => self.node.handle_timeout(self.now),
            Step::FireOnTime => {
                self.now = self.now.max(self.node.poll_timeout());
                self.node.handle_timeout(self.now)
            }
            Step::Persist => {
                if let Some(hard) = self.pending.take() {
                    self.durable = hard;
                    self.record_vote(hard);
                    self.node.hard_state_persisted(self.now, hard);
                }
            }
            Step::Restart { last_term, last_index } => {
                let last = LogPosition::new(term(last_term), u64::from(last_index));
                self.pending = None;
                self.ticket = None;
                self.node = Node::restart(self.config.clone(), self.durable, last, self.now)
                    .expect("the harness's config is valid");
            }
            Step::Receive { from, to_me, term: t, ref kind } => {
                let message = message(term(t), kind);
                let to = if to_me { ME } else { NodeId(2) };
                let _ = self.node.handle_message(self.now, Envelope { from: id(from), to, message });
                // A pre-vote request, or a grant (which echoes the asker's next term), never
                // changes the receiver's term or vote (§9.6); a refusal carries the refuser's
                // own term, which Figure 2 adopts like any other.
                let pre_vote = matches!(
                    message,
                    Message::VoteRequest(VoteRequest { kind: VoteKind::PreVote, .. })
                        | Message::VoteResponse(VoteResponse {
                            kind: VoteKind::PreVote,
                            granted: true,
                            ..
                        })
                );
                if pre_vote && message.term() > before.term {
                    // A grant of the node's own pre-campaign may end it in a real campaign.
                    let after = self.node.hard_state();
                    assert!(
                        after == before || self.node.role() == Role::Candidate,
                        "a pre-vote message changed {before:?} to {after:?}"
                    );
                }
            }
            Step::LeaderContact { from, term: t, commit } => {
                let _ = self.node.leader_contact(self.now, id(from), term(t), u64::from(commit));
            }
            Step::AppendAcknowledged { from, term: t, ago_ms } => {
                let sent = self.now - Duration::from_millis(u64::from(ago_ms));
                let _ = self.node.append_acknowledged(self.now, id(from), term(t), sent);
            }
            Step::SetLastLog { term: t, index } => {
                self.node.set_last_log(LogPosition::new(term(t), u64::from(index)))
            }
            Step::SetCommitIndex(i) => self.node.set_commit_index(u64::from(i)),
            Step::HeartbeatNow => {
                let ticket = self.node.heartbeat_now(self.now);
                assert_eq!(ticket.is_some(), self.node.role() == Role::Leader);
                self.ticket = ticket.or(self.ticket);
            }
            Step::ReadTicket => {
                let ticket = self.node.read_ticket(self.now);
                assert_eq!(ticket.is_some(), self.node.role() == Role::Leader);
                self.ticket = ticket.or(self.ticket);
            }
            Step::Check => {
                if let Some(ticket) = self.ticket {
                    if self.node.majority_acked_since(ticket) {
                        assert_eq!(self.node.role(), Role::Leader, "a read confirmed by a non-leader");
                        assert_eq!(ticket.term(), self.node.term(), "a read of an old term confirmed");
                    }
                }
            }
            Step::Transfer(target) => {
                let _ = self.node.transfer_leadership(self.now, id(target));
            }
            Step::TransferCaughtUp => {
                let _ = self.node.transfer_caught_up(self.now);
            }
            Step::SetMembership { voters, learners } => {
                let _ = self.node.set_membership(self.now, Membership::new(set(voters), set(learners)));
            }
            Step::MembershipCommitted => self.node.membership_committed(self.now),
        }
        self.drain();
        let after = self.node.hard_state();
        assert!(after.term >= self.durable.term, "the term went below the durable {:?}", self.durable.term);
    }
}

fuzz_target!(|case: Case| {
    let members = [NodeId(1), NodeId(2), NodeId(3)];
    let mut config = Config::new(ME, members);
    if case.learner {
        config.learners = vec![NodeId(4)];
    }
    config.heartbeat_interval = Duration::from_millis(50);
    config.election_timeout_min = Duration::from_millis(150);
    config.election_timeout_max = Duration::from_millis(300);
    config.pre_vote = case.pre_vote;
    config.check_quorum = case.check_quorum;
    config.leader_stickiness = case.sticky % 3 != 0;
    config.leader_lease = case.sticky % 3 == 2;
    config.timer_rule =
        if case.reset_on_step_down { TimerRule::ResetOnStepDown } else { TimerRule::Figure2 };
    config.seed = u64::from(case.start_vote);
    let start = Instant::from_millis(1_000);
    let durable = HardState {
        term: Term(u64::from(case.start_term)),
        voted_for: (case.start_term > 0 && case.start_vote % 4 != 0).then(|| id(case.start_vote)),
    };
    let node = Node::restart(config.clone(), durable, LogPosition::default(), start)
        .expect("the harness's config is valid");
    let mut harness =
        Harness { config, node, now: start, durable, pending: None, votes: Vec::new(), ticket: None };
    harness.record_vote(durable);
    harness.drain();
    for step in case.steps.iter().take(512) {
        harness.step(step);
    }
});
