//! The model: the initial state, the steps enabled in a state, and what each step does to the
//! real nodes, observed by the ghost record that the properties judge.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::options::{Options, STEP};
use super::state::{index, unshare, Contact, Ghost, Renaming, Shared, Slot, State};
use crate::core::{
    Config, Envelope, HardState, Instant, Message, Node, NodeId, Role, Term, VoteKind, VoteResponse,
};

/// Names of the properties a transition can break (the others are judged on the state).
pub(crate) const STICKINESS: &str = "leader stickiness";
pub(crate) const RESTRICTION: &str = "election restriction";
pub(crate) const CHECK_QUORUM: &str = "check quorum";
pub(crate) const PRE_VOTE: &str = "pre-vote changes no term";
pub(crate) const REFUSED: &str = "no input is refused";
pub(crate) const DISRUPTION: &str = "a leader a majority hears is not deposed";

/// One step of the system.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    /// The clock moves one step.
    Tick,
    /// A node's timer fires (at or after its deadline: a timer may be late, never early).
    Fire(NodeId),
    /// A node's hard-state write lands.
    Write(NodeId),
    /// A message is delivered and leaves the network.
    Deliver(Envelope),
    /// A copy of a message is delivered; the message stays in flight.
    Duplicate(Envelope),
    /// A message is lost.
    Drop(Envelope),
    /// A node crashes: it loses all but its durable hard state.
    Crash(NodeId),
    /// A crashed node restarts from its durable hard state.
    Restart(NodeId),
}

/// The cluster of [`Options`] as a state machine for the checker.
pub struct Machine {
    pub(crate) options: Options,
    configs: Vec<Config>,
    symmetry: Arc<[Renaming]>,
    /// The minimum election timeout: stickiness's and check quorum's window.
    window: Duration,
}

impl Machine {
    /// The machine for `options`, which must be valid.
    pub fn new(options: Options) -> Machine {
        let configs = options.ids().map(|id| options.config(id)).collect();
        let symmetry = symmetry(&options).into();
        let window = STEP * options.timeout_steps as u32;
        Machine { options, configs, symmetry, window }
    }

    /// The state every execution starts from: every node up, in term 1 with no vote, its
    /// timer just started, nothing in flight.
    pub(crate) fn initial(&self) -> State {
        let now = Instant::ZERO;
        let durable = HardState { term: Term(1), voted_for: None };
        let slots = self
            .options
            .ids()
            .map(|id| {
                let node = Node::restart(self.config(id), durable, self.options.last_log(id), now)
                    .expect("the model's configuration is valid");
                Slot { node: Some(Arc::new(Shared::new(node))), durable, writing: None }
            })
            .collect();
        State {
            now,
            slots,
            net: BTreeMap::new(),
            ghost: Ghost::default(),
            symmetry: Arc::clone(&self.symmetry),
        }
    }

    /// How many renamings of node ids the symmetry reduction merges states under.
    pub(crate) fn symmetry_size(&self) -> usize {
        self.symmetry.len()
    }

    /// A step in words.
    pub(crate) fn describe(&self, step: Step) -> String {
        let message = |e: Envelope| format!("{}→{} {:?}", e.from, e.to, e.message);
        match step {
            Step::Tick => format!("the clock moves {} ms", STEP.as_millis()),
            Step::Fire(id) => format!("{id}'s timer fires"),
            Step::Write(id) => format!("{id}'s hard-state write lands"),
            Step::Deliver(e) => format!("deliver {}", message(e)),
            Step::Duplicate(e) => format!("deliver a copy of {}", message(e)),
            Step::Drop(e) => format!("lose {}", message(e)),
            Step::Crash(id) => format!("{id} crashes"),
            Step::Restart(id) => format!("{id} restarts"),
        }
    }

    fn config(&self, id: NodeId) -> Config {
        self.configs[index(id)].clone()
    }

    /// The steps enabled in `state`.
    pub(crate) fn steps(&self, state: &State, steps: &mut Vec<Step>) {
        let o = &self.options;
        let due = |slot: &Slot| slot.node.as_ref().is_some_and(|n| state.now >= n.poll_timeout());
        let on_time = o.late_timers || !state.slots.iter().any(due);
        if on_time && state.now + STEP <= Instant::ZERO + STEP * o.horizon_steps as u32 {
            steps.push(Step::Tick);
        }
        for (i, slot) in state.slots.iter().enumerate() {
            let id = NodeId(i as u64 + 1);
            match &slot.node {
                Some(node) => {
                    if state.now >= node.poll_timeout() {
                        steps.push(Step::Fire(id));
                    }
                    if slot.writing.is_some() {
                        steps.push(Step::Write(id));
                    }
                    if state.ghost.crashes < o.max_crashes {
                        steps.push(Step::Crash(id));
                    }
                }
                None => steps.push(Step::Restart(id)),
            }
        }
        for &e in state.net.keys() {
            steps.push(Step::Deliver(e));
            if o.duplicates {
                steps.push(Step::Duplicate(e));
            }
            steps.push(Step::Drop(e));
        }
    }

    /// `state` after `step`.
    pub(crate) fn apply(&self, state: &State, step: Step) -> State {
        let mut s = state.clone();
        match step {
            Step::Tick => s.now = s.now + STEP,
            Step::Fire(id) => {
                let before = s.node(id).map(|n| (n.role(), n.term()));
                let now = s.now;
                if let Some(node) = node_mut(&mut s, id) {
                    node.handle_timeout(now);
                }
                self.judge_check_quorum(&mut s, id, before);
                self.after_input(&mut s, id, before);
            }
            Step::Write(id) => {
                let before = s.node(id).map(|n| (n.role(), n.term()));
                let now = s.now;
                let slot = &mut s.slots[index(id)];
                if let Some(hard) = slot.writing.take() {
                    slot.durable = hard;
                    if let Some(node) = slot.node_mut() {
                        node.hard_state_persisted(now, hard);
                    }
                }
                self.after_input(&mut s, id, before);
            }
            Step::Deliver(e) | Step::Duplicate(e) => {
                if step == Step::Deliver(e) {
                    take(&mut s, e);
                }
                self.deliver(&mut s, e);
            }
            Step::Drop(e) => take(&mut s, e),
            Step::Crash(id) => {
                let slot = &mut s.slots[index(id)];
                slot.node = None;
                slot.writing = None;
                s.ghost.crashes += 1;
                s.ghost.heard.remove(&id);
            }
            Step::Restart(id) => {
                let slot = &s.slots[index(id)];
                let restarted =
                    Node::restart(self.config(id), slot.durable, self.options.last_log(id), s.now);
                match restarted {
                    Ok(node) => s.slots[index(id)].node = Some(Arc::new(Shared::new(node))),
                    Err(e) => {
                        s.ghost.broken.insert(REFUSED, format!("restart of {id} refused: {e}"));
                    }
                }
                self.after_input(&mut s, id, None);
            }
        }
        s
    }

    fn deliver(&self, s: &mut State, e: Envelope) {
        let to = e.to;
        let Some(node) = s.node(to) else { return };
        let before = Some((node.role(), node.term()));
        let hard_before = node.hard_state();
        let unsent = node.unsent().count();
        let now = s.now;
        let node = node_mut(s, to).expect("up");
        // A refused input (a stranger, a term out of range) changes nothing: the model sends
        // none, so a refusal here is itself a finding.
        if let Err(error) = node.handle_message(now, e) {
            s.ghost.broken.insert(REFUSED, format!("{to} refused {e:?}: {error}"));
        }
        let node = s.node(to).expect("up");
        let (role, term, leader, hard) =
            (node.role(), node.term(), node.leader(), node.hard_state());
        if let Message::VoteRequest(_) = e.message {
            let decided: Vec<Envelope> = node.unsent().skip(unsent).copied().collect();
            self.judge_stickiness(s, to, hard_before, &decided);
        }
        match e.message {
            Message::Heartbeat(h) if h.term == term && leader == Some(e.from) => {
                s.ghost.contact.insert(to, Contact { at: now, leader: e.from, term });
            }
            Message::HeartbeatResponse(r)
                if r.success && role == Role::Leader && r.term == term =>
            {
                if let Some((t, heard)) = s.ghost.heard.get_mut(&to) {
                    if *t == term && heard.contains_key(&e.from) {
                        heard.insert(e.from, now);
                    }
                }
            }
            _ => {}
        }
        let pre_vote = match e.message {
            Message::VoteRequest(r) => r.kind == VoteKind::PreVote,
            Message::VoteResponse(r) => r.kind == VoteKind::PreVote && r.granted,
            _ => false,
        };
        let own_campaign = role == Role::Candidate
            && hard.voted_for == Some(to)
            && hard_before.term.next() == Some(hard.term);
        if self.options.pre_vote && pre_vote && hard != hard_before && !own_campaign {
            s.ghost.broken.insert(
                PRE_VOTE,
                format!(
                    "{to} went from {hard_before:?} to {hard:?} on {:?} from {}",
                    e.message, e.from
                ),
            );
        }
        self.after_input(s, to, before);
    }

    /// Check quorum (thesis §6.2), judged at a leader's timer firing: one at or past a
    /// minimum election timeout since a majority of its voters (itself once) was last heard
    /// must find it no longer leading.
    fn judge_check_quorum(&self, s: &mut State, id: NodeId, before: Option<(Role, Term)>) {
        let Some(node) = s.node(id) else { return };
        if !self.options.check_quorum || node.role() != Role::Leader {
            return;
        }
        if before != Some((Role::Leader, node.term())) {
            return;
        }
        let Some((term, heard)) = s.ghost.heard.get(&id) else { return };
        let mut times: Vec<Instant> = heard.values().copied().collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        let needed = usize::try_from(self.options.voters / 2).unwrap_or(usize::MAX);
        let Some(&majority_heard) = needed.checked_sub(1).and_then(|k| times.get(k)) else {
            return;
        };
        if s.now >= majority_heard + self.window {
            let text = format!(
                "{id} still leads {term} at {} though a majority of its voters was last heard at {majority_heard}",
                s.now
            );
            s.ghost.broken.insert(CHECK_QUORUM, text);
        }
    }

    /// No disruption (thesis §4.2.3, §9.6): leader `id` of term `led`, deposed by term
    /// `term`, must not have been heard within a minimum election timeout by a majority of
    /// the voters (itself included). With pre-vote and stickiness no node that a majority
    /// out-votes can raise the term; without pre-vote, a node cut off from the leader raises
    /// its term alone and, back in touch, deposes it: the disruption the thesis warns of.
    fn judge_disruption(&self, s: &mut State, id: NodeId, led: Term, term: Term) {
        let heard = s
            .ghost
            .contact
            .iter()
            .filter(|(&v, c)| {
                v.0 <= self.options.voters
                    && c.leader == id
                    && c.term == led
                    && s.now < c.at + self.window
            })
            .count();
        let heard = heard + usize::from(id.0 <= self.options.voters);
        let quorum = usize::try_from(self.options.voters / 2 + 1).unwrap_or(usize::MAX);
        if heard >= quorum {
            let text = format!(
                "{id}, leading {led} and heard by {heard} of {} voters within {:?}, was deposed by {term} at {}",
                self.options.voters, self.window, s.now
            );
            s.ghost.broken.insert(DISRUPTION, text);
        }
    }

    /// Drains node `id`'s outputs after an input, in the documented order, and records what
    /// the properties need: votes sent, elections won.
    fn after_input(&self, s: &mut State, id: NodeId, before: Option<(Role, Term)>) {
        let now = s.now;
        let i = index(id);
        let slot = &mut s.slots[i];
        let async_writes = self.options.async_writes;
        let (writing, durable) = (&mut slot.writing, &mut slot.durable);
        let Some(node) = unshare(&mut slot.node) else { return };
        let mut sent = Vec::new();
        loop {
            if let Some(hard) = node.take_hard_state() {
                if async_writes {
                    *writing = Some(hard);
                } else {
                    *durable = hard;
                    node.hard_state_persisted(now, hard);
                    continue;
                }
            }
            while let Some(e) = node.poll_transmit() {
                sent.push(e);
            }
            break;
        }
        while node.poll_event().is_some() {}
        let (role, term) = (node.role(), node.term());
        if let Some((Role::Leader, led)) = before {
            if term > led {
                self.judge_disruption(s, id, led, term);
            }
        }
        for e in sent {
            self.observe_sent(s, e);
            let in_flight: usize = s.net.values().map(|&n| usize::from(n)).sum();
            if in_flight < self.options.max_in_flight {
                *s.net.entry(e).or_insert(0) += 1;
            }
        }
        if role == Role::Leader && before != Some((Role::Leader, term)) {
            s.ghost.leaders.insert((term, id));
            let committed = self.options.committed();
            let last = self.options.last_log(id);
            if last < committed {
                let text = format!("{id} leads {term} with its log at {last:?}, short of the committed {committed:?}");
                s.ghost.broken.insert(RESTRICTION, text);
            }
            let voters = (1..=self.options.voters).map(NodeId).filter(|&v| v != id);
            s.ghost.heard.insert(id, (term, voters.map(|v| (v, now)).collect()));
        } else if role != Role::Leader {
            s.ghost.heard.remove(&id);
        }
    }

    /// A message node `e.from` sent: a real vote is recorded, and judged against the logs.
    fn observe_sent(&self, s: &mut State, e: Envelope) {
        let Message::VoteResponse(VoteResponse { granted: true, kind, term }) = e.message else {
            return;
        };
        if kind == VoteKind::PreVote {
            return;
        }
        let (voter, candidate) = (e.from, e.to);
        s.ghost.votes.insert((voter, term, candidate));
        let (theirs, ours) = (self.options.last_log(candidate), self.options.last_log(voter));
        if theirs < ours {
            let text = format!("{voter} voted in {term} for {candidate}, whose log {theirs:?} is behind its {ours:?}");
            s.ghost.broken.insert(RESTRICTION, text);
        }
    }

    /// Leader stickiness (thesis §4.2.3), judged when node `voter` decides on a request (its
    /// grant may leave later, once its hard state is durable): no vote or pre-vote within a
    /// minimum election timeout of hearing from a leader, except a transfer's (the leader
    /// asked) and a re-grant of the vote it already holds for that candidate in that term
    /// (Figure 2: "votedFor is null or candidateId").
    fn judge_stickiness(
        &self,
        s: &mut State,
        voter: NodeId,
        before: HardState,
        decided: &[Envelope],
    ) {
        if !self.options.stickiness {
            return;
        }
        let Some(contact) = s.ghost.contact.get(&voter).map(|c| c.at) else { return };
        if s.now >= contact + self.window {
            return;
        }
        for e in decided {
            let Message::VoteResponse(VoteResponse { granted: true, kind, term }) = e.message
            else {
                continue;
            };
            let regrant =
                kind == VoteKind::Vote && before == HardState { term, voted_for: Some(e.to) };
            if kind == VoteKind::Transfer || regrant {
                continue;
            }
            let text = format!(
                "{voter} granted a {kind:?} in {term} to {} at {}, having heard a leader at {contact}",
                e.to, s.now
            );
            s.ghost.broken.insert(STICKINESS, text);
        }
    }

    /// Whether `state` is inside the bounds: no term past the maximum.
    pub(crate) fn within_bounds(&self, state: &State) -> bool {
        let max = Term(self.options.max_term);
        state.slots.iter().all(|slot| {
            slot.durable.term <= max && slot.node.as_ref().is_none_or(|n| n.term() <= max)
        })
    }
}

fn node_mut(s: &mut State, id: NodeId) -> Option<&mut Node> {
    s.slots.get_mut(index(id)).and_then(|slot| slot.node_mut())
}

/// Takes one copy of `e` out of the network.
fn take(s: &mut State, e: Envelope) {
    if let Some(n) = s.net.get_mut(&e) {
        *n -= 1;
        if *n == 0 {
            s.net.remove(&e);
        }
    }
}

/// The renamings under which the cluster is symmetric: permutations of voters whose logs are
/// alike, and of the learners, the identity first.
fn symmetry(options: &Options) -> Vec<Renaming> {
    let ids: Vec<NodeId> = options.ids().collect();
    let class = |id: NodeId| (id.0 > options.voters, options.last_log(id));
    let mut all = vec![];
    permute(0, &mut ids.iter().map(|id| id.0).collect(), &mut all);
    all.retain(|r: &Renaming| ids.iter().all(|&id| class(id) == class(NodeId(r[index(id)]))));
    all.sort_by_key(|r| r.iter().enumerate().any(|(i, &v)| v != i as u64 + 1));
    all
}

/// Every permutation of `current[k..]`, appended to `out`.
fn permute(k: usize, current: &mut Vec<u64>, out: &mut Vec<Renaming>) {
    if k == current.len() {
        out.push(current.clone());
        return;
    }
    for j in k..current.len() {
        current.swap(k, j);
        permute(k + 1, current, out);
        current.swap(k, j);
    }
}
