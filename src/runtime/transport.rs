//! How a driver exchanges messages with its peers. Implement [`Transport`] to plug the node
//! into your own RPC layer; [`MemoryNetwork`] is an in-process one, used by the tests and as a
//! reference implementation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::core::{Envelope, NodeId};

/// A node's connection to its peers.
#[async_trait]
pub trait Transport: Send {
    /// Queues `envelope` for `envelope.to`. Must not wait for a slow or dead peer: drop or
    /// queue (boundedly) instead, as the network would.
    async fn send(&mut self, envelope: Envelope);

    /// The next message for this node; `None` once the transport is closed. Must be
    /// cancel-safe: the driver calls it inside `tokio::select!`.
    async fn recv(&mut self) -> Option<Envelope>;
}

/// Messages in flight per node before the in-memory network drops more.
const QUEUE: usize = 1024;

/// An in-process network: one bounded queue per node, and links that tests can partition.
#[derive(Clone, Debug, Default)]
pub struct MemoryNetwork {
    senders: Arc<Mutex<BTreeMap<NodeId, mpsc::Sender<Envelope>>>>,
    cut: Arc<Mutex<BTreeSet<(NodeId, NodeId)>>>,
}

impl MemoryNetwork {
    /// An empty network.
    pub fn new() -> Self {
        MemoryNetwork::default()
    }

    /// Attaches node `id` (again, after a restart) and returns its transport.
    pub fn join(&self, id: NodeId) -> MemoryTransport {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.senders.lock().unwrap_or_else(PoisonError::into_inner).insert(id, tx);
        MemoryTransport { id, net: self.clone(), inbox: rx }
    }

    /// Partitions the link `from → to`, one way: what is sent on it is dropped until it is
    /// repaired. The names are those of [`link`](crate::link).
    pub fn partition_one_way(&self, from: NodeId, to: NodeId) {
        self.cut.lock().unwrap_or_else(PoisonError::into_inner).insert((from, to));
    }

    /// Partitions both directions between `a` and `b`.
    pub fn partition(&self, a: NodeId, b: NodeId) {
        self.partition_one_way(a, b);
        self.partition_one_way(b, a);
    }

    /// Partitions `id` from everyone, both ways.
    pub fn isolate(&self, id: NodeId) {
        let others: Vec<NodeId> =
            self.senders.lock().unwrap_or_else(PoisonError::into_inner).keys().copied().collect();
        for other in others.into_iter().filter(|&o| o != id) {
            self.partition(id, other);
        }
    }

    /// Repairs the link `from → to`, one way.
    pub fn repair_one_way(&self, from: NodeId, to: NodeId) {
        self.cut.lock().unwrap_or_else(PoisonError::into_inner).remove(&(from, to));
    }

    /// Repairs both directions between `a` and `b`.
    pub fn repair(&self, a: NodeId, b: NodeId) {
        self.repair_one_way(a, b);
        self.repair_one_way(b, a);
    }

    /// Repairs every link.
    pub fn repair_all(&self) {
        self.cut.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// One node's end of a [`MemoryNetwork`].
#[derive(Debug)]
pub struct MemoryTransport {
    id: NodeId,
    net: MemoryNetwork,
    inbox: mpsc::Receiver<Envelope>,
}

#[async_trait]
impl Transport for MemoryTransport {
    async fn send(&mut self, envelope: Envelope) {
        if self
            .net
            .cut
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&(self.id, envelope.to))
        {
            return;
        }
        let peer = self
            .net
            .senders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&envelope.to)
            .cloned();
        if let Some(peer) = peer {
            // A full queue or a stopped peer loses the message, as a network would.
            let _ = peer.try_send(envelope);
        }
    }

    async fn recv(&mut self) -> Option<Envelope> {
        self.inbox.recv().await
    }
}
