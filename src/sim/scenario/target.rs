//! The nodes a fault names: by id, or by role when it happens; and the one walk over the nodes
//! an action names, which validation and the swarm share, so that a new action names its nodes
//! in one place.

use serde::{Deserialize, Serialize};

use super::action::Action;

/// A node named in a fault: by id, or by its role when the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// A node id.
    Id(u64),
    /// A role.
    Role(RoleTarget),
}

/// A node chosen by role at the moment the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleTarget {
    /// The current leader (the one of the highest term).
    Leader,
    /// A follower of the current leader, chosen by the trial's generator.
    Follower,
    /// Any live node, chosen by the trial's generator.
    Random,
    /// A node campaigning now (pre-candidate or candidate), chosen by the trial's generator;
    /// any live node if none is.
    Candidate,
}

impl Action {
    /// Every node the action names, each with the field naming it, in the order of its fields:
    /// its targets, and the ids of a partition's groups as [`Target::Id`]s.
    pub(crate) fn targets(&self) -> Vec<(&'static str, Target)> {
        match self {
            Action::Crash { node, .. }
            | Action::Restart { node }
            | Action::Pause { node, .. }
            | Action::Isolate { node }
            | Action::Bridge { node }
            | Action::Read { node }
            | Action::Add { node, .. }
            | Action::Remove { node }
            | Action::ClockRate { node, .. } => vec![("node", *node)],
            Action::Transfer { to } => vec![("to", *to)],
            Action::Bulk { from, .. } => vec![("from", *from)],
            Action::Hold { from, to } | Action::Release { from, to } => {
                vec![("from", *from), ("to", *to)]
            }
            Action::OneWayPartition { from, to }
            | Action::Repair { from, to }
            | Action::OneWayRepair { from, to }
            | Action::Delay { from, to, .. } => {
                let from = from.iter().map(|&t| ("from", t));
                from.chain(to.iter().map(|&t| ("to", t))).collect()
            }
            Action::Partition { groups } => {
                groups.iter().flatten().map(|&id| ("groups", Target::Id(id))).collect()
            }
            Action::Split { .. }
            | Action::RepairAll
            | Action::ReleaseAll
            | Action::Redeliver { .. }
            | Action::SetLoss { .. }
            | Action::SetLatency { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEADER: Target = Target::Role(RoleTarget::Leader);

    #[test]
    fn an_actions_nodes_are_walked_in_field_order_with_their_fields() {
        let delay = Action::Delay {
            from: vec![Target::Id(2), LEADER],
            to: vec![Target::Id(3)],
            extra_ms: 1.0,
        };
        let named = [("from", Target::Id(2)), ("from", LEADER), ("to", Target::Id(3))];
        assert_eq!(delay.targets(), named);
        let partition = Action::Partition { groups: vec![vec![1, 2], vec![3]] };
        assert_eq!(partition.targets().len(), 3);
        assert!(partition.targets().iter().all(|&(field, _)| field == "groups"));
        assert_eq!(Action::RepairAll.targets(), []);
    }
}
