//! Forking a node: an exact copy to explore another future from the same state (a model
//! checker, a speculative run), and, for the model checker, a digest of everything that shapes
//! the node's future, with node ids renamed, for symmetry reduction.

use super::Node;
#[cfg(feature = "model")]
use crate::core::types::NodeId;

impl Node {
    /// An exact copy of this node, or `None` when its leader-side
    /// [`FailureDetector`](crate::core::FailureDetector) cannot be copied (see
    /// [`FailureDetector::try_clone`](crate::core::FailureDetector::try_clone); the built-in
    /// one can). Fed the same inputs, the copy and the original give the same outputs.
    pub fn try_clone(&self) -> Option<Node> {
        Some(Node {
            config: self.config.clone(),
            peers: self.peers.clone(),
            peer_voter: self.peer_voter.clone(),
            voter: self.voter,
            quorum: self.quorum,
            lease: self.lease,
            rng: self.rng.clone(),
            hard: self.hard,
            persisted: self.persisted,
            offered: self.offered,
            role: self.role,
            leader: self.leader,
            now: self.now,
            election_deadline: self.election_deadline,
            last_leader_contact: self.last_leader_contact,
            withhold_votes_until: self.withhold_votes_until,
            votes: self.votes.clone(),
            lead: self.lead.clone(),
            detector: self.detector.try_clone()?,
            leader_detector: self.leader_detector.boxed_clone(),
            shadows: self.shadows.clone(),
            local_health: self.local_health,
            last_log: self.last_log,
            leader_last_log: self.leader_last_log,
            leader_arrivals: self.leader_arrivals,
            arrivals_of: self.arrivals_of,
            timer_started: self.timer_started,
            timer_range: self.timer_range,
            commit_index: self.commit_index,
            leader_commit: self.leader_commit,
            outbox: self.outbox.clone(),
            events: self.events.clone(),
            counters: self.counters,
        })
    }

    /// The messages not yet taken by `poll_transmit`, oldest first (right after an input, the
    /// ones it produced; later, those held back until the hard state is durable): a model
    /// checker judges what the node decided at the input that decided it, not when it is sent.
    #[cfg(feature = "model")]
    pub(crate) fn unsent(&self) -> impl Iterator<Item = &crate::core::Envelope> {
        self.outbox.iter()
    }

    /// Writes to `out` everything that shapes this node's future protocol behaviour, with
    /// every node id passed through `rename`, and per-peer state keyed by renamed id in id
    /// order, so that two nodes equal up to a renaming of ids write the same text.
    ///
    /// Left out, each for its reason: the configuration (the model checker gives every node
    /// the same one, up to its id); the generator (the model checker requires a timeout
    /// range of one value, so draws do not depend on it); the leader's follower detector
    /// (it only reports suspicions and sets wake-ups, never the protocol's state); arrival
    /// statistics and counters (telemetry); the events (drained after every input); the latest
    /// instant seen (it only guards against a clock going back, which the model's never does).
    #[cfg(feature = "model")]
    pub(crate) fn model_digest(&self, rename: &dyn Fn(NodeId) -> NodeId, out: &mut String) {
        use std::fmt::Write;

        let Node {
            config: _,
            peers,
            peer_voter,
            voter,
            quorum,
            lease,
            rng: _,
            hard,
            persisted,
            offered,
            role,
            leader,
            now: _,
            election_deadline,
            last_leader_contact,
            withhold_votes_until,
            votes,
            lead,
            detector: _,
            leader_detector,
            shadows,
            local_health,
            last_log,
            leader_last_log,
            leader_arrivals: _,
            arrivals_of,
            timer_started,
            timer_range,
            commit_index,
            leader_commit,
            outbox,
            events: _,
            counters: _,
        } = self;
        let renamed = |h: &crate::core::HardState| (h.term, h.voted_for.map(rename));
        let mut per_peer: Vec<(NodeId, String)> = peers
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let mut s = String::new();
                let _ = write!(s, "{:?} {:?} ", peer_voter[i], votes.answer(i));
                lead.peer_digest(i, &mut s);
                (rename(p), s)
            })
            .collect();
        per_peer.sort_by_key(|(id, _)| *id);
        let _ = write!(
            out,
            "{per_peer:?} {voter} {quorum} {lease:?} {:?} {:?} {:?} {role:?} {:?} \
             {election_deadline:?} {last_leader_contact:?} {withhold_votes_until:?} ",
            renamed(hard),
            renamed(persisted),
            offered.as_ref().map(renamed),
            leader.map(rename),
        );
        lead.digest(rename, out);
        let _ = write!(
            out,
            " {leader_detector:?} {shadows:?} {local_health:?} {last_log:?} {leader_last_log:?} \
             {:?} {timer_started:?} {timer_range:?} {commit_index} {leader_commit} ",
            arrivals_of.map(|(id, term)| (rename(id), term)),
        );
        // Held back until the hard state is durable; messages name no node but in the envelope.
        for e in outbox {
            let _ = write!(out, "{:?}>{:?} {:?};", rename(e.from), rename(e.to), e.message);
        }
    }
}
