//! The properties checked in every state: safety as "always", liveness as "sometimes" (an
//! example execution must exist within the bounds).

use stateright::{Model, Property};

use super::machine::{
    Machine, Step, CHECK_QUORUM, DISRUPTION, PRE_VOTE, REFUSED, RESTRICTION, STICKINESS,
};
use super::options::Options;
use super::state::State;
use crate::core::Role;

/// Election safety (Raft §5.2, Figure 3): at most one leader per term, ever.
pub const ELECTION_SAFETY: &str = "election safety";
/// One vote per term (Raft Figure 2), across restarts: no voter's votes of one term name two
/// candidates.
pub const ONE_VOTE: &str = "one vote per term";
/// Lease safety (thesis §6.4.1): never two nodes holding a valid lease at one instant.
pub const LEASE_SAFETY: &str = "lease safety";
/// A leader is elected.
pub const ELECTED: &str = "a leader is elected";
/// Leadership passes from one leader to another.
pub const HANDOVER: &str = "a second leader is elected";
/// A leader holds a lease.
pub const LEASE_HELD: &str = "a lease is held";

/// Whether the property is a safety property (must hold in every state) or a liveness one
/// (some execution must reach it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Expectation {
    /// Holds in every reachable state.
    Always,
    /// Holds in some reachable state.
    Sometimes,
}

/// The properties that apply under `options`, each with its condition.
pub(crate) fn applicable(options: &Options) -> Vec<Property<Machine>> {
    let on = |flag: bool, p: Property<Machine>| flag.then_some(p);
    [
        Some(Property::always(ELECTION_SAFETY, |_, s| !two_leaders_in_a_term(s))),
        Some(Property::always(ONE_VOTE, |_, s| !two_votes_in_a_term(s))),
        Some(Property::always(RESTRICTION, |_, s| unbroken(s, RESTRICTION))),
        on(options.lease, Property::always(LEASE_SAFETY, |_, s| leases_held(s) <= 1)),
        on(options.stickiness, Property::always(STICKINESS, |_, s| unbroken(s, STICKINESS))),
        on(options.check_quorum, Property::always(CHECK_QUORUM, |_, s| unbroken(s, CHECK_QUORUM))),
        on(options.pre_vote, Property::always(PRE_VOTE, |_, s| unbroken(s, PRE_VOTE))),
        on(options.stickiness, Property::always(DISRUPTION, |_, s| unbroken(s, DISRUPTION))),
        Some(Property::always(REFUSED, |_, s| unbroken(s, REFUSED))),
        Some(Property::sometimes(ELECTED, |_, s: &State| {
            s.slots.iter().filter_map(|slot| slot.node.as_ref()).any(|n| n.role() == Role::Leader)
        })),
        Some(Property::sometimes(HANDOVER, |_, s: &State| {
            let mut leaders = s.ghost.leaders.iter().map(|&(_, id)| id);
            leaders.next().is_some_and(|first| leaders.any(|id| id != first))
        })),
        on(options.lease, Property::sometimes(LEASE_HELD, |_, s| leases_held(s) > 0)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn unbroken(s: &State, name: &str) -> bool {
    !s.ghost.broken.contains_key(name)
}

fn two_leaders_in_a_term(s: &State) -> bool {
    s.ghost.leaders.iter().zip(s.ghost.leaders.iter().skip(1)).any(|(a, b)| a.0 == b.0)
}

fn two_votes_in_a_term(s: &State) -> bool {
    let v = &s.ghost.votes;
    v.iter().zip(v.iter().skip(1)).any(|(a, b)| a.0 == b.0 && a.1 == b.1)
}

fn leases_held(s: &State) -> usize {
    s.slots.iter().filter_map(|slot| slot.node.as_ref()).filter(|n| n.lease_valid(s.now)).count()
}

impl Model for Machine {
    type State = State;
    type Action = Step;

    fn init_states(&self) -> Vec<State> {
        vec![self.initial()]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Step>) {
        self.steps(state, actions);
    }

    fn next_state(&self, state: &State, step: Step) -> Option<State> {
        Some(self.apply(state, step))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        applicable(&self.options)
    }

    fn within_boundary(&self, state: &State) -> bool {
        self.within_bounds(state)
    }
}
