//! Who is in the cluster: the voters, whose majorities elect leaders and hold leases, and the
//! learners, who receive heartbeats but count in no majority (openraft, etcd-raft). Changes go
//! one voter at a time (thesis §4.1), so any majority of the old voters and any majority of the
//! new ones share a member: that shared member is what keeps elections, check quorum and the
//! lease safe while nodes disagree about which of the two configurations is current.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::types::NodeId;

/// The voters and learners of a cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Membership {
    /// Members whose votes and acknowledgements count towards majorities.
    pub voters: Vec<NodeId>,
    /// Members that receive heartbeats and may be promoted, but count in no majority.
    #[serde(default)]
    pub learners: Vec<NodeId>,
}

impl Membership {
    /// A membership of `voters` and `learners`, not yet validated.
    pub fn new(
        voters: impl IntoIterator<Item = NodeId>,
        learners: impl IntoIterator<Item = NodeId>,
    ) -> Self {
        Membership {
            voters: voters.into_iter().collect(),
            learners: learners.into_iter().collect(),
        }
    }

    /// Checks that there is a voter and that no member is listed twice, in either list.
    pub fn validate(&self) -> Result<(), MembershipError> {
        if self.voters.is_empty() {
            return Err(MembershipError::NoVoters);
        }
        let mut all: Vec<(NodeId, bool)> = self
            .voters
            .iter()
            .map(|&v| (v, true))
            .chain(self.learners.iter().map(|&l| (l, false)))
            .collect();
        all.sort_unstable();
        if let Some(pair) = all.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(if pair[0].1 == pair[1].1 {
                MembershipError::Duplicate(pair[0].0)
            } else {
                MembershipError::VoterAndLearner(pair[0].0)
            });
        }
        Ok(())
    }

    /// Checks that going from `old` to this membership is valid and adds or removes at most
    /// one voter (thesis §4.1): promoting a learner adds one, demoting a voter removes one.
    /// Learners may change freely, since they count in no majority.
    pub fn validate_change_from(&self, old: &Membership) -> Result<(), MembershipError> {
        self.validate()?;
        let added = self.voters.iter().filter(|v| !old.voters.contains(v)).count();
        let removed = old.voters.iter().filter(|v| !self.voters.contains(v)).count();
        if added + removed > 1 {
            return Err(MembershipError::MoreThanOneVoterChanged { added, removed });
        }
        Ok(())
    }

    /// Whether `id` is a voter.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id)
    }

    /// Whether `id` is a voter or a learner.
    pub fn contains(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.contains(&id)
    }

    /// How many voters make a majority.
    pub fn quorum(&self) -> usize {
        self.voters.len() / 2 + 1
    }
}

/// Why a membership, or a change to it, was refused. The node's membership is left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MembershipError {
    /// A cluster needs a voter to elect anyone.
    #[error("a membership needs at least one voter")]
    NoVoters,
    /// A member is listed twice in one list, which would let it count twice towards a majority.
    #[error("member {0} is listed more than once")]
    Duplicate(NodeId),
    /// A member is listed both as a voter and as a learner.
    #[error("member {0} is listed both as a voter and as a learner")]
    VoterAndLearner(NodeId),
    /// The change adds or removes more than one voter at once, which would let a majority of
    /// the old voters and a majority of the new ones be disjoint (thesis §4.1).
    #[error(
        "a membership change may add or remove one voter (thesis §4.1); this one adds {added} \
         and removes {removed}: make it in steps, each committed before the next"
    )]
    MoreThanOneVoterChanged {
        /// Voters added.
        added: usize,
        /// Voters removed.
        removed: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u64]) -> Vec<NodeId> {
        v.iter().copied().map(NodeId).collect()
    }

    fn m(voters: &[u64], learners: &[u64]) -> Membership {
        Membership::new(ids(voters), ids(learners))
    }

    #[test]
    fn a_membership_needs_a_voter_and_distinct_members() {
        assert_eq!(m(&[], &[1]).validate(), Err(MembershipError::NoVoters));
        assert_eq!(m(&[1, 2, 2], &[]).validate(), Err(MembershipError::Duplicate(NodeId(2))));
        assert_eq!(m(&[1], &[3, 3]).validate(), Err(MembershipError::Duplicate(NodeId(3))));
        assert_eq!(m(&[1, 2], &[2]).validate(), Err(MembershipError::VoterAndLearner(NodeId(2))));
        assert_eq!(m(&[1, 2, 3], &[4]).validate(), Ok(()));
    }

    #[test]
    fn changes_add_or_remove_one_voter_at_a_time_raft_thesis_4_1() {
        let old = m(&[1, 2, 3], &[4]);
        assert_eq!(m(&[1, 2, 3, 4], &[]).validate_change_from(&old), Ok(()), "promote");
        assert_eq!(m(&[1, 2], &[3, 4]).validate_change_from(&old), Ok(()), "demote");
        assert_eq!(m(&[1, 2, 3], &[5, 6]).validate_change_from(&old), Ok(()), "learners only");
        assert_eq!(
            m(&[1, 2, 4], &[]).validate_change_from(&old),
            Err(MembershipError::MoreThanOneVoterChanged { added: 1, removed: 1 }),
            "a swap is two changes"
        );
        assert_eq!(
            m(&[1, 2, 3, 4, 5], &[]).validate_change_from(&old),
            Err(MembershipError::MoreThanOneVoterChanged { added: 2, removed: 0 })
        );
    }

    #[test]
    fn majorities_of_memberships_one_voter_apart_always_intersect_raft_thesis_4_1() {
        // The property the single-server rule exists for, checked exhaustively on small sets.
        for n in 1..=6u64 {
            let old: Vec<u64> = (1..=n).collect();
            let mut news = vec![(1..=n + 1).collect::<Vec<u64>>()];
            if n > 1 {
                news.extend(
                    (1..=n).map(|gone| old.iter().copied().filter(|&v| v != gone).collect()),
                );
            }
            for new in news {
                let (qo, qn) = (m(&old, &[]).quorum(), m(&new, &[]).quorum());
                for a in 0u32..1 << old.len() {
                    let sa: Vec<u64> =
                        old.iter().copied().filter(|v| a >> (v - 1) & 1 == 1).collect();
                    if sa.len() < qo {
                        continue;
                    }
                    for b in 0u32..1 << (n + 1) {
                        let sb: Vec<u64> =
                            new.iter().copied().filter(|v| b >> (v - 1) & 1 == 1).collect();
                        if sb.len() >= qn {
                            assert!(
                                sa.iter().any(|v| sb.contains(v)),
                                "{old:?} -> {new:?}: {sa:?} and {sb:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
