//! Machines and their clocks: each simulated machine around a `core` node, with its clock
//! (which may drift), its disk, its pauses and its timer event in the engine's queue; booting,
//! crashing and restarting it; the node's timer converted to real time. (An embedder's
//! `sim::Host` runs on a machine, in its `user` slot.)

use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use super::{Ev, World};
use crate::core::{HardState, Instant, LogPosition, Node, NodeId, Role, Term};
use crate::sim::checkers::PreVoteStep;
use crate::sim::latency::Sampler;
use crate::sim::rng::{rng_for, seed_for, Stream};
use crate::sim::scenario::{ms, Scenario, VoteWrites};
use crate::sim::trace::{Fault, Record};

/// Default index of every node's last log entry.
const DEFAULT_LOG_INDEX: u64 = 100;

/// A node's clock: `local = base_local + (real - base_real) * rate`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    base_real: Instant,
    base_local: Instant,
    rate: f64,
}

impl Clock {
    fn new(rate: f64) -> Clock {
        Clock { base_real: Instant::ZERO, base_local: Instant::ZERO, rate }
    }

    pub(super) fn local(&self, real: Instant) -> Instant {
        if self.rate == 1.0 {
            // In nanoseconds, as `Instant`'s operators would saturate, without their
            // conversions through `Duration`: this runs several times per event.
            let elapsed = real.as_nanos().saturating_sub(self.base_real.as_nanos());
            return Instant::from_nanos(self.base_local.as_nanos().saturating_add(elapsed));
        }
        let elapsed = (real - self.base_real).as_nanos() as f64 * self.rate;
        self.base_local + Duration::from_nanos(elapsed as u64)
    }

    /// The first real instant at which the local clock reads at least `local`.
    pub(super) fn real(&self, local: Instant) -> Instant {
        if self.rate == 1.0 {
            let ahead = local.as_nanos().saturating_sub(self.base_local.as_nanos());
            return Instant::from_nanos(self.base_real.as_nanos().saturating_add(ahead));
        }
        let ahead = (local - self.base_local).as_nanos() as f64 / self.rate;
        let mut real = self.base_real + Duration::from_nanos(ahead.ceil() as u64);
        // Float rounding can land a nanosecond or two short; a timer must never fire early.
        while self.local(real) < local {
            real = real + Duration::from_nanos(1);
        }
        real
    }

    /// The same clock, running at `rate` from `now` on.
    pub(super) fn with_rate(&self, now: Instant, rate: f64) -> Clock {
        Clock { base_real: now, base_local: self.local(now), rate }
    }
}

/// How late a machine's timers fire: a delay drawn from its own generator.
#[derive(Debug)]
pub(super) struct TimerLateness {
    sampler: Sampler,
    rng: ChaCha8Rng,
}

/// One simulated machine: a `core` node (while it is up) and everything around it.
#[derive(Debug)]
pub(super) struct Machine {
    pub(super) id: NodeId,
    pub(super) node: Option<Node>,
    pub(super) incarnation: u32,
    pub(super) clock: Clock,
    pub(super) paused_until: Option<Instant>,
    pub(super) busy_until: Instant,
    pub(super) processing: Duration,
    pub(super) disk: Sampler,
    pub(super) disk_rng: ChaCha8Rng,
    pub(super) disk_free_at: Instant,
    /// How late timers fire, if they do.
    pub(super) lateness: Option<TimerLateness>,
    pub(super) stored: HardState,
    /// The hard state last handed to the disk (what `stored` becomes once written).
    pub(super) written: HardState,
    /// Whether a voter writes a new term and its vote separately.
    pub(super) vote_writes: VoteWrites,
    /// The timer event in the queue, if any.
    pub(super) pending: Option<TimerEvent>,
    pub(super) generation: u64,
    pub(super) log: LogPosition,
    /// The last heartbeat this node accepted.
    pub(super) last_heartbeat: Option<HeardFrom>,
    /// The input being handled reset the node's timer, by the rule.
    pub(super) reset_pending: bool,
    /// The latest membership change its log holds, as an index into the world's list.
    pub(super) membership: usize,
    /// Since when it has been up.
    pub(super) up_since: Option<Instant>,
    /// Since when its detector has been making a mistake (a false suspicion not yet over).
    pub(super) mistake_since: Option<Instant>,
    /// The embedder's host around the node, if the run has hosts.
    pub(super) user: super::embedder::UserSlot,
}

/// A node's timer event in the engine's queue.
#[derive(Clone, Copy, Debug)]
pub(super) struct TimerEvent {
    /// When it fires (real time), lateness included.
    fires_at: Instant,
    /// Events of older generations are stale and ignored.
    generation: u64,
    /// The node's deadline (its own clock) it was queued for.
    deadline: Instant,
}

/// A heartbeat a follower accepted: from which leader, of which term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct HeardFrom {
    pub(super) leader: NodeId,
    pub(super) term: Term,
}

impl Machine {
    /// Machine `id` of `scenario`, not booted yet.
    pub(super) fn new(scenario: &Scenario, id: u64, trial_seed: u64) -> Machine {
        let spec = scenario.node(id);
        let disk =
            spec.and_then(|s| s.disk.clone()).unwrap_or_else(|| scenario.network.disk.clone());
        let jitter = &scenario.network.timer_jitter;
        Machine {
            id: NodeId(id),
            node: None,
            incarnation: 0,
            clock: Clock::new(spec.and_then(|s| s.clock_rate).unwrap_or(1.0)),
            paused_until: None,
            busy_until: Instant::ZERO,
            processing: ms(spec.and_then(|s| s.processing_ms).unwrap_or(0.0)),
            disk: disk.sampler(),
            disk_rng: rng_for(trial_seed, Stream::Disk { node: id }),
            disk_free_at: Instant::ZERO,
            lateness: (jitter.max_ms() != Some(0.0)).then(|| TimerLateness {
                sampler: jitter.sampler(),
                rng: rng_for(trial_seed, Stream::Timer { node: id }),
            }),
            stored: HardState::default(),
            written: HardState::default(),
            vote_writes: scenario.network.vote_writes,
            pending: None,
            generation: 0,
            log: LogPosition::new(
                Term(1),
                spec.and_then(|s| s.log_index).unwrap_or(DEFAULT_LOG_INDEX),
            ),
            last_heartbeat: None,
            reset_pending: false,
            membership: 0,
            up_since: None,
            mistake_since: None,
            user: super::embedder::UserSlot::default(),
        }
    }

    /// Whether writing `state` costs two writes: a voter that learns a new term and grants
    /// its vote in the same step, under [`VoteWrites::TermThenVote`].
    pub(super) fn writes_term_then_vote(&self, state: HardState) -> bool {
        self.vote_writes == VoteWrites::TermThenVote
            && state.term != self.written.term
            && state.voted_for.is_some_and(|v| v != self.id)
    }

    pub(super) fn live(&self) -> Option<&Node> {
        self.node.as_ref()
    }

    pub(super) fn paused(&self, now: Instant) -> bool {
        self.pause_end(now).is_some()
    }

    /// The end of the pause the machine is in at `now`, if it is paused.
    pub(super) fn pause_end(&self, now: Instant) -> Option<Instant> {
        self.paused_until.filter(|p| *p > now)
    }
}

impl World<'_> {
    pub(super) fn local(&self, i: usize) -> Instant {
        self.machines[i].clock.local(self.now)
    }

    /// Node `i`'s clock now, for an input about to reach it. With local health on, an input
    /// that finds the node's timer overdue by more than the threshold on its clock is a stall
    /// of the node's own (a pause, a late timer), noted for the local-health check. Every
    /// stall the node can see is noted: the queued timer's deadline is never later than the
    /// node's next periodic check, so the node's lateness is never more than this one.
    pub(super) fn input_local(&mut self, i: usize) -> Instant {
        let local = self.local(i);
        if let (Some(threshold), Some(p)) =
            (self.timing.local_pause_threshold, self.machines[i].pending)
        {
            if local > p.deadline + threshold {
                self.checks.stall_seen(i, self.now);
            }
        }
        local
    }

    /// Starts node `i` from the hard state it persisted, with a seed of this incarnation's.
    pub(super) fn boot(&mut self, i: usize) {
        let machine = &mut self.machines[i];
        let seed = seed_for(
            self.watch.result.seed,
            Stream::Core { node: machine.id.0, incarnation: u64::from(machine.incarnation) },
        );
        let config = self.scenario.core_config_in(
            machine.id,
            seed,
            &self.membership_log.memberships[machine.membership],
        );
        let local = machine.clock.local(self.now);
        let mut node = Node::restart(config, machine.stored, machine.log, local)
            .expect("run_trial validated these settings, and the stored term is one the node made");
        if self.harness.hosts.is_none() {
            // The simulator's own log model: everything in it is committed.
            node.set_commit_index(machine.log.index);
        }
        machine.node = Some(node);
        machine.up_since = Some(self.now);
        machine.written = machine.stored;
        machine.pending = None;
        machine.busy_until = self.now;
        machine.reset_pending = true;
        self.flush(i);
        self.start_user(i);
    }

    pub(super) fn crash(&mut self, i: usize) {
        let machine = &mut self.machines[i];
        let Some(node) = machine.node.take() else { return };
        machine.incarnation += 1;
        machine.paused_until = None;
        machine.pending = None;
        machine.disk_free_at = self.now;
        machine.user.crash();
        let id = machine.id;
        self.checks.crashed(i);
        self.end_watch(i);
        self.trace.record(self.now, Record::Fault { node: Some(id), fault: Fault::Crash });
        if node.role() == Role::Leader && self.watch.failover.is_none() {
            self.start_failover(node.term());
        }
    }

    pub(super) fn restart(&mut self, i: usize) {
        if self.machines[i].node.is_some() {
            return;
        }
        self.trace.record(
            self.now,
            Record::Fault { node: Some(self.machines[i].id), fault: Fault::Restart },
        );
        if self.machines[i].stored.term == Term(0) {
            // It never made a term durable, so it never acknowledged a heartbeat (an answer
            // waits for the term it carries to be written): no lease counts on its window.
            self.checks.forget_contact(i);
        }
        self.boot(i);
        self.catch_up(i);
    }

    /// Node `i`'s timer event fired: the node times out unless the event is stale, the node
    /// is down, or it is paused (then the event waits for the pause to end).
    pub(super) fn on_timer(&mut self, i: usize, generation: u64) {
        let machine = &mut self.machines[i];
        let Some(pending) = machine.pending.filter(|p| p.generation == generation) else { return };
        if machine.node.is_none() {
            return;
        }
        if let Some(until) = machine.pause_end(self.now) {
            machine.pending = Some(TimerEvent { fires_at: until, ..pending });
            self.push(until, Ev::Timer { node: i, generation });
            return;
        }
        let local = self.input_local(i);
        self.machines[i].pending = None;
        if let Some(n) = self.machines[i].node.as_mut() {
            let (before, was) = (n.hard_state(), n.role());
            n.handle_timeout(local);
            if n.role() == Role::PreCandidate && was != Role::PreCandidate {
                self.checks.pre_vote_step(self.now, i, PreVoteStep::Began, before, n);
            }
        }
        self.checks.timer_fired(self.now, i, self.machines[i].node.as_ref(), local);
        self.flush(i);
    }

    /// Node `i`'s disk finished writing `state` (ignored if the node crashed meanwhile).
    pub(super) fn on_persisted(&mut self, i: usize, incarnation: u32, state: HardState) {
        let machine = &mut self.machines[i];
        if machine.incarnation != incarnation {
            return;
        }
        if machine.stored != state {
            machine.stored = state;
            self.trace.record(self.now, Record::Persist { node: machine.id, term: state.term.0 });
        }
        if let Some(until) = machine.pause_end(self.now) {
            self.push(until, Ev::Persisted { node: i, incarnation, state });
            return;
        }
        let local = self.input_local(i);
        if let Some(n) = self.machines[i].node.as_mut() {
            n.hard_state_persisted(local, state);
        }
        self.flush(i);
        self.release_held_sends(i);
    }

    /// A pause of node `i` ended. A shorter pause nested in a longer one ends nothing: only
    /// the pause that ends last resumes the node.
    pub(super) fn on_resume(&mut self, i: usize, incarnation: u32) {
        let machine = &mut self.machines[i];
        if machine.incarnation == incarnation && !machine.paused(self.now) {
            machine.paused_until = None;
            self.trace
                .record(self.now, Record::Fault { node: Some(machine.id), fault: Fault::Resume });
        }
    }

    /// The latest real instant at which node `i`, whose timer was reset at `local` on its own
    /// clock, may time out: the top of the range its timeout was drawn from (a detector may
    /// wait past the configured maximum) converted by its clock, then one processing delay, the
    /// largest timer lateness, and a microsecond for rounding. Pauses are added by the timer
    /// checkers' model (`TimerWatch::pause`).
    pub(super) fn timer_bound(&self, i: usize, local: Instant) -> Instant {
        let h = &self.machines[i];
        let max = h.node.as_ref().map_or(self.timing.timeout_max, |n| n.election_timeout_range().1);
        h.clock.real(local + max) + self.detection_slack(h)
    }

    pub(super) fn detection_slack(&self, h: &Machine) -> Duration {
        h.processing + self.timing.max_lateness + Duration::from_micros(1)
    }

    /// Makes sure a timer event is queued no later than node `i`'s deadline (plus its
    /// lateness). A queued event for the same deadline is kept with the lateness it drew, even
    /// if the deadline has passed meanwhile; one that comes earlier is kept too: it fires early,
    /// which the core ignores, and re-arms. So a follower's timer, pushed back by every
    /// heartbeat, costs one event per timeout rather than one per heartbeat.
    pub(super) fn arm(&mut self, i: usize) {
        let now = self.now;
        let machine = &mut self.machines[i];
        let Some(deadline) = machine.node.as_ref().map(Node::poll_timeout) else { return };
        let due = machine.clock.real(deadline).max(now);
        if machine.pending.is_some_and(|p| p.deadline == deadline || p.fires_at <= due) {
            return;
        }
        let late =
            machine.lateness.as_mut().map_or(Duration::ZERO, |l| l.sampler.sample(&mut l.rng));
        machine.generation += 1;
        let generation = machine.generation;
        machine.pending = Some(TimerEvent { fires_at: due + late, generation, deadline });
        self.push(due + late, Ev::Timer { node: i, generation });
    }
}
