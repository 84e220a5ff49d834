//! The extensions of Ongaro's thesis: leader stickiness (§4.2.3), check quorum (§6.2), the
//! leader lease (§6.4.1) and pre-vote (§9.6), and the leader's failure detector.

use super::harness::*;
use super::paper::leader_of_three;
use crate::core::{
    Config, Envelope, Event, Heartbeat, HeartbeatResponse, Instant, LogPosition, Message, Node,
    NodeId, Role, Term, VoteKind, VoteRequest, VoteResponse,
};

fn heard_from_leader(node: &mut Node, now: Instant) {
    let hb = Heartbeat {
        term: Term(1),
        leader_last_log: LogPosition::default(),
        leader_commit: 0,
        round: 1,
    };
    node.handle_message(
        now,
        Envelope { from: NodeId(2), to: NodeId(1), message: Message::Heartbeat(hb) },
    )
    .unwrap();
    outbox(node, now);
}

/// Node 1 of 3 with leader stickiness (and so the lease) switched off.
fn non_sticky_node() -> Node {
    let config = Config { leader_stickiness: false, leader_lease: false, ..config(1, 3) };
    Node::new(config, Instant::ZERO).unwrap()
}

fn ask_vote(node: &mut Node, now: Instant, term: u64, pre_vote: bool) -> VoteResponse {
    let request =
        VoteRequest { term: Term(term), last_log: LogPosition::default(), kind: kind(pre_vote) };
    let env = Envelope { from: NodeId(3), to: NodeId(1), message: Message::VoteRequest(request) };
    node.handle_message(now, env).unwrap();
    match outbox(node, now).as_slice() {
        [Envelope { message: Message::VoteResponse(r), .. }] => *r,
        other => panic!("expected one vote response, got {other:?}"),
    }
}

#[test]
fn stickiness_refuses_votes_while_a_leader_is_heard_thesis_4_2_3() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    heard_from_leader(&mut node, at(1000));
    let r = ask_vote(&mut node, at(1100), 2, false);
    assert!(!r.granted);
    assert_eq!(node.term(), Term(1), "the term is not updated either");
    assert_eq!(node.leader(), Some(NodeId(2)));
    assert_eq!(node.status(at(1100)).counters.sticky_refusals, 1);
    // A minimum election timeout after the last heartbeat, the vote is granted.
    let r = ask_vote(&mut node, at(1150), 2, false);
    assert!(r.granted);
    assert_eq!(node.term(), Term(2));
}

#[test]
fn without_stickiness_a_heard_leader_does_not_stop_a_vote_thesis_4_2_3() {
    let mut node = non_sticky_node();
    heard_from_leader(&mut node, at(1000));
    assert!(ask_vote(&mut node, at(1001), 2, false).granted);
}

#[test]
fn pre_vote_does_not_raise_any_term_thesis_9_6() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    assert_eq!(cluster.node(leader.0).term(), Term(1), "pre-vote then one real election");
    // The pre-vote round was answered at term 1 (the term asked about) while everyone was at 0.
    let pre_votes = cluster.count_sent(
        |e| matches!(e.message, Message::VoteRequest(r) if r.kind == VoteKind::PreVote),
    );
    assert!(pre_votes >= 2);
    let term_changes: Vec<_> =
        cluster.log.iter().filter(|(_, _, e)| matches!(e, Event::TermChanged { .. })).collect();
    assert_eq!(term_changes.len(), 3, "each node moves to term 1 once: {term_changes:?}");
}

#[test]
fn pre_vote_is_refused_while_a_leader_is_heard_even_without_stickiness_thesis_9_6() {
    let mut node = non_sticky_node();
    heard_from_leader(&mut node, at(1000));
    let r = ask_vote(&mut node, at(1100), 2, true);
    assert_eq!((r.granted, r.term), (false, Term(1)));
    let r = ask_vote(&mut node, at(1150), 2, true);
    assert_eq!((r.granted, r.term), (true, Term(2)), "granted, at the term asked about");
    assert_eq!((node.term(), node.hard_state().voted_for), (Term(1), None), "nothing changed");
}

#[test]
fn a_rejoining_partitioned_node_does_not_disrupt_the_leader_with_pre_vote_thesis_9_6() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    let term = cluster.node(leader.0).term();
    let outsider = if leader == NodeId(3) { 2 } else { 3 };
    cluster.isolate(outsider);
    cluster.run_for(ms(5000));
    assert_eq!(cluster.node(outsider).term(), term, "pre-votes failed, so no term was raised");
    cluster.heal();
    cluster.run_for(ms(2000));
    assert_eq!(cluster.leaders(), vec![(leader, term)]);
    assert_eq!(cluster.node(outsider).leader(), Some(leader), "it follows the leader again");
}

#[test]
fn a_rejoining_partitioned_node_disrupts_the_leader_without_pre_vote_or_stickiness_raft_5_1() {
    let mut cluster = Cluster::new(3, |c| {
        c.pre_vote = false;
        c.leader_stickiness = false;
        c.leader_lease = false;
    });
    let leader = cluster.elect(ms(2000)).expect("a leader");
    let term = cluster.node(leader.0).term();
    let outsider = if leader == NodeId(3) { 2 } else { 3 };
    cluster.isolate(outsider);
    cluster.run_for(ms(5000));
    assert!(cluster.node(outsider).term() > term, "it campaigned alone, raising its term");
    cluster.heal();
    cluster.run_for(ms(2000));
    let new_term = cluster.leaders()[0].1;
    assert!(new_term > term, "the healthy leader of {term} was deposed: now {new_term}");
}

#[test]
fn a_leader_without_a_majority_steps_down_after_the_minimum_timeout_thesis_6_2() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    cluster.run_for(ms(500));
    let cut_at = cluster.now;
    cluster.isolate(leader.0);
    cluster.run_until(cut_at + ms(1000), |c| c.node(leader.0).role() != Role::Leader);
    assert_eq!(cluster.node(leader.0).role(), Role::Follower);
    // The last ack arrived at most one interval plus a round trip before the cut.
    let stepped_down = cluster.now - cut_at;
    assert!(stepped_down <= ms(150), "stepped down {stepped_down:?} after the cut");
    assert!(stepped_down >= ms(150 - 52), "not before a minimum timeout of silence");
    assert!(cluster.events_of(leader.0).any(|e| matches!(e, Event::QuorumLost { .. })));
}

#[test]
fn without_check_quorum_an_isolated_leader_keeps_leading_thesis_6_2() {
    let mut cluster = Cluster::new(3, |c| c.check_quorum = false);
    let leader = cluster.elect(ms(2000)).expect("a leader");
    cluster.isolate(leader.0);
    cluster.run_for(ms(2000));
    assert_eq!(cluster.node(leader.0).role(), Role::Leader);
}

#[test]
fn the_lease_runs_from_the_send_time_of_the_last_round_a_majority_acked_thesis_6_4_1() {
    let (mut node, t0) = leader_of_three();
    assert!(!node.lease_valid(t0), "no round acknowledged yet");
    let ack = |round| {
        Message::HeartbeatResponse(HeartbeatResponse { term: Term(1), success: true, round })
    };
    node.handle_message(t0 + ms(3), Envelope { from: NodeId(2), to: NodeId(1), message: ack(1) })
        .unwrap();
    // Default lease: 150 ms * (1 - 0.05) = 142.5 ms from the round's send time t0.
    assert_eq!(node.lease_remaining(t0 + ms(3)), Some(ms(142) + us(500) - ms(3)));
    assert!(node.lease_valid(t0 + ms(142)));
    assert!(!node.lease_valid(t0 + ms(143)));
    events(&mut node);
    node.handle_timeout(t0 + ms(143));
    assert!(events(&mut node).contains(&Event::LeaseExpired { term: Term(1) }));
}

#[test]
fn a_leader_that_steps_down_holding_its_lease_reports_the_lease_ended_thesis_6_4_1() {
    let (mut node, t0) = leader_of_three();
    let ack = |term, success| {
        Message::HeartbeatResponse(HeartbeatResponse { term: Term(term), success, round: 1 })
    };
    node.handle_message(
        t0 + ms(3),
        Envelope { from: NodeId(2), to: NodeId(1), message: ack(1, true) },
    )
    .unwrap();
    assert!(node.lease_valid(t0 + ms(10)));
    events(&mut node);
    // A later term deposes it well inside the lease.
    let later = Envelope { from: NodeId(3), to: NodeId(1), message: ack(2, false) };
    node.handle_message(t0 + ms(10), later).unwrap();
    assert_eq!(node.role(), Role::Follower);
    let seen = events(&mut node);
    let expired = seen.iter().position(|e| *e == Event::LeaseExpired { term: Term(1) });
    let term = seen.iter().position(|e| matches!(e, Event::TermChanged { .. }));
    assert!(expired.is_some() && expired < term, "lease end reported first: {seen:?}");
    // Once, not again when the lease's end passes.
    node.handle_timeout(t0 + ms(200));
    assert!(!events(&mut node).iter().any(|e| matches!(e, Event::LeaseExpired { .. })));
}

#[test]
fn an_earlier_instant_does_not_revive_a_lease_that_has_run_out_thesis_6_4_1() {
    let (mut node, t0) = leader_of_three();
    let ack =
        Message::HeartbeatResponse(HeartbeatResponse { term: Term(1), success: true, round: 1 });
    node.handle_message(t0 + ms(3), Envelope { from: NodeId(2), to: NodeId(1), message: ack })
        .unwrap();
    assert!(node.lease_valid(t0 + ms(100)));
    // The host's clock has moved past the lease's end (142.5 ms), not yet to check quorum's
    // deadline (153 ms): still the leader, no longer leased. A stale reading must not serve a
    // read.
    node.handle_timeout(t0 + ms(148));
    assert_eq!(node.role(), Role::Leader);
    assert!(!node.lease_valid(t0 + ms(100)), "a stale now is taken as the latest seen");
    assert_eq!(node.lease_remaining(t0 + ms(100)), None);
    let status = node.status(t0 + ms(100));
    assert_eq!(status.lease_remaining, None);
    assert!(status.majority_ack_age.is_some_and(|age| age == ms(145)), "{status:?}");
}

#[test]
fn an_isolated_leader_loses_its_lease_before_anyone_else_can_be_elected_thesis_6_4_1() {
    let mut cluster = Cluster::new(5, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    cluster.run_for(ms(500));
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
    cluster.isolate(leader.0);
    let old = leader;
    let lease_end = cluster.now + cluster.node(old.0).lease_remaining(cluster.now).unwrap();
    cluster.run_until(cluster.now + ms(3000), |c| c.leader().is_some_and(|l| l != old));
    let new_leader_at = cluster.now;
    assert!(cluster.leader().is_some_and(|l| l != old), "the majority elected another");
    assert!(
        new_leader_at > lease_end,
        "new leader at {new_leader_at}, old lease ended {lease_end}"
    );
    assert!(!cluster.node(old.0).lease_valid(lease_end));
    assert!(cluster.events_of(old.0).any(|e| matches!(e, Event::LeaseExpired { .. })));
}

#[test]
fn the_leader_suspects_a_silent_follower_and_reports_its_recovery() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    let follower = if leader == NodeId(3) { 2 } else { 3 };
    cluster.run_for(ms(200));
    cluster.cut.insert((NodeId(follower), leader));
    let cut_at = cluster.now;
    cluster.run_for(ms(400));
    let suspected = cluster.log.iter().find_map(|(t, n, e)| match e {
        Event::PeerSuspected { peer, silence } if *n == leader && *peer == NodeId(follower) => {
            Some((*t, *silence))
        }
        _ => None,
    });
    let (when, silence) = suspected.expect("the follower is suspected");
    assert!(silence >= ms(150), "suspected after {silence:?} of silence");
    assert!(when - cut_at <= ms(151), "suspected {:?} after the cut", when - cut_at);
    let status = cluster.node(leader.0).status(cluster.now);
    assert!(status.peers.iter().any(|p| p.id == NodeId(follower) && p.suspected));
    assert_eq!(cluster.node(leader.0).role(), Role::Leader, "one silent follower of three is fine");
    cluster.heal();
    cluster.run_for(ms(100));
    assert!(cluster
        .events_of(leader.0)
        .any(|e| *e == Event::PeerRecovered { peer: NodeId(follower) }));
    let status = cluster.node(leader.0).status(cluster.now);
    assert!(status.peers.iter().all(|p| !p.suspected && p.last_ack_age.unwrap() <= ms(50)));
}

#[test]
fn a_read_ticket_of_an_earlier_term_confirms_nothing_once_the_node_leads_again_thesis_6_4() {
    // A read asked in term 1 and never confirmed must not be served in term 3, although a
    // majority has since acknowledged rounds sent after it: a leader of term 2 came between.
    let (mut node, t0) = leader_of_three();
    let from2 = |message| Envelope { from: NodeId(2), to: NodeId(1), message };
    let old = node.heartbeat_now(t0 + ms(1)).expect("it leads");
    outbox(&mut node, t0 + ms(1));
    let deposed = HeartbeatResponse { term: Term(2), success: false, round: 0 };
    node.handle_message(t0 + ms(2), from2(Message::HeartbeatResponse(deposed))).unwrap();
    assert_eq!(node.role(), Role::Follower);
    let t = node.poll_timeout();
    node.handle_timeout(t);
    outbox(&mut node, t);
    let vote = VoteResponse { term: Term(3), granted: true, kind: VoteKind::Vote };
    node.handle_message(t, from2(Message::VoteResponse(vote))).unwrap();
    assert_eq!((node.role(), node.term()), (Role::Leader, Term(3)));
    outbox(&mut node, t);
    let fresh = node.heartbeat_now(t + ms(1)).expect("it leads again");
    let round = outbox(&mut node, t + ms(1))
        .iter()
        .find_map(|e| match e.message {
            Message::Heartbeat(h) => Some(h.round),
            _ => None,
        })
        .expect("a round went out at once");
    let ack = HeartbeatResponse { term: Term(3), success: true, round };
    node.handle_message(t + ms(2), from2(Message::HeartbeatResponse(ack))).unwrap();
    assert!(node.majority_acked_since(fresh));
    assert!(!node.majority_acked_since(old), "a ticket of term 1");
}

#[test]
fn a_read_index_waits_for_a_majority_to_ack_a_round_sent_after_the_read_thesis_6_4() {
    let (mut node, t0) = leader_of_three();
    let ack = |round, term| {
        let m = HeartbeatResponse { term: Term(term), success: true, round };
        Envelope { from: NodeId(2), to: NodeId(1), message: Message::HeartbeatResponse(m) }
    };
    // The election's first round (round 1, sent at t0) is acknowledged: a read that arrived
    // before it may be served, one that arrived after it may not.
    let early = node.read_ticket(t0).expect("it leads");
    node.handle_message(t0 + ms(2), ack(1, 1)).unwrap();
    assert!(node.majority_acked_since(early));
    let read_at = t0 + ms(5);
    let waiting = node.read_ticket(read_at).expect("it leads");
    assert!(!node.majority_acked_since(waiting));
    let ticket = node.heartbeat_now(read_at).expect("it leads");
    assert_eq!((ticket.term(), ticket.since()), (Term(1), read_at));
    let out = outbox(&mut node, read_at);
    let round = out
        .iter()
        .find_map(|e| match e.message {
            Message::Heartbeat(h) => Some(h.round),
            _ => None,
        })
        .expect("a round went out at once");
    // A late ack of the older round, received after the read, is not enough: send time counts.
    node.handle_message(read_at + ms(1), ack(1, 1)).unwrap();
    assert!(!node.majority_acked_since(ticket));
    node.handle_message(read_at + ms(2), ack(round, 1)).unwrap();
    assert!(node.majority_acked_since(ticket) && node.majority_acked_since(waiting));
    // Deposed, it serves none, and hands out no ticket.
    node.handle_message(read_at + ms(3), ack(round, 2)).unwrap();
    assert!(!node.majority_acked_since(ticket));
    assert_eq!(node.heartbeat_now(read_at + ms(4)), None);
    assert_eq!(node.read_ticket(read_at + ms(4)), None);
}
