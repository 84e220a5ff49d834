//! The discrete-event engine: one trial of a scenario, the real `core` nodes driven under
//! virtual time. Events are ordered by (time, insertion sequence), so ties are deterministic;
//! the clock jumps from one event to the next.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the world, its events and the loop that handles them |
//! | `machine.rs` | each simulated machine around a node, and its clock: boot, crash, restart, pauses, timers in real time |
//! | `delivery.rs` | messages into a node, and what it produced out of it |
//! | `faults.rs` | timeline actions applied to machines and links; crashes armed for a later point |
//! | `membership.rs` | membership changes as the simulated log replicates them (thesis §4.1) |
//! | `observe.rs` | the failover measured (false suspicions, mistakes, spurious leader changes), and what the checkers are told |
//! | `embedder.rs` | the embedder's hosts (`sim::Host`) in the loop: built at boot, fed events, payloads and timers; their invariants checked |
//!
//! The rules themselves are not here: `sim/checkers/` holds them, and the engine only reports
//! what happened to them.

mod delivery;
mod embedder;
mod faults;
mod machine;
mod membership;
mod observe;

use std::time::Duration;

use rand_chacha::ChaCha8Rng;

use self::faults::{step_end, ArmedCrash};
use self::machine::Machine;
use self::observe::{Elected, Failover};
use super::checkers::{Checkers, Violation};
use super::harness::Harness;
use super::metrics::{ShadowResult, TrialResult};
use super::network::{Network, Payload};
use super::queue::EventQueue;
use super::rng::{rng_for, Stream};
use super::scenario::{ms, CrashPoint, Scenario, Target};
use super::trace::TraceSink;
use crate::core::{Envelope, HardState, Instant, LogPosition, Membership, NodeId, TimerRule};

pub(crate) use self::faults::point_wait;

#[derive(Debug)]
enum Ev {
    Deliver(Envelope),
    Timer {
        node: usize,
        generation: u64,
    },
    Persisted {
        node: usize,
        incarnation: u32,
        state: HardState,
    },
    /// An embedder host's payload arrives.
    DeliverPayload(Payload),
    /// An embedder host's timer is due.
    HostTimer {
        node: usize,
        incarnation: u32,
        token: u64,
    },
    Step(usize),
    /// `again`: a crash meant for the leader, armed as `id` at `point`, to be armed again if
    /// the node no longer leads when its moment comes.
    Crash {
        node: usize,
        restart_after: Option<Duration>,
        again: Option<(u64, CrashPoint)>,
    },
    Restart {
        node: usize,
    },
    Disarm {
        id: u64,
    },
    Resume {
        node: usize,
        incarnation: u32,
    },
    Bulk {
        from: Target,
        bytes: u64,
        every: Duration,
        until: Instant,
    },
    LivenessDeadline {
        bound: Duration,
    },
    /// The latest membership change tries to reach a node.
    Membership {
        node: usize,
        incarnation: u32,
    },
    /// A node paused when the latest change committed learns of it.
    MembershipCommitted {
        node: usize,
        incarnation: u32,
    },
}

impl Ev {
    /// Faults: liveness is judged only once none is left in the queue.
    fn is_fault(&self) -> bool {
        matches!(self, Ev::Step(_) | Ev::Crash { .. } | Ev::Restart { .. })
    }
}

/// One trial, from start to end.
pub struct World<'a> {
    scenario: &'a Scenario,
    /// The embedder's hosts and invariants.
    harness: &'a Harness,
    /// Every checker of the trial, and its first violation.
    checks: Checkers,
    /// Every membership the cluster had, the starting one first: a machine's index into it is
    /// the latest change its log holds.
    memberships: Vec<Membership>,
    /// The log entry of each membership change (none for the starting membership).
    membership_entries: Vec<LogPosition>,
    /// The index of the latest committed membership.
    committed: usize,
    /// The cluster's timing, as the core sees it.
    heartbeat_interval: Duration,
    /// The shortest silence any node may time out after ([`crate::core::Config::timeout_floor`]).
    timeout_floor: Duration,
    timeout_max: Duration,
    /// The latest a timer fires after its deadline.
    max_lateness: Duration,
    /// Local health's threshold, if on.
    local_pause_threshold: Option<Duration>,
    now: Instant,
    queue: EventQueue<Ev>,
    machines: Vec<Machine>,
    net: Network,
    rng: ChaCha8Rng,
    trace: TraceSink,
    /// Crashes waiting for their moment.
    armed: Vec<ArmedCrash>,
    /// Crashes whose window closed while they were queued to happen.
    disarmed: Vec<u64>,
    next_arm: u64,
    timer_rule: TimerRule,
    failover: Option<Failover>,
    last_leader: Option<Elected>,
    /// Timeline steps and scheduled crashes still in the queue.
    pending_faults: usize,
    result: TrialResult,
    end: Instant,
}

impl<'a> World<'a> {
    /// A trial of `scenario` seeded with `trial_seed`, its trace going to `trace`.
    pub fn new(
        scenario: &'a Scenario,
        harness: &'a Harness,
        trial: u64,
        trial_seed: u64,
        trace: TraceSink,
    ) -> Self {
        let machines: Vec<Machine> =
            (1..=scenario.cluster.nodes).map(|id| Machine::new(scenario, id, trial_seed)).collect();
        let timing = scenario.core_config(NodeId(1), 0);
        let stickiness = scenario.cluster.leader_stickiness;
        let mut world = World {
            scenario,
            harness,
            checks: Checkers::new(machines.len(), &timing, stickiness, harness),
            memberships: vec![scenario.membership()],
            membership_entries: vec![LogPosition::default()],
            committed: 0,
            heartbeat_interval: timing.heartbeat_interval,
            timeout_floor: timing.timeout_floor(),
            timeout_max: timing.election_timeout_max,
            max_lateness: ms(scenario.network.timer_jitter.max_ms().unwrap_or(0.0)),
            local_pause_threshold: scenario.cluster.local_pause_threshold_ms.map(ms),
            now: Instant::ZERO,
            queue: EventQueue::new(),
            machines,
            net: Network::new(scenario, trial_seed),
            rng: rng_for(trial_seed, Stream::Timeline),
            trace,
            armed: Vec::new(),
            disarmed: Vec::new(),
            next_arm: 0,
            timer_rule: timing.timer_rule,
            failover: None,
            last_leader: None,
            pending_faults: 0,
            result: TrialResult {
                trial,
                seed: trial_seed,
                shadows: vec![ShadowResult::default(); scenario.cluster.shadow_detectors.len()],
                ..TrialResult::default()
            },
            end: Instant::ZERO + ms(scenario.duration_ms),
        };
        for (i, step) in scenario.timeline.iter().enumerate() {
            world.push(Instant::ZERO + ms(step.at_ms), Ev::Step(i));
        }
        if let Some(bound) = scenario.check.liveness_within_ms {
            let wait = point_wait(scenario);
            let quiet = scenario.timeline.iter().map(|s| step_end(s, wait)).fold(0.0, f64::max);
            world.checks.liveness.arm(Instant::ZERO + ms(quiet));
            world
                .push(Instant::ZERO + ms(quiet + bound), Ev::LivenessDeadline { bound: ms(bound) });
        }
        if harness.hosts.is_some() {
            // The embedder's hosts keep the log: every node starts empty, and says where its log ends.
            for machine in &mut world.machines {
                machine.log = LogPosition::default();
            }
        }
        for i in 0..world.machines.len() {
            world.boot(i);
        }
        world.dispatch_events();
        world.check_user_invariants();
        world
    }

    /// Runs to the end and returns the measurements, the trace digest, and any violation.
    pub fn run(mut self) -> (TrialResult, Option<Violation>, TraceSink) {
        let mut stopped = false;
        while let Some((at, ev)) = self.queue.pop() {
            if at > self.end {
                break;
            }
            if ev.is_fault() {
                self.pending_faults -= 1;
            }
            self.now = at;
            self.result.events += 1;
            self.handle(ev);
            self.dispatch_events();
            self.check();
            self.check_user_invariants();
            if self.checks.liveness.owed_at(self.now) && self.known_leader().is_some() {
                // Liveness holds: a leader was known to a majority after the last fault.
                self.checks.liveness.settled();
            }
            if self.checks.violation().is_some() || self.finished_early() {
                stopped = true;
                break;
            }
        }
        if !stopped {
            self.now = self.end;
        }
        self.checks.at_end(self.now);
        for i in 0..self.machines.len() {
            // Open mistakes count their time so far, not as ended.
            if let Some(since) = self.machines[i].mistake_since.take() {
                self.result.mistake_seconds += (self.now - since).as_nanos() as f64 / 1e9;
            }
            self.end_watch(i);
        }
        self.result.sim_seconds = self.now.as_nanos() as f64 / 1e9;
        if let Some(f) = &self.failover {
            f.report(&mut self.result);
        }
        let violation = self.checks.take_violation();
        (self.result, violation, self.trace)
    }

    fn finished_early(&self) -> bool {
        let recovered = self.failover.as_ref().is_some_and(Failover::recovered);
        if !(self.scenario.stop_after_recovery && recovered) {
            return false;
        }
        !self.checks.liveness.pending() && self.pending_faults == 0
    }

    fn push(&mut self, at: Instant, ev: Ev) {
        if ev.is_fault() {
            self.pending_faults += 1;
        }
        self.queue.push(at, ev);
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Deliver(env) => self.deliver(env),
            Ev::DeliverPayload(payload) => self.deliver_payload(payload),
            Ev::HostTimer { node, incarnation, token } => {
                self.on_host_timer(node, incarnation, token);
            }
            Ev::Timer { node, generation } => self.on_timer(node, generation),
            Ev::Persisted { node, incarnation, state } => {
                self.on_persisted(node, incarnation, state);
            }
            Ev::Step(i) => self.apply(self.scenario.timeline[i].action.clone()),
            Ev::Crash { node, restart_after, again } => self.on_crash(node, restart_after, again),
            Ev::Restart { node } => self.restart(node),
            Ev::Disarm { id } => self.disarm(id),
            Ev::Resume { node, incarnation } => self.on_resume(node, incarnation),
            Ev::Bulk { from, bytes, every, until } => self.on_bulk(from, bytes, every, until),
            Ev::LivenessDeadline { bound } => self.on_liveness_deadline(bound),
            Ev::Membership { node, incarnation } => self.on_membership(node, incarnation),
            Ev::MembershipCommitted { node, incarnation } => {
                self.on_membership_committed(node, incarnation);
            }
        }
    }
}
