//! What an embedder adds to a run: their [`Host`] around every node, and invariants of their
//! own, checked at every event like the built-in ones and reported the same way.

use std::fmt;
use std::sync::Arc;

use super::host::Host;
use crate::core::{Instant, Node, NodeId};

/// Builds node `id`'s host, at the trial's start and at every restart.
pub type HostFactory = dyn Fn(NodeId) -> Box<dyn Host> + Send + Sync;

/// One trial's instance of a user invariant: `Err(what was seen)` when it is broken.
pub type InvariantCheck = Box<dyn FnMut(&View<'_>) -> Result<(), String>>;

/// A named invariant, built afresh for every trial (so it may keep state across events).
#[derive(Clone)]
pub(crate) struct UserInvariant {
    pub(crate) name: String,
    pub(crate) make: Arc<dyn Fn() -> InvariantCheck + Send + Sync>,
}

/// The hosts and invariants of a run; empty by default (the built-in run).
#[derive(Clone, Default)]
pub struct Harness {
    pub(crate) hosts: Option<Arc<HostFactory>>,
    pub(crate) invariants: Vec<UserInvariant>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("hosts", &self.hosts.is_some())
            .field("invariants", &self.invariants.iter().map(|i| &i.name).collect::<Vec<_>>())
            .finish()
    }
}

impl Harness {
    /// Runs `make(id)`'s host around every node.
    pub fn hosts(mut self, make: impl Fn(NodeId) -> Box<dyn Host> + Send + Sync + 'static) -> Self {
        self.hosts = Some(Arc::new(make));
        self
    }

    /// Adds an invariant `name` that `check` decides from the world as it is at every event.
    pub fn invariant(
        self,
        name: &str,
        check: impl Fn(&View<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        let check = Arc::new(check);
        self.stateful_invariant(name, move || {
            let check = Arc::clone(&check);
            Box::new(move |view: &View<'_>| check(view))
        })
    }

    /// Adds an invariant `name` with state of its own: `make` builds it afresh for every trial,
    /// and it sees every event of that trial in order (for example, that a commit index never
    /// goes back).
    pub fn stateful_invariant(
        mut self,
        name: &str,
        make: impl Fn() -> InvariantCheck + Send + Sync + 'static,
    ) -> Self {
        self.invariants.push(UserInvariant { name: name.to_string(), make: Arc::new(make) });
        self
    }

    /// Whether a host runs around the nodes.
    pub fn has_hosts(&self) -> bool {
        self.hosts.is_some()
    }
}

/// What the engine shows an invariant; implemented by the engine.
pub(crate) trait WorldView {
    fn view_now(&self) -> Instant;
    fn view_trial(&self) -> u64;
    fn view_ids(&self) -> Vec<NodeId>;
    fn view_node(&self, id: NodeId) -> Option<&Node>;
    fn view_host(&self, id: NodeId) -> Option<&dyn Host>;
    fn view_paused(&self, id: NodeId) -> bool;
    fn view_incarnation(&self, id: NodeId) -> u32;
}

/// A read-only view of one trial's world, for user invariants.
pub struct View<'w> {
    world: &'w (dyn WorldView + 'w),
}

impl<'w> View<'w> {
    pub(crate) fn new(world: &'w (dyn WorldView + 'w)) -> Self {
        View { world }
    }

    /// Real (simulated) time.
    pub fn now(&self) -> Instant {
        self.world.view_now()
    }

    /// The trial's index.
    pub fn trial(&self) -> u64 {
        self.world.view_trial()
    }

    /// Every node of the cluster, up or down, in id order.
    pub fn ids(&self) -> Vec<NodeId> {
        self.world.view_ids()
    }

    /// Node `id`, unless it is down.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.world.view_node(id)
    }

    /// Node `id`'s host, as the type `H` the factory built, unless the node is down (or its
    /// host is another type).
    pub fn host<H: Host>(&self, id: NodeId) -> Option<&H> {
        let host: &dyn std::any::Any = self.world.view_host(id)?;
        host.downcast_ref::<H>()
    }

    /// Whether node `id` is paused now.
    pub fn paused(&self, id: NodeId) -> bool {
        self.world.view_paused(id)
    }

    /// How many times node `id` has crashed so far: its volatile state is new in each
    /// incarnation.
    pub fn incarnation(&self, id: NodeId) -> u32 {
        self.world.view_incarnation(id)
    }
}
