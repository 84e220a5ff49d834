//! Heartbeat inter-arrival telemetry in `Status`: what an operator watches to see an election
//! coming before it happens (the share of the election timeout a silence used).

use super::harness::*;
use crate::core::{NodeId, Role};

#[test]
fn followers_and_the_leader_report_heartbeat_gaps_and_the_worst_share_of_the_timeout() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(3000)).expect("a leader");
    cluster.run_for(ms(1000));
    let follower = (1..=3).find(|&v| v != leader.0).unwrap();
    // Heartbeats every 50 ms over 1 ms links: every gap is the interval.
    let s = cluster.node(follower).status(cluster.now).leader_arrivals.expect("gaps measured");
    assert!(s.gaps >= 18, "{s:?}");
    assert_eq!((s.p50, s.p99, s.max), (ms(50), ms(50), ms(50)));
    assert!(s.max_timeout_fraction <= 50.0 / 150.0 + 1e-9, "{s:?}");
    let view = cluster.node(leader.0).status(cluster.now);
    let peer = view.peers.iter().find(|p| p.id == NodeId(follower)).unwrap();
    let p = peer.arrivals.expect("acks measured");
    assert_eq!((p.p50, p.max), (ms(50), ms(50)));
    assert!(view.leader_arrivals.is_none(), "a leader follows no one");
    // Two heartbeats lost: a 150 ms silence, which used at least half of any drawn timeout
    // (150 to 300 ms) and all of the leader's minimum.
    cluster.cut.insert((leader, NodeId(follower)));
    cluster.run_for(ms(120));
    cluster.heal();
    cluster.run_for(ms(200));
    assert_eq!(cluster.node(follower).role(), Role::Follower);
    let s = cluster.node(follower).status(cluster.now).leader_arrivals.unwrap();
    assert_eq!(s.max, ms(150));
    assert!(s.max_timeout_fraction >= 0.5 && s.max_timeout_fraction <= 1.0, "{s:?}");
    let view = cluster.node(leader.0).status(cluster.now);
    let p = view.peers.iter().find(|p| p.id == NodeId(follower)).unwrap().arrivals.unwrap();
    assert_eq!(p.max, ms(150));
    assert!((p.max_timeout_fraction - 1.0).abs() < 1e-9, "{p:?}");
}
