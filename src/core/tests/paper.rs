//! The rules of the Raft paper (Ongaro & Ousterhout 2014, §5), one test per behaviour.

use std::collections::BTreeSet;

use super::harness::*;
use crate::core::{
    Config, Event, HeartbeatResponse, Instant, LogPosition, Message, Node, NodeId, Role, Term,
    VoteKind, VoteRequest, VoteResponse,
};

fn vote_request(term: u64, pre_vote: bool) -> Message {
    Message::VoteRequest(VoteRequest {
        term: Term(term),
        last_log: LogPosition::default(),
        kind: kind(pre_vote),
    })
}

fn vote(term: u64, granted: bool) -> Message {
    Message::VoteResponse(VoteResponse { term: Term(term), granted, kind: VoteKind::Vote })
}

fn classic(id: u64, n: u64) -> Config {
    Config { pre_vote: false, ..config(id, n) }
}

/// Node 1 of `n` as candidate of term 1 at its first timeout (pre-vote off).
fn candidate(n: u64) -> (Node, Instant) {
    let mut node = Node::new(classic(1, n), Instant::ZERO).unwrap();
    let t = node.poll_timeout();
    node.handle_timeout(t);
    outbox(&mut node, t);
    (node, t)
}

/// Node 1 of 3 as leader of term 1.
pub(super) fn leader_of_three() -> (Node, Instant) {
    let (mut node, t) = candidate(3);
    node.handle_message(t, env(2, 1, vote(1, true))).unwrap();
    assert_eq!(node.role(), Role::Leader);
    outbox(&mut node, t);
    events(&mut node);
    (node, t)
}

#[test]
fn a_new_node_starts_as_a_follower_in_term_zero_raft_5_2() {
    let node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    assert_eq!((node.role(), node.term(), node.leader()), (Role::Follower, Term(0), None));
}

#[test]
fn every_role_adopts_a_higher_term_and_becomes_follower_raft_5_1() {
    let mut follower = Node::new(classic(1, 3), Instant::ZERO).unwrap();
    let mut pre = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let t = pre.poll_timeout();
    pre.handle_timeout(t);
    assert_eq!(pre.role(), Role::PreCandidate);
    let (mut cand, _) = candidate(3);
    let (mut lead, _) = leader_of_three();
    for (node, expected_before) in [
        (&mut follower, Role::Follower),
        (&mut pre, Role::PreCandidate),
        (&mut cand, Role::Candidate),
        (&mut lead, Role::Leader),
    ] {
        assert_eq!(node.role(), expected_before);
        node.handle_message(at(1000), env(2, 1, heartbeat(5))).unwrap();
        assert_eq!(node.term(), Term(5), "{expected_before} adopts the term");
        assert_eq!(node.role(), Role::Follower, "{expected_before} becomes follower");
        assert_eq!(node.leader(), Some(NodeId(2)));
        assert_eq!(node.hard_state().voted_for, None, "a new term has no vote yet");
    }
    // A higher term in a response has the same effect on a leader.
    let (mut lead, t) = leader_of_three();
    let reply = HeartbeatResponse { term: Term(9), success: false, round: 1 };
    lead.handle_message(t, env(3, 1, Message::HeartbeatResponse(reply))).unwrap();
    assert_eq!((lead.role(), lead.term(), lead.leader()), (Role::Follower, Term(9), None));
}

#[test]
fn a_stale_heartbeat_is_rejected_with_the_current_term_raft_5_1() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    node.handle_message(at(1), env(2, 1, heartbeat(4))).unwrap();
    outbox(&mut node, at(1));
    let deadline = node.poll_timeout();
    node.handle_message(at(2), env(3, 1, heartbeat(3))).unwrap();
    let out = outbox(&mut node, at(2));
    let reply = HeartbeatResponse { term: Term(4), success: false, round: 1 };
    assert_eq!(out, vec![env(1, 3, Message::HeartbeatResponse(reply))]);
    assert_eq!(node.leader(), Some(NodeId(2)), "the stale leader is not followed");
    assert_eq!(node.poll_timeout(), deadline, "nor does it reset the timer");
    assert_eq!(node.status(at(2)).counters.stale, 1);
}

#[test]
fn a_stale_vote_request_is_refused_raft_5_1() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    node.handle_message(at(1), env(2, 1, heartbeat(4))).unwrap();
    outbox(&mut node, at(1));
    node.handle_message(at(500), env(3, 1, vote_request(3, false))).unwrap();
    assert_eq!(outbox(&mut node, at(500)), vec![env(1, 3, vote(4, false))]);
    assert_eq!(node.hard_state().voted_for, None);
}

#[test]
fn stale_responses_are_dropped_raft_5_1() {
    let (mut node, t) = leader_of_three();
    node.handle_message(t, env(3, 1, vote(0, true))).unwrap();
    let stale_ack = HeartbeatResponse { term: Term(0), success: true, round: 1 };
    node.handle_message(t, env(3, 1, Message::HeartbeatResponse(stale_ack))).unwrap();
    assert_eq!((node.role(), node.term()), (Role::Leader, Term(1)));
    assert_eq!(node.status(t).counters.stale, 2);
    assert_eq!(node.status(t).peers[1].last_ack_age, None, "the stale ack counted for nothing");
}

#[test]
fn the_leader_sends_empty_heartbeats_to_every_follower_each_interval_raft_5_2() {
    let mut cluster = Cluster::new(5, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    let start = cluster.now;
    cluster.sent.clear();
    cluster.run_for(ms(1000));
    let rounds: Vec<Instant> = cluster
        .sent
        .iter()
        .filter(|(_, e)| e.from == leader && matches!(e.message, Message::Heartbeat(_)))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(rounds.len(), 4 * 20, "one heartbeat per follower per 50 ms");
    let distinct: BTreeSet<_> = rounds.iter().collect();
    for w in distinct.iter().copied().collect::<Vec<_>>().windows(2) {
        assert_eq!(*w[1] - *w[0], ms(50));
    }
    assert!(rounds[0] - start <= ms(50));
}

#[test]
fn a_follower_that_hears_nothing_campaigns_after_a_timeout_in_range_raft_5_2() {
    let mut node = Node::new(classic(1, 3), Instant::ZERO).unwrap();
    let deadline = node.poll_timeout();
    assert!((at(150)..=at(300)).contains(&deadline), "{deadline}");
    node.handle_timeout(deadline - ms(1));
    assert_eq!(node.role(), Role::Follower, "not before the deadline");
    node.handle_timeout(deadline);
    assert_eq!((node.role(), node.term()), (Role::Candidate, Term(1)));
    assert_eq!(node.hard_state().voted_for, Some(NodeId(1)), "it votes for itself");
    let sent = outbox(&mut node, deadline);
    let request =
        VoteRequest { term: Term(1), last_log: LogPosition::default(), kind: VoteKind::Vote };
    assert_eq!(
        sent,
        vec![env(1, 2, Message::VoteRequest(request)), env(1, 3, Message::VoteRequest(request))]
    );
}

#[test]
fn a_candidate_that_times_out_starts_a_new_election_raft_5_2() {
    let (mut node, t) = candidate(3);
    let next = node.poll_timeout();
    assert!((t + ms(150)..=t + ms(300)).contains(&next));
    node.handle_timeout(next);
    assert_eq!((node.role(), node.term()), (Role::Candidate, Term(2)));
    assert_eq!(outbox(&mut node, next).iter().filter(|e| is_vote_request(e)).count(), 2);
}

#[test]
fn a_candidate_wins_loses_or_waits_by_its_votes_for_1_3_and_5_nodes_raft_5_2() {
    // (cluster size, answers from peers 2.., expected role)
    let cases: &[(u64, &[Option<bool>], Role)] = &[
        (1, &[], Role::Leader),
        (3, &[Some(true), None], Role::Leader),
        (3, &[None, None], Role::Candidate),
        // Refused by a majority, it stays a candidate until its timer fires (Figure 2).
        (3, &[Some(false), Some(false)], Role::Candidate),
        (5, &[Some(true), Some(true), None, None], Role::Leader),
        (5, &[Some(true), None, None, None], Role::Candidate),
        (5, &[Some(true), Some(false), Some(false), None], Role::Candidate),
        (5, &[Some(false), Some(false), Some(false), None], Role::Candidate),
    ];
    for &(n, answers, expected) in cases {
        let (mut node, t) = candidate(n);
        for (i, answer) in answers.iter().enumerate() {
            if let Some(granted) = answer {
                node.handle_message(t, env(i as u64 + 2, 1, vote(1, *granted))).unwrap();
            }
        }
        assert_eq!(node.role(), expected, "{n} nodes, answers {answers:?}");
        assert_eq!(node.term(), Term(1));
    }
}

#[test]
fn a_node_grants_one_vote_per_term_raft_5_2() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    node.handle_message(at(1), env(2, 1, vote_request(1, false))).unwrap();
    assert_eq!(outbox(&mut node, at(1)), vec![env(1, 2, vote(1, true))]);
    node.handle_message(at(2), env(3, 1, vote_request(1, false))).unwrap();
    assert_eq!(outbox(&mut node, at(2)), vec![env(1, 3, vote(1, false))]);
    node.handle_message(at(3), env(2, 1, vote_request(1, false))).unwrap();
    assert_eq!(outbox(&mut node, at(3)), vec![env(1, 2, vote(1, true))], "a retry is re-granted");
    assert_eq!(node.hard_state().voted_for, Some(NodeId(2)));
}

#[test]
fn a_candidate_steps_down_on_a_heartbeat_of_its_term_or_later_raft_5_2() {
    for term in [1, 2] {
        let (mut node, t) = candidate(3);
        node.handle_message(t, env(3, 1, heartbeat(term))).unwrap();
        assert_eq!((node.role(), node.term()), (Role::Follower, Term(term)));
        assert_eq!(node.leader(), Some(NodeId(3)));
    }
    let (mut node, t) = candidate(3);
    node.handle_message(t, env(3, 1, heartbeat(0))).unwrap();
    assert_eq!(node.role(), Role::Candidate, "an older term does not make it step down");
}

#[test]
fn election_timeouts_cover_the_whole_range_raft_5_2() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let mut buckets = [0u32; 15];
    let (mut lo, mut hi) = (u64::MAX, 0);
    for i in 0..3000u64 {
        let now = at(1000 * i);
        node.handle_message(now, env(2, 1, heartbeat(1))).unwrap();
        outbox(&mut node, now);
        let timeout = (node.poll_timeout() - now).as_micros() as u64;
        lo = lo.min(timeout);
        hi = hi.max(timeout);
        buckets[((timeout - 150_000) / 10_000).min(14) as usize] += 1;
    }
    assert!(lo >= 150_000 && hi <= 300_000, "[{lo}, {hi}] µs");
    assert!(lo < 151_000 && hi > 299_000, "both ends are reached: [{lo}, {hi}] µs");
    assert!(buckets.iter().all(|&b| (140..=260).contains(&b)), "uniform: {buckets:?}");
}

#[test]
fn five_followers_rarely_time_out_together_raft_5_2() {
    let mut nodes: Vec<Node> =
        (1..=5).map(|i| Node::new(config(i, 5), Instant::ZERO).unwrap()).collect();
    let mut close = 0;
    let rounds = 1000;
    for r in 0..rounds {
        let now = at(1000 * r);
        let mut deadlines: Vec<Instant> = nodes
            .iter_mut()
            .enumerate()
            .map(|(i, node)| {
                let leader = if i == 0 { 2 } else { 1 };
                node.handle_message(now, env(leader, i as u64 + 1, heartbeat(1))).unwrap();
                outbox(node, now);
                node.poll_timeout()
            })
            .collect();
        deadlines.sort();
        if deadlines[1] - deadlines[0] < ms(2) {
            close += 1;
        }
    }
    // Five uniform draws over 150 ms: the first two fall within 2 ms about 5% of the time.
    assert!(close < rounds / 10, "{close} of {rounds} rounds had a near tie");
}

#[test]
fn votes_are_refused_to_out_of_date_logs_raft_5_4_1() {
    let mine = LogPosition::new(Term(2), 5);
    let cases = [
        (LogPosition::new(Term(1), 9), false),
        (LogPosition::new(Term(2), 4), false),
        (LogPosition::new(Term(2), 5), true),
        (LogPosition::new(Term(2), 6), true),
        (LogPosition::new(Term(3), 1), true),
    ];
    for (theirs, granted) in cases {
        for pre_vote in [false, true] {
            let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
            node.set_last_log(mine);
            let request = VoteRequest { term: Term(3), last_log: theirs, kind: kind(pre_vote) };
            node.handle_message(at(1), env(2, 1, Message::VoteRequest(request))).unwrap();
            let out = outbox(&mut node, at(1));
            let Message::VoteResponse(r) = out[0].message else { panic!("{out:?}") };
            assert_eq!(r.granted, granted, "candidate {theirs:?} vs {mine:?}, pre_vote {pre_vote}");
        }
    }
}

#[test]
fn a_single_node_cluster_elects_itself_raft_5_2() {
    let mut cluster = Cluster::new(1, |_| {});
    assert_eq!(cluster.elect(ms(1000)), Some(NodeId(1)));
    assert_eq!(cluster.node(1).term(), Term(1));
    assert!(cluster.now <= at(300));
    assert!(cluster.node(1).lease_valid(cluster.now), "alone, it is always its own majority");
}

#[test]
fn dueling_candidates_settle_on_one_leader_without_pre_vote_raft_5_2() {
    let mut cluster = Cluster::new(3, |c| {
        c.pre_vote = false;
    });
    cluster.cut.insert((NodeId(1), NodeId(3)));
    cluster.cut.insert((NodeId(3), NodeId(1)));
    cluster.elect(ms(3000)).expect("node 2 sees both, so someone wins");
    cluster.run_for(ms(3000));
    // Without pre-vote the cut-off node keeps raising terms; with the cut healed, one leader
    // remains and every node agrees on it.
    cluster.heal();
    cluster.run_for(ms(3000));
    let leaders = cluster.leaders();
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    let (leader_now, term) = leaders[0];
    for n in cluster.nodes.values() {
        assert_eq!((n.term(), n.leader()), (term, Some(leader_now)));
    }
}

#[test]
fn dueling_candidates_with_pre_vote_leave_terms_alone_thesis_9_6() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.cut.insert((NodeId(1), NodeId(3)));
    cluster.cut.insert((NodeId(3), NodeId(1)));
    let leader = cluster.elect(ms(3000)).expect("a leader");
    let term = cluster.node(leader.0).term();
    cluster.run_for(ms(3000));
    assert_eq!(cluster.leaders(), vec![(leader, term)], "the cut-off node cannot disturb");
    for n in cluster.nodes.values() {
        assert_eq!(n.term(), term, "{} kept its term", n.id());
    }
    assert!(cluster
        .events_of(1)
        .chain(cluster.events_of(3))
        .all(|e| !matches!(e, Event::TermChanged { from, .. } if *from >= term)));
}
