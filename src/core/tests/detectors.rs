//! The follower's detector of its leader's failure (issue 11): the timeout after a contact
//! comes from the configured detector, is still drawn at random from a range (Raft §5.2), and
//! never starts below the timeout floor (`election_timeout_min` unless a lower floor is set),
//! the window the lease rests on (thesis §6.4.1).

use std::time::Duration;

use super::harness::*;
use crate::core::{
    Config, ConfigError, Envelope, Instant, LeaderDetectorKind, LogPosition, Message, Node, NodeId,
    Term, VoteRequest,
};

const ADAPTIVE: LeaderDetectorKind = LeaderDetectorKind::Adaptive { deviations: 4.0 };

fn after_heartbeats(kind: LeaderDetectorKind, gaps: impl Iterator<Item = u64>) -> Vec<u64> {
    after_heartbeats_with(kind, None, gaps)
}

/// The timeout node 1 of 3 arms after each heartbeat of leader 2, sent after `gaps` (ms).
fn after_heartbeats_with(
    kind: LeaderDetectorKind,
    floor: Option<Duration>,
    gaps: impl Iterator<Item = u64>,
) -> Vec<u64> {
    let config = Config { leader_detector: kind, election_timeout_floor: floor, ..config(1, 3) };
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

#[test]
fn a_phi_detector_with_a_bad_threshold_is_refused() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let config =
            Config { leader_detector: LeaderDetectorKind::Phi { threshold: bad }, ..config(1, 3) };
        assert!(matches!(config.validate(), Err(ConfigError::PhiThreshold(_))), "{bad}");
    }
}

#[test]
fn with_a_lower_floor_an_adaptive_detector_fires_sooner_but_never_before_the_floor_raft_5_2() {
    // Steady 50 ms heartbeats with a little jitter: mean plus four deviations is about 60 ms,
    // under the 80 ms floor, so the floor decides and the range is as wide as the configured one.
    let gaps = (0..200).map(|i| if i % 2 == 0 { 48 } else { 52 });
    let steady = after_heartbeats_with(ADAPTIVE, Some(ms(80)), gaps);
    let settled = &steady[20..];
    assert!(settled.iter().all(|&t| (80..=230).contains(&t)), "{settled:?}");
    assert!(
        settled.iter().filter(|&&t| t < 150).count() > 50,
        "below the fixed range: {settled:?}"
    );
    // Raft's fixed detector ignores the floor: it has no gaps to adapt to.
    let gaps = std::iter::repeat_n(50, 100);
    let fixed = after_heartbeats_with(LeaderDetectorKind::Fixed, Some(ms(80)), gaps);
    assert!(fixed.iter().all(|&t| (150..=300).contains(&t)), "{fixed:?}");
}

/// Node 1 of 3 after heartbeats of leader 2 every 50 ms until `last` (ms), with `kind` and an
/// 80 ms floor.
fn follower_heard_until(kind: LeaderDetectorKind, last: u64) -> Node {
    let config =
        Config { leader_detector: kind, election_timeout_floor: Some(ms(80)), ..config(1, 3) };
    let mut node = Node::new(config, Instant::ZERO).unwrap();
    for t in (50..=last).step_by(50) {
        node.handle_message(at(t), env(2, 1, heartbeat(1))).unwrap();
        outbox(&mut node, at(t));
    }
    node
}

fn pre_vote_granted(node: &mut Node, now: Instant) -> bool {
    let request = VoteRequest { term: Term(2), last_log: LogPosition::default(), kind: kind(true) };
    let env = Envelope { from: NodeId(3), to: NodeId(1), message: Message::VoteRequest(request) };
    node.handle_message(now, env).unwrap();
    match outbox(node, now).as_slice() {
        [Envelope { message: Message::VoteResponse(r), .. }] => r.granted,
        other => panic!("expected one vote response, got {other:?}"),
    }
}

#[test]
fn a_voter_refuses_votes_for_as_long_as_its_own_timeout_could_last_thesis_4_2_3() {
    // Adaptive at the floor: the promise is the floor, so a candidate whose detector fired
    // at the floor is not refused by peers whose detectors would have fired too.
    let mut node = follower_heard_until(ADAPTIVE, 2000);
    assert!(!pre_vote_granted(&mut node, at(2079)), "inside the 80 ms promise");
    let mut node = follower_heard_until(ADAPTIVE, 2000);
    assert!(pre_vote_granted(&mut node, at(2080)), "the promise ends with the floor");
    // Fixed: its timeout cannot fire before the minimum, and neither does its promise end.
    let mut node = follower_heard_until(LeaderDetectorKind::Fixed, 2000);
    assert!(!pre_vote_granted(&mut node, at(2149)));
    assert!(pre_vote_granted(&mut node, at(2150)));
}

#[test]
fn a_lower_floor_shortens_the_leaders_lease_to_what_its_voters_promised_thesis_6_4_1() {
    let mut cluster = Cluster::new(3, |c| {
        c.leader_detector = ADAPTIVE;
        c.election_timeout_floor = Some(ms(80));
    });
    let leader = cluster.elect(ms(2000)).expect("a leader");
    cluster.run_for(ms(500));
    let now = cluster.now;
    let lease = cluster.node(leader.0).lease_remaining(now).expect("a lease while acked");
    // 80 ms less the 5% drift margin, from the send time of a round already acked.
    assert!(lease <= ms(76), "the lease outlives the voters' promise: {lease:?}");
}
