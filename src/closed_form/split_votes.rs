//! Split votes (Raft thesis §9.2): how often an election needs more than one round, from the
//! order statistics of uniform timeouts. The model: the survivors all reset by the same
//! heartbeat round, timeouts uniform over the range, a constant latency, no loss.
//!
//! The closed form. Normalize the range to `[0, 1]` and the latency to `d`. The first server to
//! time out sends RequestVote; every server whose timer has not fired when it arrives (`d`
//! later) grants it and stays a follower. With a constant latency the first candidate's
//! requests arrive everywhere before any later candidate's, so it wins unless so many others
//! time out within `d` that it cannot reach a majority: with `c` survivors and a quorum `q` it
//! loses when at least `c - q + 1` others time out within `d` of it. That is the event
//! `U(k+1) - U(1) < d` for the order statistics of `c` uniform draws, `k = c - q + 1`, and
//! `U(k+1) - U(1)` has the Beta(k, c - k + 1) distribution. For five servers and four
//! survivors, `k = 2`: three of the four must time out within one latency of each other.

use super::{binomial, Environment, Timing};

/// The probability that the first round of an election fails, for `survivors` servers racing
/// for a quorum of `quorum` votes, the latency being the fraction `d` of the timeout range.
pub fn first_round_fails(survivors: u32, quorum: u32, d: f64) -> f64 {
    if survivors < quorum {
        return 1.0;
    }
    if quorum <= 1 {
        return 0.0;
    }
    let k = survivors - quorum + 1;
    beta_cdf(k, survivors - k + 1, d.clamp(0.0, 1.0))
}

/// The Beta(a, b) distribution function at `x`, for whole `a` and `b`: the probability that
/// at least `a` of `a + b - 1` uniform draws fall below `x`.
fn beta_cdf(a: u32, b: u32, x: f64) -> f64 {
    let n = a + b - 1;
    (a..=n).map(|j| binomial(n, j) * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32)).sum()
}

/// The thesis's probability that an election needs more than one round, with the vote window
/// as the latency and at least half a step (two draws in one step fire together).
pub fn split_vote_rate(t: &Timing, env: &Environment) -> f64 {
    let width = t.max_ms - t.min_ms;
    if width <= 0.0 {
        return 1.0;
    }
    let window = env.vote_window_ms().max(t.step_ms / 2.0);
    first_round_fails(env.nodes - 1, env.quorum, window / width)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{lan, timing};
    use super::*;

    #[test]
    fn the_closed_form_is_three_of_four_within_one_latency_raft_thesis_9_2() {
        // Beta(2, 3) at d: 6d²(1-d)² + 4d³(1-d) + d⁴.
        let d: f64 = 0.01;
        let direct = 6.0 * d * d * (1.0 - d).powi(2) + 4.0 * d.powi(3) * (1.0 - d) + d.powi(4);
        assert!((first_round_fails(4, 3, d) - direct).abs() < 1e-15);
        assert!((first_round_fails(4, 3, 0.01) - 0.000_592).abs() < 1e-6);
        assert_eq!(first_round_fails(4, 3, 0.0), 0.0);
        assert!((first_round_fails(4, 3, 1.0) - 1.0).abs() < 1e-12);
        assert_eq!(first_round_fails(2, 3, 0.1), 1.0, "two survivors of five never make a quorum");
        // Three survivors of five: the first needs both others, so one early one is enough.
        let d: f64 = 0.2;
        assert!((first_round_fails(3, 3, d) - (1.0 - (1.0 - d).powi(3))).abs() < 1e-12);
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
