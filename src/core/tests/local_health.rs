//! Local health (Lifeguard, arXiv 1707.00788; the HeartBeat pattern's advice after
//! CASSANDRA-9183): a follower that was itself stalled does not take the silence it caused for
//! its leader's failure, once; on time, it follows Raft's timer (Raft §5.2, Figure 2).

use std::time::Duration;

use super::harness::*;
use crate::core::{Config, Event, Instant, Message, Node, Role};

/// Node 1 of 3 following leader 2 of term 1, last heard at 50 ms, ticked on time until 150 ms.
fn follower(threshold: Option<Duration>) -> Node {
    let config = Config { local_pause_threshold: threshold, ..config(1, 3) };
    let mut node = Node::new(config, Instant::ZERO).unwrap();
    node.handle_message(at(50), env(2, 1, heartbeat(1))).unwrap();
    let _ = outbox(&mut node, at(50));
    while node.poll_timeout() <= at(150) {
        let due = node.poll_timeout();
        node.handle_timeout(due);
    }
    let _ = events(&mut node);
    node
}

fn campaigned(node: &mut Node, now: Instant) -> bool {
    outbox(node, now).iter().any(|e| matches!(e.message, Message::VoteRequest(_)))
}

#[test]
fn with_local_health_a_follower_checks_itself_every_heartbeat_interval() {
    let node = follower(Some(ms(50)));
    let check = node.poll_timeout();
    assert!(check <= at(200), "woken within an interval of its last input: {check:?}");
    assert!(node.election_deadline().unwrap() >= at(200), "its timer is at least 150 ms away");
    let plain = follower(None);
    assert_eq!(plain.poll_timeout(), plain.election_deadline().unwrap(), "off: Raft's timer only");
}

#[test]
fn a_follower_stalled_past_its_deadline_defers_instead_of_suspecting_cassandra_9183() {
    let mut node = follower(Some(ms(50)));
    // Stopped from 150 ms to 600 ms: the timer (at most 350 ms) is handled first on waking.
    node.handle_timeout(at(600));
    assert_eq!(node.role(), Role::Follower);
    assert!(!campaigned(&mut node, at(600)), "no pre-vote asked");
    let deferred = events(&mut node);
    assert!(
        matches!(deferred[..], [Event::ElectionTimeoutDeferred { stalled, .. }] if stalled > ms(350)),
        "{deferred:?}"
    );
    let deadline = node.election_deadline().unwrap();
    assert!((at(750)..=at(900)).contains(&deadline), "a fresh draw from the range: {deadline:?}");
    // The heartbeat waiting in its inbox arrives: the leader never failed.
    node.handle_message(at(600), env(2, 1, heartbeat(1))).unwrap();
    assert_eq!(node.leader(), Some(crate::core::NodeId(2)));
}

#[test]
fn without_local_health_the_same_stall_is_taken_for_the_leaders_failure_raft_5_2() {
    let mut node = follower(None);
    node.handle_timeout(at(600));
    assert_eq!(node.role(), Role::PreCandidate);
    assert!(campaigned(&mut node, at(600)));
    assert!(events(&mut node).iter().any(|e| matches!(e, Event::ElectionTimeout { .. })));
}

#[test]
fn a_timeout_is_deferred_once_then_a_stalled_follower_campaigns() {
    let mut node = follower(Some(ms(50)));
    node.handle_timeout(at(600));
    assert_eq!(node.role(), Role::Follower);
    // Stalled again past the redrawn deadline, with no contact in between.
    node.handle_timeout(at(1200));
    assert_eq!(node.role(), Role::PreCandidate, "the second timeout is not deferred");
    assert!(events(&mut node).iter().any(|e| matches!(e, Event::ElectionTimeout { .. })));
}

#[test]
fn checked_on_time_a_follower_suspects_a_silent_leader_within_the_range_raft_5_2() {
    let mut node = follower(Some(ms(50)));
    while node.role() == Role::Follower {
        let due = node.poll_timeout();
        assert!(due <= at(350), "a silent leader is suspected within the range: {due:?}");
        node.handle_timeout(due);
    }
    let seen = events(&mut node);
    assert!(seen.iter().any(|e| matches!(e, Event::ElectionTimeout { .. })), "{seen:?}");
    assert!(!seen.iter().any(|e| matches!(e, Event::ElectionTimeoutDeferred { .. })));
}

#[test]
fn lateness_within_the_threshold_is_no_stall() {
    let mut node = follower(Some(ms(300)));
    node.handle_timeout(at(400));
    assert_eq!(node.role(), Role::PreCandidate, "250 ms late is under the 300 ms threshold");
}

#[test]
fn a_deferral_is_no_contact_and_opens_no_wider_vote_window_thesis_4_2_3() {
    let mut node = follower(Some(ms(50)));
    node.handle_timeout(at(600));
    // Voters refuse for a minimum timeout after contact (50 ms + 150 ms), not after a deferral.
    let request = Message::VoteRequest(crate::core::VoteRequest {
        term: crate::core::Term(2),
        last_log: crate::core::LogPosition::default(),
        kind: crate::core::VoteKind::Vote,
    });
    node.handle_message(at(601), env(3, 1, request)).unwrap();
    assert!(events(&mut node).iter().any(|e| matches!(e, Event::VoteGranted { .. })));
}

#[test]
fn a_gap_stretched_by_the_nodes_own_stall_is_not_learned_by_its_detector() {
    let run = |threshold: Option<Duration>| {
        let config = Config {
            local_pause_threshold: threshold,
            leader_detector: crate::core::LeaderDetectorKind::Adaptive { deviations: 4.0 },
            election_timeout_floor: Some(ms(75)),
            ..config(1, 3)
        };
        let mut node = Node::new(config, Instant::ZERO).unwrap();
        for i in 1..=40 {
            node.handle_message(at(50 * i), env(2, 1, heartbeat(1))).unwrap();
        }
        // Stopped from 2000 ms to 2600 ms; the heartbeat waiting in its inbox is read first.
        node.handle_message(at(2600), env(2, 1, heartbeat(1))).unwrap();
        node.election_timeout_range().0
    };
    assert_eq!(run(Some(ms(50))), ms(75), "steady 50 ms gaps: the floor, as before the stall");
    assert!(run(None) > ms(150), "without local health the 600 ms gap is learned");
}
