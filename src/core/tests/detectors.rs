//! The follower's detector of its leader's failure (issue 11): the timeout after a contact
//! comes from the configured detector, is still drawn at random from a range (Raft §5.2), and
//! never starts below `election_timeout_min`, the window the lease rests on (thesis §6.4.1).

use super::harness::*;
use crate::core::{Config, ConfigError, Instant, LeaderDetectorKind, Node};

fn after_heartbeats(kind: LeaderDetectorKind, gaps: impl Iterator<Item = u64>) -> Vec<u64> {
    let config = Config { leader_detector: kind, ..config(1, 3) };
    let mut node = Node::new(config, Instant::ZERO).unwrap();
    let mut t = 0;
    let mut timeouts = Vec::new();
    for gap in gaps {
        t += gap;
        node.handle_message(at(t), env(2, 1, heartbeat(1))).unwrap();
        timeouts.push((node.poll_timeout() - at(t)).as_millis() as u64);
    }
    timeouts
}

#[test]
fn an_adaptive_detector_waits_longer_on_a_lossy_link_but_never_less_than_the_minimum_raft_5_2() {
    let adaptive = LeaderDetectorKind::Adaptive { deviations: 4.0 };
    // Steady 50 ms heartbeats: mean plus four deviations is 50 ms, so the floor decides.
    let steady = after_heartbeats(adaptive, std::iter::repeat_n(50, 200));
    assert!(steady.iter().all(|&t| (150..=300).contains(&t)), "{steady:?}");
    // Every other heartbeat lost: the timeout starts at 175 ms and is as wide as the range.
    let lossy = after_heartbeats(adaptive, (0..200).map(|i| if i % 2 == 0 { 50 } else { 100 }));
    let settled = &lossy[100..];
    assert!(settled.iter().all(|&t| (175..=325).contains(&t)), "{settled:?}");
    assert!(settled.iter().any(|&t| t > 300), "it waits past the fixed range");
    let spread = settled.iter().max().unwrap() - settled.iter().min().unwrap();
    assert!(spread > 100, "still randomized across the range: {spread} ms");
}

#[test]
fn the_default_detector_is_rafts_fixed_range() {
    let fixed = after_heartbeats(LeaderDetectorKind::default(), std::iter::repeat_n(50, 50));
    assert!(fixed.iter().all(|&t| (150..=300).contains(&t)), "{fixed:?}");
}

#[test]
fn an_adaptive_detector_with_bad_deviations_is_refused() {
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let config = Config {
            leader_detector: LeaderDetectorKind::Adaptive { deviations: bad },
            ..config(1, 3)
        };
        assert!(matches!(config.validate(), Err(ConfigError::DetectorDeviations(_))), "{bad}");
    }
}
