//! The candidate settings and their order: a grid that keeps the pattern's rule (timeout >
//! interval > round trip) by construction, each point priced by the closed forms.

use std::cmp::Ordering;

use serde::Serialize;

use super::profile::Profile;
use crate::closed_form::{self, Environment, Timing};

/// Heartbeat intervals tried, as multiples of the least one the pattern allows.
const HEARTBEAT_MULTIPLES: [f64; 18] = [
    1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0,
    300.0, 500.0,
];
/// Heartbeats per shortest timeout tried: at least three, so a follower survives two lost
/// heartbeats in a row whatever the loss it was told about (the Raft paper's 50 / 150 ms).
const HEARTBEATS_PER_TIMEOUT: [f64; 9] = [3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0];
/// Range widths tried, as multiples of the vote window.
const WIDTH_MULTIPLES: [f64; 13] =
    [2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0];
/// The most split votes a range may give, by the closed form.
pub const SPLIT_LIMIT: f64 = 0.05;
/// The longest heartbeat interval or shortest timeout proposed, ms: etcd's bound on
/// `--election-timeout` (see `peers/etcd.rs`), so every peer can take the recommendation.
pub const LONGEST_MS: f64 = 50_000.0;

/// One setting and what the closed forms predict for it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
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

/// Every candidate for `profile`, whose environment is `env`, priced.
pub fn candidates(profile: &Profile, env: &Environment) -> Vec<Estimate> {
    let step = profile.timer_granularity_ms;
    let least = least_heartbeat_ms(env, step);
    let host = profile.assumptions();
    let stall = stall_ms(env, host.lateness_ms());
    let pause = host.pause_ms();
    let mut timings: Vec<(f64, f64)> = Vec::new();
    for m in HEARTBEAT_MULTIPLES {
        let h = up_to_step(least * m, step);
        if h > LONGEST_MS {
            break;
        }
        for k in HEARTBEATS_PER_TIMEOUT {
            // The pattern's rule, quantified: the shortest timeout outlasts k heartbeats and
            // a leader's longest stall plus one interval plus a late heartbeat.
            let min = up_to_step((k * h).max(pause + h + stall), step);
            if min <= LONGEST_MS && !timings.contains(&(h, min)) {
                timings.push((h, min));
            }
        }
    }
    let window = env.vote_window_ms().max(step / 2.0);
    timings
        .into_iter()
        .map(|(h, min)| {
            let widths =
                WIDTH_MULTIPLES.iter().map(|m| up_to_step(window * m, step).max(2.0 * step));
            // Of the widths that split at most one vote in twenty (where the closed form's
            // one extra round holds), the one with the fastest failover p99, priced at twice
            // its split rate: a narrow range splits votes, each split costing another timeout,
            // and a wide one draws long timeouts; a p99 near where split votes reach 1% would
            // swing between one round and two with any error in the split rate, so the
            // doubled rate keeps the choice clear of that knee. None that narrow: the widest.
            let timing = |width: f64| Timing {
                heartbeat_ms: h,
                min_ms: min,
                max_ms: min + width,
                step_ms: step,
            };
            let all: Vec<Timing> = widths.map(timing).collect();
            let chosen = all
                .iter()
                .map(|t| (closed_form::split_vote_rate(t, env), t))
                .filter(|(split, _)| *split <= SPLIT_LIMIT)
                .map(|(split, t)| (closed_form::failover_quantile_at(0.99, t, env, 2.0 * split), t))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, t)| *t)
                .or_else(|| all.last().copied());
            estimate(&chosen.expect("at least one width"), env, stall)
        })
        .collect()
}

/// Prices one setting.
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

impl Estimate {
    /// The setting as the model and the simulator take it.
    pub fn timing(&self, step_ms: f64) -> Timing {
        Timing {
            heartbeat_ms: self.heartbeat_ms,
            min_ms: self.min_ms,
            max_ms: self.max_ms,
            step_ms,
        }
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

/// Fastest first: the lowest predicted failover p99, then by robustness.
pub fn by_speed(a: &Estimate, b: &Estimate) -> Ordering {
    a.failover_p99_ms.total_cmp(&b.failover_p99_ms).then_with(|| by_robustness(a, b))
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
        let all = candidates(&profile, &env);
        assert!(all.len() > 50, "{} candidates", all.len());
        let rtt = 2.0 * env.latency.quantile(0.99);
        for c in &all {
            assert!(c.heartbeat_ms > rtt, "{c:?}");
            assert!(c.min_ms >= 3.0 * c.heartbeat_ms, "{c:?}");
            assert!(c.min_ms >= 40.0 + c.heartbeat_ms + stall_ms(&env, 1.0), "{c:?}");
            assert!(c.max_ms > c.min_ms);
            for v in [c.heartbeat_ms, c.min_ms, c.max_ms] {
                assert_eq!(v.fract(), 0.0, "whole ms: {c:?}");
            }
        }
    }

    #[test]
    fn a_coarse_tick_keeps_every_setting_on_the_tick() {
        let profile = Profile { timer_granularity_ms: 10.0, ..Profile::new(3, 0.3, 1.0) };
        for c in candidates(&profile, &profile.environment()) {
            for v in [c.heartbeat_ms, c.min_ms, c.max_ms] {
                assert_eq!(v % 10.0, 0.0, "{c:?}");
            }
        }
    }
}
