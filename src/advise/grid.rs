//! Stage 2 of `advise`: the candidate settings. A grid that keeps the pattern's rule (timeout >
//! interval > round trip) by construction, every point priced by the closed forms, and the
//! false-election budget applied: false elections are too rare for the simulator to count in a
//! search, so here alone a closed form decides (the steady-state run checks it afterwards).

use std::cmp::Ordering;

use serde::Serialize;

use super::assumptions::Assumptions;
use super::error::AdviseError;
use super::profile::{Profile, DEFAULT_FALSE_ELECTIONS_PER_DAY};
use crate::closed_form::{self, Environment, Timing};

/// Heartbeat intervals tried, as multiples of the least one the pattern allows.
const HEARTBEAT_MULTIPLES: [f64; 18] = [
    1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0,
    300.0, 500.0,
];
/// Heartbeats per shortest timeout tried: at least three, so a follower survives two lost
/// heartbeats in a row whatever the loss it was told about (the Raft paper's 50 / 150 ms).
const HEARTBEATS_PER_TIMEOUT: [f64; 9] = [3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0];
/// Range widths tried as multiples of the vote window (the thesis's split-vote scale, §9.2)...
const WINDOW_WIDTHS: [f64; 4] = [2.0, 5.0, 10.0, 20.0];
/// ...and as fractions of the shortest timeout, up to several times it: on a lossy link width
/// buys fewer split votes where the vote window says it is not needed.
const MIN_WIDTHS: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 3.0, 4.0];
/// The longest heartbeat interval or shortest timeout proposed, ms: etcd's bound on
/// `--election-timeout` (see `peers/etcd.rs`), so every peer can take the recommendation.
pub const LONGEST_MS: f64 = 50_000.0;

/// One setting and what the closed forms predict for it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Estimate {
    /// Heartbeat interval, ms.
    pub heartbeat_ms: f64,
    /// Shortest election timeout, ms.
    pub min_ms: f64,
    /// Longest election timeout, ms.
    pub max_ms: f64,
    /// Failover median, ms.
    pub failover_p50_ms: f64,
    /// Failover 99th percentile, ms.
    pub failover_p99_ms: f64,
    /// Failover 99.9th percentile, ms.
    pub failover_p999_ms: f64,
    /// Elections needing more than one round.
    pub split_vote_rate: f64,
    /// Timeouts while the leader lives, cluster-wide, per day.
    pub false_timeouts_per_day: f64,
    /// Elections (terms raised past pre-vote) while the leader lives, per day.
    pub false_elections_per_day: f64,
    /// Chen, Toueg & Aguilera's detection bound, ms.
    pub detection_bound_ms: f64,
    /// How long a leader stall the shortest timeout absorbs, ms.
    pub pause_tolerance_ms: f64,
}

impl Estimate {
    /// The setting as the closed forms and the simulator take it.
    pub fn timing(&self, step_ms: f64) -> Timing {
        Timing {
            heartbeat_ms: self.heartbeat_ms,
            min_ms: self.min_ms,
            max_ms: self.max_ms,
            step_ms,
        }
    }
}

/// Where a candidate sits on the grid's three axes: its heartbeat among the grid's, its
/// shortest timeout among that heartbeat's, its width among that pair's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Point {
    heartbeat: usize,
    min: usize,
    width: usize,
}

/// The candidates of one deployment.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Every grid point, priced.
    pub candidates: Vec<Estimate>,
    /// Where each sits.
    points: Vec<Point>,
    /// The false-election budget, per day (none: only a failover budget was given).
    pub false_budget: Option<f64>,
    /// The timer step, ms.
    pub step_ms: f64,
}

/// The least heartbeat interval the pattern allows: a whole number of `step`s above the
/// round trip at its 99th percentile.
pub fn least_heartbeat_ms(env: &Environment, step: f64) -> f64 {
    let rtt = 2.0 * env.latency.quantile(0.99);
    ((rtt / step).floor() + 1.0) * step
}

/// The stall the shortest timeout must cover besides the heartbeat interval and the leader's
/// pauses: a heartbeat late by the latency's 99.9th percentile, held behind a write at the
/// disk's 99th, and sent by a timer that fired `lateness_ms` late.
pub fn stall_ms(env: &Environment, lateness_ms: f64) -> f64 {
    env.latency.quantile(0.999) + env.fsync.quantile(0.99) + lateness_ms
}

fn up_to_step(v: f64, step: f64) -> f64 {
    (v / step).ceil() * step
}

impl Grid {
    /// The grid for `profile` on `host` in `env`, or why no setting can serve it.
    pub fn of(
        profile: &Profile,
        host: &Assumptions,
        env: &Environment,
    ) -> Result<Grid, AdviseError> {
        let step = profile.timer_granularity_ms;
        let least = least_heartbeat_ms(env, step);
        let stall = stall_ms(env, host.lateness_ms());
        let pause = host.pause_ms();
        if let Some(budget) = profile.failover_p99_ms {
            refuse_impossible_budget(budget, pause, env, least, stall)?;
        }
        let window = env.vote_window_ms().max(step / 2.0);
        let mut candidates = Vec::new();
        let mut points = Vec::new();
        let mut heartbeats: Vec<f64> = Vec::new();
        for m in HEARTBEAT_MULTIPLES {
            let h = up_to_step(least * m, step);
            if h > LONGEST_MS || heartbeats.contains(&h) {
                continue;
            }
            // The pattern's rule, quantified: the shortest timeout outlasts k heartbeats and
            // a leader's longest stall plus one interval plus a late heartbeat.
            let mut mins: Vec<f64> = HEARTBEATS_PER_TIMEOUT
                .iter()
                .map(|k| up_to_step((k * h).max(pause + h + stall), step))
                .filter(|&min| min <= LONGEST_MS)
                .collect();
            mins.dedup();
            if mins.is_empty() {
                continue;
            }
            heartbeats.push(h);
            for (mi, &min) in mins.iter().enumerate() {
                let mut widths: Vec<f64> = WINDOW_WIDTHS
                    .iter()
                    .map(|m| window * m)
                    .chain(MIN_WIDTHS.iter().map(|m| min * m))
                    .map(|w| up_to_step(w, step).max(2.0 * step))
                    .collect();
                widths.sort_by(f64::total_cmp);
                widths.dedup();
                for (wi, width) in widths.into_iter().enumerate() {
                    let t =
                        Timing { heartbeat_ms: h, min_ms: min, max_ms: min + width, step_ms: step };
                    candidates.push(estimate(&t, env, stall));
                    points.push(Point { heartbeat: heartbeats.len() - 1, min: mi, width: wi });
                }
            }
        }
        if candidates.is_empty() {
            return Err(AdviseError::Unreachable(format!(
                "no setting serves this network: the heartbeat must exceed the round trip's p99 \
                 ({least:.1} ms) and the shortest timeout must cover a heartbeat late by the \
                 latency's p99.9 plus the disk's p99, the timer's lateness and the longest pause \
                 ({:.1} ms), within {LONGEST_MS} ms (etcd's longest election timeout); check the \
                 latency percentiles",
                stall + pause,
            )));
        }
        let false_budget = profile
            .false_elections_per_day
            .or(profile.failover_p99_ms.is_none().then_some(DEFAULT_FALSE_ELECTIONS_PER_DAY));
        let grid = Grid { candidates, points, false_budget, step_ms: step };
        if grid.eligible().next().is_none() {
            let best = grid
                .candidates
                .iter()
                .min_by(|a, b| by_robustness(a, b))
                .expect("the grid is not empty");
            return Err(AdviseError::Unreachable(format!(
                "no setting keeps false elections under {}/day: the best predicts {:.3}/day \
                 (heartbeat {} ms, timeouts {}-{} ms) with loss {}; lower the loss or allow more",
                false_budget.unwrap_or(0.0),
                best.false_elections_per_day,
                best.heartbeat_ms,
                best.min_ms,
                best.max_ms,
                profile.loss
            )));
        }
        Ok(grid)
    }

    /// The candidates within the false-election budget.
    pub fn eligible(&self) -> impl Iterator<Item = &Estimate> + '_ {
        self.candidates
            .iter()
            .filter(|c| self.false_budget.is_none_or(|r| c.false_elections_per_day <= r))
    }

    /// The eligible candidates one step from `c` on each axis, either way: the next heartbeat
    /// (at the nearest shortest timeout and the same width rank), the next shortest timeout,
    /// the next width. What a search that found the best must have beaten.
    pub fn neighbours(&self, c: &Estimate) -> Vec<Estimate> {
        let Some(at) = self.candidates.iter().position(|e| e == c) else {
            return Vec::new();
        };
        let p = self.points[at];
        let find = |pred: &dyn Fn(&Point) -> bool| -> Vec<usize> {
            (0..self.points.len()).filter(|&i| pred(&self.points[i])).collect()
        };
        let mut out = Vec::new();
        for d in [-1i64, 1] {
            let step = |v: usize| usize::try_from(v as i64 + d).ok();
            if let Some(w) = step(p.width) {
                out.extend(find(&|q| q.heartbeat == p.heartbeat && q.min == p.min && q.width == w));
            }
            if let Some(m) = step(p.min) {
                out.extend(find(&|q| {
                    q.heartbeat == p.heartbeat && q.min == m && q.width == p.width
                }));
            }
            if let Some(h) = step(p.heartbeat) {
                let row = find(&|q| q.heartbeat == h && q.width == p.width);
                let nearest = row.into_iter().min_by(|&a, &b| {
                    let gap = |i: usize| (self.candidates[i].min_ms - c.min_ms).abs();
                    gap(a).total_cmp(&gap(b))
                });
                out.extend(nearest);
            }
        }
        out.into_iter()
            .map(|i| self.candidates[i])
            .filter(|e| self.false_budget.is_none_or(|r| e.false_elections_per_day <= r))
            .collect()
    }
}

/// Refuses a budget no setting can meet: below the round trip, or below the shortest timeout
/// the pattern allows plus the election that follows it.
fn refuse_impossible_budget(
    budget: f64,
    pause_ms: f64,
    env: &Environment,
    least_h: f64,
    stall: f64,
) -> Result<(), AdviseError> {
    let rtt = 2.0 * env.latency.median_ms;
    if budget <= rtt {
        return Err(AdviseError::BudgetBelowFloor {
            budget_ms: budget,
            floor_ms: rtt,
            what: "median round trip (a vote needs one)".into(),
        });
    }
    let least_min = (3.0 * least_h).max(pause_ms + least_h + stall);
    let floor = least_min + env.latency.median_ms + env.election_ms();
    if budget < floor {
        return Err(AdviseError::BudgetBelowFloor {
            budget_ms: budget,
            floor_ms: floor,
            what: format!(
                "shortest timeout the pattern allows ({least_min:.0} ms: three heartbeats of \
                 {least_h} ms, each above the round trip's p99, and the leader's longest stall \
                 plus one heartbeat) plus an election ({:.2} ms)",
                env.latency.median_ms + env.election_ms()
            ),
        });
    }
    Ok(())
}

/// Prices one setting; `stall` is what the shortest timeout must cover besides one interval
/// and a pause ([`stall_ms`]), so what is left is the longest pause it absorbs.
pub fn estimate(t: &Timing, env: &Environment, stall: f64) -> Estimate {
    Estimate {
        heartbeat_ms: t.heartbeat_ms,
        min_ms: t.min_ms,
        max_ms: t.max_ms,
        failover_p50_ms: closed_form::failover_quantile(0.5, t, env),
        failover_p99_ms: closed_form::failover_quantile(0.99, t, env),
        failover_p999_ms: closed_form::failover_quantile(0.999, t, env),
        split_vote_rate: closed_form::split_vote_rate(t, env),
        false_timeouts_per_day: closed_form::false_timeouts_per_day(t, env),
        false_elections_per_day: closed_form::false_elections_per_day(t, env),
        detection_bound_ms: closed_form::detection_bound_ms(t, env),
        pause_tolerance_ms: (t.min_ms - t.heartbeat_ms - stall).max(0.0),
    }
}

/// A rate on a coarse logarithmic scale, so that negligibly different rates tie and later
/// keys decide; anything under one per thousand years is none.
fn bucket(rate_per_day: f64) -> i64 {
    if rate_per_day < 1.0 / 365_000.0 {
        i64::MIN
    } else {
        (rate_per_day.log10() * 4.0).round() as i64
    }
}

/// Most robust first: fewest false elections, then fewest false timeouts, then the longest
/// stall absorbed, then the fewest heartbeats.
pub fn by_robustness(a: &Estimate, b: &Estimate) -> Ordering {
    bucket(a.false_elections_per_day)
        .cmp(&bucket(b.false_elections_per_day))
        .then(bucket(a.false_timeouts_per_day).cmp(&bucket(b.false_timeouts_per_day)))
        .then(b.min_ms.total_cmp(&a.min_ms))
        .then(b.heartbeat_ms.total_cmp(&a.heartbeat_ms))
        .then(a.max_ms.total_cmp(&b.max_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_keeps_timeout_above_interval_above_round_trip_heartbeat_pattern() {
        let profile = Profile {
            max_pause_ms: Some(40.0),
            fsync_p99_ms: Some(5.0),
            ..Profile::new(5, 0.3, 1.0)
        };
        let env = profile.environment();
        let grid = Grid::of(&profile, &profile.assumptions(), &env).unwrap();
        assert!(grid.candidates.len() > 100, "{} candidates", grid.candidates.len());
        let rtt = 2.0 * env.latency.quantile(0.99);
        for c in &grid.candidates {
            assert!(c.heartbeat_ms > rtt, "{c:?}");
            assert!(c.min_ms >= 3.0 * c.heartbeat_ms, "{c:?}");
            assert!(c.min_ms >= 40.0 + c.heartbeat_ms + stall_ms(&env, 1.0), "{c:?}");
            assert!(c.max_ms > c.min_ms);
            for v in [c.heartbeat_ms, c.min_ms, c.max_ms] {
                assert_eq!(v.fract(), 0.0, "whole ms: {c:?}");
            }
        }
        // Widths reach several times the shortest timeout.
        assert!(grid.candidates.iter().any(|c| c.max_ms - c.min_ms >= 3.0 * c.min_ms));
    }

    #[test]
    fn a_coarse_tick_keeps_every_setting_on_the_tick() {
        let profile = Profile { timer_granularity_ms: 10.0, ..Profile::new(3, 0.3, 1.0) };
        let grid = Grid::of(&profile, &profile.assumptions(), &profile.environment()).unwrap();
        for c in &grid.candidates {
            for v in [c.heartbeat_ms, c.min_ms, c.max_ms] {
                assert_eq!(v % 10.0, 0.0, "{c:?}");
            }
        }
    }

    #[test]
    fn neighbours_are_one_step_along_each_axis() {
        let profile = Profile::new(5, 0.3, 1.0);
        let grid = Grid::of(&profile, &profile.assumptions(), &profile.environment()).unwrap();
        let c = grid.candidates[grid.candidates.len() / 2];
        let n = grid.neighbours(&c);
        assert!(n.len() >= 3 && n.len() <= 6, "{n:?}");
        for e in &n {
            let same = [e.heartbeat_ms == c.heartbeat_ms, e.min_ms == c.min_ms];
            assert!(e != &c && (same[0] || same[1] || e.max_ms - e.min_ms == c.max_ms - c.min_ms));
        }
    }
}
