//! When the election timer is reset (Raft §5.2 and Figure 2; `TimerRule`): on a valid
//! heartbeat, on granting a vote, on starting a campaign, and when a leader steps down; and, only
//! under etcd-raft's rule, when a candidate steps down.

use super::harness::*;
use crate::core::{
    Config, Envelope, Event, Heartbeat, HeartbeatResponse, Instant, LogPosition, Message, Node,
    NodeId, Role, Term, TimerRule, VoteKind, VoteRequest, VoteResponse,
};

fn env(from: u64, message: Message) -> Envelope {
    Envelope { from: NodeId(from), to: NodeId(1), message }
}

fn refusal(term: u64) -> Message {
    Message::VoteResponse(VoteResponse { term: Term(term), granted: false, kind: VoteKind::Vote })
}

/// Node 1 of 3 as a candidate of term 1 (pre-vote off) under `rule`, and when it campaigned.
fn candidate(rule: TimerRule) -> (Node, Instant) {
    let c = Config { pre_vote: false, timer_rule: rule, ..config(1, 3) };
    let mut node = Node::new(c, Instant::ZERO).unwrap();
    let t = node.poll_timeout();
    node.handle_timeout(t);
    outbox(&mut node, t);
    events(&mut node);
    (node, t)
}

#[test]
fn a_refused_candidate_waits_for_its_own_timer_raft_figure_2() {
    let (mut node, t) = candidate(TimerRule::Figure2);
    let deadline = node.poll_timeout();
    node.handle_message(t + ms(2), env(2, refusal(1))).unwrap();
    node.handle_message(t + ms(3), env(3, refusal(1))).unwrap();
    assert_eq!(node.role(), Role::Candidate, "a candidate stays one until its timer fires");
    assert_eq!(node.poll_timeout(), deadline, "and its timer is untouched");
    assert!(events(&mut node).is_empty(), "the host sees nothing until the timer fires");
    node.handle_timeout(deadline);
    assert_eq!((node.role(), node.term()), (Role::Candidate, Term(2)));
}

#[test]
fn a_refused_candidate_steps_down_with_a_fresh_timer_under_the_etcd_rule() {
    let (mut node, t) = candidate(TimerRule::ResetOnStepDown);
    node.handle_message(t + ms(2), env(2, refusal(1))).unwrap();
    let now = t + ms(3);
    node.handle_message(now, env(3, refusal(1))).unwrap();
    assert_eq!((node.role(), node.term()), (Role::Follower, Term(1)));
    let deadline = node.poll_timeout();
    assert!((now + ms(150)..=now + ms(300)).contains(&deadline), "drawn at the step-down");
    let seen = events(&mut node);
    assert!(seen.contains(&Event::RoleChanged {
        term: Term(1),
        from: Role::Candidate,
        to: Role::Follower
    }));
}

#[test]
fn a_candidate_that_learns_a_higher_term_keeps_its_timer_raft_figure_2() {
    let higher: [(&str, Message); 3] = [
        ("a refusal", refusal(5)),
        (
            "a heartbeat response",
            Message::HeartbeatResponse(HeartbeatResponse {
                term: Term(5),
                success: false,
                round: 1,
            }),
        ),
        (
            "a vote request for an out-of-date log",
            Message::VoteRequest(VoteRequest {
                term: Term(5),
                last_log: LogPosition::default(),
                kind: VoteKind::Vote,
            }),
        ),
    ];
    for (name, message) in higher {
        for rule in [TimerRule::Figure2, TimerRule::ResetOnStepDown] {
            let (mut node, t) = candidate(rule);
            node.set_last_log(LogPosition::new(Term(1), 10));
            let deadline = node.poll_timeout();
            let now = t + ms(2);
            node.handle_message(now, env(2, message)).unwrap();
            assert_eq!((node.role(), node.term()), (Role::Follower, Term(5)), "{name}");
            if rule == TimerRule::Figure2 {
                assert_eq!(node.poll_timeout(), deadline, "{name}: Figure 2 keeps the timer");
            } else {
                assert_ne!(node.poll_timeout(), deadline, "{name}: etcd redraws it");
            }
        }
    }
}

#[test]
fn granting_a_vote_resets_the_timer_under_both_rules_raft_figure_2() {
    for rule in [TimerRule::Figure2, TimerRule::ResetOnStepDown] {
        let (mut node, t) = candidate(rule);
        let now = t + ms(2);
        let m =
            VoteRequest { term: Term(5), last_log: LogPosition::default(), kind: VoteKind::Vote };
        node.handle_message(now, env(2, Message::VoteRequest(m))).unwrap();
        assert_eq!(node.hard_state().voted_for, Some(NodeId(2)));
        let deadline = node.poll_timeout();
        assert!((now + ms(150)..=now + ms(300)).contains(&deadline), "{rule:?}: {deadline}");
    }
}

#[test]
fn a_heartbeat_resets_the_timer_of_a_candidate_under_both_rules_raft_5_2() {
    for rule in [TimerRule::Figure2, TimerRule::ResetOnStepDown] {
        let (mut node, t) = candidate(rule);
        let now = t + ms(2);
        let hb = Heartbeat {
            term: Term(1),
            leader_last_log: LogPosition::default(),
            leader_commit: 0,
            round: 1,
        };
        node.handle_message(now, env(2, Message::Heartbeat(hb))).unwrap();
        assert_eq!(node.role(), Role::Follower);
        let deadline = node.poll_timeout();
        assert!((now + ms(150)..=now + ms(300)).contains(&deadline), "{rule:?}: {deadline}");
    }
}

#[test]
fn a_leader_that_steps_down_starts_a_fresh_timer_under_both_rules_raft_5_1() {
    for rule in [TimerRule::Figure2, TimerRule::ResetOnStepDown] {
        let (mut node, t) = candidate(rule);
        node.handle_message(
            t,
            env(
                2,
                Message::VoteResponse(VoteResponse {
                    term: Term(1),
                    granted: true,
                    kind: VoteKind::Vote,
                }),
            ),
        )
        .unwrap();
        assert_eq!(node.role(), Role::Leader);
        let now = t + ms(1000);
        let m = HeartbeatResponse { term: Term(3), success: false, round: 1 };
        node.handle_message(now, env(3, Message::HeartbeatResponse(m))).unwrap();
        assert_eq!(node.role(), Role::Follower);
        let deadline = node.poll_timeout();
        assert!((now + ms(150)..=now + ms(300)).contains(&deadline), "{rule:?}: {deadline}");
    }
}
