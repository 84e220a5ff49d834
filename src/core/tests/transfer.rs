//! Leadership transfer (thesis §3.10): the leader hands over to a member the host has caught
//! up, which campaigns at once past pre-vote and stickiness; the lease ends with the hand-over.

use super::harness::*;
use crate::core::{Event, Message, NodeId, Role, TransferError, VoteKind, VoteRequest};

/// A leader of a three-node cluster (pre-vote, stickiness, check quorum and lease on), and
/// a follower to hand over to.
fn settled() -> (Cluster, NodeId, NodeId) {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect(ms(2000)).expect("a leader");
    cluster.run_for(ms(300));
    let target = cluster.nodes.keys().copied().find(|&n| n != leader).unwrap();
    (cluster, leader, target)
}

#[test]
fn a_leader_hands_over_to_a_caught_up_member_which_campaigns_at_once_thesis_3_10() {
    let (mut cluster, leader, target) = settled();
    let term = cluster.node(leader.0).term();
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
    cluster.command(leader.0, |n, now| n.transfer_leadership(now, target)).unwrap();
    assert!(cluster.events_of(leader.0).any(|e| *e == Event::TransferStarted { term, target }));
    assert_eq!(cluster.node(leader.0).status(cluster.now).transfer_target, Some(target));
    cluster.command(leader.0, |n, now| n.transfer_caught_up(now)).unwrap();
    // The lease ends with the hand-over: voters will grant the target despite stickiness. A
    // host that tracks its lease from events is told at once, before the target campaigns.
    assert!(!cluster.node(leader.0).lease_valid(cluster.now));
    assert!(cluster.events_of(leader.0).any(|e| *e == Event::LeaseExpired { term }));
    assert!(cluster.events_of(leader.0).any(|e| *e == Event::TransferSent { term, target }));
    let asked = cluster.now;
    cluster.run_until(asked + ms(100), |c| c.leader() == Some(target));
    assert_eq!(cluster.leader(), Some(target), "the target leads");
    // A few one-millisecond hops, not an election timeout (150 ms at least), and no pre-vote.
    assert!(cluster.now - asked < ms(20), "took {:?}", cluster.now - asked);
    let votes = |kind| {
        cluster.count_sent(
            |e| matches!(e.message, Message::VoteRequest(r) if r.kind == kind && e.from == target),
        )
    };
    assert_eq!((votes(VoteKind::PreVote), votes(VoteKind::Transfer)), (0, 2));
    assert_eq!(cluster.node(target.0).term(), term.next().unwrap());
    assert_eq!(cluster.node(leader.0).role(), Role::Follower);
    assert_eq!(cluster.leaders().len(), 1);
}

#[test]
fn a_transfer_that_does_not_complete_is_aborted_after_an_election_timeout_thesis_3_10() {
    let (mut cluster, leader, target) = settled();
    let term = cluster.node(leader.0).term();
    // The TimeoutNow never arrives.
    cluster.cut.insert((leader, target));
    cluster.command(leader.0, |n, now| n.transfer_leadership(now, target)).unwrap();
    cluster.command(leader.0, |n, now| n.transfer_caught_up(now)).unwrap();
    cluster.cut.clear();
    cluster.run_for(ms(310));
    assert!(cluster.events_of(leader.0).any(|e| *e == Event::TransferAborted { term, target }));
    assert_eq!(cluster.leader(), Some(leader), "it carries on leading");
    assert_eq!(cluster.node(leader.0).term(), term);
    assert!(
        !cluster.node(leader.0).lease_valid(cluster.now),
        "the lease it gave up stays given up"
    );
}

#[test]
fn a_vote_a_transfer_asks_for_is_granted_despite_stickiness_thesis_4_2_3() {
    let (mut cluster, leader, target) = settled();
    let voter = cluster.nodes.keys().copied().find(|&n| n != leader && n != target).unwrap();
    let current = cluster.node(voter.0).term();
    let term = current.next().unwrap();
    let ask = |kind| {
        let r = VoteRequest { term, last_log: Default::default(), kind };
        env(target.0, voter.0, Message::VoteRequest(r))
    };
    let now = cluster.now;
    cluster.node_mut(voter.0).handle_message(now, ask(VoteKind::Vote)).unwrap();
    assert_eq!(cluster.node(voter.0).term(), current, "a plain vote is refused by stickiness");
    cluster.node_mut(voter.0).handle_message(now, ask(VoteKind::Transfer)).unwrap();
    assert_eq!(cluster.node(voter.0).term(), term);
    assert_eq!(cluster.node(voter.0).hard_state().voted_for, Some(target));
}

#[test]
fn transfer_commands_refuse_what_cannot_be_done() {
    let (mut cluster, leader, target) = settled();
    let now = cluster.now;
    assert_eq!(
        cluster.node_mut(target.0).transfer_leadership(now, leader),
        Err(TransferError::NotLeader)
    );
    let n = cluster.node_mut(leader.0);
    assert_eq!(n.transfer_leadership(now, leader), Err(TransferError::ToItself(leader)));
    assert_eq!(n.transfer_leadership(now, NodeId(9)), Err(TransferError::NotAMember(NodeId(9))));
    assert_eq!(n.transfer_caught_up(now), Err(TransferError::NoTransfer));
    assert!(n.lease_valid(now), "a refused command changes nothing");
}
