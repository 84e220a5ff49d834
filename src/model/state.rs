//! One state of the model: every node (the real `core::Node`, or down), the messages in
//! flight, the clock, and the ghost record the properties are judged on.
//!
//! Two states are the same state when they are equal up to a renaming of node ids within a
//! symmetry class (nodes whose configuration and log are alike): the state's `Hash` is the
//! least digest over the class's renamings, which is how the checker's visited set merges
//! them (symmetry reduction).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

use crate::core::{Envelope, HardState, Instant, Node, NodeId, Term};

/// A renaming of node ids: `map[i]` is the new id of node `i + 1`.
pub(crate) type Renaming = Vec<u64>;

/// One node: up with its core, or down with only what it made durable.
#[derive(Clone)]
pub(crate) struct Slot {
    /// The node, `None` while crashed; shared between states until a step changes it.
    pub(crate) node: Option<Arc<Shared>>,
    /// What its storage holds: all a restart gets back.
    pub(crate) durable: HardState,
    /// A hard state taken from the node and being written.
    pub(crate) writing: Option<HardState>,
}

impl Slot {
    /// The node, to feed an input: copied first if another state shares it.
    pub(crate) fn node_mut(&mut self) -> Option<&mut Node> {
        unshare(&mut self.node)
    }
}

/// The node in `slot`, copied first if another state shares it.
pub(crate) fn unshare(slot: &mut Option<Arc<Shared>>) -> Option<&mut Node> {
    let shared = slot.as_mut()?;
    if Arc::get_mut(shared).is_none() {
        // The model builds every node with the built-in detector, which can be copied.
        let copy = shared.node.try_clone().expect("the built-in detector copies");
        *shared = Arc::new(Shared::new(copy));
    }
    let shared = Arc::get_mut(shared)?;
    shared.digests = OnceLock::new();
    Some(&mut shared.node)
}

/// A node shared by the states it is the same in, with its digest under each of the
/// symmetry's renamings, worked out once.
pub(crate) struct Shared {
    pub(crate) node: Node,
    digests: OnceLock<Vec<u64>>,
}

impl Shared {
    pub(crate) fn new(node: Node) -> Shared {
        Shared { node, digests: OnceLock::new() }
    }

    /// Its digest under renaming `r` of `symmetry`: a hash of the node's text.
    fn digest(&self, symmetry: &[Renaming], r: usize) -> u64 {
        let all = self.digests.get_or_init(|| {
            let mut text = String::new();
            symmetry
                .iter()
                .map(|renaming| {
                    text.clear();
                    self.node.model_digest(&|id| rename(renaming, id), &mut text);
                    let mut h = DefaultHasher::new();
                    text.hash(&mut h);
                    h.finish()
                })
                .collect()
        });
        all[r]
    }
}

impl std::ops::Deref for Shared {
    type Target = Node;

    fn deref(&self) -> &Node {
        &self.node
    }
}

/// `id` under `renaming`.
fn rename(renaming: &Renaming, id: NodeId) -> NodeId {
    NodeId(renaming.get(index(id)).copied().unwrap_or(id.0))
}

/// What the properties are judged on, beyond the nodes themselves: what happened so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ghost {
    /// Every (term, leader) elected so far.
    pub(crate) leaders: BTreeSet<(Term, NodeId)>,
    /// Every real vote sent: (voter, term, candidate).
    pub(crate) votes: BTreeSet<(NodeId, Term, NodeId)>,
    /// Per node, the latest instant it accepted a leader's heartbeat: kept across its crashes,
    /// which it forgets.
    pub(crate) contact: BTreeMap<NodeId, Contact>,
    /// Per leader, its term and when it last heard a successful answer of that term from
    /// each voter (a voter not heard from yet counts from the election).
    pub(crate) heard: BTreeMap<NodeId, (Term, BTreeMap<NodeId, Instant>)>,
    /// Properties a transition broke, each with what broke it.
    pub(crate) broken: BTreeMap<&'static str, String>,
    /// Crashes so far.
    pub(crate) crashes: u32,
}

/// A heartbeat a node accepted: when, and from which leader of which term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Contact {
    pub(crate) at: Instant,
    pub(crate) leader: NodeId,
    pub(crate) term: Term,
}

/// The whole system at one instant.
#[derive(Clone)]
pub struct State {
    pub(crate) now: Instant,
    pub(crate) slots: Vec<Slot>,
    /// The messages in flight, each with its number of copies.
    pub(crate) net: BTreeMap<Envelope, u8>,
    pub(crate) ghost: Ghost,
    /// The renamings the state is equal under (the identity first); not part of the state.
    pub(crate) symmetry: Arc<[Renaming]>,
}

impl State {
    /// The node with `id`, if up.
    pub(crate) fn node(&self, id: NodeId) -> Option<&Node> {
        self.slots.get(index(id)).and_then(|s| s.node.as_deref()).map(|s| &s.node)
    }

    /// The state's digest under renaming `r` of the symmetry: equal digests, equal states up
    /// to that renaming (a 64-bit hash, as the checker's own fingerprints are).
    fn digest(&self, r: usize) -> u64 {
        let renaming = &self.symmetry[r];
        let rename = |id: NodeId| rename(renaming, id);
        let mut h = DefaultHasher::new();
        self.now.hash(&mut h);
        // Slot j of the renamed state holds the node renamed to j + 1.
        let mut order: Vec<usize> = (0..self.slots.len()).collect();
        order.sort_by_key(|&i| renaming[i]);
        for i in order {
            let slot = &self.slots[i];
            let hard = |h: HardState| (h.term, h.voted_for.map(rename));
            (hard(slot.durable), slot.writing.map(hard)).hash(&mut h);
            slot.node.as_ref().map(|node| node.digest(&self.symmetry, r)).hash(&mut h);
            let id = NodeId(i as u64 + 1);
            self.ghost.contact.get(&id).map(|c| (c.at, rename(c.leader), c.term)).hash(&mut h);
            if let Some((term, heard)) = self.ghost.heard.get(&id) {
                let mut heard: Vec<_> = heard.iter().map(|(&v, &at)| (rename(v), at)).collect();
                heard.sort_unstable();
                (term, heard).hash(&mut h);
            }
        }
        let mut net: Vec<(Envelope, u8)> = self
            .net
            .iter()
            .map(|(e, &n)| {
                (Envelope { from: rename(e.from), to: rename(e.to), message: e.message }, n)
            })
            .collect();
        net.sort_unstable();
        net.hash(&mut h);
        let mut leaders: Vec<_> = self.ghost.leaders.iter().map(|&(t, l)| (t, rename(l))).collect();
        leaders.sort_unstable();
        leaders.hash(&mut h);
        let mut votes: Vec<_> =
            self.ghost.votes.iter().map(|&(v, t, c)| (rename(v), t, rename(c))).collect();
        votes.sort_unstable();
        votes.hash(&mut h);
        self.ghost.broken.keys().for_each(|k| k.hash(&mut h));
        self.ghost.crashes.hash(&mut h);
        h.finish()
    }

    /// The least digest over the symmetry's renamings: the same for every state in the class.
    fn canonical(&self) -> u64 {
        (0..self.symmetry.len()).map(|r| self.digest(r)).min().unwrap_or_default()
    }
}

/// The slot of node `id`.
pub(crate) fn index(id: NodeId) -> usize {
    (id.0 as usize).saturating_sub(1)
}

impl Hash for State {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.canonical());
    }
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.now)?;
        for (i, slot) in self.slots.iter().enumerate() {
            match &slot.node {
                Some(n) => write!(
                    f,
                    " n{}:{}/{}{}",
                    i + 1,
                    n.role(),
                    n.term(),
                    n.hard_state().voted_for.map(|v| format!("→n{}", v.0)).unwrap_or_default()
                )?,
                None => write!(f, " n{}:down/{}", i + 1, slot.durable.term)?,
            }
        }
        write!(f, " in-flight={}", self.net.values().map(|&n| usize::from(n)).sum::<usize>())
    }
}
