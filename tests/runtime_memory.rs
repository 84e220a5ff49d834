//! The tokio driver over the in-memory transport, on tokio's paused clock: elections,
//! failover, check quorum, restarts from durable state, and a disk that fails.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use raft_heartbeat::core::{Config, HardState, LogPosition, NodeId, Role, Status, Term, VoteKind};
use raft_heartbeat::runtime::{
    Driver, FileStore, Handle, HardStateStore, MemoryNetwork, MemoryStore, RuntimeError,
    StorageError, Transport,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Running {
    handle: Handle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), RuntimeError>>,
}

fn config(id: u64, n: u64) -> Config {
    Config::new(NodeId(id), (1..=n).map(NodeId)).with(|c| c.seed = 3)
}

async fn start<S: HardStateStore + 'static>(
    net: &MemoryNetwork,
    config: Config,
    store: S,
) -> Running {
    let id = config.id;
    let (driver, handle) =
        Driver::new(config, store, net.join(id), LogPosition::default()).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(driver.run(async {
        let _ = stopped.await;
    }));
    Running { handle, stop, task }
}

async fn cluster(net: &MemoryNetwork, n: u64) -> BTreeMap<u64, Running> {
    let mut nodes = BTreeMap::new();
    for id in 1..=n {
        nodes.insert(id, start(net, config(id, n), MemoryStore::default()).await);
    }
    nodes
}

fn statuses(nodes: &BTreeMap<u64, Running>) -> Vec<Status> {
    nodes.values().map(|r| r.handle.status.borrow().clone()).collect()
}

/// Lets virtual time pass.
async fn wait(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn leaders(nodes: &BTreeMap<u64, Running>) -> Vec<(NodeId, Term)> {
    statuses(nodes).into_iter().filter(|s| s.role == Role::Leader).map(|s| (s.id, s.term)).collect()
}

async fn stop(r: Running) {
    let _ = r.stop.send(());
    r.task.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn three_and_five_nodes_elect_exactly_one_leader_that_all_follow() {
    for n in [3, 5] {
        let net = MemoryNetwork::new();
        let nodes = cluster(&net, n).await;
        wait(2000).await;
        let leaders = leaders(&nodes);
        assert_eq!(leaders.len(), 1, "{n} nodes: {leaders:?}");
        let (leader, term) = leaders[0];
        for s in statuses(&nodes) {
            assert_eq!((s.leader, s.term), (Some(leader), term), "{n} nodes: {s:?}");
        }
        for r in nodes.into_values() {
            stop(r).await;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_killed_leader_is_replaced_within_the_detection_bound() {
    let net = MemoryNetwork::new();
    let mut nodes = cluster(&net, 5).await;
    wait(1000).await;
    let (old, term) = leaders(&nodes)[0];
    stop(nodes.remove(&old.0).unwrap()).await;
    let killed_at = tokio::time::Instant::now();
    let mut status = nodes.values().next().unwrap().handle.status.clone();
    status.wait_for(|s| s.leader.is_some_and(|l| l != old) && s.term > term).await.unwrap();
    let took = killed_at.elapsed();
    // A follower notices within the longest timeout (300 ms); with pre-vote one round follows.
    assert!(took <= Duration::from_millis(600), "failover took {took:?}");
    assert!(took >= Duration::from_millis(150), "no one times out before the minimum: {took:?}");
    wait(500).await;
    assert_eq!(leaders(&nodes).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_partitioned_leader_steps_down_while_the_majority_elects() {
    let net = MemoryNetwork::new();
    let nodes = cluster(&net, 5).await;
    wait(1000).await;
    let (old, term) = leaders(&nodes)[0];
    net.isolate(old);
    wait(1000).await;
    let old_status = nodes[&old.0].handle.status.borrow().clone();
    assert_ne!(old_status.role, Role::Leader, "check quorum stepped it down: {old_status:?}");
    assert_eq!(old_status.term, term, "alone, its pre-votes fail: no term was raised");
    let now_leading = leaders(&nodes);
    assert_eq!(now_leading.len(), 1);
    assert!(now_leading[0].0 != old && now_leading[0].1 > term);
    net.repair_all();
    wait(1000).await;
    let after = leaders(&nodes);
    assert_eq!(after, now_leading, "the healed node rejoins without disrupting (pre-vote)");
}

#[tokio::test(start_paused = true)]
async fn a_restarted_node_keeps_its_term_and_vote() {
    let dir = std::env::temp_dir().join(format!("raft-heartbeat-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let net = MemoryNetwork::new();
    let alone = start(&net, config(1, 1), FileStore::open(&dir).unwrap()).await;
    let mut status = alone.handle.status.clone();
    status.wait_for(|s| s.role == Role::Leader).await.unwrap();
    let term = status.borrow().term;
    stop(alone).await;
    let mut store = FileStore::open(&dir).unwrap();
    assert_eq!(store.load().await.unwrap(), Some(HardState { term, voted_for: Some(NodeId(1)) }));
    let again = start(&net, config(1, 1), store).await;
    assert_eq!(again.handle.status.borrow().term, term, "the term survived the restart");
    let mut status = again.handle.status.clone();
    status.wait_for(|s| s.role == Role::Leader).await.unwrap();
    assert_eq!(status.borrow().term, Term(term.0 + 1));
    stop(again).await;
}

/// A disk that fails every write.
struct BrokenDisk;

#[async_trait]
impl HardStateStore for BrokenDisk {
    async fn load(&mut self) -> Result<Option<HardState>, StorageError> {
        Ok(None)
    }
    async fn save(&mut self, _: HardState) -> Result<(), StorageError> {
        Err(StorageError::Io {
            path: "broken".into(),
            error: std::io::Error::other("disk on fire"),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_node_whose_vote_cannot_be_made_durable_stops_without_sending_it() {
    use raft_heartbeat::core::{Envelope, Message, VoteResponse};
    let net = MemoryNetwork::new();
    let mut spy = net.join(NodeId(2));
    let (driver, _handle) =
        Driver::new(config(1, 2), BrokenDisk, net.join(NodeId(1)), LogPosition::default())
            .await
            .unwrap();
    let task = tokio::spawn(driver.run(std::future::pending()));
    // Grant its pre-vote (which needs no disk), so it tries to become a candidate (which does).
    let pre = spy.recv().await.unwrap();
    let Message::VoteRequest(request) = pre.message else { panic!("{pre:?}") };
    assert_eq!(request.kind, VoteKind::PreVote);
    let grant = VoteResponse { term: request.term, granted: true, kind: VoteKind::PreVote };
    spy.send(Envelope { from: NodeId(2), to: NodeId(1), message: Message::VoteResponse(grant) })
        .await;
    let outcome = task.await.unwrap();
    assert!(matches!(outcome, Err(RuntimeError::Storage(_))), "{outcome:?}");
    let late = tokio::time::timeout(Duration::from_millis(10), spy.recv()).await;
    assert!(matches!(late, Err(_) | Ok(None)), "the vote request never left: {late:?}");
}

#[tokio::test(start_paused = true)]
async fn injected_faults_delay_and_hold_a_real_transport() {
    use raft_heartbeat::runtime::FaultyTransport;
    let net = MemoryNetwork::new();
    let mut handles = BTreeMap::new();
    let mut faults = BTreeMap::new();
    let mut stops = Vec::new();
    for id in 1..=3 {
        let (transport, f) = FaultyTransport::new(net.join(NodeId(id)));
        let (driver, handle) =
            Driver::new(config(id, 3), MemoryStore::default(), transport, LogPosition::default())
                .await
                .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(driver.run(async {
            let _ = stopped.await;
        }));
        handles.insert(id, handle);
        faults.insert(id, f);
        stops.push(stop);
    }
    wait(1000).await;
    let leader_of = |h: &BTreeMap<u64, Handle>| {
        h.values()
            .map(|x| x.status.borrow().clone())
            .filter(|s| s.role == Role::Leader)
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    let leader = leader_of(&handles)[0];
    // A 20 ms delay on every link is well under the timeouts: nothing changes.
    for f in faults.values() {
        f.set_delay(Duration::from_millis(20));
    }
    wait(1000).await;
    assert_eq!(leader_of(&handles), vec![leader]);
    // Holding the leader's traffic for longer than the longest timeout deposes it.
    faults[&leader.0].hold_all();
    wait(1000).await;
    let now = leader_of(&handles);
    assert!(now.iter().any(|l| *l != leader), "{now:?}");
    for f in faults.values() {
        f.clear();
    }
    wait(1000).await;
    assert_eq!(leader_of(&handles).len(), 1);
    for s in stops {
        let _ = s.send(());
    }
}

#[tokio::test(start_paused = true)]
async fn faults_partition_and_hold_one_link_at_a_time_in_the_simulators_vocabulary() {
    use raft_heartbeat::core::{Envelope, Message};
    use raft_heartbeat::link::Direction;
    use raft_heartbeat::runtime::{FaultyTransport, MemoryTransport};

    async fn soon(t: &mut MemoryTransport) -> Option<Message> {
        let next = tokio::time::timeout(Duration::from_millis(50), t.recv());
        next.await.ok().flatten().map(|e| e.message)
    }
    let net = MemoryNetwork::new();
    let (mut a, faults) = FaultyTransport::new(net.join(NodeId(1)));
    let mut b = net.join(NodeId(2));
    let mut c = net.join(NodeId(3));
    let hb = |to: u64, round: u64| Envelope {
        from: NodeId(1),
        to: NodeId(to),
        message: Message::Heartbeat(raft_heartbeat::core::Heartbeat {
            term: Term(1),
            leader_last_log: Default::default(),
            leader_commit: 0,
            round,
        }),
    };
    // A hold on the link to 2 keeps its messages and leaves the link to 3 alone.
    faults.hold(NodeId(2));
    a.send(hb(2, 1)).await;
    a.send(hb(3, 2)).await;
    assert_eq!(soon(&mut c).await, Some(hb(3, 2).message));
    assert_eq!(soon(&mut b).await, None, "held, not delivered");
    faults.release(NodeId(2));
    a.send(hb(3, 3)).await;
    assert_eq!(soon(&mut b).await, Some(hb(2, 1).message), "released, not lost");
    assert_eq!(soon(&mut c).await, Some(hb(3, 3).message));
    // A one-way partition drops what is sent on it, and repair ends it.
    faults.partition_one_way(Direction::Outbound, NodeId(3));
    a.send(hb(3, 4)).await;
    assert_eq!(soon(&mut c).await, None, "dropped");
    faults.repair(NodeId(3));
    a.send(hb(3, 5)).await;
    assert_eq!(soon(&mut c).await, Some(hb(3, 5).message));
}

#[tokio::test(start_paused = true)]
async fn injected_loss_drops_inbound_messages_at_its_rate_and_replays_from_its_seed() {
    use raft_heartbeat::core::{Envelope, Message};
    use raft_heartbeat::runtime::{FaultyTransport, MemoryTransport};

    async fn received(seed: u64) -> Vec<u64> {
        let net = MemoryNetwork::new();
        let (mut a, faults) = FaultyTransport::new(net.join(NodeId(1)));
        let mut b: MemoryTransport = net.join(NodeId(2));
        faults.set_loss(0.3, seed);
        let mut got = Vec::new();
        for round in 0..2000 {
            b.send(Envelope {
                from: NodeId(2),
                to: NodeId(1),
                message: Message::Heartbeat(raft_heartbeat::core::Heartbeat {
                    term: Term(1),
                    leader_last_log: Default::default(),
                    leader_commit: 0,
                    round,
                }),
            })
            .await;
            let next = tokio::time::timeout(Duration::from_millis(10), a.recv()).await;
            if let Ok(Some(Envelope { message: Message::Heartbeat(hb), .. })) = next {
                got.push(hb.round);
            }
        }
        got
    }
    let first = received(7).await;
    // 2000 draws at 0.3: 1400 kept on average, standard deviation about 20.
    assert!((1300..=1500).contains(&first.len()), "{} of 2000 kept", first.len());
    assert!(first.windows(2).all(|w| w[0] < w[1]), "order kept");
    assert_eq!(received(7).await, first, "same seed, same losses");
    assert_ne!(received(8).await, first, "another seed, other losses");
}

#[tokio::test(start_paused = true)]
async fn a_running_leader_serves_a_read_index_and_hands_over_thesis_6_4_and_3_10() {
    use raft_heartbeat::runtime::{HostInput, ReadError};
    let net = MemoryNetwork::new();
    let nodes = cluster(&net, 3).await;
    wait(2000).await;
    let (leader, term) = leaders(&nodes)[0];
    let follower = (1..=3).find(|&id| id != leader.0).unwrap();
    // Read index: confirmed by a majority's answer to a round sent after the call.
    let read =
        tokio::time::timeout(Duration::from_millis(100), nodes[&leader.0].handle.read_index());
    assert_eq!(read.await.expect("within a round trip"), Ok(()));
    assert_eq!(nodes[&follower].handle.read_index().await, Err(ReadError::NotLeader));
    // Leadership transfer through the host's inputs.
    let target = NodeId(follower);
    let h = &nodes[&leader.0].handle;
    h.input(HostInput::TransferLeadership { target }).await.unwrap();
    h.input(HostInput::TransferCaughtUp).await.unwrap();
    wait(50).await;
    assert_eq!(leaders(&nodes), vec![(target, Term(term.0 + 1))], "handed over within 50 ms");
    for (_, r) in nodes {
        stop(r).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_running_cluster_promotes_a_learner_and_its_removed_leader_steps_down_thesis_4_1() {
    use raft_heartbeat::core::{Membership, MembershipError};
    use raft_heartbeat::runtime::{HostInput, MembershipChangeError};
    let net = MemoryNetwork::new();
    let mut nodes = BTreeMap::new();
    for id in 1..=4 {
        let c = config(id, 4).with(|c| {
            c.members = (1..=3).map(NodeId).collect();
            c.learners = vec![NodeId(4)];
        });
        nodes.insert(id, start(&net, c, MemoryStore::default()).await);
    }
    wait(2000).await;
    let (leader, _) = leaders(&nodes)[0];
    assert_ne!(leader, NodeId(4), "a learner never leads");
    assert!(!nodes[&4].handle.status.borrow().voter);
    let tell = |m: Membership| {
        let nodes = &nodes;
        async move {
            for r in nodes.values() {
                r.handle.set_membership(m.clone()).await.unwrap();
            }
        }
    };
    // A leader appending two voter changes at once: refused, with the rule named, and nothing
    // changed. (A follower would take it: its log may skip changes.)
    let swap = Membership::new([1, 2, 3, 4].map(NodeId).into_iter().filter(|&v| v != leader), []);
    let refused = nodes[&leader.0].handle.set_membership(swap).await;
    assert!(
        matches!(
            refused,
            Err(MembershipChangeError::Refused(MembershipError::MoreThanOneVoterChanged { .. }))
        ),
        "{refused:?}"
    );
    // Promote the learner, then remove the leader and commit its removal.
    tell(Membership::new((1..=4).map(NodeId), [])).await;
    wait(100).await;
    assert!(nodes[&4].handle.status.borrow().voter);
    tell(Membership::new((1..=4).map(NodeId).filter(|&v| v != leader), [])).await;
    wait(100).await;
    assert_eq!(leaders(&nodes)[0].0, leader, "it leads until the removal commits");
    nodes[&leader.0].handle.input(HostInput::MembershipCommitted).await.unwrap();
    wait(2000).await;
    let now_leading = leaders(&nodes);
    assert_eq!(now_leading.len(), 1, "{now_leading:?}");
    assert_ne!(now_leading[0].0, leader, "the removed leader stepped down");
    for (_, r) in nodes {
        stop(r).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_running_leader_reports_its_rounds_and_its_followers_gaps_as_metrics() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // The test's runtime is one thread, on which this recorder now receives every metric.
    let _guard = metrics::set_default_local_recorder(&recorder);
    let net = MemoryNetwork::new();
    let nodes = cluster(&net, 3).await;
    wait(2000).await;
    let (leader, term) = leaders(&nodes)[0];
    let node = leader.0.to_string();
    let mut sent = 0;
    let mut term_gauge = None;
    let mut peer_fractions = 0;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let of_leader = key.labels().any(|l| l.key() == "node" && l.value() == node);
        match (key.name(), value) {
            ("raft_heartbeat_heartbeats_sent_total", DebugValue::Counter(n)) if of_leader => {
                sent = n;
            }
            ("raft_heartbeat_term", DebugValue::Gauge(t)) if of_leader => term_gauge = Some(t),
            ("raft_heartbeat_peer_max_timeout_fraction", DebugValue::Gauge(f)) if of_leader => {
                assert!(f.0 > 0.0 && f.0 <= 0.5, "a healthy follower's gaps: {f:?}");
                peer_fractions += 1;
            }
            _ => {}
        }
    }
    // About 1.8 s of leading at one round per 50 ms, two followers a round.
    assert!(sent >= 60, "{sent} heartbeats");
    assert_eq!(term_gauge.map(|t| t.0), Some(term.0 as f64));
    assert_eq!(peer_fractions, 2, "one figure per follower");
    for (_, r) in nodes {
        stop(r).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_running_follower_reports_what_its_shadow_detector_would_have_done() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let net = MemoryNetwork::new();
    let phi = raft_heartbeat::core::LeaderDetectorKind::Phi { threshold: 1.0 };
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        let c = config(id, 3).with(|c| {
            c.shadow_detectors = vec![phi];
            c.election_timeout_floor = Some(Duration::from_millis(75));
        });
        nodes.insert(id, start(&net, c, MemoryStore::default()).await);
    }
    wait(2000).await;
    let (old, term) = leaders(&nodes)[0];
    stop(nodes.remove(&old.0).unwrap()).await;
    let mut status = nodes.values().next().unwrap().handle.status.clone();
    status.wait_for(|s| s.leader.is_some_and(|l| l != old) && s.term > term).await.unwrap();
    // Phi at 1 after steady 50 ms gaps fires from 75 ms on, before Raft's 150 ms minimum.
    let suspicions: u64 = statuses(&nodes).iter().map(|s| s.shadows[0].suspicions).sum();
    assert!(suspicions >= 1, "{:?}", statuses(&nodes));
    let counted: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            let key = key.key();
            key.name() == "raft_heartbeat_shadow_suspicions_total"
                && key.labels().any(|l| l.key() == "detector" && l.value() == "phi 1")
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(counted, suspicions, "one count per suspicion, labelled with the detector");
    for (_, r) in nodes {
        stop(r).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_cut_off_leaders_lease_ends_before_the_next_leader_takes_one_thesis_6_4_1() {
    use std::sync::{Arc, Mutex};
    let net = MemoryNetwork::new();
    let nodes = cluster(&net, 5).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    for (&id, r) in &nodes {
        let (mut rx, seen) = (r.handle.lease.clone(), seen.clone());
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let lease = *rx.borrow_and_update();
                seen.lock().unwrap().push((id, lease));
            }
        });
    }
    wait(1000).await;
    let (old, term) = leaders(&nodes)[0];
    let held = *nodes[&old.0].handle.lease.borrow();
    let held = held.expect("the leader holds a lease");
    assert_eq!(held.term, term);
    assert!(held.until > held.since, "{held:?}");
    for (&id, r) in &nodes {
        assert!(id == old.0 || r.handle.lease.borrow().is_none(), "a follower holds no lease");
    }
    net.isolate(old);
    wait(1000).await;
    let (new, _) = leaders(&nodes)[0];
    assert_ne!(new, old);
    assert_eq!(*nodes[&old.0].handle.lease.borrow(), None, "stepped down, it says so");
    let seen = seen.lock().unwrap();
    let of = |n: NodeId| seen.iter().filter(move |(id, _)| *id == n.0).filter_map(|(_, l)| *l);
    let old_end = of(old).map(|l| l.until).max().unwrap();
    let new_start = of(new).map(|l| l.since).min().expect("the new leader takes a lease");
    assert!(old_end < new_start, "the old lease ran out first: {old_end:?} vs {new_start:?}");
    assert!(of(old).count() > 10, "extended every round, and every extension published");
}
