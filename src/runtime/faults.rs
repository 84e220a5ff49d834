//! A transport wrapper that injects faults on a real network, for integration tests and demos:
//! drop a link (one way or both), add delay, or freeze all traffic and release it later.
//! The controls are a cloneable [`Faults`] handle, so a test keeps one while the driver owns the
//! transport.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::transport::Transport;
use crate::core::{Envelope, NodeId};

#[derive(Debug, Default)]
struct State {
    drop_to: BTreeSet<NodeId>,
    drop_from: BTreeSet<NodeId>,
    delay: Duration,
    frozen: bool,
}

/// The controls of a [`FaultyTransport`].
#[derive(Clone, Debug, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Faults {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("not poisoned"))
    }

    /// Drops everything this node sends to `peer` (one way).
    pub fn drop_to(&self, peer: NodeId) {
        self.with(|s| s.drop_to.insert(peer));
    }

    /// Drops everything this node receives from `peer` (one way).
    pub fn drop_from(&self, peer: NodeId) {
        self.with(|s| s.drop_from.insert(peer));
    }

    /// Drops both directions between this node and `peer`.
    pub fn cut(&self, peer: NodeId) {
        self.drop_to(peer);
        self.drop_from(peer);
    }

    /// Delays every inbound message by `d` (each on its own, so order is kept).
    pub fn set_delay(&self, d: Duration) {
        self.with(|s| s.delay = d);
    }

    /// Holds every message, both ways, until [`thaw`](Self::thaw).
    pub fn freeze(&self) {
        self.with(|s| s.frozen = true);
    }

    /// Releases what [`freeze`](Self::freeze) held.
    pub fn thaw(&self) {
        self.with(|s| s.frozen = false);
    }

    /// Removes every fault (held messages are released).
    pub fn heal(&self) {
        self.with(|s| *s = State::default());
    }
}

/// Wraps a transport and applies the faults set on its [`Faults`].
#[derive(Debug)]
pub struct FaultyTransport<T> {
    inner: T,
    faults: Faults,
    held_out: VecDeque<Envelope>,
    inbound: VecDeque<(Instant, Envelope)>,
}

impl<T: Transport> FaultyTransport<T> {
    /// Wraps `inner`; keep the returned [`Faults`] to inject faults.
    pub fn new(inner: T) -> (Self, Faults) {
        let faults = Faults::default();
        (
            FaultyTransport {
                inner,
                faults: faults.clone(),
                held_out: VecDeque::new(),
                inbound: VecDeque::new(),
            },
            faults,
        )
    }

    async fn release_held(&mut self) {
        if self.faults.with(|s| s.frozen) {
            return;
        }
        while let Some(env) = self.held_out.pop_front() {
            self.inner.send(env).await;
        }
    }
}

#[async_trait]
impl<T: Transport> Transport for FaultyTransport<T> {
    async fn send(&mut self, envelope: Envelope) {
        let (dropped, frozen) = self.faults.with(|s| (s.drop_to.contains(&envelope.to), s.frozen));
        if dropped {
            return;
        }
        self.release_held().await;
        if frozen {
            self.held_out.push_back(envelope);
        } else {
            self.inner.send(envelope).await;
        }
    }

    async fn recv(&mut self) -> Option<Envelope> {
        loop {
            self.release_held().await;
            let (frozen, next_due) =
                (self.faults.with(|s| s.frozen), self.inbound.front().map(|(at, _)| *at));
            let wake = if frozen {
                Instant::now() + Duration::from_millis(5)
            } else {
                next_due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
            };
            if !frozen && next_due.is_some_and(|at| at <= Instant::now()) {
                return self.inbound.pop_front().map(|(_, env)| env);
            }
            tokio::select! {
                message = self.inner.recv() => {
                    let env = message?;
                    let (dropped, delay) = self.faults.with(|s| (s.drop_from.contains(&env.from), s.delay));
                    if !dropped {
                        self.inbound.push_back((Instant::now() + delay, env));
                    }
                }
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}
