//! The discrete-event engine: one trial of a scenario, the real `core` nodes driven under
//! virtual time. Events are ordered by (time, insertion sequence), so ties are deterministic;
//! the clock jumps from one event to the next.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::invariants::{self, ElectionRestriction, ElectionSafety, Violation};
use super::latency::{unit, Sampler};
use super::metrics::TrialResult;
use super::network::{wire_size, Fate, Network};
use super::queue::EventQueue;
use super::rng::{rng_for, seed_for, Stream};
use super::scenario::{ms, Action, CrashPoint, RoleTarget, Scenario, Side, Target};
use super::timers::{Draws, TimerWatch};
use super::trace::{DropReason, Fault, Record, TraceSink};
use crate::core::{
    Envelope, Event, HardState, Instant, LogPosition, Message, Node, NodeId, Role, Term, TimerRule,
};

/// Default index of every node's last log entry.
const DEFAULT_LOG_INDEX: u64 = 100;

#[derive(Debug)]
enum Ev {
    Deliver(Envelope),
    Timer { node: usize, generation: u64 },
    Persisted { node: usize, incarnation: u32, state: HardState },
    Step(usize),
    Crash { node: usize, restart_after: Option<Duration> },
    Restart { node: usize },
    Disarm { id: u64 },
    Resume { node: usize, incarnation: u32 },
    Bulk { from: Target, bytes: u64, every: Duration, until: Instant },
    LivenessDeadline { bound: Duration },
}

/// A node's clock: `local = base_local + (real - base_real) * rate`.
#[derive(Clone, Copy, Debug)]
struct Clock {
    base_real: Instant,
    base_local: Instant,
    rate: f64,
}

impl Clock {
    fn local(&self, real: Instant) -> Instant {
        if self.rate == 1.0 {
            return self.base_local + (real - self.base_real);
        }
        let elapsed = (real - self.base_real).as_nanos() as f64 * self.rate;
        self.base_local + Duration::from_nanos(elapsed as u64)
    }

    /// The first real instant at which the local clock reads at least `local`.
    fn real(&self, local: Instant) -> Instant {
        if self.rate == 1.0 {
            return self.base_real + (local - self.base_local);
        }
        let ahead = (local - self.base_local).as_nanos() as f64 / self.rate;
        let mut real = self.base_real + Duration::from_nanos(ahead.ceil() as u64);
        // Float rounding can land a nanosecond or two short; a timer must never fire early.
        while self.local(real) < local {
            real = real + Duration::from_nanos(1);
        }
        real
    }
}

#[derive(Debug)]
struct Host {
    id: NodeId,
    node: Option<Node>,
    incarnation: u32,
    clock: Clock,
    paused_until: Option<Instant>,
    busy_until: Instant,
    processing: Duration,
    disk: Sampler,
    disk_rng: ChaCha8Rng,
    disk_free_at: Instant,
    /// How late timers fire, if they do.
    jitter: Option<(Sampler, ChaCha8Rng)>,
    stored: HardState,
    /// The timer event in the queue, if any.
    pending: Option<TimerEvent>,
    generation: u64,
    log: LogPosition,
    /// The last heartbeat this node accepted.
    last_heartbeat: Option<Contact>,
    /// When, on its own clock, it last accepted a heartbeat. Kept across a crash: the window
    /// in which it must not vote outlives a restart.
    contact_local: Option<Instant>,
    /// Pre-vote requests handled and not yet answered on the wire (an answer waits for any
    /// hard state being written), with the node's clock and last contact when it decided.
    pre_votes: Vec<PreVoteAsked>,
    /// The node's election timer, as the timer rule explains it.
    timer: TimerWatch,
    /// The input being handled reset the node's timer, by the rule.
    reset_pending: bool,
}

/// A pre-vote request a node handled, as it stood when it decided.
#[derive(Clone, Copy, Debug)]
struct PreVoteAsked {
    candidate: NodeId,
    local: Instant,
    contact: Option<Instant>,
}

/// A crash waiting for its moment (see [`CrashPoint`]).
#[derive(Clone, Copy, Debug)]
struct ArmedCrash {
    id: u64,
    /// The node to crash, or `None` for whichever node reaches the point first.
    node: Option<usize>,
    point: CrashPoint,
    restart_after: Option<Duration>,
}

/// A node's timer event in the engine's queue.
#[derive(Clone, Copy, Debug)]
struct TimerEvent {
    /// When it fires (real time), lateness included.
    fires_at: Instant,
    /// Events of older generations are stale and ignored.
    generation: u64,
    /// The node's deadline (its own clock) it was queued for.
    deadline: Instant,
}

/// A heartbeat a follower accepted: from which leader, of which term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Contact {
    leader: NodeId,
    term: Term,
}

impl Host {
    fn live(&self) -> Option<&Node> {
        self.node.as_ref()
    }

    fn paused(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|p| p > now)
    }
}

/// The failover being measured: the first crash of a leader in the trial.
#[derive(Debug)]
struct Failover {
    crash_at: Instant,
    old_term: Term,
    detected_at: Option<Instant>,
    candidate_terms: Vec<Term>,
    recovered: Option<(Instant, Term)>,
}

/// One trial, from start to end.
pub struct World<'a> {
    scenario: &'a Scenario,
    quorum: usize,
    /// The cluster's timing, as the core sees it.
    heartbeat_interval: Duration,
    timeout_min: Duration,
    timeout_max: Duration,
    now: Instant,
    queue: EventQueue<Ev>,
    hosts: Vec<Host>,
    net: Network,
    rng: ChaCha8Rng,
    trace: TraceSink,
    /// Crashes waiting for their moment.
    armed: Vec<ArmedCrash>,
    next_arm: u64,
    timer_rule: TimerRule,
    election: ElectionSafety,
    restriction: ElectionRestriction,
    draws: Draws,
    failover: Option<Failover>,
    /// The latest leader seen elected: node and term.
    last_leader: Option<(usize, Term)>,
    liveness_pending: bool,
    /// When the last fault ends; liveness is judged from then on.
    quiet_at: Instant,
    /// Timeline steps and scheduled crashes still in the queue.
    pending_faults: usize,
    result: TrialResult,
    violation: Option<Violation>,
    end: Instant,
}

impl<'a> World<'a> {
    /// A trial of `scenario` seeded with `trial_seed`, its trace going to `trace`.
    pub fn new(scenario: &'a Scenario, trial: u64, trial_seed: u64, trace: TraceSink) -> Self {
        let hosts = (1..=scenario.cluster.nodes)
            .map(|id| {
                let spec = scenario.node(id);
                let disk = spec
                    .and_then(|s| s.disk.clone())
                    .unwrap_or_else(|| scenario.network.disk.clone());
                Host {
                    id: NodeId(id),
                    node: None,
                    incarnation: 0,
                    clock: Clock {
                        base_real: Instant::ZERO,
                        base_local: Instant::ZERO,
                        rate: spec.and_then(|s| s.clock_rate).unwrap_or(1.0),
                    },
                    paused_until: None,
                    busy_until: Instant::ZERO,
                    processing: ms(spec.and_then(|s| s.processing_ms).unwrap_or(0.0)),
                    disk: disk.sampler(),
                    disk_rng: rng_for(trial_seed, Stream::Disk { node: id }),
                    disk_free_at: Instant::ZERO,
                    jitter: (scenario.network.timer_jitter.max_ms() != Some(0.0)).then(|| {
                        (
                            scenario.network.timer_jitter.sampler(),
                            rng_for(trial_seed, Stream::Timer { node: id }),
                        )
                    }),
                    stored: HardState::default(),
                    pending: None,
                    generation: 0,
                    log: LogPosition::new(
                        Term(1),
                        spec.and_then(|s| s.log_index).unwrap_or(DEFAULT_LOG_INDEX),
                    ),
                    last_heartbeat: None,
                    contact_local: None,
                    pre_votes: Vec::new(),
                    timer: TimerWatch::default(),
                    reset_pending: false,
                }
            })
            .collect();
        let timing = scenario.core_config(NodeId(1), 0);
        let mut world = World {
            scenario,
            quorum: (scenario.cluster.nodes / 2 + 1) as usize,
            heartbeat_interval: timing.heartbeat_interval,
            timeout_min: timing.election_timeout_min,
            timeout_max: timing.election_timeout_max,
            now: Instant::ZERO,
            queue: EventQueue::new(),
            hosts,
            net: Network::new(scenario, trial_seed),
            rng: rng_for(trial_seed, Stream::Timeline),
            trace,
            armed: Vec::new(),
            next_arm: 0,
            timer_rule: timing.timer_rule,
            election: ElectionSafety::default(),
            restriction: ElectionRestriction::default(),
            draws: Draws::new(timing.election_timeout_min, timing.election_timeout_max),
            failover: None,
            last_leader: None,
            liveness_pending: false,
            quiet_at: Instant::ZERO,
            pending_faults: 0,
            result: TrialResult { trial, seed: trial_seed, ..TrialResult::default() },
            violation: None,
            end: Instant::ZERO + ms(scenario.duration_ms),
        };
        for (i, step) in scenario.timeline.iter().enumerate() {
            world.push(Instant::ZERO + ms(step.at_ms), Ev::Step(i));
        }
        if let Some(bound) = scenario.check.liveness_within_ms {
            let wait = point_wait(scenario);
            let quiet = scenario.timeline.iter().map(|s| step_end(s, wait)).fold(0.0, f64::max);
            world.liveness_pending = true;
            world.quiet_at = Instant::ZERO + ms(quiet);
            world
                .push(Instant::ZERO + ms(quiet + bound), Ev::LivenessDeadline { bound: ms(bound) });
        }
        for i in 0..world.hosts.len() {
            world.boot(i, trial_seed);
        }
        world
    }

    /// Runs to the end and returns the measurements, the trace digest, and any violation.
    pub fn run(mut self) -> (TrialResult, Option<Violation>, TraceSink) {
        let mut stopped = false;
        while let Some((at, ev)) = self.queue.pop() {
            if at > self.end {
                break;
            }
            if is_fault(&ev) {
                self.pending_faults -= 1;
            }
            self.now = at;
            self.result.events += 1;
            self.handle(ev);
            if self.violation.is_none() {
                if let Err(v) = self.check() {
                    self.violation = Some(v);
                }
            }
            if self.liveness_pending && self.now >= self.quiet_at && self.known_leader().is_some() {
                // Liveness holds: a leader was known to a majority after the last fault.
                self.liveness_pending = false;
            }
            if self.violation.is_some() || self.finished_early() {
                stopped = true;
                break;
            }
        }
        if !stopped {
            self.now = self.end;
        }
        if self.violation.is_none() {
            self.violation = self.draws.check(self.now).err();
        }
        self.result.sim_seconds = self.now.as_nanos() as f64 / 1e9;
        if let Some(f) = &self.failover {
            self.result.detection_ms = f.detected_at.map(|d| millis(d - f.crash_at));
            if let Some((at, term)) = f.recovered {
                self.result.time_without_leader_ms = Some(millis(at - f.crash_at));
                self.result.term_increase = term.0 - f.old_term.0;
                let mut terms = f.candidate_terms.clone();
                terms.sort_unstable();
                terms.dedup();
                self.result.election_rounds = terms.len() as u64;
                self.result.split_votes = terms.iter().filter(|t| **t != term).count() as u64;
            }
        }
        (self.result, self.violation, self.trace)
    }

    fn finished_early(&self) -> bool {
        let recovered = self.failover.as_ref().is_some_and(|f| f.recovered.is_some());
        if !(self.scenario.stop_after_recovery && recovered) {
            return false;
        }
        !self.liveness_pending && self.pending_faults == 0
    }

    fn push(&mut self, at: Instant, ev: Ev) {
        if is_fault(&ev) {
            self.pending_faults += 1;
        }
        self.queue.push(at, ev);
    }

    fn local(&self, i: usize) -> Instant {
        self.hosts[i].clock.local(self.now)
    }

    // ----- node lifecycle -------------------------------------------------------------------

    fn boot(&mut self, i: usize, trial_seed: u64) {
        let host = &mut self.hosts[i];
        let seed = seed_for(
            trial_seed,
            Stream::Core { node: host.id.0, incarnation: u64::from(host.incarnation) },
        );
        let config = self.scenario.core_config(host.id, seed);
        let local = host.clock.local(self.now);
        let mut node =
            Node::restart(config, host.stored, local).expect("the scenario was validated");
        node.set_last_log(host.log);
        node.set_commit_index(host.log.index);
        host.node = Some(node);
        host.pending = None;
        host.busy_until = self.now;
        host.reset_pending = true;
        self.flush(i);
    }

    fn crash(&mut self, i: usize) {
        let host = &mut self.hosts[i];
        let Some(node) = host.node.take() else { return };
        host.incarnation += 1;
        host.paused_until = None;
        host.pending = None;
        host.disk_free_at = self.now;
        host.timer.stop();
        host.pre_votes.clear();
        let id = host.id;
        self.trace.record(self.now, Record::Fault { node: Some(id), fault: Fault::Crash });
        if node.role() == Role::Leader && self.failover.is_none() {
            self.start_failover(node.term());
        }
    }

    fn start_failover(&mut self, term: Term) {
        self.failover = Some(Failover {
            crash_at: self.now,
            old_term: term,
            detected_at: None,
            candidate_terms: Vec::new(),
            recovered: None,
        });
    }

    /// The latest real instant at which node `i`, whose timer was reset at `local` on its own
    /// clock, may time out: its longest timeout converted by its clock, then one processing
    /// delay, the largest timer lateness, and a microsecond for rounding. Pauses are added by
    /// [`TimerWatch::pause`].
    fn timer_bound(&self, i: usize, local: Instant) -> Instant {
        let h = &self.hosts[i];
        h.clock.real(local + self.timeout_max) + self.detection_slack(h)
    }

    fn detection_slack(&self, h: &Host) -> Duration {
        let late = ms(self.scenario.network.timer_jitter.max_ms().unwrap_or(0.0));
        h.processing + late + Duration::from_micros(1)
    }

    // ----- the event loop -------------------------------------------------------------------

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Deliver(env) => self.deliver(env),
            Ev::Timer { node, generation } => {
                let host = &mut self.hosts[node];
                let Some(pending) = host.pending.filter(|p| p.generation == generation) else {
                    return;
                };
                if host.node.is_none() {
                    return;
                }
                if let Some(until) = host.paused_until.filter(|p| *p > self.now) {
                    host.pending = Some(TimerEvent { fires_at: until, ..pending });
                    self.push(until, Ev::Timer { node, generation });
                    return;
                }
                host.pending = None;
                let local = self.local(node);
                if let Some(n) = self.hosts[node].node.as_mut() {
                    n.handle_timeout(local);
                }
                self.flush(node);
            }
            Ev::Persisted { node, incarnation, state } => {
                let host = &mut self.hosts[node];
                if host.incarnation != incarnation {
                    return;
                }
                if host.stored != state {
                    host.stored = state;
                    self.trace
                        .record(self.now, Record::Persist { node: host.id, term: state.term.0 });
                }
                if let Some(until) = host.paused_until.filter(|p| *p > self.now) {
                    self.push(until, Ev::Persisted { node, incarnation, state });
                    return;
                }
                let local = self.local(node);
                if let Some(n) = self.hosts[node].node.as_mut() {
                    n.hard_state_persisted(local, state);
                }
                self.flush(node);
            }
            Ev::Step(i) => self.apply(self.scenario.timeline[i].action.clone()),
            Ev::Crash { node, restart_after } => {
                self.crash(node);
                if let Some(after) = restart_after {
                    self.push(self.now + after, Ev::Restart { node });
                }
            }
            Ev::Restart { node } => self.restart(node),
            Ev::Disarm { id } => {
                if let Some(k) = self.armed.iter().position(|a| a.id == id) {
                    self.armed.remove(k);
                    self.pending_faults -= 1;
                }
            }
            Ev::Resume { node, incarnation } => {
                let host = &mut self.hosts[node];
                // A shorter pause nested in a longer one ends nothing: only the pause that
                // ends last resumes the node.
                if host.incarnation == incarnation && !host.paused(self.now) {
                    host.paused_until = None;
                    self.trace.record(
                        self.now,
                        Record::Fault { node: Some(host.id), fault: Fault::Resume },
                    );
                }
            }
            Ev::Bulk { from, bytes, every, until } => {
                // Resolved at every transfer: the leader's stream moves with the leadership.
                if let Some(sender) = self.resolve(from).filter(|&f| self.hosts[f].node.is_some()) {
                    for to in 0..self.hosts.len() {
                        if to != sender {
                            self.net.bulk(
                                self.now,
                                self.hosts[sender].id,
                                self.hosts[to].id,
                                bytes,
                            );
                        }
                    }
                }
                if self.now + every < until {
                    self.push(self.now + every, Ev::Bulk { from, bytes, every, until });
                }
            }
            Ev::LivenessDeadline { bound } => {
                if !std::mem::replace(&mut self.liveness_pending, false) {
                    return;
                }
                if self.majority_connected() {
                    if let Err(v) = invariants::check_liveness(self.now, self.known_leader(), bound)
                    {
                        self.violation = Some(v);
                    }
                }
            }
        }
    }

    fn deliver(&mut self, env: Envelope) {
        let to = (env.to.0 - 1) as usize;
        let host = &self.hosts[to];
        if host.node.is_none() {
            self.trace.record(self.now, Record::drop(&env, DropReason::Down));
            return;
        }
        if let Some(until) = host.paused_until.filter(|p| *p > self.now) {
            self.push(until, Ev::Deliver(env));
            return;
        }
        if host.busy_until > self.now {
            let at = host.busy_until;
            self.push(at, Ev::Deliver(env));
            return;
        }
        self.trace.record(self.now, Record::deliver(&env));
        let local = self.local(to);
        let now = self.now;
        let host = &mut self.hosts[to];
        host.busy_until = now + host.processing;
        if let Message::VoteRequest(r) = env.message {
            if r.pre_vote {
                let contact = host.contact_local;
                host.pre_votes.push(PreVoteAsked { candidate: env.from, local, contact });
            }
        }
        let node = host.node.as_mut().expect("checked above");
        node.handle_message(local, env).expect("simulated traffic comes from members");
        if let Message::Heartbeat(hb) = env.message {
            let accepted = node.role() == Role::Follower
                && node.leader() == Some(env.from)
                && node.term() == hb.term;
            if accepted {
                host.last_heartbeat = Some(Contact { leader: env.from, term: hb.term });
                host.contact_local = Some(local);
                host.reset_pending = true;
                self.on_heartbeat_accepted(env.from, hb.term);
            }
        }
        self.flush(to);
    }

    fn on_heartbeat_accepted(&mut self, leader: NodeId, term: Term) {
        let Some(f) = &self.failover else { return };
        if f.recovered.is_some() || term <= f.old_term {
            return;
        }
        // Recovered once every live node follows this leader of this term (Raft §9.3's
        // "until the other servers receive the new leader's first heartbeat").
        let all = self.hosts.iter().all(|h| match h.live() {
            None => true,
            Some(n) if n.id() == leader => n.role() == Role::Leader && n.term() == term,
            Some(_) => h.last_heartbeat == Some(Contact { leader, term }),
        });
        if all {
            let now = self.now;
            if let Some(f) = self.failover.as_mut() {
                f.recovered = Some((now, term));
            }
        }
    }

    /// Persists, sends and reports what node `i` produced, and re-arms its timer.
    fn flush(&mut self, i: usize) {
        let now = self.now;
        let Some(node) = self.hosts[i].node.as_mut() else { return };
        if let Some(state) = node.take_hard_state() {
            let host = &mut self.hosts[i];
            let done = now.max(host.disk_free_at) + host.disk.sample(&mut host.disk_rng);
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
            self.on_core_event(i, event);
        }
        self.watch_timer(i);
        self.arm(i);
    }

    /// Records a reset of node `i`'s timer if the input just handled made one by the rule, and
    /// checks the timeout the node drew for it.
    fn watch_timer(&mut self, i: usize) {
        let local = self.local(i);
        let reset = std::mem::take(&mut self.hosts[i].reset_pending);
        let Some(node) = self.hosts[i].node.as_ref() else { return };
        let Some(deadline) = node.election_deadline() else {
            self.hosts[i].timer.stop();
            return;
        };
        if !reset {
            return;
        }
        let bound = self.timer_bound(i, local);
        let host = &mut self.hosts[i];
        host.timer.reset(local, bound);
        if let Err(v) = self.draws.record(self.now, host.id, deadline - local) {
            self.violation.get_or_insert(v);
        }
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
            if let Some(a) = k.filter(|_| r.pre_vote).map(|k| asked.remove(k)) {
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

    /// Leader stickiness: node `i` granted `what` to `candidate` at `local` on its clock, its
    /// last contact with a leader at `contact`.
    fn check_stickiness(
        &mut self,
        i: usize,
        candidate: NodeId,
        what: &str,
        local: Instant,
        contact: Option<Instant>,
    ) {
        if let Err(v) = invariants::check_stickiness(
            self.now,
            self.hosts[i].id,
            candidate,
            what,
            local,
            contact,
            self.timeout_min,
        ) {
            self.violation.get_or_insert(v);
        }
    }

    /// Makes sure a timer event is queued no later than node `i`'s deadline (plus its
    /// lateness). A queued event for the same deadline is kept with the lateness it drew, even
    /// if the deadline has passed meanwhile; one that comes earlier is kept too: it fires early,
    /// which the core ignores, and re-arms. So a follower's timer, pushed back by every
    /// heartbeat, costs one event per timeout rather than one per heartbeat.
    fn arm(&mut self, i: usize) {
        let now = self.now;
        let host = &mut self.hosts[i];
        let Some(deadline) = host.node.as_ref().and_then(Node::poll_timeout) else { return };
        let due = host.clock.real(deadline).max(now);
        if host.pending.is_some_and(|p| p.deadline == deadline || p.fires_at <= due) {
            return;
        }
        let late = host.jitter.as_mut().map_or(Duration::ZERO, |(s, rng)| s.sample(rng));
        host.generation += 1;
        let generation = host.generation;
        host.pending = Some(TimerEvent { fires_at: due + late, generation, deadline });
        self.push(due + late, Ev::Timer { node: i, generation });
    }

    fn on_core_event(&mut self, i: usize, event: Event) {
        let id = self.hosts[i].id;
        if let Event::RoleChanged { from, to, .. } = event {
            // The timer rule: a campaign and a leader's step-down reset the timer; under
            // etcd's rule, so does a candidate's step-down.
            let campaign = matches!(to, Role::PreCandidate | Role::Candidate);
            let candidate_steps_down = self.timer_rule == TimerRule::ResetOnStepDown
                && matches!(from, Role::PreCandidate | Role::Candidate)
                && to == Role::Follower;
            if campaign || from == Role::Leader || candidate_steps_down {
                self.hosts[i].reset_pending = true;
            }
        }
        match event {
            Event::RoleChanged { term, to: Role::Leader, .. } => {
                if let Err(v) = self.election.on_leader(self.now, id, term) {
                    self.violation.get_or_insert(v);
                }
                let log = self.hosts[i].log;
                if let Err(v) = self.restriction.on_leader(self.now, id, term, log) {
                    self.violation.get_or_insert(v);
                }
                if !self.armed.is_empty() {
                    self.trigger(i, CrashPoint::AfterElection, self.heartbeat_interval);
                }
                // Spurious: the previous leader did not fail, it was deposed (or paused).
                if let Some((prev, _)) = self.last_leader {
                    if prev != i && self.reachable_by_majority(prev) {
                        self.result.spurious_leader_changes += 1;
                    }
                }
                self.last_leader = Some((i, term));
            }
            Event::RoleChanged { term, to: Role::Candidate, .. } => {
                if let Some(f) = self.failover.as_mut().filter(|f| f.recovered.is_none()) {
                    f.candidate_terms.push(term);
                }
            }
            Event::VoteGranted { term, candidate } => {
                self.hosts[i].reset_pending = true;
                if self.scenario.cluster.leader_stickiness {
                    let (local, contact) = (self.local(i), self.hosts[i].contact_local);
                    self.check_stickiness(i, candidate, "vote", local, contact);
                }
                self.restriction.on_grant(term, id, self.hosts[i].log, candidate);
            }
            Event::ElectionTimeout { .. } => {
                let local = self.local(i);
                if let Err(v) =
                    self.hosts[i].timer.check_fire(self.now, id, local, self.timeout_min)
                {
                    self.violation.get_or_insert(v);
                }
                self.hosts[i].reset_pending = true;
                // False: a healthy leader could still reach this node.
                let healthy = |l: usize| {
                    l != i && self.healthy_leader(l) && self.net.open(self.hosts[l].id, id)
                };
                if self.last_leader.is_some_and(|(l, _)| healthy(l)) {
                    self.result.false_suspicions += 1;
                }
                let now = self.now;
                if let Some(f) = self.failover.as_mut().filter(|f| f.detected_at.is_none()) {
                    f.detected_at = Some(now);
                }
            }
            _ => {}
        }
    }

    /// Whether node `i` is alive and can exchange messages with a majority (itself included).
    fn reachable_by_majority(&self, i: usize) -> bool {
        let host = &self.hosts[i];
        host.node.is_some()
            && self
                .hosts
                .iter()
                .filter(|h| h.node.is_some() && self.net.connected(host.id, h.id))
                .count()
                >= self.quorum
    }

    /// Whether node `i` leads, is alive, and can exchange messages with a majority.
    fn healthy_leader(&self, i: usize) -> bool {
        self.hosts[i].live().is_some_and(|n| n.role() == Role::Leader)
            && self.reachable_by_majority(i)
    }

    // ----- invariants -----------------------------------------------------------------------

    fn check(&self) -> Result<(), Violation> {
        let leaders = self
            .hosts
            .iter()
            .filter(|h| h.live().is_some_and(|n| n.role() == Role::Leader))
            .count();
        // Two leases at once need two nodes that think they lead.
        if leaders > 1 {
            let mut holders = [(NodeId(0), Term(0)); 2];
            let mut count = 0;
            for (i, h) in self.hosts.iter().enumerate() {
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
            invariants::check_leases(self.now, &holders[..count.min(2)])?;
        }
        self.hosts.iter().try_for_each(|h| h.timer.check_bound(self.now, h.id))
    }

    fn majority_connected(&self) -> bool {
        self.hosts.iter().any(|a| {
            a.node.is_some()
                && self
                    .hosts
                    .iter()
                    .filter(|b| b.node.is_some() && self.net.connected(a.id, b.id))
                    .count()
                    >= self.quorum
        })
    }

    /// The leader that a majority of live nodes follow in its term, if any.
    fn known_leader(&self) -> Option<(NodeId, Term)> {
        self.hosts.iter().filter_map(Host::live).filter(|n| n.role() == Role::Leader).find_map(
            |leader| {
                let followers = self
                    .hosts
                    .iter()
                    .filter_map(Host::live)
                    .filter(|n| n.term() == leader.term() && n.leader() == Some(leader.id()))
                    .count();
                (followers >= self.quorum).then_some((leader.id(), leader.term()))
            },
        )
    }

    // ----- faults ---------------------------------------------------------------------------

    fn resolve(&mut self, target: Target) -> Option<usize> {
        match target {
            Target::Id(id) => Some((id - 1) as usize),
            Target::Role(RoleTarget::Leader) => self.current_leader(),
            Target::Role(RoleTarget::Follower) => {
                let leader = self.current_leader();
                let followers: Vec<usize> = (0..self.hosts.len())
                    .filter(|&i| Some(i) != leader && self.hosts[i].node.is_some())
                    .collect();
                self.pick(&followers)
            }
            Target::Role(RoleTarget::Candidate) => {
                let campaigning: Vec<usize> = (0..self.hosts.len())
                    .filter(|&i| {
                        self.hosts[i].live().is_some_and(|n| {
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
            Target::Role(RoleTarget::Random) => {
                let live: Vec<usize> =
                    (0..self.hosts.len()).filter(|&i| self.hosts[i].node.is_some()).collect();
                self.pick(&live)
            }
        }
    }

    fn pick(&mut self, among: &[usize]) -> Option<usize> {
        if among.is_empty() {
            return None;
        }
        let i = (unit(&mut self.rng) * among.len() as f64) as usize;
        Some(among[i.min(among.len() - 1)])
    }

    /// The live leader of the highest term.
    fn current_leader(&self) -> Option<usize> {
        (0..self.hosts.len())
            .filter(|&i| self.hosts[i].live().is_some_and(|n| n.role() == Role::Leader))
            .max_by_key(|&i| self.hosts[i].live().map(Node::term))
    }

    fn ids(&self, idx: &[usize]) -> Vec<NodeId> {
        idx.iter().map(|&i| self.hosts[i].id).collect()
    }

    fn network_fault(&mut self) {
        self.trace.record(self.now, Record::Fault { node: None, fault: Fault::Network });
    }

    /// Crashes node `i`, which reached `point`, if a crash waits for that: at a uniformly random
    /// instant of the next `span`.
    fn trigger(&mut self, i: usize, point: CrashPoint, span: Duration) {
        let Some(k) =
            self.armed.iter().position(|a| a.point == point && a.node.is_none_or(|n| n == i))
        else {
            return;
        };
        let armed = self.armed.remove(k);
        self.pending_faults -= 1;
        let offset = Duration::from_secs_f64(span.as_secs_f64() * unit(&mut self.rng));
        self.push(self.now + offset, Ev::Crash { node: i, restart_after: armed.restart_after });
    }

    fn restart(&mut self, i: usize) {
        if self.hosts[i].node.is_none() {
            self.trace.record(
                self.now,
                Record::Fault { node: Some(self.hosts[i].id), fault: Fault::Restart },
            );
            let host = &mut self.hosts[i];
            if host.stored.term == Term(0) {
                // It never made a term durable, so it never acknowledged a heartbeat (an answer
                // waits for the term it carries to be written): no lease counts on its window.
                host.contact_local = None;
            }
            let seed = self.result.seed;
            self.boot(i, seed);
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Crash { node, at, window_ms, restart_after_ms } => {
                let restart_after = restart_after_ms.map(ms);
                // A leader crashed at a later point is whichever node leads then.
                let any = node == Target::Role(RoleTarget::Leader)
                    && matches!(at, CrashPoint::WithinHeartbeat | CrashPoint::AfterElection);
                let who = if any {
                    None
                } else {
                    let Some(i) = self.resolve(node) else { return };
                    Some(i)
                };
                match (at, who) {
                    (CrashPoint::Now, Some(i)) => {
                        self.crash(i);
                        if let Some(after) = restart_after {
                            self.push(self.now + after, Ev::Restart { node: i });
                        }
                    }
                    _ => {
                        self.next_arm += 1;
                        let id = self.next_arm;
                        self.armed.push(ArmedCrash { id, node: who, point: at, restart_after });
                        self.pending_faults += 1;
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
                if self.hosts[i].node.is_none() {
                    return;
                }
                let d = ms(for_ms);
                let until = self.now + d;
                let host = &mut self.hosts[i];
                let start = host.paused_until.unwrap_or(self.now);
                host.paused_until = Some(until.max(start));
                let (id, incarnation) = (host.id, host.incarnation);
                let slack = self.detection_slack(&self.hosts[i]);
                self.hosts[i].timer.pause(until + slack);
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
                let others: Vec<usize> = (0..self.hosts.len()).filter(|&j| j != i).collect();
                let (a, b) = (self.ids(&[i]), self.ids(&others));
                self.net.cut_between(&a, &b);
                self.network_fault();
            }
            Action::Split { leader_in } => {
                let n = self.hosts.len();
                let leader = self.current_leader().unwrap_or(0);
                let minority_size = (n - 1) / 2;
                let mut order: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
                // Deterministic shuffle of the others.
                for k in (1..order.len()).rev() {
                    let j = (unit(&mut self.rng) * (k + 1) as f64) as usize;
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
                self.net.cut_between(&a, &b);
                self.network_fault();
            }
            Action::Partition { groups } => {
                for (k, a) in groups.iter().enumerate() {
                    for b in &groups[k + 1..] {
                        let a: Vec<NodeId> = a.iter().map(|&x| NodeId(x)).collect();
                        let b: Vec<NodeId> = b.iter().map(|&x| NodeId(x)).collect();
                        self.net.cut_between(&a, &b);
                    }
                }
                self.network_fault();
            }
            Action::OneWay { from, to } => {
                let from: Vec<usize> = from.into_iter().filter_map(|t| self.resolve(t)).collect();
                let to: Vec<usize> = to.into_iter().filter_map(|t| self.resolve(t)).collect();
                for &f in &from {
                    for &t in &to {
                        self.net.set_cut(self.hosts[f].id, self.hosts[t].id, true);
                    }
                }
                self.network_fault();
            }
            Action::Bridge { node } => {
                let Some(i) = self.resolve(node) else { return };
                let others: Vec<usize> = (0..self.hosts.len()).filter(|&j| j != i).collect();
                let (left, right) = others.split_at(others.len() / 2);
                let (a, b) = (self.ids(left), self.ids(right));
                self.net.cut_between(&a, &b);
                self.network_fault();
            }
            Action::Hold { from, to } => {
                if let (Some(f), Some(t)) = (self.resolve(from), self.resolve(to)) {
                    self.net.hold(self.hosts[f].id, self.hosts[t].id);
                    self.network_fault();
                }
            }
            Action::Release { from, to } => {
                let released =
                    match (from.and_then(|f| self.resolve(f)), to.and_then(|t| self.resolve(t))) {
                        (Some(f), Some(t)) => {
                            self.net.release(self.now, self.hosts[f].id, self.hosts[t].id)
                        }
                        _ if from.is_none() && to.is_none() => self.net.release_all(self.now),
                        _ => return,
                    };
                for (at, env) in released {
                    self.push(at, Ev::Deliver(env));
                }
                self.network_fault();
            }
            Action::Delay { from, to, extra_ms } => {
                let from: Vec<usize> = from.into_iter().filter_map(|t| self.resolve(t)).collect();
                let to: Vec<usize> = to.into_iter().filter_map(|t| self.resolve(t)).collect();
                for &f in &from {
                    for &t in &to {
                        let (a, b) = (self.hosts[f].id, self.hosts[t].id);
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
            Action::Heal => {
                self.net.heal();
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
            Action::ClockRate { node, rate } => {
                let Some(i) = self.resolve(node) else { return };
                let now = self.now;
                let host = &mut self.hosts[i];
                let local = host.clock.local(now);
                host.clock = Clock { base_real: now, base_local: local, rate };
                host.pending = None;
                if let Some(armed) = host.timer.armed_local {
                    let bound = self.timer_bound(i, armed);
                    self.hosts[i].timer.bound = Some(bound);
                }
                let host = &self.hosts[i];
                let id = host.id;
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

/// Events that are faults: liveness is judged only once none is left in the queue.
fn is_fault(ev: &Ev) -> bool {
    matches!(ev, Ev::Step(_) | Ev::Crash { .. } | Ev::Restart { .. })
}

/// The longest a crash point waits past its window: a heartbeat interval (within-heartbeat,
/// after-election) or the slowest bounded disk write (during-write), in ms.
pub(crate) fn point_wait(scenario: &Scenario) -> f64 {
    let disk = |d: &super::latency::Latency| d.max_ms().unwrap_or(0.0);
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
fn step_end(step: &super::scenario::Step, point_wait: f64) -> f64 {
    match step.action {
        Action::Pause { for_ms, .. } | Action::Bulk { for_ms, .. } => step.at_ms + for_ms,
        Action::Crash { at, window_ms, restart_after_ms, .. } => {
            let wait =
                if at == CrashPoint::Now { 0.0 } else { window_ms.unwrap_or(0.0) + point_wait };
            step.at_ms + wait + restart_after_ms.unwrap_or(0.0)
        }
        _ => step.at_ms,
    }
}

fn millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}
