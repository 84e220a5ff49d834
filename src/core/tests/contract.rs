//! The driver contract: hard state before messages, restart, bad input, time going backwards,
//! the election timer's draws, and the host's own replication traffic.

use std::time::Duration;

use super::harness::*;
use crate::core::{
    Config, Contact, Envelope, Event, HardState, Heartbeat, InputError, Instant, LogPosition,
    Message, Node, NodeId, Role, Term, VoteKind, VoteRequest,
};

fn vote_request(from: u64, term: u64) -> Envelope {
    let request =
        VoteRequest { term: Term(term), last_log: LogPosition::default(), kind: VoteKind::Vote };
    Envelope { from: NodeId(from), to: NodeId(1), message: Message::VoteRequest(request) }
}

fn heartbeat_from(from: u64, term: u64, leader_commit: u64) -> Envelope {
    let hb = Heartbeat {
        term: Term(term),
        leader_last_log: LogPosition::default(),
        leader_commit,
        round: 1,
    };
    Envelope { from: NodeId(from), to: NodeId(1), message: Message::Heartbeat(hb) }
}

#[test]
fn a_vote_leaves_the_node_only_after_it_is_persisted_raft_5_2() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    node.handle_message(at(1), vote_request(2, 1)).unwrap();
    assert_eq!(node.poll_transmit(), None, "held back: the vote is not durable yet");
    let hs = node.take_hard_state().expect("term and vote to persist");
    assert_eq!(hs, HardState { term: Term(1), voted_for: Some(NodeId(2)) });
    assert_eq!(node.take_hard_state(), None, "handed out once");
    assert_eq!(node.poll_transmit(), None, "still held until confirmed");
    node.hard_state_persisted(at(2), hs);
    assert!(matches!(node.poll_transmit(), Some(Envelope { to: NodeId(2), .. })));
}

#[test]
fn persisting_an_older_hard_state_releases_nothing() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    node.handle_message(at(1), vote_request(2, 1)).unwrap();
    let first = node.take_hard_state().unwrap();
    node.handle_message(at(2), vote_request(3, 2)).unwrap();
    node.hard_state_persisted(at(3), first);
    assert_eq!(node.poll_transmit(), None, "term 2's vote is not durable yet");
    let second = node.take_hard_state().unwrap();
    assert_eq!(second, HardState { term: Term(2), voted_for: Some(NodeId(3)) });
    node.hard_state_persisted(at(4), second);
    assert_eq!(std::iter::from_fn(|| node.poll_transmit()).count(), 2);
}

#[test]
fn a_lone_candidate_leads_only_once_its_own_vote_is_durable_raft_5_2() {
    let mut node = Node::new(Config { pre_vote: false, ..config(1, 1) }, Instant::ZERO).unwrap();
    let t = node.poll_timeout();
    node.handle_timeout(t);
    assert_eq!(node.role(), Role::Candidate);
    let hs = node.take_hard_state().unwrap();
    node.hard_state_persisted(t + ms(5), hs);
    assert_eq!(node.role(), Role::Leader);
}

#[test]
fn a_restarted_node_withholds_votes_for_a_minimum_timeout_thesis_6_4_1() {
    // Before the crash it may have acknowledged a leader whose lease still runs.
    let hs = HardState { term: Term(4), voted_for: None };
    let mut node = Node::restart(config(1, 3), hs, LogPosition::default(), at(1000)).unwrap();
    node.handle_message(at(1149), vote_request(2, 5)).unwrap();
    assert!(
        matches!(outbox(&mut node, at(1149))[0].message, Message::VoteResponse(r) if !r.granted)
    );
    assert_eq!(node.term(), Term(4));
    node.handle_message(at(1150), vote_request(2, 5)).unwrap();
    assert!(
        matches!(outbox(&mut node, at(1150))[0].message, Message::VoteResponse(r) if r.granted)
    );
}

#[test]
fn a_restarted_node_compares_votes_with_the_log_it_was_started_with_raft_5_4_1() {
    // The host passes its log's end to restart; no set_last_log call is needed (or forgotten).
    let hs = HardState { term: Term(4), voted_for: None };
    let mine = LogPosition::new(Term(4), 10);
    let mut node = Node::restart(config(1, 3), hs, mine, at(0)).unwrap();
    let request = |from, last_log| {
        let r = VoteRequest { term: Term(5), last_log, kind: VoteKind::Vote };
        Envelope { from: NodeId(from), to: NodeId(1), message: Message::VoteRequest(r) }
    };
    node.handle_message(at(200), request(2, LogPosition::new(Term(4), 9))).unwrap();
    let out = outbox(&mut node, at(200));
    assert!(matches!(out[0].message, Message::VoteResponse(r) if !r.granted), "a shorter log");
    node.handle_message(at(201), request(3, mine)).unwrap();
    let out = outbox(&mut node, at(201));
    assert!(matches!(out[0].message, Message::VoteResponse(r) if r.granted), "as up to date");
}

#[test]
fn a_restarted_node_keeps_its_term_and_vote_raft_5_2() {
    let hs = HardState { term: Term(4), voted_for: Some(NodeId(2)) };
    let mut node = Node::restart(config(1, 3), hs, LogPosition::default(), at(10)).unwrap();
    assert_eq!((node.term(), node.role(), node.take_hard_state()), (Term(4), Role::Follower, None));
    node.handle_message(at(211), vote_request(3, 4)).unwrap();
    let out = outbox(&mut node, at(211));
    assert!(matches!(out[0].message, Message::VoteResponse(r) if !r.granted), "voted already");
    node.handle_message(at(212), vote_request(2, 4)).unwrap();
    let out = outbox(&mut node, at(212));
    assert!(matches!(out[0].message, Message::VoteResponse(r) if r.granted));
}

#[test]
fn a_crashed_leader_is_replaced_and_rejoins_without_raising_the_term_thesis_9_6() {
    let mut cluster = Cluster::new(5, |_| {});
    let old = cluster.elect(ms(2000)).expect("a leader");
    cluster.run_for(ms(300));
    let term = cluster.node(old.0).term();
    cluster.crash(old.0);
    let crashed_at = cluster.now;
    cluster.run_until(crashed_at + ms(3000), |c| c.leader().is_some());
    let new = cluster.leader().expect("the survivors elect a leader");
    assert_ne!(new, old);
    let new_term = cluster.node(new.0).term();
    assert!(cluster.now - crashed_at >= ms(150), "no one times out before the minimum timeout");
    cluster.restart(old.0);
    assert_eq!(cluster.node(old.0).term(), term, "the term survived the crash");
    cluster.run_for(ms(2000));
    assert_eq!(cluster.leaders(), vec![(new, new_term)], "the rejoining node disrupted nothing");
    assert_eq!(cluster.node(old.0).leader(), Some(new));
}

#[test]
fn messages_from_strangers_are_dropped_and_counted() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let before = node.poll_timeout();
    let err = node.handle_message(at(1), heartbeat_from(9, 5, 0)).unwrap_err();
    assert_eq!(err, InputError::NotAMember { from: NodeId(9) });
    assert_eq!(err.to_string(), "message from n9, which is not a member of this cluster: dropped");
    assert_eq!((node.term(), node.leader(), node.poll_timeout()), (Term(0), None, before));
    assert_eq!(node.poll_transmit(), None);
    assert_eq!(node.status(at(1)).counters.from_strangers, 1);
    assert_eq!(
        node.leader_contact(at(2), NodeId(9), Term(5), 0),
        Err(InputError::NotAMember { from: NodeId(9) })
    );
    assert_eq!(node.status(at(2)).counters.from_strangers, 2);
}

#[test]
fn misaddressed_and_self_sent_messages_are_rejected() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let mut env = heartbeat_from(2, 5, 0);
    env.to = NodeId(3);
    assert_eq!(
        node.handle_message(at(1), env),
        Err(InputError::Misaddressed { to: NodeId(3), this: NodeId(1) })
    );
    assert_eq!(
        node.handle_message(at(1), heartbeat_from(1, 5, 0)),
        Err(InputError::FromSelf(NodeId(1)))
    );
    assert_eq!(node.term(), Term(0));
    assert_eq!(node.status(at(1)).counters.misaddressed, 2);
}

#[test]
fn time_going_backwards_is_clamped_reported_and_loses_nothing() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    node.handle_message(at(1000), heartbeat_from(2, 1, 0)).unwrap();
    outbox(&mut node, at(1000));
    events(&mut node);
    let deadline = node.poll_timeout();
    node.handle_message(at(400), heartbeat_from(2, 1, 7)).unwrap();
    assert_eq!(outbox(&mut node, at(400)).len(), 1, "the heartbeat was still answered");
    let evs = events(&mut node);
    assert_eq!(evs[0], Event::ClockWentBackwards { by: ms(600) });
    assert!(evs.contains(&Event::LeaderCommit { index: 7 }));
    assert!(node.poll_timeout() >= deadline, "handled at t=1000, not t=400");
    node.handle_timeout(Instant::ZERO);
    assert_eq!(node.role(), Role::Follower, "an early timer call is harmless");
    assert_eq!(node.status(at(1000)).counters.clock_regressions, 2);
}

#[test]
fn the_timeout_is_redrawn_at_every_reset_raft_5_2() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let mut timeouts = Vec::new();
    for i in 1..=20 {
        let now = at(1000 * i);
        node.handle_message(now, heartbeat_from(2, 1, 0)).unwrap();
        timeouts.push(node.poll_timeout() - now);
    }
    timeouts.sort();
    timeouts.dedup();
    assert_eq!(timeouts.len(), 20, "twenty resets, twenty different timeouts");
}

#[test]
fn each_new_campaign_draws_a_fresh_timeout_raft_5_2() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let mut spans = Vec::new();
    let mut t = Instant::ZERO;
    for _ in 0..10 {
        let next = node.poll_timeout();
        spans.push(next - t);
        node.handle_timeout(next);
        t = next;
    }
    assert_eq!(node.role(), Role::PreCandidate, "no answers: it keeps asking");
    spans.sort();
    spans.dedup();
    assert_eq!(spans.len(), 10);
}

#[test]
fn with_a_timer_granularity_timeouts_are_whole_steps_covering_the_range_raft_9_3() {
    // LogCabin, measured in the paper's Figure 16, drew its timeouts in whole milliseconds.
    let c = Config {
        election_timeout_min: ms(150),
        election_timeout_max: ms(155),
        timer_granularity: ms(1),
        ..config(1, 3)
    };
    let mut node = Node::new(c, Instant::ZERO).unwrap();
    let mut seen = [0u32; 6];
    for i in 1..=600 {
        let now = at(1000 * i);
        node.handle_message(now, heartbeat_from(2, 1, 0)).unwrap();
        let timeout = node.poll_timeout() - now;
        assert_eq!(timeout.subsec_nanos() % 1_000_000, 0, "{timeout:?} is not whole ms");
        seen[(timeout.as_millis() - 150) as usize] += 1;
    }
    assert!(seen.iter().all(|&n| n > 60), "150 and 155 included, each about 100 of 600: {seen:?}");
}

#[test]
fn timeout_bounds_off_the_timer_granularity_are_refused_naming_the_bound() {
    let c = Config {
        election_timeout_max: Duration::from_micros(300_500),
        timer_granularity: ms(1),
        ..config(1, 3)
    };
    let err = Node::new(c, Instant::ZERO).unwrap_err().to_string();
    assert!(err.contains("election_timeout_max") && err.contains("timer_granularity"), "{err}");
}

#[test]
fn equal_bounds_give_the_same_timeout_every_time_raft_9_3() {
    let c = Config { election_timeout_max: ms(150), ..config(1, 3) };
    let mut node = Node::new(c, Instant::ZERO).unwrap();
    assert_eq!(node.poll_timeout(), at(150));
    for i in 1..=5 {
        node.handle_message(at(1000 * i), heartbeat_from(2, 1, 0)).unwrap();
        assert_eq!(node.poll_timeout(), at(1000 * i + 150));
    }
}

#[test]
fn the_same_seed_gives_the_same_timeouts_and_another_seed_others() {
    let deadlines = |seed| {
        let mut node = Node::new(Config { seed, ..config(1, 3) }, Instant::ZERO).unwrap();
        (1..=5)
            .map(|i| {
                node.handle_message(at(1000 * i), heartbeat_from(2, 1, 0)).unwrap();
                node.poll_timeout()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(deadlines(1), deadlines(1));
    assert_ne!(deadlines(1), deadlines(2));
    let other_node = Node::new(Config { seed: 1, ..config(2, 3) }, Instant::ZERO).unwrap();
    let first = Node::new(Config { seed: 1, ..config(1, 3) }, Instant::ZERO).unwrap();
    assert_ne!(other_node.poll_timeout(), first.poll_timeout(), "each node draws its own stream");
}

#[test]
fn a_restarted_member_does_not_replay_its_last_incarnations_timeouts() {
    // The same configuration (seed 0, the default) every time, as a host that never sets it.
    let draws = |hs: HardState, now: Instant| {
        let node = Node::restart(config(1, 3), hs, LogPosition::default(), now).unwrap();
        node.poll_timeout() - now
    };
    let hs = |term, vote: Option<u64>| HardState { term: Term(term), voted_for: vote.map(NodeId) };
    let fresh = draws(HardState::default(), at(0));
    assert_eq!(fresh, draws(HardState::default(), at(500)), "a brand-new member keeps its seed");
    let restarts = [
        draws(hs(3, None), at(500)),
        draws(hs(3, Some(2)), at(500)),
        draws(hs(4, Some(2)), at(500)),
        draws(hs(4, Some(2)), at(900)),
    ];
    for (i, a) in restarts.iter().enumerate() {
        assert_ne!(*a, fresh, "restart {i}");
        for b in &restarts[i + 1..] {
            assert_ne!(a, b, "a different hard state or restart instant draws differently");
        }
    }
    assert_eq!(draws(hs(4, Some(2)), at(900)), restarts[3], "the same restart draws the same");
}

#[test]
fn the_hosts_own_replication_counts_as_a_heartbeat() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    assert_eq!(node.leader_contact(at(100), NodeId(2), Term(1), 3), Ok(Contact::Counted));
    assert_eq!(
        (node.role(), node.term(), node.leader()),
        (Role::Follower, Term(1), Some(NodeId(2)))
    );
    assert!(node.poll_timeout() >= at(250));
    assert!(events(&mut node).contains(&Event::LeaderCommit { index: 3 }));
    assert_eq!(outbox(&mut node, at(100)), vec![], "the host answers its own AppendEntries");
    let stale = node.leader_contact(at(101), NodeId(3), Term(0), 0);
    assert_eq!(stale, Ok(Contact::Stale { current: Term(1) }), "Raft §5.1");
    assert_eq!(node.status(at(101)).counters.stale, 1);
    // Node 3 claims term 1, which node 2 leads here: refused, said and counted (Raft §5.2).
    let conflict = node.leader_contact(at(102), NodeId(3), Term(1), 0);
    assert_eq!(conflict, Ok(Contact::ConflictingLeader { known: Some(NodeId(2)) }));
    assert_eq!(node.leader(), Some(NodeId(2)));
    assert_eq!(node.status(at(102)).counters.conflicting_leaders, 1);
}

#[test]
fn a_host_reported_acknowledgment_says_whether_it_counted_raft_5_1() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    // Not leading: ignored, and said so.
    assert_eq!(node.append_acknowledged(at(1), NodeId(2), Term(0), at(0)), Ok(Contact::NotLeading));
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    let term = cluster.node(leader.0).term();
    let follower = cluster.nodes.keys().copied().find(|&n| n != leader).unwrap();
    let now = cluster.now;
    let node = cluster.node_mut(leader.0);
    assert_eq!(node.append_acknowledged(now, follower, term, now), Ok(Contact::Counted));
    let old = Term(term.0 - 1);
    assert_eq!(
        node.append_acknowledged(now, follower, old, now),
        Ok(Contact::Stale { current: term })
    );
    let later = Term(term.0 + 1);
    assert_eq!(
        node.append_acknowledged(now, follower, later, now),
        Ok(Contact::SteppedDown { term: later })
    );
    assert_eq!((node.role(), node.term()), (Role::Follower, later));
}

#[test]
fn acknowledged_replication_keeps_the_leaders_quorum_and_lease_thesis_6_2() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    // Heartbeat acks are lost; only the host's replication acks get through.
    for &other in &[NodeId(1), NodeId(2), NodeId(3)] {
        if other != leader {
            cluster.cut.insert((other, leader));
        }
    }
    let term = cluster.node(leader.0).term();
    let follower = cluster.nodes.keys().copied().find(|&n| n != leader).unwrap();
    let start = cluster.now;
    for i in 1..=40u64 {
        let now = start + ms(25 * i);
        cluster.run_until(now, |_| false);
        let acked =
            cluster.node_mut(leader.0).append_acknowledged(now, follower, term, now - ms(1));
        assert_eq!(acked, Ok(Contact::Counted));
    }
    assert_eq!(cluster.node(leader.0).role(), Role::Leader);
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
}

#[test]
fn a_follower_reports_the_leaders_commit_index_only_when_it_advances() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    for (i, commit) in [(1, 5), (2, 5), (3, 4), (4, 9)] {
        node.handle_message(at(i), heartbeat_from(2, 1, commit)).unwrap();
    }
    let commits: Vec<u64> = events(&mut node)
        .into_iter()
        .filter_map(|e| match e {
            Event::LeaderCommit { index } => Some(index),
            _ => None,
        })
        .collect();
    assert_eq!(commits, vec![5, 9]);
}

#[test]
fn heartbeats_carry_the_hosts_log_position_and_commit_index() {
    let pos = LogPosition::new(Term(3), 42);
    let mut node = Node::new(config(1, 2), Instant::ZERO).unwrap();
    node.set_last_log(pos);
    node.set_commit_index(40);
    let t = node.poll_timeout();
    node.handle_timeout(t);
    let pre = VoteRequest { term: Term(1), last_log: pos, kind: VoteKind::PreVote };
    assert_eq!(outbox(&mut node, t)[0].message, Message::VoteRequest(pre));
    let grant = |term, pre_vote| Envelope {
        from: NodeId(2),
        to: NodeId(1),
        message: Message::VoteResponse(crate::core::VoteResponse {
            term: Term(term),
            granted: true,
            kind: kind(pre_vote),
        }),
    };
    node.handle_message(t, grant(1, true)).unwrap();
    outbox(&mut node, t);
    node.handle_message(t, grant(4, false)).unwrap();
    assert_eq!(node.role(), Role::Candidate, "a grant for another term does not count");
    node.handle_message(t, grant(1, false)).unwrap();
    assert_eq!(node.role(), Role::Leader);
    let hb = outbox(&mut node, t);
    assert!(
        matches!(hb[0].message, Message::Heartbeat(h) if h.leader_last_log == pos && h.leader_commit == 40)
    );
}

#[test]
fn a_follower_sees_the_leaders_last_entry_in_its_status_raft_5_3() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    assert_eq!(node.status(at(0)).leader_last_log, None);
    let pos = LogPosition::new(Term(1), 40);
    let hb = Heartbeat { term: Term(1), leader_last_log: pos, leader_commit: 38, round: 1 };
    node.handle_message(
        at(10),
        Envelope { from: NodeId(2), to: NodeId(1), message: Message::Heartbeat(hb) },
    )
    .unwrap();
    assert_eq!(node.status(at(10)).leader_last_log, Some(pos));
    // A new leader: the old leader's position no longer says how far behind this node is.
    let next = Heartbeat { term: Term(2), leader_last_log: pos, leader_commit: 38, round: 1 };
    node.handle_message(at(500), vote_request(3, 2)).unwrap();
    assert_eq!(node.status(at(500)).leader_last_log, None);
    node.handle_message(
        at(501),
        Envelope { from: NodeId(3), to: NodeId(1), message: Message::Heartbeat(next) },
    )
    .unwrap();
    assert_eq!(node.status(at(501)).leader_last_log, Some(pos));
}

/// Drains every output of `node`, persisting hard state at once, as text.
fn outputs(node: &mut Node, now: Instant) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(hard) = node.take_hard_state() {
        out.push(format!("{hard:?}"));
        node.hard_state_persisted(now, hard);
    }
    while let Some(e) = node.poll_transmit() {
        out.push(format!("{e:?}"));
    }
    while let Some(e) = node.poll_event() {
        out.push(format!("{e:?}"));
    }
    out.push(format!("{:?}", node.poll_timeout()));
    out
}

#[test]
fn a_forked_node_gives_the_same_outputs_as_its_original_to_the_same_inputs() {
    let mut a = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let t = a.poll_timeout();
    a.handle_timeout(t);
    let _ = outputs(&mut a, t);
    let mut b = a.try_clone().expect("the built-in detector copies");
    let later = t + Duration::from_millis(7);
    for node in [&mut a, &mut b] {
        node.handle_message(later, vote_request(2, 9)).unwrap();
    }
    assert_eq!(outputs(&mut a, later), outputs(&mut b, later));
    let next = a.poll_timeout();
    a.handle_timeout(next);
    b.handle_timeout(next);
    assert_eq!(outputs(&mut a, next), outputs(&mut b, next));
    assert_eq!(a.status(next), b.status(next));
}
