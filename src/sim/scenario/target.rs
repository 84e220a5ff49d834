//! The nodes a fault names: by id, or by role when it happens; and the one walk over the nodes
//! an action names, which validation, the swarm and shrinking share, so that a new action names
//! its nodes in one place.

use serde::{Deserialize, Serialize};

use super::action::Action;

/// A node named in a fault: by id, or by its role when the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Target {
    /// A node id.
    Id(u64),
    /// A role.
    Role(RoleTarget),
}

/// A node chosen by role at the moment the fault happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// A live node that still believes it leads a term below the current leader's (deposed
    /// without knowing it, thesis §6.4), chosen by the trial's generator; nobody if none is.
    Deposed,
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

    /// The action with every node id `id` replaced by `f(id)`, roles kept. An id `f` maps to
    /// `None` leaves its list or partition group; the action itself is `None` when that leaves
    /// a field that named nodes without one (a partition's groups may be left empty).
    pub(crate) fn map_ids(self, f: impl Fn(u64) -> Option<u64>) -> Option<Action> {
        let one = |t: Target| match t {
            Target::Id(id) => f(id).map(Target::Id),
            Target::Role(role) => Some(Target::Role(role)),
        };
        let some = |ts: Vec<Target>| {
            let named = !ts.is_empty();
            let kept: Vec<Target> = ts.into_iter().filter_map(one).collect();
            (!named || !kept.is_empty()).then_some(kept)
        };
        Some(match self {
            Action::Crash { node, at, window_ms, restart_after_ms } => {
                Action::Crash { node: one(node)?, at, window_ms, restart_after_ms }
            }
            Action::Restart { node } => Action::Restart { node: one(node)? },
            Action::Pause { node, for_ms } => Action::Pause { node: one(node)?, for_ms },
            Action::Isolate { node } => Action::Isolate { node: one(node)? },
            Action::Bridge { node } => Action::Bridge { node: one(node)? },
            Action::Read { node } => Action::Read { node: one(node)? },
            Action::Add { node, learner } => Action::Add { node: one(node)?, learner },
            Action::Remove { node } => Action::Remove { node: one(node)? },
            Action::ClockRate { node, rate } => Action::ClockRate { node: one(node)?, rate },
            Action::Transfer { to } => Action::Transfer { to: one(to)? },
            Action::Bulk { from, bytes, every_ms, for_ms } => {
                Action::Bulk { from: one(from)?, bytes, every_ms, for_ms }
            }
            Action::Hold { from, to } => Action::Hold { from: one(from)?, to: one(to)? },
            Action::Release { from, to } => Action::Release { from: one(from)?, to: one(to)? },
            Action::OneWayPartition { from, to } => {
                Action::OneWayPartition { from: some(from)?, to: some(to)? }
            }
            Action::Repair { from, to } => Action::Repair { from: some(from)?, to: some(to)? },
            Action::OneWayRepair { from, to } => {
                Action::OneWayRepair { from: some(from)?, to: some(to)? }
            }
            Action::Delay { from, to, extra_ms } => {
                Action::Delay { from: some(from)?, to: some(to)?, extra_ms }
            }
            Action::Partition { groups } => Action::Partition {
                groups: groups
                    .into_iter()
                    .map(|g| g.into_iter().filter_map(&f).collect())
                    .collect(),
            },
            no_nodes @ (Action::Split { .. }
            | Action::RepairAll
            | Action::ReleaseAll
            | Action::Redeliver { .. }
            | Action::SetLoss { .. }
            | Action::SetLatency { .. }) => no_nodes,
        })
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

    #[test]
    fn mapping_ids_keeps_roles_and_drops_an_action_left_without_a_node() {
        let without_2 = |id: u64| (id != 2).then_some(if id > 2 { id - 1 } else { id });
        let isolate = |node| Action::Isolate { node };
        assert_eq!(isolate(Target::Id(2)).map_ids(without_2), None);
        assert_eq!(isolate(Target::Id(3)).map_ids(without_2), Some(isolate(Target::Id(2))));
        assert_eq!(isolate(LEADER).map_ids(without_2), Some(isolate(LEADER)));
        let repair = |from, to| Action::Repair { from, to };
        assert_eq!(
            repair(vec![Target::Id(1), Target::Id(2)], vec![Target::Id(3)]).map_ids(without_2),
            Some(repair(vec![Target::Id(1)], vec![Target::Id(2)]))
        );
        assert_eq!(repair(vec![Target::Id(2)], vec![LEADER]).map_ids(without_2), None);
        assert_eq!(
            repair(vec![], vec![LEADER]).map_ids(without_2),
            Some(repair(vec![], vec![LEADER]))
        );
        let partition = Action::Partition { groups: vec![vec![2], vec![1, 3]] };
        assert_eq!(
            partition.map_ids(without_2),
            Some(Action::Partition { groups: vec![vec![], vec![1, 2]] })
        );
    }
}
