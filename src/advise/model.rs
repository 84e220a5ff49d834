//! The closed forms `advise` ranks settings with, before the simulator checks the best.
//!
//! Three questions, each answered from the profile's latency, loss and disk:
//!
//! - **False timeouts** (Chen, Toueg & Aguilera 2002, mistake recurrence): a follower resets
//!   its timer when heartbeat 0 arrives, at `D0`; heartbeat `j` is sent `j·h` later and saves
//!   it if it is not lost and arrives before the timer fires, `j·h + Dj < D0 + T`. The follower
//!   times out falsely with probability `∏ (loss + (1 − loss)·P(D > D0 + T − j·h))`, averaged
//!   over `D0` and the drawn `T`.
//! - **False elections**: with pre-vote (thesis §9.6) a false timeout raises no term unless a
//!   majority grants the pre-vote, and a voter grants it only if it too has heard nothing from
//!   the leader for the minimum timeout (stickiness, thesis §4.2.3): the probability of that
//!   silence at a random instant, for each of the other followers, independently. And with
//!   check quorum (thesis §6.2) a healthy leader steps down when too few followers were
//!   heard within a minimum timeout, which under heavy loss is the larger of the two.
//! - **Failover**: the first survivor times out `T(1) − φ` after the crash (`T(1)` the least
//!   of the survivors' draws, `φ` the crash's phase in the heartbeat interval), then the
//!   election takes a pre-vote round trip, the candidate's write, a vote round trip with the
//!   voter's write, and the new leader's first heartbeat; a split vote (thesis §9.2, the
//!   closed form of [`split_votes`]) adds another timeout and
//!   election. Loss, which can also fail a round, is left to the simulator.

use super::profile::{Delay, Profile};
use crate::sim::split_votes;

/// Milliseconds in a day.
const DAY_MS: f64 = 86_400_000.0;
/// Points of the quadratures over a latency and over the heartbeat phase.
const NODES: usize = 24;
/// Most timeout values averaged over; wider ranges are sampled at this many midpoints.
const MAX_TIMEOUTS: usize = 48;

/// A candidate setting, ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Heartbeat interval.
    pub heartbeat_ms: f64,
    /// Shortest election timeout.
    pub min_ms: f64,
    /// Longest election timeout.
    pub max_ms: f64,
    /// The step timeouts are drawn in.
    pub step_ms: f64,
}

impl Timing {
    /// The timeouts a follower draws, each equally likely: every step of `[min, max]`, or
    /// evenly spread midpoints when there are too many steps to visit.
    pub fn timeouts(&self) -> Vec<f64> {
        let steps = ((self.max_ms - self.min_ms) / self.step_ms).round() as usize + 1;
        if steps <= MAX_TIMEOUTS {
            (0..steps).map(|i| self.min_ms + i as f64 * self.step_ms).collect()
        } else {
            let width = self.max_ms - self.min_ms;
            (0..MAX_TIMEOUTS)
                .map(|i| self.min_ms + width * (i as f64 + 0.5) / MAX_TIMEOUTS as f64)
                .collect()
        }
    }

    /// `P(one draw <= t)`.
    fn timeout_cdf(&self, t: f64) -> f64 {
        if t < self.min_ms {
            return 0.0;
        }
        if t >= self.max_ms {
            return 1.0;
        }
        let steps = ((self.max_ms - self.min_ms) / self.step_ms).round() + 1.0;
        (((t - self.min_ms) / self.step_ms).floor() + 1.0) / steps
    }
}

/// What the closed forms need of a profile.
#[derive(Clone, Copy, Debug)]
pub struct Environment {
    /// One-way latency.
    pub latency: Delay,
    /// The durable write of term and vote.
    pub fsync: Delay,
    /// Message loss.
    pub loss: f64,
    /// Voting members.
    pub nodes: u32,
    /// Votes that make a majority.
    pub quorum: u32,
}

impl Environment {
    /// The environment of a profile.
    pub fn of(profile: &Profile) -> Environment {
        let (survivors, quorum) = profile.survivors_and_quorum();
        Environment {
            latency: profile.latency(),
            fsync: profile.fsync(),
            loss: profile.loss,
            nodes: survivors + 1,
            quorum,
        }
    }

    /// Medians of the latency: the points of a quadrature over it.
    fn latency_points(&self) -> Vec<f64> {
        (0..NODES).map(|i| self.latency.quantile((i as f64 + 0.5) / NODES as f64)).collect()
    }

    /// The least time an election takes once a survivor has timed out: pre-vote round trip,
    /// the candidate's write, the vote round trip with the voter's write, the new leader's
    /// first heartbeat, each at its median.
    pub fn election_ms(&self) -> f64 {
        5.0 * self.latency.median_ms + 2.0 * self.fsync.median_ms
    }

    /// How much later than the first survivor another may time out and still become a
    /// competing candidate before the first's RequestVote reaches it: the first's write and
    /// the request's flight. Both campaigns spend the same pre-vote round trip first, so it
    /// cancels.
    pub fn vote_window_ms(&self) -> f64 {
        self.latency.median_ms + self.fsync.median_ms
    }
}

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

/// The probability that, at a random instant, a follower has heard no heartbeat for the
/// minimum timeout: the condition under which stickiness lets it grant a pre-vote.
pub fn silence_probability(t: &Timing, env: &Environment) -> f64 {
    let reach = t.min_ms + env.latency.quantile(1.0 - 1e-12) + t.heartbeat_ms;
    let mut sum = 0.0;
    for i in 0..NODES {
        let phase = t.heartbeat_ms * (i as f64 + 0.5) / NODES as f64;
        let mut p = 1.0;
        let mut age = phase;
        while age < reach {
            // A heartbeat sent `age` ago arrived within the last `min_ms` if its delay lies in
            // (age - min, age].
            let within = env.latency.sf(age - t.min_ms) - env.latency.sf(age);
            p *= env.loss + (1.0 - env.loss) * (1.0 - within.max(0.0));
            age += t.heartbeat_ms;
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

/// The thesis's probability that an election needs more than one round, with the vote window
/// as the latency and at least half a step (two draws in one step fire together).
pub fn split_vote_rate(t: &Timing, env: &Environment) -> f64 {
    let width = t.max_ms - t.min_ms;
    if width <= 0.0 {
        return 1.0;
    }
    let window = env.vote_window_ms().max(t.step_ms / 2.0);
    split_votes::closed_form(env.nodes - 1, env.quorum, window / width)
}

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

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lan(loss: f64) -> Environment {
        Environment::of(&Profile { loss, ..Profile::new(5, 0.3, 1.0) })
    }

    fn timing(h: f64, min: f64, max: f64) -> Timing {
        Timing { heartbeat_ms: h, min_ms: min, max_ms: max, step_ms: 1.0 }
    }

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
        let env = Environment::of(&Profile { loss: 0.2, ..Profile::new(5, 0.3, 0.3) });
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

    #[test]
    fn split_votes_shrink_with_the_range_raft_thesis_9_2() {
        let env = lan(0.0);
        let narrow = split_vote_rate(&timing(50.0, 150.0, 160.0), &env);
        let wide = split_vote_rate(&timing(50.0, 150.0, 300.0), &env);
        assert!(narrow > 10.0 * wide, "{narrow} against {wide}");
        assert_eq!(split_vote_rate(&timing(50.0, 150.0, 150.0), &env), 1.0);
    }
}
