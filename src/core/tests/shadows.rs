//! Shadow detectors (issue 11): other detectors fed the same contacts report when they would
//! have suspected the leader, and change nothing the node does (Raft §5.2's timer stays the
//! one in charge).

use super::harness::*;
use crate::core::{Config, Event, Instant, LeaderDetectorKind, Node, Role};

const ADAPTIVE: LeaderDetectorKind = LeaderDetectorKind::Adaptive { deviations: 4.0 };

/// Node 1 of 3 with `shadows`, a 75 ms floor, after 40 steady heartbeats from leader 2.
fn follower(shadows: Vec<LeaderDetectorKind>) -> Node {
    let config =
        Config { shadow_detectors: shadows, election_timeout_floor: Some(ms(75)), ..config(1, 3) };
    let mut node = Node::new(config, Instant::ZERO).unwrap();
    for i in 1..=40 {
        node.handle_message(at(50 * i), env(2, 1, heartbeat(1))).unwrap();
        let _ = outbox(&mut node, at(50 * i));
    }
    let _ = events(&mut node);
    node
}

#[test]
fn a_shadow_reports_when_it_would_have_suspected_and_the_node_does_nothing() {
    let mut node = follower(vec![ADAPTIVE, LeaderDetectorKind::Fixed]);
    let last = at(2000);
    let status = node.status(last);
    let adaptive = status.shadows[0];
    assert_eq!(adaptive.timeout_range, (ms(75), ms(225)), "steady gaps: the floor decides");
    assert_eq!(status.shadows[1].timeout_range, (ms(150), ms(300)));
    let mut seen = Vec::new();
    while node.role() == Role::Follower {
        let due = node.poll_timeout();
        node.handle_timeout(due);
        seen.extend(events(&mut node).into_iter().map(|e| (due, e)));
    }
    let first = seen.iter().position(|(_, e)| matches!(e, Event::ShadowSuspected { .. })).unwrap();
    let (when, event) = seen[first];
    assert!(matches!(event, Event::ShadowSuspected { index: 0, .. }), "{event:?}");
    assert!((at(2075)..=at(2225)).contains(&when), "{when:?}");
    let timeout = seen.iter().position(|(_, e)| matches!(e, Event::ElectionTimeout { .. }));
    assert!(timeout.unwrap() > first, "the node suspected by its own timer, later: {seen:?}");
    let status = node.status(node.poll_timeout());
    assert!(status.shadows[0].suspected && status.shadows[0].suspicions == 1);
    // A new leader's contact ends the shadows' suspicion.
    node.handle_message(at(2400), env(3, 1, heartbeat(2))).unwrap();
    assert!(!node.status(at(2400)).shadows[0].suspected);
}

#[test]
fn shadows_change_nothing_the_node_does() {
    let mut plain = follower(Vec::new());
    let mut shadowed = follower(vec![ADAPTIVE, LeaderDetectorKind::Phi { threshold: 1.0 }]);
    assert_eq!(plain.election_deadline(), shadowed.election_deadline());
    for node in [&mut plain, &mut shadowed] {
        while node.role() == Role::Follower {
            let due = node.poll_timeout();
            node.handle_timeout(due);
        }
    }
    assert_eq!(plain.term(), shadowed.term());
    assert_eq!(plain.election_deadline(), shadowed.election_deadline());
    assert_eq!(outbox(&mut plain, at(3000)), outbox(&mut shadowed, at(3000)));
}
