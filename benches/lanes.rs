//! Heartbeat timeliness under load: three nodes over TCP on loopback, heartbeats every 50 ms,
//! the leader's host pushing 1 MiB payloads to both followers as fast as the links take them.
//! Measures the gaps between heartbeats arriving at a follower, with heartbeats on a dedicated
//! lane and on the lane shared with the payloads.
//!
//! Run: `cargo bench --bench lanes` (about 25 s). Prints one JSON line per lane.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use raft_heartbeat::core::{Config, Envelope, LogPosition, Message, NodeId, Role};
use raft_heartbeat::runtime::{Driver, Lanes, MemoryStore, TcpConfig, TcpTransport, Transport};
use tokio::net::TcpListener;

const INTERVAL: Duration = Duration::from_millis(50);
const PAYLOAD: usize = 1 << 20;
const MEASURE: Duration = Duration::from_secs(10);

/// Records when heartbeats arrive.
struct Recording<T> {
    inner: T,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl<T: Transport> Transport for Recording<T> {
    async fn send(&mut self, envelope: Envelope) {
        self.inner.send(envelope).await;
    }

    async fn recv(&mut self) -> Option<Envelope> {
        let env = self.inner.recv().await?;
        if matches!(env.message, Message::Heartbeat(_)) {
            self.arrivals.lock().unwrap().push(Instant::now());
        }
        Some(env)
    }
}

async fn measure(lanes: Lanes) -> serde_json::Value {
    let mut listeners = BTreeMap::new();
    for id in 1..=3u64 {
        listeners.insert(NodeId(id), TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: BTreeMap<NodeId, SocketAddr> =
        listeners.iter().map(|(id, l)| (*id, l.local_addr().unwrap())).collect();
    let mut senders = BTreeMap::new();
    let mut arrivals = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    let mut stops = Vec::new();
    for (id, listener) in listeners {
        let peers = addrs.iter().filter(|(p, _)| **p != id).map(|(p, a)| (*p, *a)).collect();
        let mut tcp = TcpConfig::new(1, id, peers, INTERVAL);
        tcp.lanes = lanes;
        tcp.queue = 8;
        let mut transport = TcpTransport::start(listener, tcp).unwrap();
        senders.insert(id, transport.payload_sender());
        let mut payloads = transport.take_payloads().unwrap();
        tokio::spawn(async move { while payloads.recv().await.is_some() {} });
        let log = Arc::new(Mutex::new(Vec::new()));
        arrivals.insert(id, log.clone());
        let recording = Recording { inner: transport, arrivals: log };
        let config = Config::new(id, addrs.keys().copied()).with(|c| c.seed = id.0);
        let (driver, handle) =
            Driver::new(config, MemoryStore::default(), recording, LogPosition::default())
                .await
                .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(driver.run(async {
            let _ = stopped.await;
        }));
        statuses.insert(id, handle.status.clone());
        stops.push((stop, handle));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let leader =
        *statuses.iter().find(|(_, s)| s.borrow().role == Role::Leader).expect("a leader").0;
    let follower = *addrs.keys().find(|id| **id != leader).unwrap();
    let pusher = senders[&leader].clone();
    let targets: Vec<NodeId> = addrs.keys().copied().filter(|id| *id != leader).collect();
    let push = tokio::spawn(async move {
        let payload = vec![7u8; PAYLOAD];
        loop {
            for &t in &targets {
                pusher.send(t, payload.clone());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    arrivals[&follower].lock().unwrap().clear();
    tokio::time::sleep(MEASURE).await;
    push.abort();
    let times = arrivals[&follower].lock().unwrap().clone();
    let mut gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs_f64() * 1e3).collect();
    gaps.sort_by(f64::total_cmp);
    let rank = |p: f64| gaps[((p * gaps.len() as f64).ceil() as usize).clamp(1, gaps.len()) - 1];
    let still_leader = statuses[&leader].borrow().role == Role::Leader;
    for (stop, _) in stops {
        let _ = stop.send(());
    }
    serde_json::json!({
        "lanes": format!("{lanes:?}"),
        "heartbeats": times.len(),
        "gap_ms": { "p50": rank(0.5), "p99": rank(0.99), "max": gaps[gaps.len() - 1] },
        "leader_kept": still_leader,
    })
}

#[tokio::main]
async fn main() {
    for lanes in [Lanes::Dedicated, Lanes::Shared] {
        println!("{}", measure(lanes).await);
    }
}
