//! The default transport: TCP, length-prefixed bincode frames (see [`codec`](super::codec)).
//!
//! - Every connection starts with a `Hello` naming the cluster, the caller and the lane; a
//!   wrong cluster id, an unknown node, bytes that are not a frame, an oversized length prefix,
//!   or a caller that says nothing within the handshake timeout close that connection with a
//!   logged reason. The node keeps serving. A message whose `from` is not the caller is dropped.
//! - Heartbeats and votes travel on a lane of their own (one connection per peer), so they
//!   never wait behind the host's payloads; [`Lanes::Shared`] puts everything on one connection
//!   instead, to measure the difference. Heartbeats not yet sent are replaced by newer ones
//!   (latest value wins).
//! - Outbound queues are bounded per peer and lane; a slow or dead peer loses messages, it
//!   never blocks the core or the other peers.
//! - Connections are re-established with exponential backoff capped at half the heartbeat
//!   interval (a longer cap lets a restarted voter time out: hashicorp/raft PR #494). An idle
//!   outbound connection watches its read side, so one to a peer that has since restarted is
//!   replaced as soon as the peer's end closes, not after a message is lost in it.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;

use super::codec::{self, CodecError, Frame};
use super::transport::Transport;
use crate::core::{Envelope, Message, NodeId};
use crate::link::{Lane, Lanes};

/// Settings of a [`TcpTransport`].
#[derive(Clone, Debug)]
pub struct TcpConfig {
    /// Cluster id exchanged in the handshake; connections of other clusters are refused.
    pub cluster_id: u64,
    /// This node.
    pub id: NodeId,
    /// Every other member and its address.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// The heartbeat interval: reconnect backoff is capped at half of it.
    pub heartbeat_interval: Duration,
    /// How protocol messages share connections.
    pub lanes: Lanes,
    /// Messages queued per peer and lane before the oldest are dropped.
    pub queue: usize,
    /// How long a new inbound connection may take to say `Hello`.
    pub handshake_timeout: Duration,
}

impl TcpConfig {
    /// Settings for node `id` with the given peers and heartbeat interval, and defaults.
    pub fn new(
        cluster_id: u64,
        id: NodeId,
        peers: BTreeMap<NodeId, SocketAddr>,
        heartbeat_interval: Duration,
    ) -> Self {
        TcpConfig {
            cluster_id,
            id,
            peers,
            heartbeat_interval,
            lanes: Lanes::Dedicated,
            queue: 256,
            handshake_timeout: Duration::from_secs(2),
        }
    }
}

/// Counts of what the transport refused or dropped.
#[derive(Debug, Default)]
pub struct TcpStats {
    /// Inbound connections closed for a bad handshake, a bad frame, or silence.
    pub refused_connections: AtomicU64,
    /// Outbound messages dropped because a peer's queue was full.
    pub dropped_outbound: AtomicU64,
    /// Inbound messages dropped: full inbox, or `from` not the authenticated caller.
    pub dropped_inbound: AtomicU64,
}

/// A bounded outbound queue where a new heartbeat replaces one not yet sent.
#[derive(Debug, Default)]
struct Outbox {
    frames: Mutex<VecDeque<Frame>>,
    ready: Notify,
}

impl Outbox {
    fn push(&self, frame: Frame, cap: usize, stats: &TcpStats) {
        let mut q = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if let Frame::Protocol(Envelope { message: Message::Heartbeat(_), .. }) = frame {
            q.retain(|f| {
                !matches!(f, Frame::Protocol(Envelope { message: Message::Heartbeat(_), .. }))
            });
        }
        if q.len() >= cap {
            q.pop_front();
            stats.dropped_outbound.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(frame);
        drop(q);
        self.ready.notify_one();
    }

    fn take(&self) -> Vec<Frame> {
        self.frames.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect()
    }
}

/// A node's TCP connections to its peers.
#[derive(Debug)]
pub struct TcpTransport {
    config: Arc<TcpConfig>,
    protocol: BTreeMap<NodeId, Arc<Outbox>>,
    shared: BTreeMap<NodeId, Arc<Outbox>>,
    inbox: mpsc::Receiver<Envelope>,
    payloads: Option<mpsc::Receiver<(NodeId, Vec<u8>)>>,
    stats: Arc<TcpStats>,
    tasks: JoinSet<()>,
    local: SocketAddr,
}

impl TcpTransport {
    /// Starts serving `listener` and connecting to the peers.
    pub fn start(listener: TcpListener, config: TcpConfig) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let config = Arc::new(config);
        let stats = Arc::new(TcpStats::default());
        let (inbox_tx, inbox) = mpsc::channel(config.queue.max(1) * config.peers.len().max(1));
        let (payload_tx, payloads) = mpsc::channel(config.queue.max(1));
        let mut tasks = JoinSet::new();
        let mut protocol = BTreeMap::new();
        let mut shared = BTreeMap::new();
        for (&peer, &addr) in &config.peers {
            let shared_box = Arc::new(Outbox::default());
            tasks.spawn(dial(config.clone(), peer, addr, Lane::Payload, shared_box.clone()));
            shared.insert(peer, shared_box.clone());
            let protocol_box = match config.lanes {
                Lanes::Dedicated => {
                    let b = Arc::new(Outbox::default());
                    tasks.spawn(dial(config.clone(), peer, addr, Lane::Protocol, b.clone()));
                    b
                }
                Lanes::Shared => shared_box,
            };
            protocol.insert(peer, protocol_box);
        }
        tasks.spawn(accept(listener, config.clone(), inbox_tx, payload_tx, stats.clone()));
        Ok(TcpTransport {
            config,
            protocol,
            shared,
            inbox,
            payloads: Some(payloads),
            stats,
            tasks,
            local,
        })
    }

    /// The address this node listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// What was refused or dropped so far.
    pub fn stats(&self) -> Arc<TcpStats> {
        self.stats.clone()
    }

    /// Queues a payload of the host's for `to` on the shared lane.
    pub fn send_payload(&self, to: NodeId, bytes: Vec<u8>) {
        self.payload_sender().send(to, bytes);
    }

    /// A handle that sends the host's payloads, usable after the transport moved into a driver.
    pub fn payload_sender(&self) -> PayloadSender {
        PayloadSender {
            shared: self.shared.clone(),
            queue: self.config.queue,
            stats: self.stats.clone(),
        }
    }

    /// The payloads peers send this node; can be taken once.
    pub fn take_payloads(&mut self) -> Option<mpsc::Receiver<(NodeId, Vec<u8>)>> {
        self.payloads.take()
    }
}

/// Sends the host's own payloads (replication, snapshots) on the shared lane of a
/// [`TcpTransport`].
#[derive(Clone, Debug)]
pub struct PayloadSender {
    shared: BTreeMap<NodeId, Arc<Outbox>>,
    queue: usize,
    stats: Arc<TcpStats>,
}

impl PayloadSender {
    /// Queues `bytes` for `to`; dropped (and counted) if the peer's queue is full.
    pub fn send(&self, to: NodeId, bytes: Vec<u8>) {
        if let Some(outbox) = self.shared.get(&to) {
            outbox.push(Frame::Payload(bytes), self.queue, &self.stats);
        }
    }
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

#[async_trait]
impl Transport for TcpTransport {
    async fn send(&mut self, envelope: Envelope) {
        if let Some(outbox) = self.protocol.get(&envelope.to) {
            outbox.push(Frame::Protocol(envelope), self.config.queue, &self.stats);
        }
    }

    async fn recv(&mut self) -> Option<Envelope> {
        self.inbox.recv().await
    }
}

/// Keeps one outbound connection to `peer` on `lane` alive and drains `outbox` into it.
async fn dial(
    config: Arc<TcpConfig>,
    peer: NodeId,
    addr: SocketAddr,
    lane: Lane,
    outbox: Arc<Outbox>,
) {
    let floor = Duration::from_millis(1);
    let cap = (config.heartbeat_interval / 2).max(floor);
    let mut backoff = floor;
    loop {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(cap.max(Duration::from_millis(100)), TcpStream::connect(addr))
                .await
        {
            backoff = floor;
            if let Err(e) = pump(&config, lane, stream, &outbox).await {
                tracing::debug!(%peer, ?lane, error = %e, "connection lost; reconnecting");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(cap);
    }
}

async fn pump(
    config: &TcpConfig,
    lane: Lane,
    mut stream: TcpStream,
    outbox: &Outbox,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(256);
    let hello = Frame::Hello { cluster_id: config.cluster_id, node: config.id, lane };
    codec::encode(&hello, &mut buf).map_err(std::io::Error::other)?;
    stream.write_all(&buf).await?;
    let (mut reader, mut writer) = stream.split();
    let mut byte = [0u8; 1];
    loop {
        let frames = outbox.take();
        if frames.is_empty() {
            // The peer never writes on this connection, so anything on the read side is its
            // end: a connection idle since the peer was killed is replaced now, before a
            // message is written into a socket no process reads (it would be lost).
            tokio::select! {
                () = outbox.ready.notified() => {}
                read = reader.read(&mut byte) => {
                    read?;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "closed by the peer",
                    ));
                }
            }
            continue;
        }
        buf.clear();
        for frame in &frames {
            if let Err(e) = codec::encode(frame, &mut buf) {
                tracing::warn!(error = %e, "frame not sent");
            }
        }
        writer.write_all(&buf).await?;
    }
}

/// Accepts inbound connections, a bounded number at a time.
async fn accept(
    listener: TcpListener,
    config: Arc<TcpConfig>,
    inbox: mpsc::Sender<Envelope>,
    payloads: mpsc::Sender<(NodeId, Vec<u8>)>,
    stats: Arc<TcpStats>,
) {
    let limit = Arc::new(Semaphore::new(4 * config.peers.len().max(1) + 4));
    let mut readers = JoinSet::new();
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else { return };
        let Ok((stream, addr)) = listener.accept().await else { continue };
        let (config, inbox, payloads, stats) =
            (config.clone(), inbox.clone(), payloads.clone(), stats.clone());
        readers.spawn(async move {
            if let Err(reason) = serve(stream, &config, &inbox, &payloads, &stats).await {
                stats.refused_connections.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%addr, %reason, "inbound connection closed");
            }
            drop(permit);
        });
        while readers.try_join_next().is_some() {}
    }
}

/// Why an inbound connection was closed (the node keeps serving; the reason is logged).
#[derive(Debug, Error)]
enum ConnectionError {
    #[error("no handshake within {0:?}")]
    NoHandshake(Duration),
    #[error("wrong cluster id {got} (this is {expected})")]
    WrongCluster { got: u64, expected: u64 },
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    #[error("expected a handshake, got a {0} frame")]
    NotAHandshake(&'static str),
    #[error("second handshake")]
    SecondHandshake,
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("read failed: {0}")]
    Io(std::io::Error),
    #[error("connection ended inside a frame ({0} bytes)")]
    Truncated(usize),
}

impl From<std::io::Error> for ConnectionError {
    fn from(e: std::io::Error) -> Self {
        ConnectionError::Io(e)
    }
}

/// Reads one inbound connection: the handshake, then frames. Returns why it closed, if for a
/// reason worth logging.
async fn serve(
    mut stream: TcpStream,
    config: &TcpConfig,
    inbox: &mpsc::Sender<Envelope>,
    payloads: &mpsc::Sender<(NodeId, Vec<u8>)>,
    stats: &TcpStats,
) -> Result<(), ConnectionError> {
    let mut buf = Vec::with_capacity(1024);
    let hello = tokio::time::timeout(config.handshake_timeout, next_frame(&mut stream, &mut buf))
        .await
        .map_err(|_| ConnectionError::NoHandshake(config.handshake_timeout))??;
    let caller = match hello {
        Some(Frame::Hello { cluster_id, node, .. }) => {
            if cluster_id != config.cluster_id {
                return Err(ConnectionError::WrongCluster {
                    got: cluster_id,
                    expected: config.cluster_id,
                });
            }
            if !config.peers.contains_key(&node) {
                return Err(ConnectionError::UnknownNode(node));
            }
            node
        }
        Some(Frame::Protocol(_)) => return Err(ConnectionError::NotAHandshake("protocol")),
        Some(Frame::Payload(_)) => return Err(ConnectionError::NotAHandshake("payload")),
        None => return Ok(()),
    };
    loop {
        match next_frame(&mut stream, &mut buf).await? {
            None => return Ok(()),
            Some(Frame::Protocol(env)) if env.from == caller && env.to == config.id => {
                if inbox.try_send(env).is_err() {
                    stats.dropped_inbound.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Frame::Protocol(env)) => {
                stats.dropped_inbound.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%caller, claimed = %env.from, to = %env.to, "message with a forged sender or another addressee dropped");
            }
            Some(Frame::Payload(bytes)) => {
                if payloads.try_send((caller, bytes)).is_err() {
                    stats.dropped_inbound.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Frame::Hello { .. }) => return Err(ConnectionError::SecondHandshake),
        }
    }
}

/// Reads until `buf` holds a whole frame; `None` at a clean end of stream.
async fn next_frame(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<Option<Frame>, ConnectionError> {
    loop {
        if let Some((frame, used)) = codec::decode(buf)? {
            buf.drain(..used);
            return Ok(Some(frame));
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ConnectionError::Truncated(buf.len()))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
