//! False timeouts and false elections under a healthy leader (Chen, Toueg & Aguilera 2002;
//! thesis §9.6 pre-vote, §4.2.3 stickiness, §6.2 check quorum).

use super::{binomial, Environment, Timing, DAY_MS, NODES};

/// The probability that a follower that has just reset its timer on a heartbeat times out
/// before another arrives.
pub fn miss_probability(t: &Timing, env: &Environment) -> f64 {
    let timeouts = t.timeouts();
    let d0s = env.latency_points();
    let mut sum = 0.0;
    for &d0 in &d0s {
        for &timeout in &timeouts {
            let mut p = 1.0;
            let mut j = 1.0;
            while j * t.heartbeat_ms < d0 + timeout {
                p *=
                    env.loss + (1.0 - env.loss) * env.latency.sf(d0 + timeout - j * t.heartbeat_ms);
                j += 1.0;
            }
            sum += p;
        }
    }
    sum / (d0s.len() * timeouts.len()) as f64
}

/// Heartbeats summed one by one before the rest of a heavy tail is taken in closed form.
const DIRECT_HEARTBEATS: f64 = 4096.0;

/// The probability that, at a random instant, a follower has heard no heartbeat for the
/// minimum timeout: the condition under which stickiness lets it grant a pre-vote.
pub fn silence_probability(t: &Timing, env: &Environment) -> f64 {
    silence_probability_with(t, env, DIRECT_HEARTBEATS)
}

/// [`silence_probability`], heartbeats past the first `direct` of each phase taken together.
///
/// Heartbeats sent up to the latency's `1 − 1e-12` quantile ago may still be landing; under a
/// heavy tail (a p99 a thousand times the median) that is millions of them, each a factor
/// `1 − (1 − loss)·w(a)` with `w(a) = sf(a − min) − sf(a)`. Past `direct` heartbeats each `w` is
/// tiny, so their product is `exp(−(1 − loss)·Σ w)`, and the sum at spacing `h` is the
/// integral over `h` (Euler–Maclaurin, with half the first term):
/// `∫ₐ^∞ w = E[(D − (a − min))⁺] − E[(D − a)⁺]`, the latency's partial expectations.
fn silence_probability_with(t: &Timing, env: &Environment, direct: f64) -> f64 {
    let reach = t.min_ms + env.latency.quantile(1.0 - 1e-12) + t.heartbeat_ms;
    let h = t.heartbeat_ms;
    let within = |age: f64| (env.latency.sf(age - t.min_ms) - env.latency.sf(age)).max(0.0);
    let mut sum = 0.0;
    for i in 0..NODES {
        let phase = h * (i as f64 + 0.5) / NODES as f64;
        let cut = reach.min(phase + direct * h);
        let mut p = 1.0;
        let mut age = phase;
        while age < cut {
            // A heartbeat sent `age` ago arrived within the last `min_ms` if its delay lies in
            // (age - min, age].
            p *= env.loss + (1.0 - env.loss) * (1.0 - within(age));
            age += h;
        }
        if age < reach {
            let tail = (env.latency.partial_expectation(age - t.min_ms)
                - env.latency.partial_expectation(age))
                / h
                + within(age) / 2.0;
            p *= (-(1.0 - env.loss) * tail.max(0.0)).exp();
        }
        sum += p;
    }
    sum / NODES as f64
}

/// Election timeouts fired while the leader is alive, over all followers, per day.
pub fn false_timeouts_per_day(t: &Timing, env: &Environment) -> f64 {
    let resets_per_day = (1.0 - env.loss) * DAY_MS / t.heartbeat_ms;
    f64::from(env.nodes - 1) * resets_per_day * miss_probability(t, env)
}

/// The probability that a false timeout's pre-vote wins a majority: at least `quorum - 1` of
/// the other `nodes - 2` followers are silent too.
pub fn prevote_pass_probability(t: &Timing, env: &Environment) -> f64 {
    let s = silence_probability(t, env);
    let others = env.nodes.saturating_sub(2);
    let need = env.quorum - 1;
    (need..=others)
        .map(|j| binomial(others, j) * s.powi(j as i32) * (1.0 - s).powi((others - j) as i32))
        .sum()
}

/// Elections (terms raised) started while the leader is alive, per day, with pre-vote and
/// check quorum on: false timeouts whose pre-vote wins, and check-quorum step-downs.
pub fn false_elections_per_day(t: &Timing, env: &Environment) -> f64 {
    false_timeouts_per_day(t, env) * prevote_pass_probability(t, env)
        + quorum_losses_per_day(t, env)
}

/// Round trips (two one-way latencies) at the quadrature's points, sorted.
fn round_trips(env: &Environment) -> Vec<f64> {
    let points = env.latency_points();
    let mut rtts: Vec<f64> =
        points.iter().flat_map(|a| points.iter().map(move |b| a + b)).collect();
    rtts.sort_by(f64::total_cmp);
    rtts
}

/// `P(R' − R > x)` for two independent round trips: whether an acknowledgment of an earlier
/// round lands later, relative to its round, by more than `x`.
fn round_trip_difference_sf(rtts: &[f64], x: f64) -> f64 {
    let n = rtts.len();
    let later: usize = rtts.iter().map(|r| n - rtts.partition_point(|q| *q <= r + x)).sum();
    later as f64 / (n * n) as f64
}

/// Check-quorum step-downs of a healthy leader, per day (thesis §6.2): the leader steps down
/// when fewer than `quorum − 1` followers were heard within the last minimum timeout `W`.
///
/// Each round every follower's acknowledgment arrives with probability `(1 − loss)²`, a round
/// trip after the round was sent. Just before round `r`'s acknowledgment, round `r − d`'s is
/// inside the window if it landed less than `W` ago: `R(r−d) − R(r) > d·h − W`. With `W` a
/// whole number `n` of intervals (the usual setting), round `r − n`'s is inside only about
/// half the time, so the window holds `n − 1` rounds and a coin flip, not `n`. A step-down is
/// counted at the first round where too few followers are fresh: fewer at `r`, enough at
/// `r − 1` (rounds are shared between the two windows; the inclusion of one round in the two is
/// taken as independent).
pub fn quorum_losses_per_day(t: &Timing, env: &Environment) -> f64 {
    let followers = env.nodes.saturating_sub(1) as usize;
    let need = env.quorum.saturating_sub(1) as usize;
    let never_late = env.latency.quantile(1.0 - 1e-12) * 2.0 < t.min_ms;
    if need == 0 || (env.loss <= 0.0 && never_late) {
        return 0.0;
    }
    let a = (1.0 - env.loss) * (1.0 - env.loss);
    let rtts = round_trips(env);
    let spread = rtts[rtts.len() - 1] - rtts[0];
    // inc[d]: round r − d inside the window just before round r's acknowledgment; inc[0] = 0.
    let mut inc = vec![0.0];
    let mut d = 1.0;
    loop {
        let x = d * t.heartbeat_ms - t.min_ms;
        inc.push(round_trip_difference_sf(&rtts, x));
        if x > spread {
            break;
        }
        d += 1.0;
    }
    inc.push(0.0);
    let (mut stale_now, mut stale_before, mut stale_both) = (1.0, 1.0, 1.0);
    for d in 1..inc.len() {
        stale_now *= 1.0 - a * inc[d];
        stale_before *= 1.0 - a * inc[d - 1];
        stale_both *= 1.0 - a + a * (1.0 - inc[d]) * (1.0 - inc[d - 1]);
    }
    // One follower: fresh now and before, now only, before only, neither.
    let only_before = stale_now - stale_both;
    let only_now = stale_before - stale_both;
    let both = 1.0 - stale_now - stale_before + stale_both;
    let mut dist = vec![vec![0.0; followers + 1]; followers + 1];
    dist[0][0] = 1.0;
    for _ in 0..followers {
        let mut next = vec![vec![0.0; followers + 1]; followers + 1];
        for (now, row) in dist.iter().enumerate() {
            for (before, &p) in row.iter().enumerate() {
                if p == 0.0 {
                    continue;
                }
                next[now + 1][before + 1] += p * both;
                next[now + 1][before] += p * only_now;
                next[now][before + 1] += p * only_before;
                next[now][before] += p * stale_both;
            }
        }
        dist = next;
    }
    let per_round: f64 = dist[..need].iter().map(|row| row[need..].iter().sum::<f64>()).sum();
    per_round * DAY_MS / t.heartbeat_ms
}

#[cfg(test)]
mod tests {
    use super::super::tests::{lan, timing};
    use super::*;
    use crate::closed_form::Delay;

    #[test]
    fn a_false_timeout_needs_every_heartbeat_in_the_timeout_lost_chen_toueg_aguilera() {
        // 150 ms timeouts, 50 ms heartbeats, sub-ms latency: heartbeats 1 and 2 always land
        // in time, heartbeat 3 lands at 150 ms + D3 - D0 against a timer at 150 ms, so about
        // half the time. All must be lost: loss³/2 + loss²/2 at a fixed 150 ms.
        let env = lan(0.1);
        let p = miss_probability(&timing(50.0, 150.0, 150.0), &env);
        assert!((p - (0.001 + 0.009 * 0.5)).abs() < 0.001, "{p}");
        // Twice the heartbeats per timeout: the miss probability falls geometrically.
        let fast = miss_probability(&timing(25.0, 150.0, 150.0), &env);
        assert!(fast < p * 0.01, "{fast} against {p}");
        assert!(miss_probability(&timing(50.0, 150.0, 300.0), &lan(0.0)) < 1e-12);
    }

    #[test]
    fn a_heavy_tails_far_heartbeats_are_summed_in_closed_form_and_agree_with_one_by_one() {
        // p99 a hundred times the median: about 20,000 heartbeats one by one per phase.
        let env = Environment { latency: Delay::fit(1.0, 100.0, None), ..lan(0.05) };
        let t = timing(200.0, 600.0, 1200.0);
        let one_by_one = silence_probability_with(&t, &env, f64::INFINITY);
        for direct in [16.0, 64.0, 1024.0] {
            let closed = silence_probability_with(&t, &env, direct);
            let error = (closed / one_by_one - 1.0).abs();
            assert!(error < 1e-6, "{direct} heartbeats one by one: {closed} against {one_by_one}");
        }
        // A LAN's tail ends within the heartbeats summed one by one: nothing changes.
        let t = timing(50.0, 150.0, 300.0);
        assert_eq!(
            silence_probability(&t, &lan(0.1)),
            silence_probability_with(&t, &lan(0.1), f64::INFINITY)
        );
    }

    #[test]
    fn pre_vote_fails_unless_a_majority_is_silent_too_raft_thesis_9_6() {
        let env = lan(0.1);
        let t = timing(50.0, 150.0, 300.0);
        let s = silence_probability(&t, &env);
        // Silent for 150 ms: the last three heartbeats lost (a fourth may be in its window).
        assert!(s > 0.0005 && s < 0.0011, "{s}");
        let pass = prevote_pass_probability(&t, &env);
        // Five nodes: two of the three other followers must be silent.
        assert!((pass - 3.0 * s * s * (1.0 - s) - s.powi(3)).abs() < 1e-12);
        assert!(pass < 1e-5, "{pass}");
        let by_prevote = false_elections_per_day(&t, &env) - quorum_losses_per_day(&t, &env);
        assert!((by_prevote - false_timeouts_per_day(&t, &env) * pass).abs() < 1e-9);
    }

    #[test]
    fn a_healthy_leader_steps_down_when_a_majority_misses_its_window_raft_thesis_6_2() {
        // Constant latency: with W = 3h exactly, round r − 3's acknowledgment is W old when
        // round r's lands, so the window holds two rounds. Each follower is stale with
        // q = (1 − a)² at every round's instant, and stale at two instants in a row with
        // (1 − a)³ (the rounds are shared but for one at each end).
        let env = Environment { latency: Delay::fit(0.3, 0.3, None), ..lan(0.2) };
        let t = timing(50.0, 150.0, 300.0);
        let a: f64 = 0.8 * 0.8;
        let (stale, stale_both) = ((1.0 - a).powi(2), (1.0 - a).powi(3));
        // One follower: (fresh now, fresh a round before) with these probabilities.
        let states = [
            ((true, true), 1.0 - 2.0 * stale + stale_both),
            ((true, false), stale - stale_both),
            ((false, true), stale - stale_both),
            ((false, false), stale_both),
        ];
        // Four followers, two needed: too few now, enough a round before.
        let mut per_round = 0.0;
        for i in 0..256usize {
            let picks = [i & 3, (i >> 2) & 3, (i >> 4) & 3, (i >> 6) & 3];
            let p: f64 = picks.iter().map(|&k| states[k].1).product();
            let now = picks.iter().filter(|&&k| states[k].0 .0).count();
            let before = picks.iter().filter(|&&k| states[k].0 .1).count();
            if now < 2 && before >= 2 {
                per_round += p;
            }
        }
        let expected = per_round * DAY_MS / 50.0;
        let got = quorum_losses_per_day(&t, &env);
        assert!((got - expected).abs() < 1e-9 * expected, "{got} against {expected}");
        // No loss and a tight latency: never.
        assert_eq!(quorum_losses_per_day(&t, &lan(0.0)), 0.0);
        // A jittery latency puts round r − 3 in the window about half the time: fewer
        // step-downs than with two rounds, more than with three.
        let jittery = quorum_losses_per_day(&t, &lan(0.2));
        assert!(jittery < got && jittery > got / 20.0, "{jittery} against {got}");
    }
}
