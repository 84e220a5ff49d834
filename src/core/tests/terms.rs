//! Terms at the top of their range: no input may lead a node into a term it cannot leave, and
//! no node votes twice in a term (Raft §5.2: "each server will vote for at most one candidate
//! in a given term").

use super::harness::*;
use crate::core::{
    Config, ConfigError, Envelope, HardState, Heartbeat, HeartbeatResponse, InputError, Instant,
    LogPosition, Message, Node, NodeId, Role, Term, VoteKind, VoteRequest, VoteResponse,
};

const TOO_LATE: Term = Term(u64::MAX);

fn from_two(message: Message) -> Envelope {
    Envelope { from: NodeId(2), to: NodeId(1), message }
}

fn every_message_of(term: Term) -> Vec<Message> {
    let log = LogPosition::default();
    vec![
        Message::Heartbeat(Heartbeat { term, leader_last_log: log, leader_commit: 0, round: 1 }),
        Message::HeartbeatResponse(HeartbeatResponse { term, success: false, round: 1 }),
        Message::VoteRequest(VoteRequest { term, last_log: log, kind: VoteKind::Vote }),
        Message::VoteRequest(VoteRequest { term, last_log: log, kind: VoteKind::PreVote }),
        Message::VoteResponse(VoteResponse { term, granted: false, kind: VoteKind::Vote }),
        Message::VoteResponse(VoteResponse { term, granted: true, kind: VoteKind::PreVote }),
    ]
}

#[test]
fn a_message_past_the_last_term_is_refused_and_changes_nothing_raft_5_1() {
    for message in every_message_of(TOO_LATE) {
        let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
        let before = (node.hard_state(), node.role(), node.poll_timeout());
        let err = node.handle_message(at(1), from_two(message)).unwrap_err();
        assert_eq!(err, InputError::TermOutOfRange { from: NodeId(2), term: TOO_LATE });
        assert_eq!((node.hard_state(), node.role(), node.poll_timeout()), before, "{message:?}");
        assert!(outbox(&mut node, at(1)).is_empty());
        assert_eq!(node.status(at(1)).counters.terms_out_of_range, 1);
    }
}

#[test]
fn host_inputs_past_the_last_term_are_refused() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    assert!(matches!(
        node.leader_contact(at(1), NodeId(2), TOO_LATE, 0),
        Err(InputError::TermOutOfRange { .. })
    ));
    assert!(matches!(
        node.append_acknowledged(at(1), NodeId(2), TOO_LATE, at(0)),
        Err(InputError::TermOutOfRange { .. })
    ));
    assert_eq!(node.term(), Term(0));
}

#[test]
fn a_hard_state_past_the_last_term_does_not_start() {
    let hs = HardState { term: TOO_LATE, voted_for: Some(NodeId(2)) };
    let err = Node::restart(config(1, 3), hs, LogPosition::default(), Instant::ZERO).unwrap_err();
    assert_eq!(err, ConfigError::TermOutOfRange(TOO_LATE));
}

#[test]
fn a_node_in_the_last_term_never_votes_for_itself_over_its_vote_raft_5_2() {
    for pre_vote in [false, true] {
        let hs = HardState { term: Term::LAST, voted_for: Some(NodeId(2)) };
        let mut node =
            Node::restart(Config { pre_vote, ..config(1, 3) }, hs, LogPosition::default(), at(0))
                .unwrap();
        for _ in 0..3 {
            let deadline = node.poll_timeout();
            node.handle_timeout(deadline);
            assert!(outbox(&mut node, deadline).is_empty(), "no campaign past the last term");
        }
        assert_eq!(node.role(), Role::Follower);
        assert_eq!(node.hard_state(), hs, "its vote for node 2 stands");
    }
}

#[test]
fn the_last_term_is_still_usable_raft_5_1() {
    let mut node = Node::new(config(1, 3), Instant::ZERO).unwrap();
    let hb = Heartbeat {
        term: Term::LAST,
        leader_last_log: LogPosition::default(),
        leader_commit: 0,
        round: 1,
    };
    node.handle_message(at(1), from_two(Message::Heartbeat(hb))).unwrap();
    assert_eq!((node.term(), node.leader()), (Term::LAST, Some(NodeId(2))));
}
