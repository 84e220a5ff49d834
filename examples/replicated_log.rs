//! Embedding the runtime in a host: a toy replicated log of three nodes over TCP on loopback.
//!
//! The log here is a toy, to show the wiring: it applies entries without Raft's consistency
//! check and commits on two acknowledgements whatever the entry's term, which loses committed
//! entries under faults. `tests/sim_host.rs` shows the simulator catching that commit rule, and
//! has the same host as a correct log (§5.3's check, §5.4.2's commit rule) run under the swarm.
//!
//! The module does elections and failure detection; the host does the log. The host
//! - tells its node where its log ends (`HostInput::LastLog`), so votes go to up-to-date logs;
//! - reacts to `LeaderChanged` events: the leader appends an entry every 100 ms and ships it to
//!   the followers on the transport's shared lane;
//! - reports its own replication traffic (`LeaderContact` on followers, `AppendAcknowledged` on
//!   the leader), so a busy log also counts as heartbeats, and advances the commit index when a
//!   majority has an entry.
//!
//! - serves a linearizable read on the leader with `Handle::read_index` (thesis §6.4);
//! - hands leadership over to a follower once its log has caught up (`TransferLeadership`,
//!   then `TransferCaughtUp`, thesis §3.10), pausing its workload meanwhile.
//!
//! Run: `cargo run --example replicated_log`. After two seconds the leader serves a read and
//! hands over; a second later the new leader is killed; another takes over and the log goes on.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallInstant};

use raft_heartbeat::core::{Config, Event, LogPosition, NodeId, Term};
use raft_heartbeat::runtime::{
    Driver, Handle, HostInput, MemoryStore, PayloadSender, TcpConfig, TcpTransport,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(Serialize, Deserialize)]
enum Wire {
    Append { term: u64, index: u64, entry: String, commit: u64, sent_ms: u64 },
    Ack { term: u64, index: u64, sent_ms: u64 },
}

/// One node's host: its log and what it knows of the leadership.
struct Host {
    id: NodeId,
    log: Vec<(u64, String)>,
    leading: Option<Term>,
    acks: BTreeMap<u64, usize>,
    commit: u64,
    /// A leadership transfer is under way: take no new entries.
    handing_over: bool,
}

#[tokio::main]
async fn main() {
    let start = WallInstant::now();
    let ms = move || start.elapsed().as_millis() as u64;
    let mut listeners = BTreeMap::new();
    for id in 1..=3u64 {
        listeners.insert(NodeId(id), TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: BTreeMap<NodeId, SocketAddr> =
        listeners.iter().map(|(id, l)| (*id, l.local_addr().unwrap())).collect();
    let mut stops = BTreeMap::new();
    let mut hosts = BTreeMap::new();
    let mut handles = BTreeMap::new();
    for (id, listener) in listeners {
        let peers = addrs.iter().filter(|(p, _)| **p != id).map(|(p, a)| (*p, *a)).collect();
        let mut transport =
            TcpTransport::start(listener, TcpConfig::new(1, id, peers, Duration::from_millis(50)))
                .unwrap();
        let payloads = transport.payload_sender();
        let mut inbox = transport.take_payloads().unwrap();
        let config = Config::new(id, addrs.keys().copied()).with(|c| c.seed = id.0);
        let (driver, handle) =
            Driver::new(config, MemoryStore::default(), transport, LogPosition::default())
                .await
                .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(driver.run(async {
            let _ = stopped.await;
        }));
        stops.insert(id, stop);
        let host = Arc::new(Mutex::new(Host {
            id,
            log: Vec::new(),
            leading: None,
            acks: BTreeMap::new(),
            commit: 0,
            handing_over: false,
        }));
        hosts.insert(id, host.clone());
        let handle = Arc::new(handle);
        handles.insert(id, handle.clone());
        // Events: learn when this node leads.
        let (h, mut events) = (host.clone(), handle.events());
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                if let Event::LeaderChanged { term, leader } = event {
                    let mut h = h.lock().unwrap();
                    h.leading = (leader == Some(h.id)).then_some(term);
                    h.handing_over = false;
                    println!("{:>5} ms  {}: leader of {term} is {leader:?}", ms(), h.id);
                }
            }
        });
        // Replication traffic from peers.
        let (h, hd, out) = (host.clone(), handle.clone(), payloads.clone());
        tokio::spawn(async move {
            while let Some((from, bytes)) = inbox.recv().await {
                let Ok(wire) = serde_json::from_slice::<Wire>(&bytes) else { continue };
                on_wire(&h, &hd, &out, from, wire, ms()).await;
            }
        });
        // The leader's workload: an entry every 100 ms.
        let (h, hd, members) = (host, handle, addrs.keys().copied().collect::<Vec<_>>());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let message = {
                    let mut h = h.lock().unwrap();
                    let Some(term) = h.leading.filter(|_| !h.handing_over) else { continue };
                    let index = h.log.len() as u64 + 1;
                    let entry = format!("put k{index}={}", h.id);
                    h.log.push((term.0, entry.clone()));
                    h.acks.insert(index, 1);
                    (term, index, entry, h.commit)
                };
                let (term, index, entry, commit) = message;
                let _ = hd.input(HostInput::LastLog(LogPosition::new(term, index))).await;
                let bytes = serde_json::to_vec(&Wire::Append {
                    term: term.0,
                    index,
                    entry,
                    commit,
                    sent_ms: ms(),
                })
                .unwrap();
                for peer in members.iter().filter(|p| **p != id) {
                    payloads.send(*peer, bytes.clone());
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let leading = |hosts: &BTreeMap<NodeId, Arc<Mutex<Host>>>| {
        hosts.iter().find(|(_, h)| h.lock().unwrap().leading.is_some()).map(|(id, _)| *id)
    };
    if let Some(leader) = leading(&hosts) {
        // A read: confirmed by a majority's answer to a round sent after it was asked.
        let commit = hosts[&leader].lock().unwrap().commit;
        match handles[&leader].read_index().await {
            Ok(()) => println!("{:>5} ms  {leader}: read index confirmed, commit {commit}", ms()),
            Err(e) => println!("{:>5} ms  {leader}: read refused: {e}", ms()),
        }
        // Hand over to a follower once it holds every entry.
        let target = *hosts.keys().find(|id| **id != leader).unwrap();
        hosts[&leader].lock().unwrap().handing_over = true;
        let _ = handles[&leader].input(HostInput::TransferLeadership { target }).await;
        for _ in 0..100 {
            let have = hosts[&target].lock().unwrap().log.len();
            if have >= hosts[&leader].lock().unwrap().log.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!("{:>5} ms  {leader}: {target} caught up, handing over", ms());
        let _ = handles[&leader].input(HostInput::TransferCaughtUp).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Some(leader) = leading(&hosts) {
        println!("{:>5} ms  killing the leader {leader}", ms());
        let _ = stops.remove(&leader).unwrap().send(());
        hosts.remove(&leader);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (id, h) in &hosts {
        let h = h.lock().unwrap();
        println!("{id}: {} entries, commit {}, last {:?}", h.log.len(), h.commit, h.log.last());
    }
}

async fn on_wire(
    host: &Mutex<Host>,
    handle: &Handle,
    out: &PayloadSender,
    from: NodeId,
    wire: Wire,
    now_ms: u64,
) {
    match wire {
        Wire::Append { term, index, entry, commit, sent_ms } => {
            // The host's own AppendEntries: apply it, and tell the node it heard its leader.
            {
                let mut h = host.lock().unwrap();
                h.log.truncate(index as usize - 1);
                h.log.push((term, entry));
                h.commit = h.commit.max(commit.min(index));
            }
            let _ = handle
                .input(HostInput::LeaderContact { from, term: Term(term), leader_commit: commit })
                .await;
            let _ = handle.input(HostInput::LastLog(LogPosition::new(Term(term), index))).await;
            out.send(from, serde_json::to_vec(&Wire::Ack { term, index, sent_ms }).unwrap());
        }
        Wire::Ack { term, index, sent_ms } => {
            let sent_ago = Duration::from_millis(now_ms.saturating_sub(sent_ms));
            let _ = handle
                .input(HostInput::AppendAcknowledged { from, term: Term(term), sent_ago })
                .await;
            let committed = {
                let mut h = host.lock().unwrap();
                let count = h.acks.entry(index).or_insert(1);
                *count += 1;
                if *count == 2 && index > h.commit {
                    h.commit = index;
                    Some(index)
                } else {
                    None
                }
            };
            if let Some(index) = committed {
                let _ = handle.input(HostInput::CommitIndex(index)).await;
            }
        }
    }
}
