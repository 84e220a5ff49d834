//! Swarm testing (after TigerBeetle's VOPR): each trial draws its own cluster, protocol
//! settings, clocks, logs, disks and fault mix from the scenario's ranges, so many seeds explore
//! many configurations as well as many schedules.
//!
//! The drawn scenario is plain (no swarm section, every value explicit): it is what a violation
//! report prints and what shrinking starts from, and running it with the same seed and trial
//! replays the trial exactly.

use rand_chacha::ChaCha8Rng;

use super::latency::{unit, Latency};
use super::rng::{rng_for, Stream};
use super::scenario::{
    Action, CrashPoint, NodeSpec, RoleTarget, Scenario, Side, Step, SwarmSpec, Target,
};
use super::world::point_wait;
use crate::core::{LeaderDetectorKind, TimerRule};

/// The scenario one trial runs: `base` with its cluster, settings and faults drawn from
/// `trial_seed`, or `base` itself when it has no swarm section.
pub fn draw(base: &Scenario, trial_seed: u64) -> Scenario {
    let Some(spec) = &base.swarm else { return base.clone() };
    let mut rng = rng_for(trial_seed, Stream::Swarm);
    let mut s = base.clone();
    s.swarm = None;
    draw_cluster(&mut rng, spec, &mut s);
    draw_nodes(&mut rng, spec, &mut s);
    s.network.loss = between(&mut rng, spec.loss);
    s.network.duplicate = between(&mut rng, spec.duplicate);
    let mean = between(&mut rng, spec.latency_ms).max(0.001);
    let latency = Latency::Exponential { min_ms: mean / 10.0, mean_ms: mean };
    s.network.latency = latency.clone();
    let timing = Timing::of(&s);
    let late = between(&mut rng, spec.late);
    if late > 0.0 {
        s.network.latency = Latency::LongTail {
            fast: Box::new(latency.clone()),
            slow: Box::new(Latency::Uniform { min_ms: 0.0, max_ms: 3.0 * timing.max_timeout }),
            slow_fraction: late,
        };
    }
    s.timeline.extend(faults(&mut rng, spec, &s, &timing));
    if spec.membership_changes[1] > 0 && s.cluster.nodes >= 2 && coin(&mut rng) {
        let n = s.cluster.nodes;
        s.cluster.learners = vec![1 + ((unit(&mut rng) * n as f64) as u64).min(n - 1)];
    }
    if spec.draw_detector && coin(&mut rng) {
        let kind = if coin(&mut rng) {
            LeaderDetectorKind::Adaptive { deviations: 0.0 }
        } else {
            LeaderDetectorKind::Phi { threshold: 0.0 }
        };
        s.cluster.leader_detector = with_drawn_parameter(kind, &mut rng);
        if coin(&mut rng) {
            // Anywhere in (heartbeat, min]: the lease shrinks with the floor, and a floor near
            // the heartbeat interval tests the promise where it is tightest.
            let [min, _] = s.cluster.election_timeout_ms;
            let floor = min - (min - s.cluster.heartbeat_ms) * unit(&mut rng);
            s.cluster.election_timeout_floor_ms = Some(floor);
        }
    }
    if spec.draw_local_health {
        if coin(&mut rng) {
            let threshold = s.cluster.heartbeat_ms * (0.1 + 1.9 * unit(&mut rng));
            s.cluster.local_pause_threshold_ms = Some(threshold);
        }
        if coin(&mut rng) {
            let count = 1 + usize::from(coin(&mut rng));
            s.cluster.shadow_detectors = (0..count).map(|_| draw_kind(&mut rng)).collect();
        }
    }
    if spec.deposed_reads[1] > 0 {
        s.timeline.extend(deposed_reads(&mut rng, spec, &timing));
    }
    // Loss and late messages are faults too: they stop with the others, so liveness is judged
    // on a quiet network.
    let until = spec.faults_until_ms;
    s.timeline.push(Step { at_ms: until, action: Action::SetLoss { loss: 0.0 } });
    if late > 0.0 {
        s.timeline.push(Step { at_ms: until, action: Action::SetLatency { latency } });
    }
    s.timeline.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    if let Some(window) = base.check.liveness_within_ms {
        // The timing drawn before late messages (which stop with the faults), with the floor.
        let floor = s.cluster.election_timeout_floor_ms.unwrap_or(timing.min_timeout);
        if (Timing { floor, ..timing }).rule_holds() {
            // Enough election rounds for a randomized election to end, however long a round is.
            let window = window.max(LIVENESS_ROUNDS * timing.max_timeout);
            s.check.liveness_within_ms = Some(window);
            s.duration_ms = s.duration_ms.max(spec.faults_until_ms + 2.0 * window);
        } else {
            s.check.liveness_within_ms = None;
        }
    }
    s
}

/// Every detector kind, in the order [`draw_kind`] picks from; the parameters are placeholders,
/// which [`with_drawn_parameter`] replaces.
const KINDS: [LeaderDetectorKind; 3] = [
    LeaderDetectorKind::Fixed,
    LeaderDetectorKind::Adaptive { deviations: 0.0 },
    LeaderDetectorKind::Phi { threshold: 0.0 },
];

/// Any detector, with a parameter anywhere in the range the swarm draws the one in charge from.
fn draw_kind(rng: &mut ChaCha8Rng) -> LeaderDetectorKind {
    let pick = ((unit(rng) * KINDS.len() as f64) as usize).min(KINDS.len() - 1);
    with_drawn_parameter(KINDS[pick], rng)
}

/// `kind` with its parameter drawn in place of its own: 0 to 6 deviations for the adaptive
/// detector, a threshold of 0.5 to 16 for the phi one. The match names every kind, so a new kind
/// is a compile error here until it has a range, and a reminder to add it to [`KINDS`].
fn with_drawn_parameter(kind: LeaderDetectorKind, rng: &mut ChaCha8Rng) -> LeaderDetectorKind {
    match kind {
        LeaderDetectorKind::Fixed => LeaderDetectorKind::Fixed,
        LeaderDetectorKind::Adaptive { .. } => {
            LeaderDetectorKind::Adaptive { deviations: 6.0 * unit(rng) }
        }
        LeaderDetectorKind::Phi { .. } => {
            LeaderDetectorKind::Phi { threshold: 0.5 + 15.5 * unit(rng) }
        }
    }
}

/// Election rounds a drawn trial's liveness window lasts at least.
const LIVENESS_ROUNDS: f64 = 40.0;

/// The cluster size, heartbeat, timeout range and protocol settings.
fn draw_cluster(rng: &mut ChaCha8Rng, spec: &SwarmSpec, s: &mut Scenario) {
    let c = &mut s.cluster;
    if let Some([lo, hi]) = spec.nodes {
        c.nodes = lo + ((hi - lo + 1) as f64 * unit(rng)) as u64;
        c.nodes = c.nodes.min(hi);
    }
    if let Some(r) = spec.heartbeat_ms {
        c.heartbeat_ms = between(rng, r);
    }
    if let Some(r) = spec.timeout_heartbeats {
        c.election_timeout_ms[0] = c.heartbeat_ms * between(rng, r);
    }
    if let Some(r) = spec.timeout_spread {
        c.election_timeout_ms[1] = c.election_timeout_ms[0] * between(rng, r);
    }
    if unit(rng) < spec.equal_timeouts {
        c.election_timeout_ms[1] = c.election_timeout_ms[0];
    }
    if spec.draw_protocol {
        c.pre_vote = coin(rng);
        c.check_quorum = coin(rng);
        c.leader_stickiness = coin(rng);
        c.leader_lease = c.leader_stickiness && coin(rng);
        c.timer_rule = if coin(rng) { TimerRule::Figure2 } else { TimerRule::ResetOnStepDown };
    }
    if let Some(r) = spec.drift_bound {
        c.max_clock_drift = between(rng, r);
    }
    let n = c.nodes;
    s.nodes.retain(|node| node.id <= n);
    s.links.retain(|l| l.from <= n && l.to <= n);
    s.timeline.retain(|step| step_targets_fit(&step.action, n));
}

/// Clock rates, log lengths and disks, node by node.
fn draw_nodes(rng: &mut ChaCha8Rng, spec: &SwarmSpec, s: &mut Scenario) {
    // Rates in [1 - e, 1 + e] with (1 + e) / (1 - e) = 1 / (1 - bound): the widest spread the
    // lease's drift bound allows between a leader's clock and a follower's.
    let edge = match spec.drift_bound {
        Some(_) => {
            let bound = s.cluster.max_clock_drift;
            bound / (2.0 - bound)
        }
        None => spec.clock_drift,
    };
    let lagging = spec.log_lag.is_some() && coin(rng);
    for id in 1..=s.cluster.nodes {
        let node = match s.nodes.iter().position(|n| n.id == id) {
            Some(k) => &mut s.nodes[k],
            None => {
                s.nodes.push(NodeSpec {
                    id,
                    log_index: None,
                    clock_rate: None,
                    processing_ms: None,
                    disk: None,
                });
                s.nodes.last_mut().expect("just pushed")
            }
        };
        if edge > 0.0 {
            // Half the nodes sit right at an edge of the allowed range, where bugs live.
            let x = if coin(rng) {
                if coin(rng) {
                    1.0
                } else {
                    -1.0
                }
            } else {
                2.0 * unit(rng) - 1.0
            };
            node.clock_rate = Some(1.0 + edge * x);
        }
        if let Some([lo, hi]) = spec.log_lag {
            if lagging {
                let lag = lo + ((hi - lo + 1) as f64 * unit(rng)) as u64;
                node.log_index = Some(LONGEST_LOG.saturating_sub(lag.min(hi)));
            }
        }
        if let Some(r) = spec.disk_ms {
            node.disk = Some(Latency::Uniform { min_ms: 0.0, max_ms: between(rng, r) });
        }
    }
    s.nodes.sort_by_key(|n| n.id);
}

/// The log index of the longest log in a drawn cluster (a node's default).
const LONGEST_LOG: u64 = 100;

/// The timing a drawn trial runs with, and whether it satisfies Raft's timing rule.
#[derive(Clone, Copy)]
struct Timing {
    heartbeat: f64,
    min_timeout: f64,
    max_timeout: f64,
    /// The shortest timeout any detector may draw.
    floor: f64,
    /// Round trip of a protocol message, at the 99.9th percentile of the link's latency, plus
    /// the slowest disk write a vote waits for.
    round_trip: f64,
    /// Largest clock-rate deviation from 1.0.
    drift: f64,
}

impl Timing {
    fn of(s: &Scenario) -> Timing {
        let one_way = match &s.network.latency {
            // The 99.9th percentile of min + Exp(mean - min).
            Latency::Exponential { min_ms, mean_ms } => min_ms + (mean_ms - min_ms) * 1000f64.ln(),
            latency @ (Latency::Constant { .. }
            | Latency::Uniform { .. }
            | Latency::Normal { .. }
            | Latency::LogNormal { .. }
            | Latency::LongTail { .. }) => latency.max_ms().unwrap_or(f64::INFINITY),
        };
        let disk = s
            .nodes
            .iter()
            .map(|n| n.disk.as_ref().unwrap_or(&s.network.disk).max_ms().unwrap_or(f64::INFINITY))
            .fold(s.network.disk.max_ms().unwrap_or(f64::INFINITY), f64::max);
        let drift = s
            .nodes
            .iter()
            .filter_map(|n| n.clock_rate)
            .map(|r| (r - 1.0).abs())
            .fold(0.0, f64::max);
        Timing {
            heartbeat: s.cluster.heartbeat_ms,
            min_timeout: s.cluster.election_timeout_ms[0],
            max_timeout: s.cluster.election_timeout_ms[1],
            floor: s.cluster.election_timeout_floor_ms.unwrap_or(s.cluster.election_timeout_ms[0]),
            round_trip: 2.0 * one_way + disk,
            drift,
        }
    }

    /// Raft's timing rule, `round trip < heartbeat interval < election timeout`, with the
    /// margins liveness needs: the interval exceeds a round trip; the shortest timeout any
    /// detector may draw (the floor) on the fastest clock outlasts the interval on the slowest
    /// clock plus a round trip (no follower times out on a healthy leader); and the timeouts are
    /// spread over at least two round trips (so a split vote ends with one candidate ahead by a
    /// round trip, thesis §9.3).
    fn rule_holds(&self) -> bool {
        let (fast, slow) = (1.0 + self.drift, 1.0 - self.drift);
        self.heartbeat > self.round_trip
            && self.floor / fast > self.heartbeat / slow + self.round_trip
            && self.max_timeout - self.min_timeout >= 2.0 * self.round_trip
    }
}

fn between(rng: &mut ChaCha8Rng, [lo, hi]: [f64; 2]) -> f64 {
    lo + (hi - lo) * unit(rng)
}

fn count(rng: &mut ChaCha8Rng, [lo, hi]: [u32; 2]) -> u32 {
    (lo + ((f64::from(hi - lo) + 1.0) * unit(rng)) as u32).min(hi)
}

fn coin(rng: &mut ChaCha8Rng) -> bool {
    unit(rng) < 0.5
}

/// Whether every node a step names by id is in an `n`-node cluster.
fn step_targets_fit(action: &Action, n: u64) -> bool {
    action.targets().iter().all(|(_, target)| match target {
        Target::Id(id) => *id <= n,
        Target::Role(_) => true,
    })
}

/// The drawn faults, each over by `faults_until_ms` (crashes restarted, cuts healed, holds
/// released, spikes ended).
fn faults(rng: &mut ChaCha8Rng, spec: &SwarmSpec, s: &Scenario, t: &Timing) -> Vec<Step> {
    let until = spec.faults_until_ms;
    let n = s.cluster.nodes;
    let mut steps = Vec::new();
    let mut at = |at_ms: f64, action: Action| steps.push(Step { at_ms, action });
    // A window [a, b] inside [0, end].
    let window = |rng: &mut ChaCha8Rng, end: f64| {
        let a = end.max(0.0) * unit(rng);
        (a, a + (end - a).max(0.0) * unit(rng))
    };
    let id = |rng: &mut ChaCha8Rng| Target::Id(1 + ((unit(rng) * n as f64) as u64).min(n - 1));
    let point_wait = point_wait(s);

    for _ in 0..count(rng, spec.crashes) {
        let (a, b) = window(rng, until);
        at(a, crash(id(rng), CrashPoint::Now, None, b - a));
    }
    // Flaps: downtimes of 1 to 50 ms aimed at campaigning nodes, in a burst around elections.
    let mut flap = until * unit(rng);
    for _ in 0..count(rng, spec.flaps) {
        let down = 1.0 + 49.0 * unit(rng);
        if flap + down <= until {
            at(flap, crash(Target::Role(RoleTarget::Candidate), CrashPoint::Now, None, down));
        }
        flap += t.max_timeout * unit(rng);
    }
    for _ in 0..count(rng, spec.leader_crashes) {
        // Half of them arm at the start, to catch the first leader.
        let a = if coin(rng) { 0.0 } else { (until - point_wait) * unit(rng) };
        let (w, down) = split(rng, until - point_wait - a);
        let node = Target::Role(RoleTarget::Leader);
        at(a, crash(node, CrashPoint::AfterElection, Some(w), down));
    }
    for _ in 0..count(rng, spec.write_crashes) {
        let a = if coin(rng) { 0.0 } else { (until - point_wait) * unit(rng) };
        let (w, down) = split(rng, until - point_wait - a);
        // Half of them come straight back: a vote lost with the write meets the candidates
        // of the same term again.
        let down = if coin(rng) { down.min(1.0 + 49.0 * unit(rng)) } else { down };
        let node = if coin(rng) { id(rng) } else { Target::Role(RoleTarget::Candidate) };
        at(a, crash(node, CrashPoint::DuringWrite, Some(w), down));
    }
    for _ in 0..count(rng, spec.pauses) {
        let (a, _) = window(rng, until);
        let for_ms = (spec.max_pause_ms * unit(rng)).min(until - a);
        let node = if coin(rng) {
            Target::Role(RoleTarget::Random)
        } else {
            Target::Role(RoleTarget::Leader)
        };
        at(a, Action::Pause { node, for_ms });
    }
    for _ in 0..count(rng, spec.partitions) {
        let (a, b) = window(rng, until);
        let leader = || vec![Target::Role(RoleTarget::Leader)];
        let followers = || vec![Target::Role(RoleTarget::Follower)];
        let action = match (unit(rng) * 6.0) as u32 {
            0 => Action::Isolate { node: Target::Role(RoleTarget::Leader) },
            1 => {
                Action::Split { leader_in: if coin(rng) { Side::Minority } else { Side::Majority } }
            }
            // A follower hearing both sides of a cut through the leader's links: the partial
            // partition that stickiness and the lease exist for (thesis §4.2.3, §6.4.1).
            2 => Action::Bridge {
                node: Target::Role(if coin(rng) {
                    RoleTarget::Follower
                } else {
                    RoleTarget::Random
                }),
            },
            3 => Action::OneWayPartition { from: leader(), to: followers() },
            4 => Action::OneWayPartition { from: followers(), to: leader() },
            _ => Action::OneWayPartition { from: vec![id(rng)], to: vec![id(rng), id(rng)] },
        };
        at(a, action);
        at(b, Action::RepairAll);
    }
    for _ in 0..count(rng, spec.latency_spikes) {
        // Longer than the longest election timeout; what was sent during it arrives by `until`.
        let extra = t.max_timeout * (1.0 + 2.0 * unit(rng));
        let (a, b) = window(rng, until - extra);
        let (from, to) = (vec![id(rng)], if coin(rng) { vec![id(rng)] } else { all(n) });
        at(a, Action::Delay { from: from.clone(), to: to.clone(), extra_ms: extra });
        at(b, Action::Delay { from, to, extra_ms: 0.0 });
    }
    for _ in 0..count(rng, spec.holds) {
        let (a, b) = window(rng, until);
        let (from, to) = (id(rng), id(rng));
        if from != to {
            at(a, Action::Hold { from, to });
            at(b, Action::Release { from, to });
        }
    }
    for _ in 0..count(rng, spec.stale_deliveries) {
        let count = 1 + (unit(rng) * 8.0) as u32;
        at(until * unit(rng), Action::Redeliver { count });
    }
    if spec.partial_repairs[1] > 0 {
        for _ in 0..count(rng, spec.partial_repairs) {
            let (a, b) = window(rng, until);
            // Two groups, each node on a side chosen by a coin; both sides non-empty.
            let mut sides: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
            for node in 1..=n {
                sides[usize::from(coin(rng))].push(node);
            }
            if sides.iter().any(Vec::is_empty) {
                continue;
            }
            let pick = |rng: &mut ChaCha8Rng, side: &[u64]| {
                Target::Id(side[((unit(rng) * side.len() as f64) as usize).min(side.len() - 1)])
            };
            let (x, y) = (pick(rng, &sides[0]), pick(rng, &sides[1]));
            let repair = if coin(rng) {
                Action::Repair { from: vec![x], to: vec![y] }
            } else {
                Action::OneWayRepair { from: vec![x], to: vec![y] }
            };
            at(a, Action::Partition { groups: sides.to_vec() });
            at(a + (b - a) * unit(rng), repair);
            at(b, Action::RepairAll);
        }
    }
    if spec.transfers[1] > 0 {
        for _ in 0..count(rng, spec.transfers) {
            at(until * unit(rng), Action::Transfer { to: Target::Role(RoleTarget::Follower) });
        }
    }
    if spec.reads[1] > 0 {
        for _ in 0..count(rng, spec.reads) {
            at(until * unit(rng), Action::Read { node: Target::Role(RoleTarget::Leader) });
        }
    }
    if spec.membership_changes[1] > 0 {
        for _ in 0..count(rng, spec.membership_changes) {
            let action = match (unit(rng) * 4.0) as u32 {
                0 => Action::Remove { node: Target::Role(RoleTarget::Leader) },
                1 => Action::Remove { node: id(rng) },
                _ => Action::Add { node: id(rng), learner: coin(rng) },
            };
            at(until * unit(rng), action);
        }
    }
    steps
}

/// Reads asked of a leader deposed without knowing it, each in five steps (thesis §6.4): a
/// follower's answers to the leader held; the leader cut off from everyone one to two heartbeat
/// intervals later, with answers to its old rounds still held; a read asked of whichever node
/// still believes it leads a term below the current leader's, one and a half to three maximum
/// timeouts later (time for the others to elect); the held answers released a fraction of a
/// heartbeat after the read; the cut repaired. With check quorum the deposed leader usually
/// steps down first and nobody is asked.
fn deposed_reads(rng: &mut ChaCha8Rng, spec: &SwarmSpec, t: &Timing) -> Vec<Step> {
    let mut steps = Vec::new();
    for _ in 0..count(rng, spec.deposed_reads) {
        let isolate = t.heartbeat * (1.0 + unit(rng));
        let read = isolate + t.max_timeout * (1.5 + 1.5 * unit(rng));
        let release = read + t.heartbeat * unit(rng);
        let a = (spec.faults_until_ms - release) * unit(rng);
        if a < 0.0 {
            continue;
        }
        let leader = Target::Role(RoleTarget::Leader);
        let hold = Action::Hold { from: Target::Role(RoleTarget::Follower), to: leader };
        steps.push(Step { at_ms: a, action: hold });
        steps.push(Step { at_ms: a + isolate, action: Action::Isolate { node: leader } });
        let node = Target::Role(RoleTarget::Deposed);
        steps.push(Step { at_ms: a + read, action: Action::Read { node } });
        steps.push(Step { at_ms: a + release, action: Action::ReleaseAll });
        steps.push(Step { at_ms: a + release, action: Action::RepairAll });
    }
    steps
}

/// A crash at `point` (waiting at most `window_ms` for it), restarted `down` ms later.
fn crash(node: Target, at: CrashPoint, window_ms: Option<f64>, down: f64) -> Action {
    Action::Crash { node, at, window_ms, restart_after_ms: Some(down.max(0.0)) }
}

/// Two lengths that add up to at most `total`.
fn split(rng: &mut ChaCha8Rng, total: f64) -> (f64, f64) {
    let first = total.max(0.0) * unit(rng);
    (first, (total - first).max(0.0) * unit(rng))
}

fn all(n: u64) -> Vec<Target> {
    (1..=n).map(Target::Id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWARM: &str = r#"
name = "s"
duration_ms = 10000
[cluster]
nodes = 5
[swarm]
loss = [0.0, 0.3]
latency_ms = [0.5, 20]
crashes = [0, 3]
pauses = [0, 2]
partitions = [0, 2]
clock_drift = 0.01
faults_until_ms = 5000
"#;

    #[test]
    fn each_seed_draws_its_own_faults_and_the_same_seed_the_same() {
        let base = Scenario::parse(SWARM).unwrap();
        let a = draw(&base, 1);
        let b = draw(&base, 2);
        assert_eq!(format!("{:?}", a), format!("{:?}", draw(&base, 1)));
        assert_ne!(format!("{:?}", a), format!("{:?}", b));
        for s in [&a, &b] {
            assert!((0.0..=0.3).contains(&s.network.loss));
            assert!(s.timeline.iter().all(|st| st.at_ms <= 5000.0));
            assert!(s.timeline.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            s.validate().unwrap();
        }
    }

    #[test]
    fn a_scenario_without_swarm_is_unchanged() {
        let base =
            Scenario::parse("name = \"x\"\nduration_ms = 5\n[cluster]\nnodes = 3\n").unwrap();
        assert_eq!(format!("{:?}", draw(&base, 9)), format!("{:?}", base));
    }

    fn shipped() -> Scenario {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/simulations/swarm.toml");
        Scenario::load(std::path::Path::new(path)).unwrap()
    }

    #[test]
    fn partial_repairs_cut_in_two_and_repair_one_link_before_the_rest_only_when_asked() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/simulations/swarm-partial-repairs.toml");
        let base = Scenario::load(std::path::Path::new(path)).unwrap();
        let drawn: Vec<Scenario> = (0..200).map(|seed| draw(&base, seed)).collect();
        let has =
            |s: &Scenario, f: &dyn Fn(&Action) -> bool| s.timeline.iter().any(|t| f(&t.action));
        let repair = |a: &Action| matches!(a, Action::Repair { .. });
        let one_way = |a: &Action| matches!(a, Action::OneWayRepair { .. });
        assert!(drawn.iter().any(|s| has(s, &repair)));
        assert!(drawn.iter().any(|s| has(s, &one_way)));
        for s in &drawn {
            // A piece repaired lies between its partition and the repair of everything.
            let steps = &s.timeline;
            for step in steps.iter().filter(|t| repair(&t.action) || one_way(&t.action)) {
                let at = step.at_ms;
                let cut = |t: &&Step| matches!(t.action, Action::Partition { .. }) && t.at_ms <= at;
                let healed = |t: &&Step| t.action == Action::RepairAll && t.at_ms >= at;
                assert!(steps.iter().any(|t| cut(&t)) && steps.iter().any(|t| healed(&t)));
            }
        }
        // The plain swarm draws none: its trials are what they were before the option existed.
        let plain: Vec<Scenario> = (0..200).map(|seed| draw(&shipped(), seed)).collect();
        assert!(plain.iter().all(|s| !has(s, &repair) && !has(s, &one_way)));
    }

    #[test]
    fn a_drawn_trial_is_a_plain_scenario_that_reads_back_the_same() {
        let base = shipped();
        for seed in 0..50 {
            let drawn = draw(&base, seed);
            assert!(drawn.swarm.is_none());
            let text = drawn.to_toml().unwrap();
            let back = Scenario::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(format!("{back:?}"), format!("{drawn:?}"), "{text}");
            // Drawing from a plain scenario changes nothing: the file replays the trial.
            assert_eq!(format!("{:?}", draw(&back, seed)), format!("{drawn:?}"));
        }
    }

    #[test]
    fn the_shipped_swarm_draws_the_whole_configuration_space() {
        let base = shipped();
        let drawn: Vec<Scenario> = (0..400).map(|seed| draw(&base, seed)).collect();
        let sizes: std::collections::BTreeSet<u64> =
            drawn.iter().map(|s| s.cluster.nodes).collect();
        assert_eq!(sizes, (1..=7).collect());
        let some = |f: &dyn Fn(&Scenario) -> bool| {
            let k = drawn.iter().filter(|s| f(s)).count();
            k > 0 && k < drawn.len()
        };
        assert!(some(&|s| s.cluster.pre_vote));
        assert!(some(&|s| s.cluster.check_quorum));
        assert!(some(&|s| s.cluster.leader_stickiness));
        assert!(some(&|s| s.cluster.leader_lease));
        assert!(some(&|s| s.cluster.timer_rule == TimerRule::Figure2));
        assert!(some(&|s| s.cluster.election_timeout_ms[0] == s.cluster.election_timeout_ms[1]));
        assert!(some(&|s| s.check.liveness_within_ms.is_some()));
        let detector = |s: &Scenario| s.cluster.leader_detector;
        assert!(some(&|s| matches!(detector(s), LeaderDetectorKind::Adaptive { .. })));
        assert!(some(&|s| matches!(detector(s), LeaderDetectorKind::Phi { .. })));
        // Floors below the minimum, some near enough the heartbeat to break the timing rule.
        let floor = |s: &Scenario| s.cluster.election_timeout_floor_ms;
        assert!(some(&|s| floor(s).is_some_and(|f| f < s.cluster.election_timeout_ms[0])));
        assert!(some(&|s| floor(s).is_some() && s.check.liveness_within_ms.is_some()));
        assert!(some(&|s| s.nodes.iter().any(|n| n.log_index.is_some_and(|i| i < LONGEST_LOG))));
        assert!(drawn.iter().all(|s| !s.cluster.leader_lease || s.cluster.leader_stickiness));
        // Clock rates reach the edge the lease's bound allows, and never pass it.
        let mut at_edge = 0;
        for s in &drawn {
            let rates: Vec<f64> = s.nodes.iter().filter_map(|n| n.clock_rate).collect();
            let (lo, hi) =
                rates.iter().fold((f64::MAX, 0.0f64), |(a, b), r| (a.min(*r), b.max(*r)));
            let allowed = 1.0 / (1.0 - s.cluster.max_clock_drift);
            assert!(hi / lo <= allowed * (1.0 + 1e-12), "{hi}/{lo} > {allowed}");
            at_edge += usize::from(hi / lo >= allowed * (1.0 - 1e-9));
        }
        assert!(at_edge > 0);
        for action in [
            "after-election",
            "during-write",
            "delay",
            "hold",
            "release",
            "redeliver",
            "set-latency",
            "one-way-partition",
            "candidate",
        ] {
            assert!(
                drawn.iter().any(|s| s.to_toml().unwrap().contains(&format!("\"{action}\""))),
                "no trial draws {action}"
            );
        }
    }

    #[test]
    fn every_drawn_fault_is_over_by_the_end_of_the_fault_window() {
        let base = shipped();
        let until = base.swarm.as_ref().unwrap().faults_until_ms;
        for seed in 0..300 {
            let s = draw(&base, seed);
            let wait = point_wait(&s);
            for step in &s.timeline {
                let end = match &step.action {
                    Action::Crash { at, window_ms, restart_after_ms, .. } => {
                        let wait = if *at == CrashPoint::Now { 0.0 } else { wait };
                        step.at_ms + window_ms.unwrap_or(0.0) + wait + restart_after_ms.unwrap()
                    }
                    Action::Pause { for_ms, .. } => step.at_ms + for_ms,
                    Action::Delay { extra_ms, .. } => step.at_ms + extra_ms,
                    Action::Restart { .. }
                    | Action::Isolate { .. }
                    | Action::Split { .. }
                    | Action::Partition { .. }
                    | Action::OneWayPartition { .. }
                    | Action::Repair { .. }
                    | Action::OneWayRepair { .. }
                    | Action::Bridge { .. }
                    | Action::Hold { .. }
                    | Action::Release { .. }
                    | Action::ReleaseAll
                    | Action::Redeliver { .. }
                    | Action::RepairAll
                    | Action::SetLoss { .. }
                    | Action::SetLatency { .. }
                    | Action::Read { .. }
                    | Action::Transfer { .. }
                    | Action::Add { .. }
                    | Action::Remove { .. }
                    | Action::ClockRate { .. }
                    | Action::Bulk { .. } => step.at_ms,
                };
                assert!(end <= until + 1e-9, "seed {seed}: {step:?} ends at {end}");
            }
        }
    }

    #[test]
    fn a_deposed_read_holds_answers_isolates_the_leader_then_reads_before_releasing_thesis_6_4() {
        let base = shipped();
        let read = Action::Read { node: Target::Role(RoleTarget::Deposed) };
        let mut drawn = 0;
        for seed in 0..200 {
            let s = draw(&base, seed);
            let steps = &s.timeline;
            for (k, step) in steps.iter().enumerate().filter(|(_, t)| t.action == read) {
                drawn += 1;
                // Some hold, then an isolation a round or two later, then this read once the
                // others had time to elect (two deposed reads may interleave).
                let (heartbeat, max) = (s.cluster.heartbeat_ms, s.cluster.election_timeout_ms[1]);
                let isolated = |hold: f64| {
                    steps[..k].iter().any(|t| {
                        matches!(t.action, Action::Isolate { .. })
                            && (heartbeat - 1e-9..=2.0 * heartbeat + 1e-9)
                                .contains(&(t.at_ms - hold))
                            && (1.5 * max - 1e-9..=3.0 * max + 1e-9)
                                .contains(&(step.at_ms - t.at_ms))
                    })
                };
                let held = steps[..k].iter().any(|t| {
                    matches!(t.action, Action::Hold { to, .. }
                        if to == Target::Role(RoleTarget::Leader))
                        && isolated(t.at_ms)
                });
                assert!(held, "seed {seed}: the read at {} follows a hold and a cut", step.at_ms);
                let release = steps[k..].iter().find(|t| t.action == Action::ReleaseAll).unwrap();
                assert!(release.at_ms >= step.at_ms && release.at_ms <= step.at_ms + heartbeat);
                assert!(release.at_ms <= base.swarm.as_ref().unwrap().faults_until_ms);
            }
        }
        assert!(drawn > 100, "the shipped swarm draws deposed reads ({drawn} in 200 trials)");
        let mut none = base.clone();
        none.swarm.as_mut().unwrap().deposed_reads = [0, 0];
        assert!((0..200).all(|seed| draw(&none, seed).timeline.iter().all(|t| t.action != read)));
    }
}
