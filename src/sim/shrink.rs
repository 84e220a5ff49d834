//! Shrinking: from a trial that breaks an invariant, a smaller scenario that still breaks it.
//!
//! The trial's scenario (a swarm trial as drawn, so every value is explicit) is reduced by delta
//! debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002):
//! drop timeline steps in halves, then quarters, down to one at a time; end the run just after
//! the violation; drop nodes; replace latencies, disks, clocks, loss and duplication by simpler
//! ones. A change is kept only if the same trial (same seed, same index) of the smaller scenario
//! still breaks the same invariant. Every candidate is one deterministic trial, so the result is
//! the same on every machine.

use super::checkers::Invariant;
use super::harness::Harness;
use super::latency::Latency;
use super::metrics::ViolationReport;
use super::runner::{trial_violation, RunOptions};
use super::scenario::{Scenario, Step};

/// The outcome of shrinking.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest scenario found that still breaks the invariant in the same trial.
    pub scenario: Scenario,
    /// Timeline steps before shrinking.
    pub steps_before: usize,
    /// Timeline steps after.
    pub steps_after: usize,
    /// Trials run to shrink.
    pub runs: u64,
}

/// Shrinks `scenario`, whose trial `trial` under run seed `seed` breaks `invariant`, running at
/// most `max_runs` trials. `scenario` should have no swarm section (see
/// [`ViolationReport::trial_scenario`](super::ViolationReport::trial_scenario)).
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    trial: u64,
    invariant: Invariant,
    max_runs: u64,
) -> Shrunk {
    let mut s = Shrinker {
        seed,
        trial,
        invariant,
        user: None,
        runs: 0,
        max_runs,
        harness: Harness::default(),
    };
    s.shrink(scenario)
}

/// [`shrink`] of the violation `v` of a run with the embedder's hosts and invariants, which
/// every trial it runs has too; a user invariant's violation is kept only while the same
/// invariant (by name) still breaks.
pub fn shrink_with(
    scenario: &Scenario,
    harness: &Harness,
    v: &ViolationReport,
    max_runs: u64,
) -> Shrunk {
    let user = (v.invariant == Invariant::User)
        .then(|| v.detail.split(':').next().unwrap_or_default().to_string());
    let mut s = Shrinker {
        seed: v.seed,
        trial: v.trial,
        invariant: v.invariant,
        user,
        runs: 0,
        max_runs,
        harness: harness.clone(),
    };
    s.shrink(scenario)
}

impl Shrinker {
    fn shrink(&mut self, scenario: &Scenario) -> Shrunk {
        let s = self;
        let mut best = scenario.clone();
        best.trials = 1;
        loop {
            let before = s.runs;
            let was = size(&best);
            best = s.drop_steps(best);
            best = s.shorten(best);
            best = s.drop_nodes(best);
            best = s.simplify(best);
            if size(&best) >= was || s.runs == before || s.exhausted() {
                break;
            }
        }
        best.timeline.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        Shrunk {
            steps_before: scenario.timeline.len(),
            steps_after: best.timeline.len(),
            scenario: best,
            runs: s.runs,
        }
    }
}

/// What shrinking makes smaller, in order of importance.
fn size(s: &Scenario) -> (usize, u64, u64) {
    (s.timeline.len(), s.cluster.nodes, s.duration_ms as u64)
}

struct Shrinker {
    seed: u64,
    trial: u64,
    invariant: Invariant,
    /// A user invariant's name, which must break again.
    user: Option<String>,
    runs: u64,
    max_runs: u64,
    harness: Harness,
}

impl Shrinker {
    fn exhausted(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Whether `candidate` still breaks the invariant; if so, when (ms).
    fn fails(&mut self, candidate: &Scenario) -> Option<f64> {
        if self.exhausted() || candidate.validate().is_err() {
            return None;
        }
        self.runs += 1;
        let opts = RunOptions {
            seed: self.seed,
            only_trial: Some(self.trial),
            harness: self.harness.clone(),
            ..RunOptions::default()
        };
        let violation = trial_violation(candidate, &opts, self.trial)?;
        let same_user = self
            .user
            .as_ref()
            .is_none_or(|name| violation.detail.split(':').next() == Some(name.as_str()));
        (violation.invariant == self.invariant && same_user).then_some(violation.at_ms)
    }

    /// Delta debugging over the timeline: remove chunks of halving size while it still fails.
    fn drop_steps(&mut self, mut best: Scenario) -> Scenario {
        let mut chunk = best.timeline.len().div_ceil(2).max(1);
        while !best.timeline.is_empty() && !self.exhausted() {
            let mut start = 0;
            let mut removed = false;
            while start < best.timeline.len() {
                let mut candidate = best.clone();
                let end = (start + chunk).min(candidate.timeline.len());
                candidate.timeline.drain(start..end);
                if self.fails(&candidate).is_some() {
                    best = candidate;
                    removed = true;
                } else {
                    start += chunk;
                }
            }
            if chunk == 1 && !removed {
                break;
            }
            chunk = (chunk / 2).max(1);
        }
        best
    }

    /// Ends the run just after the violation.
    fn shorten(&mut self, best: Scenario) -> Scenario {
        let mut candidate = best.clone();
        candidate.check.liveness_within_ms = None;
        let Some(at) = self.fails(&candidate) else { return best };
        let mut shorter = candidate;
        shorter.duration_ms = (at + 1.0).floor().min(shorter.duration_ms);
        shorter.timeline.retain(|step| step.at_ms <= shorter.duration_ms);
        if self.fails(&shorter).is_some() {
            shorter
        } else {
            best
        }
    }

    /// Removes nodes one at a time, renumbering the rest.
    fn drop_nodes(&mut self, mut best: Scenario) -> Scenario {
        let mut id = best.cluster.nodes;
        while id >= 1 && best.cluster.nodes > 1 && !self.exhausted() {
            if let Some(candidate) = without_node(&best, id) {
                if self.fails(&candidate).is_some() {
                    best = candidate;
                }
            }
            id -= 1;
        }
        best
    }

    /// Tries simpler settings one at a time: constant latencies, instant disks, exact clocks,
    /// no loss or duplication, equal logs, no per-link overrides.
    fn simplify(&mut self, mut best: Scenario) -> Scenario {
        let edits: [&dyn Fn(&mut Scenario); 7] = [
            &|s| s.network.latency = simpler(&s.network.latency),
            &|s| {
                s.network.disk = Latency::Constant { ms: 0.0 };
                s.nodes.iter_mut().for_each(|n| n.disk = None);
            },
            &|s| s.nodes.iter_mut().for_each(|n| n.clock_rate = None),
            &|s| s.network.loss = 0.0,
            &|s| s.network.duplicate = 0.0,
            &|s| s.nodes.iter_mut().for_each(|n| n.log_index = None),
            &|s| s.links.clear(),
        ];
        for edit in edits {
            let mut candidate = best.clone();
            edit(&mut candidate);
            if format!("{candidate:?}") != format!("{best:?}") && self.fails(&candidate).is_some() {
                best = candidate;
            }
        }
        best.nodes.retain(|n| {
            n.log_index.is_some()
                || n.clock_rate.is_some()
                || n.processing_ms.is_some()
                || n.disk.is_some()
        });
        best
    }
}

/// A latency one step simpler: the common case of a long tail, or a constant at the mean.
fn simpler(l: &Latency) -> Latency {
    match l {
        Latency::LongTail { fast, .. } => (**fast).clone(),
        Latency::Constant { .. } => l.clone(),
        Latency::Uniform { min_ms, max_ms } => Latency::Constant { ms: (min_ms + max_ms) / 2.0 },
        Latency::Normal { mean_ms, .. } | Latency::Exponential { mean_ms, .. } => {
            Latency::Constant { ms: *mean_ms }
        }
        Latency::LogNormal { median_ms, .. } => Latency::Constant { ms: *median_ms },
    }
}

/// The scenario without node `gone`: the nodes above it renumbered one down, and every step,
/// node setting and link that names it removed.
fn without_node(s: &Scenario, gone: u64) -> Option<Scenario> {
    let renumber = |id: u64| if id > gone { id - 1 } else { id };
    let mut out = s.clone();
    out.cluster.nodes -= 1;
    out.cluster.learners.retain(|&id| id != gone);
    out.cluster.learners.iter_mut().for_each(|id| *id = renumber(*id));
    out.nodes.retain(|n| n.id != gone);
    out.nodes.iter_mut().for_each(|n| n.id = renumber(n.id));
    out.links.retain(|l| l.from != gone && l.to != gone);
    out.links.iter_mut().for_each(|l| (l.from, l.to) = (renumber(l.from), renumber(l.to)));
    out.timeline = s
        .timeline
        .iter()
        .filter_map(|step| {
            let action = step.action.clone().map_ids(|id| (id != gone).then(|| renumber(id)))?;
            Some(Step { at_ms: step.at_ms, action })
        })
        .collect();
    out.validate().ok().map(|()| out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::{Action, Target};

    #[test]
    fn a_node_goes_with_the_steps_that_name_it_and_the_others_renumbered() {
        let mut s =
            Scenario::parse("name = \"t\"\nduration_ms = 1000\n[cluster]\nnodes = 3\n").unwrap();
        let (one, two, three) = (Target::Id(1), Target::Id(2), Target::Id(3));
        for action in [
            Action::Hold { from: one, to: two },
            Action::Release { from: one, to: two },
            Action::Delay { from: vec![two], to: vec![one, three], extra_ms: 5.0 },
            Action::Isolate { node: three },
        ] {
            s.timeline.push(Step { at_ms: 10.0, action });
        }
        let without_2 = without_node(&s, 2).expect("a valid scenario without node 2");
        let actions: Vec<Action> = without_2.timeline.into_iter().map(|t| t.action).collect();
        assert_eq!(actions, [Action::Isolate { node: two }]);
        let without_3 = without_node(&s, 3).expect("a valid scenario without node 3");
        assert_eq!(without_3.timeline.len(), 3);
        assert_eq!(
            without_3.timeline[2].action,
            Action::Delay { from: vec![two], to: vec![one], extra_ms: 5.0 }
        );
    }
}
