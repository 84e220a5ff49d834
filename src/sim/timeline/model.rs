//! What a trial looked like: each node's roles and terms over time, its lease, its timeouts,
//! its outages, and every message from send to delivery or drop.
//!
//! A node starts as a follower in term 0 (Raft §5.2). A crash ends its roles until it restarts,
//! as a follower in the last term it made durable (the `persist` records): the term a real
//! node reads back from its disk.

use super::error::TimelineError;
use super::messages::{Arrow, Pairing};
use super::read::{Change, Entry, Item, TrialTrace};
use crate::core::{NodeId, Role, Term};

/// The most lanes a timeline draws.
pub const MAX_NODES: u64 = 64;

/// A span of one node's time, ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The node.
    pub node: NodeId,
    /// Start, ns.
    pub start_ns: u64,
    /// End, ns.
    pub end_ns: u64,
}

/// A node in one role and term for a span of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    /// When.
    pub span: Span,
    /// The role.
    pub role: Role,
    /// The term.
    pub term: Term,
}

/// Why a node did not run for a span of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutageKind {
    /// Crashed, until it restarted.
    Crash,
    /// Paused (a stop-the-world stall), until it resumed.
    Pause,
}

/// A span a node did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// When.
    pub span: Span,
    /// Why.
    pub kind: OutageKind,
}

/// A moment on a node's lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// Its election timer fired.
    Timeout,
    /// Its election timer fired after its own stall and was deferred (local health).
    Deferred,
}

/// A moment on a node's lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The node.
    pub node: NodeId,
    /// When, ns.
    pub t_ns: u64,
    /// What.
    pub kind: MarkKind,
}

/// A change across the whole picture: the network, a node's clock, the membership.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// When, ns.
    pub t_ns: u64,
    /// The node it concerns, if any.
    pub node: Option<NodeId>,
    /// What.
    pub change: Change,
}

/// Everything a timeline draws of one trial, over the whole trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The trial.
    pub trial: u64,
    /// The number of nodes: the highest id seen.
    pub nodes: u64,
    /// The time of the trial's last record, ns.
    pub end_ns: u64,
    /// Roles and terms.
    pub bands: Vec<Band>,
    /// The spans each node led: with leases enabled, its lease lies within them (see
    /// [`Timeline::build`]).
    pub leases: Vec<Span>,
    /// Crashes and pauses.
    pub outages: Vec<Outage>,
    /// Election timeouts and deferrals.
    pub marks: Vec<Mark>,
    /// Network, clock and membership changes.
    pub notes: Vec<Note>,
    /// Messages, in the order they were sent.
    pub arrows: Vec<Arrow>,
}

/// What is known of one node as the trace is read.
#[derive(Clone, Copy, Debug)]
struct NodeState {
    role: Role,
    term: Term,
    /// Start of the current band; `None` while crashed.
    band_since: Option<u64>,
    /// Start of the current leadership.
    lease_since: Option<u64>,
    crashed_at: Option<u64>,
    /// Start and planned end of the current pause.
    paused: Option<(u64, u64)>,
    durable_term: Term,
}

impl Default for NodeState {
    fn default() -> Self {
        NodeState {
            role: Role::Follower,
            term: Term(0),
            band_since: Some(0),
            lease_since: None,
            crashed_at: None,
            paused: None,
            durable_term: Term(0),
        }
    }
}

impl Timeline {
    /// The timeline of a trial's records.
    ///
    /// The trace has no record of a lease being taken: the lease span of a node runs from its
    /// election to its `LeaseExpired` event or the end of its leadership (a step-down or a
    /// crash). With leases enabled the lease lies within it, beginning only once a majority
    /// acknowledged a heartbeat round, and it may lapse and come back within it unrecorded.
    pub fn build(trace: &TrialTrace) -> Result<Timeline, TimelineError> {
        let mut b = Builder::default();
        for Entry { t_ns, item } in &trace.entries {
            b.end_ns = b.end_ns.max(*t_ns);
            b.item(*t_ns, item)?;
        }
        Ok(b.finish(trace.trial))
    }
}

#[derive(Default)]
struct Builder {
    nodes: Vec<NodeState>,
    end_ns: u64,
    bands: Vec<Band>,
    leases: Vec<Span>,
    outages: Vec<Outage>,
    marks: Vec<Mark>,
    notes: Vec<Note>,
    pairing: Pairing,
}

impl Builder {
    fn item(&mut self, t: u64, item: &Item) -> Result<(), TimelineError> {
        match *item {
            Item::Send { from, to, message, term } => {
                self.see(from.max(to))?;
                self.pairing.send(t, from, to, message, term);
            }
            Item::Deliver { from, to, message, term } => {
                self.see(from.max(to))?;
                self.pairing.deliver(t, from, to, message, term);
            }
            Item::Drop { from, to, message, reason } => {
                self.see(from.max(to))?;
                self.pairing.drop(t, from, to, message, reason);
            }
            Item::Persist { node, term } => self.state(node)?.durable_term = term,
            Item::RoleChanged { node, term, to } => {
                let was_leader = self.state(node)?.role == Role::Leader;
                self.switch(node, t, to, term);
                if to == Role::Leader && !was_leader {
                    self.state(node)?.lease_since = Some(t);
                } else if to != Role::Leader {
                    self.end_lease(node, t);
                }
            }
            Item::TermChanged { node, to } => {
                let role = self.state(node)?.role;
                self.switch(node, t, role, to);
            }
            Item::ElectionTimeout { node } => self.mark(node, t, MarkKind::Timeout)?,
            Item::ElectionTimeoutDeferred { node } => self.mark(node, t, MarkKind::Deferred)?,
            Item::LeaseExpired { node } => {
                self.see(node)?;
                self.end_lease(node, t);
            }
            Item::Crash(node) => {
                self.see(node)?;
                self.close_band(node, t);
                self.end_lease(node, t);
                self.end_pause(node, t);
                let s = self.state(node)?;
                s.band_since = None;
                s.crashed_at = Some(t);
            }
            Item::Restart(node) => {
                let s = self.state(node)?;
                if let Some(start_ns) = s.crashed_at.take() {
                    let span = Span { node, start_ns, end_ns: t };
                    self.outages.push(Outage { span, kind: OutageKind::Crash });
                }
                let s = self.state(node)?;
                (s.role, s.term, s.band_since) = (Role::Follower, s.durable_term, Some(t));
            }
            Item::Pause { node, for_ns } => {
                self.see(node)?;
                self.end_pause(node, t);
                self.state(node)?.paused = Some((t, t.saturating_add(for_ns)));
            }
            Item::Resume(node) => {
                self.see(node)?;
                self.end_pause(node, t);
            }
            Item::Change { node, ref change } => {
                if let Some(node) = node {
                    self.see(node)?;
                }
                self.notes.push(Note { t_ns: t, node, change: change.clone() });
            }
        }
        Ok(())
    }

    /// Makes room for node `id` (and every lower id).
    fn see(&mut self, id: NodeId) -> Result<(), TimelineError> {
        if id.0 > MAX_NODES {
            return Err(TimelineError::TooManyNodes { node: id.0, max: MAX_NODES });
        }
        let n = usize::try_from(id.0).expect("at most MAX_NODES");
        if self.nodes.len() < n {
            self.nodes.resize(n, NodeState::default());
        }
        Ok(())
    }

    fn state(&mut self, id: NodeId) -> Result<&mut NodeState, TimelineError> {
        self.see(id)?;
        Ok(&mut self.nodes[index(id)])
    }

    fn mark(&mut self, node: NodeId, t_ns: u64, kind: MarkKind) -> Result<(), TimelineError> {
        self.see(node)?;
        self.marks.push(Mark { node, t_ns, kind });
        Ok(())
    }

    /// Node `id` is in `role` and `term` from `t`.
    fn switch(&mut self, id: NodeId, t: u64, role: Role, term: Term) {
        let s = self.nodes[index(id)];
        if s.band_since.is_none() || (s.role, s.term) == (role, term) {
            return;
        }
        self.close_band(id, t);
        let s = &mut self.nodes[index(id)];
        (s.role, s.term, s.band_since) = (role, term, Some(t));
    }

    fn close_band(&mut self, id: NodeId, t: u64) {
        let s = self.nodes[index(id)];
        if let Some(start_ns) = s.band_since.filter(|&start| start < t) {
            let span = Span { node: id, start_ns, end_ns: t };
            self.bands.push(Band { span, role: s.role, term: s.term });
        }
    }

    fn end_lease(&mut self, id: NodeId, t: u64) {
        if let Some(start_ns) = self.nodes[index(id)].lease_since.take() {
            self.leases.push(Span { node: id, start_ns, end_ns: t });
        }
    }

    fn end_pause(&mut self, id: NodeId, t: u64) {
        if let Some((start_ns, until)) = self.nodes[index(id)].paused.take() {
            let span = Span { node: id, start_ns, end_ns: until.min(t) };
            self.outages.push(Outage { span, kind: OutageKind::Pause });
        }
    }

    fn finish(mut self, trial: u64) -> Timeline {
        let end = self.end_ns;
        for i in 0..self.nodes.len() {
            let id = NodeId(i as u64 + 1);
            self.close_band(id, end);
            self.end_lease(id, end);
            if let Some((start_ns, until)) = self.nodes[i].paused.take() {
                let span = Span { node: id, start_ns, end_ns: until.min(end) };
                self.outages.push(Outage { span, kind: OutageKind::Pause });
            }
            if let Some(start_ns) = self.nodes[i].crashed_at.take() {
                let span = Span { node: id, start_ns, end_ns: end };
                self.outages.push(Outage { span, kind: OutageKind::Crash });
            }
        }
        self.bands.sort_by_key(|b| (b.span.node, b.span.start_ns));
        self.leases.sort_by_key(|s| (s.node, s.start_ns));
        self.outages.sort_by_key(|o| (o.span.node, o.span.start_ns));
        Timeline {
            trial,
            nodes: self.nodes.len() as u64,
            end_ns: end,
            bands: self.bands,
            leases: self.leases,
            outages: self.outages,
            marks: self.marks,
            notes: self.notes,
            arrows: self.pairing.finish(),
        }
    }
}

fn index(id: NodeId) -> usize {
    (id.0 - 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::timeline::fixture::FAILOVER;
    use crate::sim::timeline::read::read;

    fn failover() -> Timeline {
        Timeline::build(&read(FAILOVER.as_bytes(), None).unwrap()).unwrap()
    }

    fn roles(t: &Timeline, node: u64) -> Vec<(u64, u64, Role, u64)> {
        t.bands
            .iter()
            .filter(|b| b.span.node == NodeId(node))
            .map(|b| (b.span.start_ns / 1_000_000, b.span.end_ns / 1_000_000, b.role, b.term.0))
            .collect()
    }

    #[test]
    fn roles_and_terms_follow_the_events_from_a_follower_in_term_zero() {
        let t = failover();
        assert_eq!((t.nodes, t.end_ns), (3, 500_000_000));
        assert_eq!(
            roles(&t, 2),
            vec![
                (0, 50, Role::Follower, 0),
                (50, 250, Role::Follower, 1),
                (250, 251, Role::PreCandidate, 1),
                (251, 260, Role::Candidate, 2),
                (260, 500, Role::Leader, 2),
            ]
        );
        assert_eq!(roles(&t, 3), vec![(0, 30, Role::Follower, 0), (30, 500, Role::Follower, 1)]);
    }

    #[test]
    fn a_crashed_node_has_no_role_and_restarts_a_follower_in_its_durable_term() {
        let t = failover();
        assert_eq!(roles(&t, 1), vec![(0, 100, Role::Leader, 1), (300, 500, Role::Follower, 1)]);
        let crash = Span { node: NodeId(1), start_ns: 100_000_000, end_ns: 300_000_000 };
        let pause = Span { node: NodeId(3), start_ns: 400_000_000, end_ns: 420_000_000 };
        assert_eq!(
            t.outages,
            vec![
                Outage { span: crash, kind: OutageKind::Crash },
                Outage { span: pause, kind: OutageKind::Pause }
            ]
        );
    }

    #[test]
    fn a_lease_span_runs_from_election_to_lease_expiry_or_the_end_of_leadership() {
        let t = failover();
        assert_eq!(
            t.leases,
            vec![
                Span { node: NodeId(1), start_ns: 0, end_ns: 100_000_000 },
                Span { node: NodeId(2), start_ns: 260_000_000, end_ns: 350_000_000 },
            ]
        );
    }

    #[test]
    fn timeouts_deferrals_and_network_changes_are_kept_as_moments() {
        let t = failover();
        let marks: Vec<(u64, MarkKind)> = t.marks.iter().map(|m| (m.node.0, m.kind)).collect();
        assert_eq!(marks, vec![(2, MarkKind::Timeout), (3, MarkKind::Deferred)]);
        assert_eq!(t.notes, vec![Note { t_ns: 280_000_000, node: None, change: Change::Network }]);
        assert_eq!(t.arrows.len(), 3);
    }

    #[test]
    fn a_node_id_beyond_the_lanes_is_refused() {
        let text =
            r#"{"trial":0,"t_ns":1,"kind":"fault","node":1000000,"fault":{"fault":"crash"}}"#;
        let trace = read(text.as_bytes(), None).unwrap();
        assert!(matches!(
            Timeline::build(&trace),
            Err(TimelineError::TooManyNodes { node: 1_000_000, .. })
        ));
    }
}
