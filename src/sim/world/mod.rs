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

use self::faults::{step_end, Faults};
use self::machine::Machine;
use self::membership::MembershipLog;
use self::observe::{Failover, Watch};
use super::checkers::{Checkers, Violation};
use super::harness::Harness;
use super::metrics::{ShadowResult, TrialResult};
use super::network::{Network, Payload};
use super::queue::EventQueue;
use super::rng::{rng_for, Stream};
use super::scenario::{ms, CrashPoint, Scenario, Target};
use super::trace::TraceSink;
use crate::core::{Envelope, HardState, Instant, LogPosition, NodeId, TimerRule};

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

/// One trial, from start to end: the engine's own state. What it measures is in `watch`,
/// what it checks in `checks`, the faults it has yet to apply in `faults`.
pub struct World<'a> {
    scenario: &'a Scenario,
    /// The embedder's hosts and invariants.
    harness: &'a Harness,
    /// The cluster's timing, as the core sees it, and the trial's end.
    timing: TrialTiming,
    /// Real (simulated) time.
    now: Instant,
    queue: EventQueue<Ev>,
    machines: Vec<Machine>,
    net: Network,
    trace: TraceSink,
    faults: Faults,
    membership_log: MembershipLog,
    /// The failover, false suspicions and mistakes being measured.
    watch: Watch,
    /// Every checker of the trial, and its first violation.
    checks: Checkers,
}

/// The cluster's timing as the engine needs it.
#[derive(Clone, Copy, Debug)]
struct TrialTiming {
    heartbeat_interval: Duration,
    /// The shortest silence any node may time out after ([`crate::core::Config::timeout_floor`]).
    timeout_floor: Duration,
    timeout_max: Duration,
    /// The latest a timer fires after its deadline.
    max_lateness: Duration,
    /// Local health's threshold, if on.
    local_pause_threshold: Option<Duration>,
    timer_rule: TimerRule,
    /// When the trial ends.
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
            membership_log: MembershipLog::new(scenario.membership()),
            timing: TrialTiming {
                heartbeat_interval: timing.heartbeat_interval,
                timeout_floor: timing.timeout_floor(),
                timeout_max: timing.election_timeout_max,
                max_lateness: ms(scenario.network.timer_jitter.max_ms().unwrap_or(0.0)),
                local_pause_threshold: scenario.cluster.local_pause_threshold_ms.map(ms),
                timer_rule: timing.timer_rule,
                end: Instant::ZERO + ms(scenario.duration_ms),
            },
            now: Instant::ZERO,
            queue: EventQueue::new(),
            machines,
            net: Network::new(scenario, trial_seed),
            trace,
            faults: Faults::new(rng_for(trial_seed, Stream::Timeline)),
            watch: Watch::new(TrialResult {
                trial,
                seed: trial_seed,
                shadows: vec![ShadowResult::default(); scenario.cluster.shadow_detectors.len()],
                ..TrialResult::default()
            }),
        };
        for (i, step) in scenario.timeline.iter().enumerate() {
            world.push(Instant::ZERO + ms(step.at_ms), Ev::Step(i));
        }
        if let Some(bound) = scenario.check.liveness_within_ms {
            let wait = point_wait(scenario);
            let quiet = scenario.timeline.iter().map(|s| step_end(s, wait)).fold(0.0, f64::max);
            world.checks.liveness_from(Instant::ZERO + ms(quiet));
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
            if at > self.timing.end {
                break;
            }
            if ev.is_fault() {
                self.faults.pending -= 1;
            }
            self.now = at;
            self.watch.result.events += 1;
            self.handle(ev);
            self.dispatch_events();
            self.check();
            self.check_user_invariants();
            if self.checks.liveness_owed_at(self.now) && self.known_leader().is_some() {
                // Liveness holds: a leader was known to a majority after the last fault.
                self.checks.liveness_settled();
            }
            if self.checks.violation().is_some() || self.finished_early() {
                stopped = true;
                break;
            }
        }
        if !stopped {
            self.now = self.timing.end;
        }
        self.checks.at_end(self.now);
        for i in 0..self.machines.len() {
            // Open mistakes count their time so far, not as ended.
            if let Some(since) = self.machines[i].mistake_since.take() {
                self.watch.result.mistake_seconds += (self.now - since).as_nanos() as f64 / 1e9;
            }
            self.end_watch(i);
        }
        self.watch.result.sim_seconds = self.now.as_nanos() as f64 / 1e9;
        if let Some(f) = &self.watch.failover {
            f.report(&mut self.watch.result);
        }
        let violation = self.checks.take_violation();
        (self.watch.result, violation, self.trace)
    }

    fn finished_early(&self) -> bool {
        let recovered = self.watch.failover.as_ref().is_some_and(Failover::recovered);
        if !(self.scenario.stop_after_recovery && recovered) {
            return false;
        }
        !self.checks.liveness_pending() && self.faults.pending == 0
    }

    fn push(&mut self, at: Instant, ev: Ev) {
        if ev.is_fault() {
            self.faults.pending += 1;
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
