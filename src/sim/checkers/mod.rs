//! The simulator's checkers: every property a simulated run must keep, one file each, checked
//! as events happen. Each checker owns its state and its one rule; the engine only reports
//! what happened through [`Checkers`], which keeps the first violation. Most have a unit test
//! that feeds them a violating history beside them, and docs/simulation.md says which have been
//! shown to catch a mistake made by hand in the core under the swarm.
//!
//! | invariant | file | the rule | source |
//! |---|---|---|---|
//! | election safety | `election_safety.rs` | at most one leader per term | Raft §5.2 |
//! | lease safety | `lease_safety.rs` | no two nodes hold a valid lease at one real instant | thesis §6.4.1 |
//! | no early timeout | `no_early_timeout.rs` | no timeout sooner than the floor after a reset the timer rule explains | Raft §5.2 |
//! | detection bound | `detection_bound.rs` | every follower times out or is reset within the top of its range; a node never asks to be woken at a deadline it passed | Raft §5.2 |
//! | randomized timeouts | `randomized_timeouts.rs` | every draw in its range, the draws uniform | Raft §5.2, §9.3 |
//! | check quorum | `check_quorum.rs` | no leader still leads at a timer firing a minimum election timeout after it last heard a majority of its voters | thesis §6.2 |
//! | leader stickiness | `leader_stickiness.rs` | no pre-vote (nor, with stickiness, vote) granted within the floor of a heartbeat | thesis §4.2.3, §9.6 |
//! | pre-vote | `pre_vote.rs` | becoming a pre-candidate, or handling a pre-vote request or grant, changes no term and no vote (but for the grant that starts the election) | thesis §9.6 |
//! | election restriction | `election_restriction.rs` | no leader's log behind a voter's that elected it | Raft §5.4.1 |
//! | liveness | `liveness.rs` | a leader known to a majority within the bound after the last fault | Raft §5.2 |
//! | read index | `read_index.rs` | no read confirmed once a later term's leader was elected | thesis §6.4 |
//! | membership change | `membership_change.rs` | every change accepted by every core, in order | thesis §4.1 |
//! | local health | `local_health.rs` | a timeout deferred only after the node's own stall, once | Lifeguard; CASSANDRA-9183 |
//! | user invariant | `user.rs` | the embedder's own, over a read-only view | your `Harness` |
//!
//! `timer_watch.rs` is no checker: it is each node's timer as the timer rule explains it, the
//! model the three timer checkers judge by.

mod check_quorum;
mod detection_bound;
mod election_restriction;
mod election_safety;
mod leader_stickiness;
mod lease_safety;
mod liveness;
mod local_health;
mod membership_change;
mod no_early_timeout;
mod pre_vote;
mod randomized_timeouts;
mod read_index;
mod timer_watch;
mod user;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use self::check_quorum::CheckQuorum;
use self::election_restriction::ElectionRestriction;
use self::election_safety::ElectionSafety;
use self::leader_stickiness::LeaderStickiness;
use self::liveness::Liveness;
use self::local_health::LocalHealth;
use self::randomized_timeouts::Draws;
use self::read_index::ReadIndex;
use self::timer_watch::TimerWatch;
use self::user::UserInvariants;
use super::harness::Harness;
use crate::core::{
    Config, HardState, Instant, LogPosition, MembershipError, Node, NodeId, ReadTicket, Role, Term,
};

pub(crate) use self::pre_vote::PreVoteStep;
pub(crate) use self::user::MAX_DISPATCHES;

/// The invariants the simulator checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// At most one leader per term (Raft §5.2).
    ElectionSafety,
    /// No two nodes hold a valid lease at the same real time (thesis §6.4.1).
    LeaseSafety,
    /// No node times out less than the timeout floor (`election_timeout_min` unless
    /// `election_timeout_floor` is set; by its own clock) after the latest
    /// reset of its timer that the timer rule explains (an accepted heartbeat, a granted vote,
    /// a campaign, a step-down).
    NoEarlyTimeout,
    /// Every live follower or candidate times out, or is reset again, within
    /// `election_timeout_max / clock_rate` (plus pauses, processing and timer lateness) of the
    /// latest reset the timer rule explains: so after a leader crashes, its followers notice.
    DetectionBound,
    /// Every timeout drawn at a reset lies in the range it was drawn from (`[min, max]`, or a
    /// detector's range as wide, starting no earlier than the floor), and over a trial the draws are
    /// uniform (Dvoretzky–Kiefer–Wolfowitz bound, α = 10⁻⁹).
    RandomizedTimeouts,
    /// No node grants a pre-vote, nor with leader stickiness a vote, within the timeout floor
    /// (on its own clock) of accepting a leader's heartbeat, whatever it
    /// learned since (thesis §4.2.3, §9.6): the window the leader lease relies on.
    LeaderStickiness,
    /// With check quorum on, a leader steps down once a minimum election timeout passes on
    /// its clock without a successful heartbeat round to a majority of its voters (learners
    /// count in none; thesis §6.2): no timer firing at or past that instant finds it leading.
    CheckQuorum,
    /// Becoming a pre-candidate, or handling a pre-vote request or grant, changes no node's
    /// term or vote, but for the grant that completes a majority and starts the election (one
    /// term up, a vote for itself): so a node that cannot win disrupts nobody (thesis §9.6).
    PreVote,
    /// Every new leader's log is at least as up to date as that of each voter that granted it
    /// its vote (Raft §5.4.1).
    ElectionRestriction,
    /// Once faults stop and a majority is connected, a leader is known to a majority within the
    /// scenario's bound.
    Liveness,
    /// A read index (thesis §6.4) is confirmed only if no leader of a later term had been
    /// elected when the read was asked: a majority acknowledged a round sent after it.
    ReadIndex,
    /// Every membership change reaches each node as one its core accepts, in log order: a
    /// leader is never more than one change behind the latest (the election restriction keeps
    /// a node lacking a committed change from winning, thesis §4.1), so it never meets a
    /// change of two voters at once.
    MembershipChange,
    /// A node defers an election timeout for its own stall (local health) only after an input
    /// reached it while its timer was overdue by more than `local_pause_threshold` on its own
    /// clock (it was paused, or its timer starved) since the timer was armed, and only once
    /// until the timer is reset otherwise.
    LocalHealth,
    /// An invariant of the embedder's (`sim::Harness`), named in the violation's detail.
    User,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invariant::ElectionSafety => "election safety",
            Invariant::LeaseSafety => "lease safety",
            Invariant::NoEarlyTimeout => "no early timeout",
            Invariant::DetectionBound => "detection bound",
            Invariant::RandomizedTimeouts => "randomized timeouts",
            Invariant::CheckQuorum => "check quorum",
            Invariant::PreVote => "pre-vote",
            Invariant::ElectionRestriction => "election restriction",
            Invariant::LeaderStickiness => "leader stickiness",
            Invariant::Liveness => "liveness",
            Invariant::ReadIndex => "read index",
            Invariant::MembershipChange => "membership change",
            Invariant::LocalHealth => "local health",
            Invariant::User => "user invariant",
        })
    }
}

/// A broken invariant: which, when, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant.
    pub invariant: Invariant,
    /// When (simulated real time).
    pub at: Instant,
    /// What was seen.
    pub detail: String,
}

/// Every checker of one trial: what the engine reports to, and the first violation.
#[derive(Debug)]
pub(crate) struct Checkers {
    election_safety: ElectionSafety,
    election_restriction: ElectionRestriction,
    stickiness: LeaderStickiness,
    check_quorum: CheckQuorum,
    /// Each node's timer as the rule explains it, by index.
    timers: Vec<TimerWatch>,
    draws: Draws,
    local_health: LocalHealth,
    liveness: Liveness,
    read_index: ReadIndex,
    /// Taken out while it runs over a view of the engine, and put back.
    user: UserInvariants,
    /// The shortest silence any node may time out after.
    floor: Duration,
    first: Option<Violation>,
}

/// The id of the node at the engine's index `i` (nodes are numbered from 1).
fn id_of(i: usize) -> NodeId {
    NodeId(i as u64 + 1)
}

impl Checkers {
    /// The checkers of a trial of `nodes` nodes timed by `timing`, with leader stickiness on
    /// votes if `stickiness`, and `harness`'s invariants.
    pub(crate) fn new(nodes: usize, timing: &Config, stickiness: bool, harness: &Harness) -> Self {
        let floor = timing.timeout_floor();
        Checkers {
            election_safety: ElectionSafety::default(),
            election_restriction: ElectionRestriction::default(),
            stickiness: LeaderStickiness::new(nodes, floor, stickiness),
            check_quorum: CheckQuorum::new(nodes, timing.election_timeout_min, timing.check_quorum),
            timers: vec![TimerWatch::default(); nodes],
            draws: Draws::new(
                timing.election_timeout_min,
                timing.election_timeout_max,
                timing.timer_granularity,
            )
            .with_floor(floor),
            local_health: LocalHealth::new(nodes),
            liveness: Liveness::default(),
            read_index: ReadIndex::default(),
            user: UserInvariants::new(harness),
            floor,
            first: None,
        }
    }

    /// Keeps `v` if it is the first violation of the trial.
    pub(crate) fn report(&mut self, v: Result<(), Violation>) {
        if let Err(v) = v {
            self.first.get_or_insert(v);
        }
    }

    /// The first violation, if any.
    pub(crate) fn violation(&self) -> Option<&Violation> {
        self.first.as_ref()
    }

    /// The first violation, taken at the trial's end.
    pub(crate) fn take_violation(&mut self) -> Option<Violation> {
        self.first.take()
    }

    /// Node `i` became leader of `term` at `at` (`local` on its clock), its log ending at
    /// `log`, its voters `voters`.
    pub(crate) fn leader_elected(
        &mut self,
        at: Instant,
        i: usize,
        term: Term,
        log: LogPosition,
        local: Instant,
        voters: &[NodeId],
    ) {
        self.read_index.elected(term, at);
        self.check_quorum.elected(i, term, local, voters);
        let safety = self.election_safety.on_leader(at, id_of(i), term);
        self.report(safety);
        let restriction = self.election_restriction.on_leader(at, id_of(i), term, log);
        self.report(restriction);
    }

    /// Node `i`, its log ending at `log`, granted `candidate` its vote in `term`, at `local`
    /// on its clock (real time `at`).
    pub(crate) fn vote_granted(
        &mut self,
        at: Instant,
        i: usize,
        term: Term,
        log: LogPosition,
        candidate: NodeId,
        local: Instant,
    ) {
        let window = self.stickiness.vote_granted(at, i, id_of(i), candidate, local);
        self.report(window);
        self.election_restriction.on_grant(term, id_of(i), log, candidate);
    }

    /// Node `i` accepted a leader's heartbeat, or its host counted contact, at `local`.
    pub(crate) fn leader_contact(&mut self, i: usize, local: Instant) {
        self.stickiness.contact(i, local);
    }

    /// Node `i` restarts with no term ever made durable: it acknowledged no heartbeat.
    pub(crate) fn forget_contact(&mut self, i: usize) {
        self.stickiness.forget_contact(i);
    }

    /// Node `i` is handed a message: a vote request the stickiness window does not bind if
    /// `exempt_vote` (a leadership transfer's, or a retransmission from the candidate it
    /// already voted for in that term), a pre-vote request from `pre_vote` at `local` on its
    /// clock.
    pub(crate) fn message_in(
        &mut self,
        i: usize,
        exempt_vote: bool,
        pre_vote: Option<NodeId>,
        local: Instant,
    ) {
        self.stickiness.handling(i, exempt_vote);
        if let Some(candidate) = pre_vote {
            self.stickiness.pre_vote_asked(i, candidate, local);
        }
    }

    /// Node `i` refused the pre-vote request it was just handed: it will not be answered.
    pub(crate) fn pre_vote_unanswered(&mut self, i: usize) {
        self.stickiness.pre_vote_unanswered(i);
    }

    /// Node `i` answers `candidate`'s pre-vote on the wire at `at`.
    pub(crate) fn pre_vote_answered(
        &mut self,
        at: Instant,
        i: usize,
        candidate: NodeId,
        granted: bool,
    ) {
        let window = self.stickiness.pre_vote_answered(at, i, id_of(i), candidate, granted);
        self.report(window);
    }

    /// Node `i` is handed a successful answer of `term` from `from` at `local` on its clock:
    /// a heartbeat response, or its host's acknowledgement of its own AppendEntries.
    pub(crate) fn answered(&mut self, i: usize, from: NodeId, term: Term, local: Instant) {
        self.check_quorum.answered(i, from, term, local);
    }

    /// Node `i`'s voters became `voters` at `local` on its clock.
    pub(crate) fn voters_changed(&mut self, i: usize, local: Instant, voters: &[NodeId]) {
        self.check_quorum.voters_changed(i, local, voters);
    }

    /// Node `i` (`node`, if up) handled a timer firing at `local` on its clock.
    pub(crate) fn timer_fired(
        &mut self,
        at: Instant,
        i: usize,
        node: Option<&Node>,
        local: Instant,
    ) {
        let Some(node) = node else { return };
        let wake = detection_bound::check_next_wake(at, id_of(i), local, node.poll_timeout());
        self.report(wake);
        let leads = (node.role() == Role::Leader).then(|| node.term());
        let voters = &node.config().members;
        let checked = self.check_quorum.after_timer(at, i, id_of(i), local, leads, voters);
        self.report(checked);
    }

    /// Node `i` (now `node`), whose hard state was `before`, handled `step` of a pre-vote
    /// round.
    pub(crate) fn pre_vote_step(
        &mut self,
        at: Instant,
        i: usize,
        step: PreVoteStep,
        before: HardState,
        node: &Node,
    ) {
        let checked = pre_vote::check(at, id_of(i), step, before, node.hard_state(), node.role());
        self.report(checked);
    }

    /// Node `i` crashed.
    pub(crate) fn crashed(&mut self, i: usize) {
        self.check_quorum.crashed(i);
        self.timers[i].stop();
        self.stickiness.crashed(i);
    }

    /// Node `i` runs no election timer now (it leads).
    pub(crate) fn timer_stopped(&mut self, i: usize) {
        self.timers[i].stop();
    }

    /// Node `i`'s timer was reset by the rule at `at`, `local` on its clock, and must fire by
    /// `bound`; it drew `drawn` from a range starting at `from`.
    pub(crate) fn timer_reset(
        &mut self,
        at: Instant,
        i: usize,
        local: Instant,
        bound: Instant,
        drawn: Duration,
        from: Duration,
    ) {
        self.timers[i].reset(at, local, bound);
        let draw = self.draws.record(at, id_of(i), drawn, from);
        self.report(draw);
    }

    /// Node `i` is paused: its timer may fire as late as `until`.
    pub(crate) fn timer_paused(&mut self, i: usize, until: Instant) {
        self.timers[i].pause(until);
    }

    /// Node `i`'s clock changed rate: the latest reset, if any, on its clock, so the engine
    /// can convert its bound again.
    pub(crate) fn timer_armed_local(&self, i: usize) -> Option<Instant> {
        self.timers[i].armed_local
    }

    /// Node `i`'s timer must now fire by `bound` (its clock changed rate).
    pub(crate) fn timer_rebound(&mut self, i: usize, bound: Instant) {
        self.timers[i].bound = Some(bound);
    }

    /// An input found node `i` stalled at `at` (local health).
    pub(crate) fn stall_seen(&mut self, i: usize, at: Instant) {
        self.local_health.stall_seen(i, at);
    }

    /// Node `i` timed out at `local` on its clock.
    pub(crate) fn timed_out(&mut self, at: Instant, i: usize, local: Instant) {
        let fire = no_early_timeout::check_fire(&self.timers[i], at, id_of(i), local, self.floor);
        self.report(fire);
    }

    /// Node `i` deferred its timeout at `local` on its clock: its next reset is the redraw.
    pub(crate) fn deferred(&mut self, at: Instant, i: usize, local: Instant) {
        let w = &self.timers[i];
        let checked = no_early_timeout::check_fire(w, at, id_of(i), local, self.floor)
            .and_then(|()| self.local_health.check_deferral(w, at, i, id_of(i)));
        self.report(checked);
        self.timers[i].deferral_next = true;
    }

    /// Node `i` (now `node`) may have confirmed reads.
    pub(crate) fn settle_reads(&mut self, at: Instant, i: usize, node: Option<&Node>) {
        let settled = self.read_index.settle(at, i, id_of(i), node).map_or(Ok(()), Err);
        self.report(settled);
    }

    /// Node `i` refused membership change `change` of `latest` at `at`.
    pub(crate) fn membership_refused(
        &mut self,
        at: Instant,
        i: usize,
        change: usize,
        latest: usize,
        error: &MembershipError,
    ) {
        self.report(Err(membership_change::refused(at, id_of(i), change, latest, error)));
    }

    /// The embedder's hosts handled more than [`MAX_DISPATCHES`] node events for one engine
    /// event.
    pub(crate) fn endless_dispatch(&mut self, at: Instant) {
        self.report(Err(user::endless_dispatch(at)));
    }

    /// Whether the embedder's invariants need a view of the engine: there are some, and
    /// nothing broke yet.
    pub(crate) fn wants_user_view(&self) -> bool {
        !self.user.is_empty() && self.first.is_none()
    }

    /// The embedder's invariants, to run over a view of the engine that holds them (a view
    /// cannot borrow the engine while they are in it); handed back with
    /// [`user_checked`](Self::user_checked).
    pub(crate) fn take_user(&mut self) -> UserInvariants {
        std::mem::take(&mut self.user)
    }

    /// Puts the embedder's invariants back with what they found.
    pub(crate) fn user_checked(&mut self, user: UserInvariants, checked: Result<(), Violation>) {
        self.user = user;
        self.report(checked);
    }

    /// A leader is owed from `quiet_at`, when the last fault ends.
    pub(crate) fn liveness_from(&mut self, quiet_at: Instant) {
        self.liveness.arm(quiet_at);
    }

    /// Whether a leader is still owed (the trial may not end early while one is).
    pub(crate) fn liveness_pending(&self) -> bool {
        self.liveness.pending()
    }

    /// Whether a leader known to a majority at `now` would settle what is owed (the engine
    /// asks for one only then: finding it costs a pass over the nodes).
    pub(crate) fn liveness_owed_at(&self, now: Instant) -> bool {
        self.liveness.owed_at(now)
    }

    /// A leader is known to a majority after the last fault: nothing is owed any more.
    pub(crate) fn liveness_settled(&mut self) {
        self.liveness.settled();
    }

    /// The liveness deadline `bound` after the last fault passed at `now`. `judged`: `None`
    /// when no majority is connected (nothing is owed then), else the leader a majority knows.
    pub(crate) fn liveness_deadline(
        &mut self,
        now: Instant,
        bound: Duration,
        judged: Option<Option<(NodeId, Term)>>,
    ) {
        if !self.liveness.deadline_reached() {
            return;
        }
        if let Some(leader) = judged {
            self.report(liveness::check(now, leader, bound));
        }
    }

    /// Node `i` was asked a read at `at` and gave it `ticket`.
    pub(crate) fn read_asked(&mut self, at: Instant, i: usize, ticket: ReadTicket) {
        self.read_index.asked(i, ticket, at);
    }

    /// After every event with no violation yet: at most one valid lease (`holders`: up to two
    /// nodes that hold one), then every timer within its bound; a broken lease is reported
    /// first.
    pub(crate) fn after_event(&mut self, now: Instant, holders: Option<&[(NodeId, Term)]>) {
        let leases = holders.map_or(Ok(()), |h| lease_safety::check_leases(now, h));
        let bound = leases.and_then(|()| {
            let late = self.timers.iter().position(|w| detection_bound::overdue(w, now));
            late.map_or(Ok(()), |i| detection_bound::check_bound(&self.timers[i], now, id_of(i)))
        });
        self.report(bound);
    }

    /// At the trial's end: the draws' uniformity, unless something broke first.
    pub(crate) fn at_end(&mut self, now: Instant) {
        if self.first.is_none() {
            let uniform = self.draws.check(now);
            self.report(uniform);
        }
    }
}
