//! The TCP transport on real sockets (127.0.0.1, ports chosen by the OS): a cluster elects and
//! fails over, and bad input on the port closes only the offending connection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use raft_heartbeat::core::{Config, LogPosition, NodeId, Role, Status};
use raft_heartbeat::runtime::codec::{self, Frame, Lane};
use raft_heartbeat::runtime::{
    Driver, Handle, MemoryStore, RuntimeError, TcpConfig, TcpStats, TcpTransport,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const CLUSTER: u64 = 77;

struct Node {
    handle: Handle,
    stats: Arc<TcpStats>,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), RuntimeError>>,
}

fn timing(id: u64, n: u64) -> Config {
    Config::new(NodeId(id), (1..=n).map(NodeId)).with(|c| {
        c.heartbeat_interval = Duration::from_millis(20);
        c.election_timeout_min = Duration::from_millis(80);
        c.election_timeout_max = Duration::from_millis(160);
        c.seed = 5;
    })
}

async fn cluster(n: u64) -> BTreeMap<u64, Node> {
    let mut listeners = BTreeMap::new();
    for id in 1..=n {
        listeners.insert(id, TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: BTreeMap<NodeId, SocketAddr> =
        listeners.iter().map(|(&id, l)| (NodeId(id), l.local_addr().unwrap())).collect();
    let mut nodes = BTreeMap::new();
    for (id, listener) in listeners {
        let peers = addrs.iter().filter(|(p, _)| p.0 != id).map(|(p, a)| (*p, *a)).collect();
        let mut tcp = TcpConfig::new(CLUSTER, NodeId(id), peers, Duration::from_millis(20));
        tcp.handshake_timeout = Duration::from_millis(300);
        let transport = TcpTransport::start(listener, tcp).unwrap();
        let (stats, addr) = (transport.stats(), transport.local_addr());
        let (driver, handle) =
            Driver::new(timing(id, n), MemoryStore::default(), transport, LogPosition::default())
                .await
                .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(driver.run(async {
            let _ = stopped.await;
        }));
        nodes.insert(id, Node { handle, stats, addr, stop, task });
    }
    nodes
}

fn statuses(nodes: &BTreeMap<u64, Node>) -> Vec<Status> {
    nodes.values().map(|n| n.handle.status.borrow().clone()).collect()
}

/// Waits (real time, at most 5 s) until exactly one node leads and every other follows it.
async fn settled(nodes: &BTreeMap<u64, Node>) -> NodeId {
    for _ in 0..250 {
        let s = statuses(nodes);
        let leaders: Vec<&Status> = s.iter().filter(|s| s.role == Role::Leader).collect();
        if let [leader] = leaders.as_slice() {
            if s.iter().all(|x| x.leader == Some(leader.id) && x.term == leader.term) {
                return leader.id;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no single leader: {:?}", statuses(nodes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_cluster_elects_one_leader_and_fails_over_when_it_is_killed() {
    let mut nodes = cluster(3).await;
    let first = settled(&nodes).await;
    let old = nodes.remove(&first.0).unwrap();
    let _ = old.stop.send(());
    old.task.await.unwrap().unwrap();
    let killed = std::time::Instant::now();
    let second = settled(&nodes).await;
    assert_ne!(first, second);
    assert!(killed.elapsed() < Duration::from_secs(2), "failover took {:?}", killed.elapsed());
}

/// Sends `bytes` on a fresh connection and returns whether the node closed it.
async fn closed_after(addr: SocketAddr, bytes: &[u8], then_close_write: bool) -> bool {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    if then_close_write {
        s.shutdown().await.unwrap();
    }
    let mut sink = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), s.read(&mut sink)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn hello(cluster_id: u64, node: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    codec::encode(&Frame::Hello { cluster_id, node: NodeId(node), lane: Lane::Protocol }, &mut buf)
        .unwrap();
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_the_port_closes_that_connection_and_the_node_keeps_serving() {
    let nodes = cluster(3).await;
    settled(&nodes).await;
    let target = &nodes[&1];
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("random bytes", (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xA5).collect(), false),
        ("an oversized length prefix", vec![0x7F, 0xFF, 0xFF, 0xFF, 0, 0], false),
        (
            "a truncated frame",
            {
                let mut b = hello(CLUSTER, 2);
                b.truncate(b.len() - 2);
                b
            },
            true,
        ),
        ("a wrong cluster id", hello(CLUSTER + 1, 2), false),
        ("an unknown node id", hello(CLUSTER, 99), false),
        ("a connection that opens and stalls", Vec::new(), false),
    ];
    let refused_before = target.stats.refused_connections.load(Ordering::Relaxed);
    for (what, bytes, close_write) in &cases {
        assert!(
            closed_after(target.addr, bytes, *close_write).await,
            "{what}: the connection stays open"
        );
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = target.stats.refused_connections.load(Ordering::Relaxed) - refused_before;
    assert_eq!(refused, cases.len() as u64, "each bad connection is refused and counted");
    // The cluster still works, node 1 included.
    settled(&nodes).await;
    let s = target.handle.status.borrow().clone();
    assert!(s.leader.is_some(), "{s:?}");
}

/// A follower sends nothing to another follower for as long as a leader lives, so its
/// connection to a peer that was killed and restarted in the meantime is still the one to the
/// old process. The first vote request written into it must not be lost (it was: every
/// follower's first campaign after such a restart failed, the live cluster's heavy tail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_restarted_peer_is_not_lost_on_the_connection_to_its_old_process() {
    use raft_heartbeat::core::{Envelope, LogPosition, Message, Term, VoteKind, VoteRequest};
    use raft_heartbeat::runtime::Transport;

    let listen_a = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen_b = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (addr_a, addr_b) = (listen_a.local_addr().unwrap(), listen_b.local_addr().unwrap());
    let tcp = |id: u64, peer: u64, addr: SocketAddr| {
        TcpConfig::new(
            CLUSTER,
            NodeId(id),
            [(NodeId(peer), addr)].into(),
            Duration::from_millis(20),
        )
    };
    let request = |term: u64| Envelope {
        from: NodeId(1),
        to: NodeId(2),
        message: Message::VoteRequest(VoteRequest {
            term: Term(term),
            last_log: LogPosition::default(),
            kind: VoteKind::PreVote,
        }),
    };
    let mut a = TcpTransport::start(listen_a, tcp(1, 2, addr_b)).unwrap();
    let mut b = TcpTransport::start(listen_b, tcp(2, 1, addr_a)).unwrap();
    a.send(request(1)).await;
    let first = tokio::time::timeout(Duration::from_secs(2), b.recv()).await;
    assert_eq!(first.ok().flatten(), Some(request(1)));
    // Node 2 is killed and comes back on the same port; node 1 stays silent meanwhile.
    drop(b);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut b =
        TcpTransport::start(TcpListener::bind(addr_b).await.unwrap(), tcp(2, 1, addr_a)).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.send(request(2)).await;
    let after = tokio::time::timeout(Duration::from_secs(2), b.recv()).await;
    assert_eq!(after.ok().flatten(), Some(request(2)), "the first message after the restart");
}
