//! Swarm testing (after TigerBeetle's VOPR): each trial draws its own fault mix from the
//! scenario's ranges, so many seeds explore many different schedules.

use rand_chacha::ChaCha8Rng;

use super::latency::{unit, Latency};
use super::rng::{rng_for, Stream};
use super::scenario::{Action, NodeSpec, RoleTarget, Scenario, Side, Step, SwarmSpec, Target};

/// The scenario one trial runs: `base` with the faults drawn from `trial_seed`, or `base` itself
/// when it has no swarm section.
pub fn draw(base: &Scenario, trial_seed: u64) -> Scenario {
    let Some(spec) = &base.swarm else { return base.clone() };
    let mut rng = rng_for(trial_seed, Stream::Swarm);
    let mut s = base.clone();
    s.network.loss = between(&mut rng, spec.loss);
    s.network.duplicate = between(&mut rng, spec.duplicate);
    let mean = between(&mut rng, spec.latency_ms).max(0.001);
    s.network.latency = Latency::Exponential { min_ms: mean / 10.0, mean_ms: mean };
    if spec.clock_drift > 0.0 {
        for id in 1..=s.cluster.nodes {
            let rate = 1.0 + spec.clock_drift * (2.0 * unit(&mut rng) - 1.0);
            match s.nodes.iter_mut().find(|n| n.id == id) {
                Some(n) => n.clock_rate = Some(rate),
                None => s.nodes.push(NodeSpec {
                    id,
                    log_index: None,
                    clock_rate: Some(rate),
                    processing_ms: None,
                    disk: None,
                }),
            }
        }
    }
    s.timeline.extend(faults(&mut rng, spec, s.cluster.nodes));
    // Loss is a fault too: it stops with the others, so liveness is judged on a quiet network.
    s.timeline.push(Step { at_ms: spec.faults_until_ms, action: Action::SetLoss { loss: 0.0 } });
    s.timeline.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    s
}

fn between(rng: &mut ChaCha8Rng, [lo, hi]: [f64; 2]) -> f64 {
    lo + (hi - lo) * unit(rng)
}

fn count(rng: &mut ChaCha8Rng, [lo, hi]: [u32; 2]) -> u32 {
    lo + ((f64::from(hi - lo) + 1.0) * unit(rng)) as u32
}

/// Crashes with restarts, pauses, and partitions with heals, all within `faults_until_ms`,
/// each fault over by then.
fn faults(rng: &mut ChaCha8Rng, spec: &SwarmSpec, nodes: u64) -> Vec<Step> {
    let until = spec.faults_until_ms;
    let mut steps = Vec::new();
    let window = |rng: &mut ChaCha8Rng| {
        let a = until * unit(rng);
        let b = a + (until - a) * unit(rng);
        (a, b)
    };
    for _ in 0..count(rng, spec.crashes) {
        let node = Target::Id(1 + (unit(rng) * nodes as f64) as u64 % nodes);
        let (a, b) = window(rng);
        steps.push(Step { at_ms: a, action: Action::Crash { node, within_heartbeat: false } });
        steps.push(Step { at_ms: b, action: Action::Restart { node } });
    }
    for _ in 0..count(rng, spec.pauses) {
        let (a, _) = window(rng);
        let for_ms = (spec.max_pause_ms * unit(rng)).min(until - a);
        steps.push(Step {
            at_ms: a,
            action: Action::Pause { node: Target::Role(RoleTarget::Random), for_ms },
        });
    }
    for _ in 0..count(rng, spec.partitions) {
        let (a, b) = window(rng);
        let action = match (unit(rng) * 4.0) as u32 {
            0 => Action::Isolate { node: Target::Role(RoleTarget::Leader) },
            1 => Action::Split { leader_in: Side::Minority },
            2 => Action::Bridge { node: Target::Role(RoleTarget::Random) },
            _ => Action::OneWay {
                from: vec![Target::Role(RoleTarget::Leader)],
                to: vec![Target::Role(RoleTarget::Follower)],
            },
        };
        steps.push(Step { at_ms: a, action });
        steps.push(Step { at_ms: b, action: Action::Heal });
    }
    steps
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
}
