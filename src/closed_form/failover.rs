//! Failover after a leader crash: the detection bound, and the distribution of the time until
//! a new leader is followed (the first timeout, the election, a split vote's second round).

use super::split_votes::split_vote_rate;
use super::{Environment, Timing, NODES};

/// Chen, Toueg & Aguilera's bound on detection time for this detector: the longest timeout
/// after the last heartbeat, which may still be in flight at the crash.
pub fn detection_bound_ms(t: &Timing, env: &Environment) -> f64 {
    t.max_ms + env.latency.quantile(0.999)
}

/// `P(failover <= x)`.
pub fn failover_cdf(x: f64, t: &Timing, env: &Environment) -> f64 {
    failover_cdf_at(x, t, env, split_vote_rate(t, env))
}

/// `P(failover <= x)` when a fraction `split` of elections needs a second round.
pub fn failover_cdf_at(x: f64, t: &Timing, env: &Environment, split: f64) -> f64 {
    let survivors = env.nodes - 1;
    let first = |y: f64| 1.0 - (1.0 - t.timeout_cdf(y)).powi(survivors as i32);
    // P(T(1) - phase <= y), phase uniform over the heartbeat interval.
    let detect = |y: f64| {
        (0..NODES).map(|i| first(y + t.heartbeat_ms * (i as f64 + 0.5) / NODES as f64)).sum::<f64>()
            / NODES as f64
    };
    let base = env.latency.median_ms + env.election_ms();
    let split = split.clamp(0.0, 1.0);
    let one_round = detect(x - base);
    if split == 0.0 {
        return one_round;
    }
    // A second round starts when the first of the two split candidates' fresh timers fires.
    let timeouts = t.timeouts();
    let mut second = 0.0;
    for (i, &again) in timeouts.iter().enumerate() {
        let below = i as f64 / timeouts.len() as f64;
        let upto = (i + 1) as f64 / timeouts.len() as f64;
        let weight = (1.0 - below).powi(2) - (1.0 - upto).powi(2);
        second += weight * detect(x - base - env.election_ms() - again);
    }
    (1.0 - split) * one_round + split * second
}

/// The `p`-quantile of failover, ms.
pub fn failover_quantile(p: f64, t: &Timing, env: &Environment) -> f64 {
    failover_quantile_at(p, t, env, split_vote_rate(t, env))
}

/// The `p`-quantile of failover when a fraction `split` of elections needs a second round.
pub fn failover_quantile_at(p: f64, t: &Timing, env: &Environment, split: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 2.0 * (t.max_ms + env.election_ms()) + env.latency.median_ms);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if failover_cdf_at(mid, t, env, split) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::super::tests::{lan, timing};
    use super::*;

    #[test]
    fn failover_lies_between_the_shortest_timeout_and_the_detection_bound() {
        let env = lan(0.0);
        let t = timing(50.0, 150.0, 300.0);
        let p50 = failover_quantile(0.5, &t, &env);
        let p99 = failover_quantile(0.99, &t, &env);
        // The least of four uniform draws, less a phase of up to 50 ms: median about 154 ms.
        assert!(p50 > 130.0 && p50 < 175.0, "{p50}");
        assert!(p99 > 200.0 && p99 < detection_bound_ms(&t, &env) + env.election_ms(), "{p99}");
        assert!(failover_cdf(100.0, &t, &env) < 1e-3);
    }
}
