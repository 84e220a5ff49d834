//! Stage 3 of `advise`: the simulator ranks the grid. Successive halving (Jamieson & Talwalkar
//! 2016): every eligible candidate is screened at a few hundred trials, the best quarter climbs
//! to a few thousand, and the finalists run at the full count; the winner is decided there, by
//! the simulator alone, and then polished: its neighbours on the grid run at the full count
//! too, and the search moves to any that beats it. The closed forms only order the candidates (so a search cut short by
//! its effort has screened the likeliest first) and never decide.
//!
//! One pruning rule is not a simulation but a proof: a candidate whose failover p99 cannot
//! fall below [`failover_p99_floor_ms`] is skipped once a screened candidate already beats that
//! floor (or, with a failover budget, when the floor is over the budget). The floor follows
//! from the timer alone: after the crash, no survivor times out before its drawn timeout less
//! the time since the last heartbeat it heard.
//!
//! Two objectives:
//! - **No failover budget**: the fastest simulated failover p99 among the candidates within the
//!   false-election budget; among finalists within 2% of the fastest (closer than the p99's
//!   noise at the final count) the one sending the fewest heartbeats, then the most robust.
//! - **A failover budget**: the most robust candidate (fewest false elections, then the
//!   longest shortest timeout, then the fewest heartbeats) whose simulated p99 meets it at the
//!   full count.

use serde::Serialize;

use super::error::AdviseError;
use super::grid::{by_robustness, Estimate, Grid};
use super::profile::Profile;
use super::verify::{self, Failover};

/// How hard the ranking looks.
#[derive(Clone, Copy, Debug)]
pub struct Effort {
    /// Trials per candidate at the first rung.
    pub screen_trials: u64,
    /// Trials per candidate at the second rung.
    pub climb_trials: u64,
    /// Trials per finalist, and of the setting reported.
    pub final_trials: u64,
    /// Finalists run at the full count (without a failover budget).
    pub finalists: usize,
    /// Simulated events the search may spend (about 3.5 million a second per core).
    pub events: u64,
    /// Worker threads per simulation.
    pub jobs: usize,
    /// The seed of every simulation.
    pub seed: u64,
}

/// Of the effort, what screening may have spent when it stops, and climbing; the finalists and
/// the polish get the rest. Finals run at fewer trials (never under [`LEAST_FINAL_TRIALS`])
/// when the full count would overrun the effort, so a costly setting (long timeouts on short
/// heartbeats, many nodes) slows the search down by trials, not by minutes.
const SCREEN_SHARE: f64 = 0.3;
const CLIMB_SHARE: f64 = 0.5;
const LEAST_FINAL_TRIALS: u64 = 1000;
/// Candidates climbing to the second rung, at most.
const CLIMBERS: usize = 16;
/// A candidate is skipped when its floor exceeds the best screened p99 by this much: a p99 of
/// a few hundred trials may read low by a few percent.
const FLOOR_SLACK: f64 = 1.25;
/// With a budget, a screened p99 this far over it is out (a climbing one must meet it).
const SCREEN_MARGIN: f64 = 1.15;
/// Finalists this close to the fastest tie, and the cheaper wins.
const TIE: f64 = 1.02;
/// Rounds of moving to a better neighbour, at most.
const POLISH_ROUNDS: usize = 4;

/// The fastest of `finals` by simulated p99 (read steadily, [`Failover::p99_banded_ms`]); within [`TIE`] of it, the one sending the fewest
/// heartbeats, then the most robust.
fn pick(finals: &[(Estimate, Failover)]) -> (Estimate, Failover) {
    let fastest = finals.iter().map(|(_, f)| f.p99_banded_ms).fold(f64::INFINITY, f64::min);
    let near = |f: &Failover| f.p99_banded_ms <= fastest * TIE;
    let Some((c, f)) = finals.iter().filter(|(_, f)| near(f)).min_by(|a, b| {
        b.0.heartbeat_ms.total_cmp(&a.0.heartbeat_ms).then_with(|| by_robustness(&a.0, &b.0))
    }) else {
        unreachable!("the grid has an eligible candidate, so one reached the finals")
    };
    (*c, f.clone())
}

/// One candidate the search simulated, at one rung.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Tried {
    /// Heartbeat interval, ms.
    pub heartbeat_ms: f64,
    /// Timeout range, ms.
    pub election_timeout_ms: [f64; 2],
    /// The closed forms' failover p99, ms (for comparison; it decided nothing).
    pub closed_form_p99_ms: f64,
    /// The simulator's, ms.
    pub simulated_p99_ms: f64,
    /// The simulator's read steadily ([`Failover::p99_banded_ms`]): what the search ranks by.
    pub ranked_p99_ms: f64,
    /// Trials.
    pub trials: u64,
    /// `"screen"`, `"climb"`, `"final"` or `"polish"` (a neighbour of the winner, at the
    /// full count).
    pub rung: &'static str,
}

/// One rung of the search.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rung {
    /// `"screen"`, `"climb"` or `"final"`.
    pub name: &'static str,
    /// Trials per candidate.
    pub trials: u64,
    /// Candidates simulated.
    pub candidates: usize,
}

/// The ranking's outcome.
#[derive(Clone, Debug)]
pub struct Ranking {
    /// `"fastest-within-false-election-budget"` or `"robust-within-failover-budget"`.
    pub objective: &'static str,
    /// The winner.
    pub chosen: Estimate,
    /// Its failover run at the full count.
    pub failover: Failover,
    /// Every simulation, in order.
    pub tried: Vec<Tried>,
    /// The rungs.
    pub rungs: Vec<Rung>,
    /// Candidates eligible (within the false-election budget).
    pub eligible: usize,
    /// Skipped by the floor: they could not have won.
    pub pruned_by_floor: usize,
    /// Not screened: the effort ran out before the closed forms' order reached them.
    pub unscreened: usize,
}

/// A floor under the failover p99 of `c` that its simulation cannot go below but by noise.
///
/// Survivor `i` last heard the leader `a_i` before the crash and times out `T_i − a_i` after
/// it, `T_i` uniform on `[min, max]`. A survivor that lost `m` heartbeats in a row has
/// `a_i ≤ (m + 1)·h`; all survivors have lost at most `m` with probability over 0.999 when
/// `(n − 1)·loss^(m+1) ≤ 0.001`. The least of `n − 1` draws is below `max − w·0.015^(1/(n−1))`
/// with probability 0.985. So failover exceeds `(that − (m + 1)·h) / (1 + drift)` (a fast clock
/// fires early) with probability at least 0.014: the floor is below the p99.
pub fn failover_p99_floor_ms(c: &Estimate, profile: &Profile) -> f64 {
    let survivors = (profile.nodes.max(2) - 1) as f64;
    let width = c.max_ms - c.min_ms;
    let first = c.max_ms - width * 0.015f64.powf(1.0 / survivors);
    let missed = if profile.loss > 0.0 {
        ((0.001 / survivors).ln() / profile.loss.ln() - 1.0).ceil().max(0.0)
    } else {
        0.0
    };
    ((first - (missed + 1.0) * c.heartbeat_ms) / (1.0 + profile.clock_drift)).max(0.0)
}

/// The work of one failover trial of `c`, in events of a five-node cluster: heartbeats and
/// answers from the start to the crash (four longest timeouts in) and on to a new leader, each
/// costing more as the checkers look at more nodes (measured: a nine-node event costs about
/// twice a five-node one).
fn events_per_trial(c: &Estimate, nodes: u64) -> f64 {
    let events =
        (5.5 * c.max_ms + 2.0 * c.heartbeat_ms) / c.heartbeat_ms * 2.0 * (nodes - 1) as f64
            + 30.0 * nodes as f64;
    events * (nodes as f64 / 5.0).max(1.0)
}

/// Told how the search goes: stage, steps done, steps in the stage.
pub type Progress<'a> = &'a dyn Fn(&str, usize, usize);

struct Search<'a> {
    profile: &'a Profile,
    effort: Effort,
    tried: Vec<Tried>,
    rungs: Vec<Rung>,
    /// Simulated events spent so far, estimated.
    spent: f64,
}

impl Search<'_> {
    fn run(
        &mut self,
        c: &Estimate,
        trials: u64,
        rung: &'static str,
    ) -> Result<Failover, AdviseError> {
        let timing = c.timing(self.profile.timer_granularity_ms);
        let f =
            verify::failover_on(self.profile, &timing, trials, self.effort.seed, self.effort.jobs)?;
        self.spent += self.cost(c, trials);
        self.tried.push(Tried {
            heartbeat_ms: c.heartbeat_ms,
            election_timeout_ms: [c.min_ms, c.max_ms],
            closed_form_p99_ms: c.failover_p99_ms,
            simulated_p99_ms: f.p99_ms,
            ranked_p99_ms: f.p99_banded_ms,
            trials: f.trials,
            rung,
        });
        match self.rungs.iter_mut().find(|r| r.name == rung) {
            Some(r) => r.candidates += 1,
            None => self.rungs.push(Rung { name: rung, trials, candidates: 1 }),
        }
        Ok(f)
    }

    fn cost(&self, c: &Estimate, trials: u64) -> f64 {
        events_per_trial(c, self.profile.nodes) * trials as f64
    }

    /// Whether running `c` at `trials` would take the spending past `limit`.
    fn over(&self, c: &Estimate, trials: u64, limit: f64) -> bool {
        self.spent + self.cost(c, trials) > limit
    }

    /// Trials per finalist: the full count, or what the rest of the effort affords (half of
    /// it, the other half left to the polish), never under [`LEAST_FINAL_TRIALS`].
    fn final_trials(&self, finalists: &[Estimate], budget: f64) -> u64 {
        let per_trial: f64 =
            finalists.iter().map(|c| events_per_trial(c, self.profile.nodes)).sum();
        let affordable = ((budget - self.spent).max(0.0) / 2.0 / per_trial.max(1.0)) as u64;
        self.effort.final_trials.min(affordable.max(LEAST_FINAL_TRIALS))
    }
}

/// What an objective's search found.
struct Found {
    chosen: Estimate,
    failover: Failover,
    pruned: usize,
    unscreened: usize,
}

/// Ranks `grid`'s eligible candidates for `profile` by simulation.
pub fn rank(
    profile: &Profile,
    grid: &Grid,
    effort: Effort,
    progress: Progress,
) -> Result<Ranking, AdviseError> {
    let mut s = Search { profile, effort, tried: Vec::new(), rungs: Vec::new(), spent: 0.0 };
    let eligible: Vec<Estimate> = grid.eligible().copied().collect();
    let (objective, found) = match profile.failover_p99_ms {
        None => {
            ("fastest-within-false-election-budget", fastest(&mut s, grid, &eligible, progress)?)
        }
        Some(target) => {
            ("robust-within-failover-budget", most_robust(&mut s, &eligible, target, progress)?)
        }
    };
    Ok(Ranking {
        objective,
        chosen: found.chosen,
        failover: found.failover,
        tried: s.tried,
        rungs: s.rungs,
        eligible: eligible.len(),
        pruned_by_floor: found.pruned,
        unscreened: found.unscreened,
    })
}

/// Without a failover budget: the fastest by simulation, by successive halving and a polish.
fn fastest(
    s: &mut Search,
    grid: &Grid,
    eligible: &[Estimate],
    progress: Progress,
) -> Result<Found, AdviseError> {
    let (profile, effort) = (s.profile, s.effort);
    let budget = effort.events as f64;
    let mut order = eligible.to_vec();
    order.sort_by(|a, b| {
        a.failover_p99_ms.total_cmp(&b.failover_p99_ms).then_with(|| by_robustness(a, b))
    });
    // Screen: every candidate the floor does not rule out, likeliest first.
    let mut best = f64::INFINITY;
    let (mut pruned, mut unscreened) = (0, 0);
    let mut screened: Vec<(Estimate, f64)> = Vec::new();
    for (i, c) in order.iter().enumerate() {
        progress("screening", i, order.len());
        if failover_p99_floor_ms(c, profile) > best * FLOOR_SLACK {
            pruned += 1;
            continue;
        }
        if s.over(c, effort.screen_trials, budget * SCREEN_SHARE) && !screened.is_empty() {
            unscreened += 1;
            continue;
        }
        let f = s.run(c, effort.screen_trials, "screen")?;
        best = best.min(f.p99_banded_ms);
        screened.push((*c, f.p99_banded_ms));
    }
    progress("screening", order.len(), order.len());
    // Climb: the best quarter.
    screened.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| by_robustness(&a.0, &b.0)));
    let climbers = (screened.len() / 4).clamp(screened.len().min(4), CLIMBERS);
    let mut climbed: Vec<(Estimate, f64)> = Vec::new();
    for (i, (c, _)) in screened.iter().take(climbers).enumerate() {
        progress("climbing", i, climbers);
        if s.over(c, effort.climb_trials, budget * CLIMB_SHARE) && climbed.len() >= 2 {
            break;
        }
        let f = s.run(c, effort.climb_trials, "climb")?;
        climbed.push((*c, f.p99_banded_ms));
    }
    progress("climbing", climbers, climbers);
    // Final: the best few at the full count; the simulator decides.
    climbed.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| by_robustness(&a.0, &b.0)));
    let count = effort.finalists.clamp(1, climbed.len().max(1));
    let mut finals: Vec<(Estimate, Failover)> = Vec::new();
    let finalists: Vec<Estimate> = climbed.iter().take(count).map(|(c, _)| *c).collect();
    let trials = s.final_trials(&finalists, budget);
    for (i, c) in finalists.iter().enumerate() {
        progress("finals", i, count);
        finals.push((*c, s.run(c, trials, "final")?));
    }
    progress("finals", count, count);
    // Polish: the winner's grid neighbours at the full count, moving to any that beats
    // it, until none does (a hill climb in the simulator, so the recommendation is at
    // least the best of its neighbourhood).
    let (mut chosen, mut failover) = pick(&finals);
    for _ in 0..POLISH_ROUNDS {
        let fresh: Vec<Estimate> = grid
            .neighbours(&chosen)
            .into_iter()
            .filter(|n| !finals.iter().any(|(c, _)| c == n))
            .collect();
        for (i, n) in fresh.iter().enumerate() {
            progress("polishing", i, fresh.len());
            if s.over(n, trials, budget) {
                continue;
            }
            finals.push((*n, s.run(n, trials, "polish")?));
        }
        let (best, f) = pick(&finals);
        if best == chosen {
            break;
        }
        (chosen, failover) = (best, f);
    }
    Ok(Found { chosen, failover, pruned, unscreened })
}

/// With a failover budget: the most robust whose simulated p99 meets it at the full count.
fn most_robust(
    s: &mut Search,
    eligible: &[Estimate],
    target: f64,
    progress: Progress,
) -> Result<Found, AdviseError> {
    let (profile, effort) = (s.profile, s.effort);
    let budget = effort.events as f64;
    // Most robust first, but those the closed forms put within the budget before the
    // rest: an order only (all are screened if the effort allows), so that a search
    // cut short has looked where the winner most likely is.
    let mut order = eligible.to_vec();
    order.sort_by(|a, b| {
        (a.failover_p99_ms > target)
            .cmp(&(b.failover_p99_ms > target))
            .then_with(|| by_robustness(a, b))
    });
    let (mut pruned, mut unscreened) = (0, 0);
    let mut kept: Vec<Estimate> = Vec::new();
    for (i, c) in order.iter().enumerate() {
        progress("screening", i, order.len());
        if failover_p99_floor_ms(c, profile) > target {
            pruned += 1;
            continue;
        }
        if s.over(c, effort.screen_trials, budget * SCREEN_SHARE) && !s.tried.is_empty() {
            unscreened += 1;
            continue;
        }
        let f = s.run(c, effort.screen_trials, "screen")?;
        if f.p99_banded_ms <= target * SCREEN_MARGIN {
            kept.push(*c);
        }
    }
    progress("screening", order.len(), order.len());
    // Walk down the robust order: the first to meet the budget at the second rung and
    // then at the full count wins.
    let mut found = None;
    let mut finals = 0;
    for (i, c) in kept.iter().enumerate() {
        progress("verifying", i, kept.len());
        if s.over(c, effort.climb_trials, budget) && finals > 0 {
            break;
        }
        if s.run(c, effort.climb_trials, "climb")?.p99_banded_ms > target {
            continue;
        }
        finals += 1;
        let trials = s.final_trials(&[*c], budget);
        let f = s.run(c, trials, "final")?;
        if f.p99_ms <= target {
            found = Some((*c, f));
            break;
        }
    }
    progress("verifying", kept.len(), kept.len());
    if s.tried.is_empty() {
        let least = order
            .iter()
            .map(|c| (failover_p99_floor_ms(c, profile), c))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("the grid has an eligible candidate");
        return Err(AdviseError::Unreachable(format!(
            "a failover p99 of {target} ms cannot be met: no setting that keeps the \
             pattern's rule and the false-election budget can fail over that fast; the \
             least floor is {:.1} ms (heartbeat {} ms, timeouts {}-{} ms)",
            least.0, least.1.heartbeat_ms, least.1.min_ms, least.1.max_ms
        )));
    }
    let Some((chosen, failover)) = found else {
        let best = s.tried.iter().min_by(|a, b| a.simulated_p99_ms.total_cmp(&b.simulated_p99_ms));
        return Err(AdviseError::NotVerified {
            budget_ms: target,
            tried: s.tried.len(),
            unscreened,
            best_p99_ms: best.map_or(f64::INFINITY, |t| t.simulated_p99_ms),
            heartbeat_ms: best.map_or(0, |t| t.heartbeat_ms as u64),
            min_ms: best.map_or(0, |t| t.election_timeout_ms[0] as u64),
            max_ms: best.map_or(0, |t| t.election_timeout_ms[1] as u64),
        });
    };
    Ok(Found { chosen, failover, pruned, unscreened })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::Host;

    #[test]
    fn the_floor_is_under_every_simulated_p99() {
        // The floor must never cut a candidate that could have won: check it against the
        // simulator on settings narrow and wide, with and without loss, on the cloud host and
        // the ideal one. Without loss it also says something (it prunes).
        for (loss, host) in
            [(0.0, Host::Ideal), (0.2, Host::Ideal), (0.0, Host::Cloud), (0.2, Host::Cloud)]
        {
            let p = Profile { loss, host, ..Profile::new(5, 0.3, 1.0) };
            let env = p.environment();
            for (h, min, max) in [(10.0, 30.0, 40.0), (10.0, 50.0, 250.0), (50.0, 150.0, 300.0)] {
                let t = crate::closed_form::Timing {
                    heartbeat_ms: h,
                    min_ms: min,
                    max_ms: max,
                    step_ms: 1.0,
                };
                let c = super::super::grid::estimate(&t, &env, 0.0);
                let f = verify::failover(&p, &t, 2000, 7).unwrap();
                let floor = failover_p99_floor_ms(&c, &p);
                assert!(floor < f.p99_ms, "{t:?} loss {loss}: {floor} against {}", f.p99_ms);
                assert!(loss > 0.0 || floor > 0.3 * f.p99_ms, "{t:?}: {floor} says nothing");
            }
        }
    }
}
