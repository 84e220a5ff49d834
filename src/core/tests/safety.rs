//! The lease's safety argument (thesis §6.4.1, docs/architecture.md), tested along every path
//! that changes a voter's term, leader or timer: a node that accepted a leader's contact at `t`
//! grants no vote and no pre-vote before `t + election_timeout_min` on its own clock, whatever
//! it learns in between (thesis §4.2.3).

use std::collections::VecDeque;

use super::harness::*;
use crate::core::{
    Config, Contact, Envelope, HardState, HeartbeatResponse, Instant, LogPosition, Message, Node,
    NodeId, Role, Term, VoteKind, VoteRequest, VoteResponse,
};

fn request(term: u64, pre_vote: bool) -> Message {
    Message::VoteRequest(VoteRequest {
        term: Term(term),
        last_log: LogPosition::default(),
        kind: kind(pre_vote),
    })
}

/// Pre-vote off, stickiness and lease on: the configuration of the reported hole.
fn sticky_without_pre_vote(id: u64) -> Config {
    Config { pre_vote: false, max_clock_drift: 0.0, ..config(id, 3) }
}

/// The answer node 1 gives to `message` from node 3 at `now`.
fn answer(node: &mut Node, now: Instant, message: Message) -> VoteResponse {
    node.handle_message(now, env(3, 1, message)).unwrap();
    match outbox(node, now).as_slice() {
        [Envelope { message: Message::VoteResponse(r), .. }] => *r,
        other => panic!("expected one vote response, got {other:?}"),
    }
}

#[test]
fn a_late_higher_term_response_does_not_open_the_stickiness_window_thesis_4_2_3() {
    // The reported case: node 1 is a candidate of term 1, follows node 2's heartbeat at t, then
    // a late refusal of term 2 arrives, then a request of term 3.
    let mut node = Node::new(sticky_without_pre_vote(1), Instant::ZERO).unwrap();
    let t0 = node.poll_timeout();
    node.handle_timeout(t0);
    outbox(&mut node, t0);
    assert_eq!((node.role(), node.term()), (Role::Candidate, Term(1)));
    let t = t0 + ms(5);
    node.handle_message(t, env(2, 1, heartbeat(1))).unwrap();
    outbox(&mut node, t);
    assert_eq!(node.leader(), Some(NodeId(2)));
    let refusal = VoteResponse { term: Term(2), granted: false, kind: VoteKind::Vote };
    node.handle_message(t + ms(1), env(3, 1, Message::VoteResponse(refusal))).unwrap();
    assert_eq!((node.term(), node.leader()), (Term(2), None), "the late term is adopted");
    let r = answer(&mut node, t + ms(2), request(3, false));
    assert!(!r.granted, "3 ms after a leader's heartbeat no vote may be granted");
    assert_eq!(node.term(), Term(2), "and the term is not raised by the refused request");
    let r = answer(&mut node, t + ms(150), request(3, false));
    assert!(r.granted, "one minimum timeout after the heartbeat the vote is granted");
}

/// An input applied to node 1 at the given instant.
type Input = fn(&mut Node, Instant);

/// Every input that raises a follower's term or clears its leader without a new leader's
/// contact, applied at `now` to node 1, which follows node 2 in term 1.
fn term_raising_inputs() -> Vec<(&'static str, Input)> {
    vec![
        ("late vote refusal of a higher term", |n, now| {
            let m = VoteResponse { term: Term(2), granted: false, kind: VoteKind::Vote };
            n.handle_message(now, env(3, 1, Message::VoteResponse(m))).unwrap();
        }),
        ("late pre-vote refusal of a higher term", |n, now| {
            let m = VoteResponse { term: Term(2), granted: false, kind: VoteKind::PreVote };
            n.handle_message(now, env(3, 1, Message::VoteResponse(m))).unwrap();
        }),
        ("late heartbeat response of a higher term", |n, now| {
            let m = HeartbeatResponse { term: Term(2), success: false, round: 7 };
            n.handle_message(now, env(3, 1, Message::HeartbeatResponse(m))).unwrap();
        }),
        ("host-reported acknowledgement of a higher term", |n, now| {
            let outcome = n.append_acknowledged(now, NodeId(3), Term(2), now);
            assert_eq!(outcome, Ok(Contact::SteppedDown { term: Term(2) }));
        }),
        ("a higher-term vote request refused by stickiness", |n, now| {
            n.handle_message(now, env(3, 1, request(2, false))).unwrap();
        }),
        ("a pre-vote request", |n, now| {
            n.handle_message(now, env(3, 1, request(2, true))).unwrap();
        }),
        ("a stale leader's heartbeat", |n, now| {
            n.handle_message(now, env(3, 1, heartbeat(0))).unwrap();
        }),
        ("time going backwards", |n, now| {
            n.handle_timeout(now - ms(100));
        }),
    ]
}

#[test]
fn no_vote_or_pre_vote_within_a_minimum_timeout_of_leader_contact_on_any_path_thesis_4_2_3() {
    for pre_vote in [false, true] {
        for (name, input) in term_raising_inputs() {
            let c = Config { pre_vote, ..sticky_without_pre_vote(1) };
            let mut node = Node::new(c, Instant::ZERO).unwrap();
            let t = at(1000);
            node.handle_message(t, env(2, 1, heartbeat(1))).unwrap();
            outbox(&mut node, t);
            input(&mut node, t + ms(1));
            outbox(&mut node, t + ms(1));
            let term = node.term().0;
            for (asked, pre) in [(term + 1, false), (term, false), (term + 1, true)] {
                let r = answer(&mut node, t + ms(2), request(asked, pre));
                assert!(
                    !r.granted,
                    "pre_vote={pre_vote}, after {name}: {} of term {asked} granted 2 ms after \
                     a heartbeat",
                    if pre { "pre-vote" } else { "vote" }
                );
            }
            assert_eq!(node.hard_state().voted_for, None, "after {name}");
            let just_before = t + ms(150) - us(1);
            assert!(!answer(&mut node, just_before, request(term + 1, false)).granted, "{name}");
            let r = answer(&mut node, t + ms(150), request(term + 1, false));
            assert!(r.granted, "pre_vote={pre_vote}, after {name}: the window has passed");
        }
    }
}

#[test]
fn host_reported_leader_contact_opens_the_same_window_thesis_4_2_3() {
    let mut node = Node::new(sticky_without_pre_vote(1), Instant::ZERO).unwrap();
    assert_eq!(node.leader_contact(at(1000), NodeId(2), Term(1), 0), Ok(Contact::Counted));
    outbox(&mut node, at(1000));
    node.handle_message(
        at(1001),
        env(
            3,
            1,
            Message::HeartbeatResponse(HeartbeatResponse {
                term: Term(4),
                success: false,
                round: 1,
            }),
        ),
    )
    .unwrap();
    assert!(!answer(&mut node, at(1002), request(5, false)).granted);
    assert!(answer(&mut node, at(1150), request(5, false)).granted);
}

#[test]
fn a_restarted_node_withholds_votes_of_every_term_for_a_minimum_timeout_thesis_6_4_1() {
    let hs = HardState { term: Term(4), voted_for: None };
    let mut node =
        Node::restart(sticky_without_pre_vote(1), hs, LogPosition::default(), at(1000)).unwrap();
    assert!(!answer(&mut node, at(1001), request(4, false)).granted, "its own term too");
    assert!(!answer(&mut node, at(1001), request(5, true)).granted, "and pre-votes");
    assert!(answer(&mut node, at(1150), request(4, false)).granted);
}

#[test]
fn a_restarted_node_grants_again_the_vote_it_made_durable_raft_figure_2_and_5_5() {
    // It voted for n3 in term 4, made that durable and crashed; n3, which never got the
    // answer, retransmits. Figure 2 grants when votedFor is null *or candidateId*, and §5.5
    // relies on RPCs being idempotent across restarts: the restart window must not refuse it.
    // Re-granting changes nothing: the vote was cast, durably, before the window began.
    let hs = HardState { term: Term(4), voted_for: Some(NodeId(3)) };
    let mut node =
        Node::restart(sticky_without_pre_vote(1), hs, LogPosition::default(), at(1000)).unwrap();
    assert!(answer(&mut node, at(1001), request(4, false)).granted, "the same candidate again");
    assert_eq!(node.hard_state(), hs);
    // The window still binds every new vote: another candidate's, or a later term's.
    node.handle_message(at(1002), env(2, 1, request(4, false))).unwrap();
    let out = outbox(&mut node, at(1002));
    assert!(matches!(out[..], [Envelope { message: Message::VoteResponse(r), .. }] if !r.granted));
    assert!(!answer(&mut node, at(1003), request(5, false)).granted, "a later term");
    assert_eq!(node.hard_state(), hs);
}

/// Three nodes driven by hand: messages wait in `in_flight` until the test delivers or drops
/// them, hard state is persisted at once, every clock is perfect.
struct Script {
    nodes: Vec<Node>,
    in_flight: VecDeque<Envelope>,
}

impl Script {
    fn new() -> Self {
        let nodes = (1..=3)
            .map(|id| Node::new(sticky_without_pre_vote(id), Instant::ZERO).unwrap())
            .collect();
        Script { nodes, in_flight: VecDeque::new() }
    }

    fn node(&mut self, id: u64) -> &mut Node {
        &mut self.nodes[(id - 1) as usize]
    }

    fn flush(&mut self, id: u64, now: Instant) {
        let out = outbox(self.node(id), now);
        self.in_flight.extend(out);
    }

    /// Fires node `id`'s timer at its deadline, or at `now` if that is later; returns when.
    fn time_out(&mut self, id: u64, now: Instant) -> Instant {
        let due = self.node(id).poll_timeout().max(now);
        self.node(id).handle_timeout(due);
        self.flush(id, due);
        due
    }

    /// Delivers at `now` every message in flight that `pick` selects, and drops the ones that
    /// `pick` rejects and `keep` does not; what `keep` holds stays in flight.
    fn step(
        &mut self,
        now: Instant,
        pick: impl Fn(&Envelope) -> bool,
        keep: impl Fn(&Envelope) -> bool,
    ) {
        let all: Vec<Envelope> = self.in_flight.drain(..).collect();
        for e in all {
            if pick(&e) {
                self.node(e.to.0).handle_message(now, e).unwrap();
                self.flush(e.to.0, now);
            } else if keep(&e) {
                self.in_flight.push_back(e);
            }
        }
    }
}

fn is(from: u64, to: u64) -> impl Fn(&Envelope) -> bool {
    move |e| e.from == NodeId(from) && e.to == NodeId(to)
}

#[test]
fn no_second_leader_while_the_first_holds_its_lease_end_to_end_thesis_6_4_1() {
    let mut s = Script::new();
    // Node 1 campaigns in term 1; its request to node 3 is delayed, the one to node 2 is lost.
    let t1 = s.time_out(1, Instant::ZERO);
    s.step(t1, |_| false, is(1, 3));
    // Node 3, cut off, campaigns alone in terms 1, 2 and 3.
    let mut t3 = t1;
    for _ in 0..3 {
        t3 = s.time_out(3, t3);
        s.step(t3, |_| false, |e| e.from != NodeId(3));
    }
    assert_eq!(s.node(3).term(), Term(3));
    // Node 2 campaigns and wins term 2 with node 1's vote; node 3 hears nothing from it.
    let mut t2 = t3;
    while s.node(2).term() < Term(2) {
        t2 = s.time_out(2, t2);
        s.step(t2, |e| e.to != NodeId(3), is(1, 3));
    }
    s.step(t2, |e| e.to != NodeId(3), is(1, 3));
    assert_eq!(s.node(2).role(), Role::Leader);
    // Its first round reaches node 1 and is acknowledged: the lease runs from the send time.
    s.step(t2 + ms(1), |e| e.to != NodeId(3), is(1, 3));
    s.step(t2 + ms(2), |e| e.to != NodeId(3), is(1, 3));
    let lease_end = t2 + s.node(2).lease_remaining(t2).expect("node 2 holds a lease");
    // The delayed request reaches node 3, whose refusal (term 3) reaches node 1 late.
    s.step(t2 + ms(3), is(1, 3), |_| false);
    s.step(t2 + ms(4), is(3, 1), |_| false);
    assert_eq!((s.node(1).term(), s.node(1).leader()), (Term(3), None));
    // Node 3 campaigns as soon as its timer allows, and asks node 1, while node 2 (which
    // hears nothing more) holds its lease.
    let mut now = t2 + ms(5);
    while now < lease_end + ms(400) {
        if s.node(3).poll_timeout() <= now {
            s.node(3).handle_timeout(now);
            s.flush(3, now);
        }
        s.step(now, |e| e.to != NodeId(2), |_| false);
        let second_leader = s.node(3).role() == Role::Leader;
        assert!(
            !(second_leader && s.node(2).lease_valid(now)),
            "at {now}: node 3 leads {} while node 2's lease (until {lease_end}) is valid",
            s.node(3).term()
        );
        now = now + ms(1);
    }
    assert_eq!(s.node(3).role(), Role::Leader, "once the lease is over, node 3 may win");
}
