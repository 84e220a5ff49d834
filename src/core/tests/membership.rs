//! Membership (thesis §4.1, §4.2): single-server changes, learners that receive heartbeats and
//! count in no majority, and a removed leader that leads until the change commits.

use super::harness::*;
use crate::core::{
    Envelope, Event, Membership, MembershipError, Message, NodeId, Role, TransferError,
};

fn asks_votes(e: &Envelope) -> bool {
    matches!(e.message, Message::VoteRequest(_))
}

fn ids(v: &[u64]) -> Vec<NodeId> {
    v.iter().copied().map(NodeId).collect()
}

/// Voters `voters` and learners `learners`, every node configured with both.
fn cluster_of(voters: &[u64], learners: &[u64]) -> Cluster {
    let n = voters.len() as u64 + learners.len() as u64;
    let (v, l) = (ids(voters), ids(learners));
    Cluster::new(n, |c| {
        c.members = v.clone();
        c.learners = l.clone();
    })
}

/// A cluster of `voters` and `learners` with an elected leader that has led for a while.
fn settled(voters: &[u64], learners: &[u64]) -> (Cluster, NodeId) {
    let mut cluster = cluster_of(voters, learners);
    let leader = cluster.elect(ms(3000)).expect("a leader");
    cluster.run_for(ms(300));
    (cluster, leader)
}

/// A settled three-voter cluster whose leader every node has been told is removed, with the
/// leader's term and the remaining voters.
fn leader_removed() -> (Cluster, NodeId, crate::core::Term, Vec<u64>) {
    let (mut cluster, leader) = settled(&[1, 2, 3], &[]);
    let term = cluster.node(leader.0).term();
    let rest: Vec<u64> = (1..=3).filter(|&v| v != leader.0).collect();
    change_everywhere(&mut cluster, &rest, &[]);
    (cluster, leader, term, rest)
}

/// Tells every live node that the latest configuration is `voters` and `learners`.
fn change_everywhere(cluster: &mut Cluster, voters: &[u64], learners: &[u64]) {
    let ids: Vec<NodeId> = cluster.nodes.keys().copied().collect();
    let live: Vec<NodeId> = ids.into_iter().filter(|id| !cluster.down.contains(id)).collect();
    for id in live {
        let m = Membership::new(self::ids(voters), self::ids(learners));
        cluster.command(id.0, |n, now| n.set_membership(now, m)).expect("a valid change");
    }
}

#[test]
fn a_learner_receives_heartbeats_but_never_campaigns_thesis_4_2_1() {
    let (mut cluster, leader) = settled(&[1, 2, 3], &[4]);
    let status = cluster.node(leader.0).status(cluster.now);
    let learner = status.peers.iter().find(|p| p.id == NodeId(4)).expect("the leader watches it");
    assert!(!learner.voter);
    assert!(learner.last_ack_age.is_some_and(|a| a < ms(60)), "it answers heartbeats");
    assert_eq!(cluster.node(4).leader(), Some(leader));
    assert!(!cluster.node(4).status(cluster.now).voter);
    // Every voter fails: the learner notices, yet neither asks for votes nor raises its term.
    let term = cluster.node(4).term();
    for v in 1..=3 {
        cluster.crash(v);
    }
    cluster.run_for(ms(2000));
    assert!(cluster.events_of(4).any(|e| matches!(e, Event::ElectionTimeout { .. })));
    assert_eq!(cluster.count_sent(|e| e.from == NodeId(4) && asks_votes(e)), 0);
    assert_eq!((cluster.node(4).role(), cluster.node(4).term()), (Role::Follower, term));
}

#[test]
fn learners_count_in_no_majority_for_check_quorum_or_the_lease_thesis_6_2() {
    // Three voters and two learners: the leader and two learners are three of five nodes,
    // but only one of three voters.
    let (mut cluster, leader) = settled(&[1, 2, 3], &[4, 5]);
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
    for v in (1..=3).filter(|&v| v != leader.0) {
        cluster.crash(v);
    }
    cluster.run_for(ms(200));
    assert!(!cluster.node(leader.0).lease_valid(cluster.now), "learners hold no lease");
    cluster.run_for(ms(200));
    let term = cluster.node(leader.0).term();
    assert!(cluster.events_of(leader.0).any(|e| *e == Event::QuorumLost { term }));
    assert_ne!(cluster.node(leader.0).role(), Role::Leader);
}

#[test]
fn a_promoted_learner_counts_towards_majorities_and_may_be_elected_thesis_4_1() {
    let (mut cluster, leader) = settled(&[1, 2], &[3]);
    change_everywhere(&mut cluster, &[1, 2, 3], &[]);
    assert!(cluster.node(3).is_voter());
    let status = cluster.node(leader.0).status(cluster.now);
    assert!(status.peers.iter().all(|p| p.voter));
    // The leader and the new voter are a majority of three without the old follower.
    let other = [1, 2].into_iter().find(|&v| v != leader.0).unwrap();
    cluster.crash(other);
    cluster.run_for(ms(600));
    assert_eq!(cluster.leader(), Some(leader), "still a majority with the promoted voter");
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
    // And the promoted voter can now be elected.
    cluster.crash(leader.0);
    cluster.restart(other);
    let elected = cluster.elect(ms(3000));
    assert!(elected == Some(NodeId(3)) || elected == Some(NodeId(other)), "{elected:?}");
}

#[test]
fn a_change_of_more_than_one_voter_is_refused_and_changes_nothing_thesis_4_1() {
    let (mut cluster, leader) = settled(&[1, 2, 3], &[4]);
    let before = cluster.node(leader.0).status(cluster.now);
    let swap = Membership::new(ids(&[1, 2, 4]), []);
    let r = cluster.command(leader.0, |n, now| n.set_membership(now, swap));
    assert!(matches!(r, Err(MembershipError::MoreThanOneVoterChanged { .. })), "{r:?}");
    let dup = Membership::new(ids(&[1, 2, 3]), ids(&[3]));
    let r = cluster.command(leader.0, |n, now| n.set_membership(now, dup));
    assert_eq!(r, Err(MembershipError::VoterAndLearner(NodeId(3))));
    assert_eq!(cluster.node(leader.0).status(cluster.now), before);
    assert_eq!(cluster.node(leader.0).config().members, ids(&[1, 2, 3]));
}

#[test]
fn a_removed_leader_leads_without_counting_itself_until_the_change_commits_thesis_4_2_2() {
    let (mut cluster, leader, term, rest) = leader_removed();
    // It still leads, and its followers still follow it: the change is not yet committed.
    cluster.run_for(ms(400));
    assert_eq!(cluster.leader(), Some(leader));
    assert_eq!(cluster.node(leader.0).term(), term, "no election meanwhile");
    assert!(rest.iter().all(|&f| cluster.node(f).leader() == Some(leader)));
    // Without counting itself it needs both remaining voters: one silent one ends the lease.
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
    cluster.crash(rest[0]);
    cluster.run_for(ms(200));
    assert!(!cluster.node(leader.0).lease_valid(cluster.now), "one of two voters is no majority");
    cluster.restart(rest[0]);
    cluster.run_for(ms(100));
    // Committed: it steps down, and never campaigns again; the two voters elect a leader.
    cluster.command(leader.0, |n, now| n.membership_committed(now));
    assert_eq!(cluster.node(leader.0).role(), Role::Follower);
    let sent = cluster.count_sent(|e| e.from == leader && asks_votes(e));
    cluster.run_for(ms(3000));
    let new = cluster.leader().expect("the remaining voters elect a leader");
    assert!(rest.contains(&new.0), "{new}");
    assert_eq!(cluster.count_sent(|e| e.from == leader && asks_votes(e)), sent);
}

#[test]
fn stepping_down_on_removal_ends_the_lease_at_once_thesis_6_4_1() {
    let (mut cluster, leader, term, _) = leader_removed();
    cluster.run_for(ms(100));
    assert!(cluster.node(leader.0).lease_valid(cluster.now));
    cluster.command(leader.0, |n, now| n.membership_committed(now));
    assert!(!cluster.node(leader.0).lease_valid(cluster.now));
    assert!(cluster.events_of(leader.0).any(|e| *e == Event::LeaseExpired { term }));
}

#[test]
fn a_node_removed_while_cut_off_cannot_disturb_the_cluster_thesis_4_2_3() {
    let (mut cluster, leader) = settled(&[1, 2, 3, 4], &[]);
    let gone = (1..=4).find(|&v| v != leader.0).unwrap();
    cluster.isolate(gone);
    // Everyone but the removed node learns the change: it never does.
    let rest: Vec<u64> = (1..=4).filter(|&v| v != gone).collect();
    for &id in &rest {
        let m = Membership::new(ids(&rest), []);
        cluster.command(id, |n, now| n.set_membership(now, m)).unwrap();
    }
    cluster.run_for(ms(1000));
    cluster.heal();
    let term = cluster.node(leader.0).term();
    cluster.run_for(ms(2000));
    // It campaigns, but the members drop its messages: their term and leader stay.
    assert!(cluster.count_sent(|e| e.from == NodeId(gone) && asks_votes(e)) > 0);
    assert_eq!(cluster.leader(), Some(leader));
    assert_eq!(cluster.node(leader.0).term(), term);
    assert!(cluster.node(leader.0).status(cluster.now).counters.from_strangers > 0);
}

#[test]
fn a_transfer_to_a_learner_is_refused_thesis_3_10() {
    let mut cluster = cluster_of(&[1, 2, 3], &[4]);
    let leader = cluster.elect(ms(3000)).expect("a leader");
    let r = cluster.command(leader.0, |n, now| n.transfer_leadership(now, NodeId(4)));
    assert_eq!(r, Err(TransferError::NotAVoter(NodeId(4))));
    // A TimeoutNow reaching a learner does not make it campaign either.
    let term = cluster.node(4).term();
    let now = cluster.now;
    let timeout_now = Message::TimeoutNow(crate::core::TimeoutNow { term });
    cluster.node_mut(4).handle_message(now, env(leader.0, 4, timeout_now)).unwrap();
    assert_eq!((cluster.node(4).role(), cluster.node(4).term()), (Role::Follower, term));
}

#[test]
fn a_transfer_whose_target_stops_voting_is_aborted_thesis_3_10() {
    let (mut cluster, leader) = settled(&[1, 2, 3], &[]);
    let term = cluster.node(leader.0).term();
    let target = (1..=3).find(|&v| v != leader.0).unwrap();
    cluster.command(leader.0, |n, now| n.transfer_leadership(now, NodeId(target))).unwrap();
    let voters: Vec<u64> = (1..=3).filter(|&v| v != target).collect();
    change_everywhere(&mut cluster, &voters, &[target]);
    let aborted = Event::TransferAborted { term, target: NodeId(target) };
    assert!(cluster.events_of(leader.0).any(|e| *e == aborted));
    assert_eq!(cluster.node(leader.0).status(cluster.now).transfer_target, None);
}

#[test]
fn a_follower_takes_a_membership_that_skips_changes_but_a_leader_appends_one_at_a_time_thesis_4_1()
{
    let (mut cluster, leader) = settled(&[1, 2, 3, 4, 5], &[]);
    let follower = (1..=5).find(|&v| v != leader.0).unwrap();
    let rest: Vec<u64> = (1..=5).filter(|&v| v != leader.0).take(3).collect();
    // A snapshot carrying a membership two changes on: a follower's log may skip them.
    let skipped = Membership::new(ids(&[leader.0]).into_iter().chain(ids(&rest[..2])), []);
    let r = cluster.command(follower, |n, now| n.set_membership(now, skipped.clone()));
    assert_eq!(r, Ok(()));
    // The leader appending the same jump is refused: two voters removed at once.
    let r = cluster.command(leader.0, |n, now| n.set_membership(now, skipped));
    assert_eq!(r, Err(MembershipError::MoreThanOneVoterChanged { added: 0, removed: 2 }));
}
