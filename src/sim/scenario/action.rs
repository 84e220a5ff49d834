//! The timeline: faults, and when they happen.

use serde::{Deserialize, Serialize};

use super::target::{RoleTarget, Target};
use crate::sim::latency::Latency;

/// One fault at one time. (Unknown keys are rejected by [`Action`]'s variants.)
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Step {
    /// When, in ms from the start of the trial.
    pub at_ms: f64,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

/// When a crash happens once its step is reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum CrashPoint {
    /// At the step's time.
    #[default]
    Now,
    /// At a uniformly random point of the heartbeat interval that follows the node's next
    /// heartbeat round (the Raft paper's Figure 16 setup). With `node = "leader"`, whichever
    /// node sends the next round, even one not elected yet.
    WithinHeartbeat,
    /// While the node's next hard-state write is in flight: at a uniformly random point between
    /// its start and its completion, so the write is lost.
    DuringWrite,
    /// At a uniformly random point of the heartbeat interval after the node next becomes
    /// leader. With `node = "leader"`, whichever node wins the next election.
    AfterElection,
}

impl CrashPoint {
    fn is_now(&self) -> bool {
        *self == CrashPoint::Now
    }

    /// Whether a crash of `node = "leader"` at this point crashes whichever node reaches the
    /// point as leader, not the node leading when the step happens.
    pub(crate) fn follows_leadership(self) -> bool {
        match self {
            CrashPoint::WithinHeartbeat | CrashPoint::AfterElection => true,
            CrashPoint::Now | CrashPoint::DuringWrite => false,
        }
    }
}

/// Which side of a majority/minority split the leader ends up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The leader is cut off with a minority.
    Minority,
    /// The leader keeps a majority.
    Majority,
}

/// The faults a timeline can inject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Stop a node; it loses everything not persisted. `at` says when (default: now).
    Crash {
        /// The node.
        node: Target,
        /// When the crash happens.
        #[serde(default, skip_serializing_if = "CrashPoint::is_now")]
        at: CrashPoint,
        /// Stop waiting for the crash point after this many ms (no crash then). Default: wait
        /// until the trial ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_ms: Option<f64>,
        /// Restart the node this many ms after the crash.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restart_after_ms: Option<f64>,
    },
    /// Restart a crashed node with the hard state it persisted.
    Restart {
        /// The node.
        node: Target,
    },
    /// Stop the world on a node (a GC pause): its timers fire late, its inbound messages queue.
    Pause {
        /// The node.
        node: Target,
        /// For how long, ms.
        for_ms: f64,
    },
    /// Cut a node off from everyone, both ways.
    Isolate {
        /// The node.
        node: Target,
    },
    /// Split the cluster into a majority and a minority, the leader on the side given.
    Split {
        /// Where the leader goes.
        leader_in: Side,
    },
    /// Partition every link between the groups, both ways. Nodes not listed keep every link.
    Partition {
        /// The groups, as lists of node ids.
        groups: Vec<Vec<u64>>,
    },
    /// Partition every link from a node of `from` to a node of `to`, one way: what is sent
    /// there is dropped. (`one-way` is an older name for it.)
    #[serde(alias = "one-way")]
    OneWayPartition {
        /// Senders.
        from: Vec<Target>,
        /// Receivers.
        to: Vec<Target>,
    },
    /// Repair every link between a node of `from` and a node of `to`, both ways.
    Repair {
        /// One side.
        from: Vec<Target>,
        /// The other side.
        to: Vec<Target>,
    },
    /// Repair every link from a node of `from` to a node of `to`, one way.
    OneWayRepair {
        /// Senders.
        from: Vec<Target>,
        /// Receivers.
        to: Vec<Target>,
    },
    /// Split the other nodes in two halves that cannot talk, with `node` talking to both.
    Bridge {
        /// The bridge.
        node: Target,
    },
    /// Queue everything sent on the link `from → to` until `release` (nothing is lost).
    Hold {
        /// Sender.
        from: Target,
        /// Receiver.
        to: Target,
    },
    /// Deliver what is held on the link `from → to`, and stop holding it.
    Release {
        /// Sender.
        from: Target,
        /// Receiver.
        to: Target,
    },
    /// Release every held link.
    ReleaseAll,
    /// Add `extra_ms` to the latency of every link from `from` to `to` (a latency spike);
    /// `extra_ms = 0` ends it. Messages already in flight keep their delay.
    Delay {
        /// Senders.
        from: Vec<Target>,
        /// Receivers.
        to: Vec<Target>,
        /// Added one-way latency, ms.
        extra_ms: f64,
    },
    /// Deliver again copies of `count` messages sent earlier in the trial, chosen at random
    /// among those of terms older than the newest sent so far (stale deliveries: old rounds,
    /// old votes, old leaders).
    Redeliver {
        /// How many.
        count: u32,
    },
    /// Repair every partitioned link (holds stay until released). (`heal` is an older name.)
    #[serde(alias = "heal")]
    RepairAll,
    /// Change the loss probability of every link.
    SetLoss {
        /// New probability.
        loss: f64,
    },
    /// Change the one-way latency of every link (messages in flight keep theirs).
    SetLatency {
        /// New latency.
        latency: Latency,
    },
    /// `node` (default: the current leader) is asked for a read index (thesis §6.4): it sends
    /// a round at once, and the read is confirmed when a majority has acknowledged a round sent
    /// since. The simulator checks that no leader of a later term existed when the read was
    /// asked. Nothing happens if the node does not think it leads.
    Read {
        /// The node asked.
        #[serde(default = "the_leader")]
        node: Target,
    },
    /// The current leader hands leadership over to `to` (thesis §3.10): it starts a transfer
    /// and, the simulated host having no log to catch up, sends `TimeoutNow` at once. Nothing
    /// happens if no node leads, the leader is paused, or `to` is the leader.
    Transfer {
        /// The member to take over.
        to: Target,
    },
    /// The leader appends a membership change (thesis §4.1): `node` joins the voters, or the
    /// learners with `learner = true` (naming a learner without it promotes it). The change
    /// reaches the leader at once and every other live node within a heartbeat interval, over
    /// an open link from the leader (retried each interval until one is open); it commits once
    /// a majority of the new voters has it. A crashed node restarts with the latest membership.
    /// Nothing happens if no node leads, the leader is paused, an earlier change has not
    /// committed, or the change is invalid (see
    /// [`Membership::validate_change_from`](crate::core::Membership::validate_change_from)).
    Add {
        /// The member joining.
        node: Target,
        /// Join as a learner, not a voter.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        learner: bool,
    },
    /// The leader appends a change removing `node` (default: the leader itself, which then
    /// leads without counting itself until the change commits, and steps down, thesis
    /// §4.2.2). Propagated and refused as `add` is. The node keeps running, outside the cluster.
    Remove {
        /// The member leaving.
        #[serde(default = "the_leader")]
        node: Target,
    },
    /// Change how fast a node's clock runs.
    ClockRate {
        /// The node.
        node: Target,
        /// Its new rate (1.0 = exact).
        rate: f64,
    },
    /// From now on, `from` sends a bulk payload of `bytes` to every peer every `every_ms`,
    /// until `for_ms` has passed.
    Bulk {
        /// The sender.
        from: Target,
        /// Payload size.
        bytes: u64,
        /// Period, ms.
        every_ms: f64,
        /// How long it goes on, ms.
        for_ms: f64,
    },
}

fn the_leader() -> Target {
    Target::Role(RoleTarget::Leader)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::{Scenario, MINIMAL};

    #[test]
    fn an_unknown_key_in_a_step_is_an_error() {
        let text =
            format!("{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"isolate\"\nnode = 2\nnod = 3\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("nod"), "{err}");
    }

    #[test]
    fn fault_names_follow_the_shared_vocabulary_and_the_old_names_still_read() {
        let step = |action: &str| {
            Scenario::parse(&format!("{MINIMAL}[[timeline]]\nat_ms = 10\n{action}\n"))
                .map(|s| s.timeline[0].action.clone())
        };
        let one_way =
            Action::OneWayPartition { from: vec![Target::Id(1)], to: vec![Target::Id(2)] };
        assert_eq!(
            step("action = \"one-way-partition\"\nfrom = [1]\nto = [2]"),
            Ok(one_way.clone())
        );
        assert_eq!(step("action = \"one-way\"\nfrom = [1]\nto = [2]"), Ok(one_way));
        assert_eq!(step("action = \"heal\""), Ok(Action::RepairAll));
        assert_eq!(step("action = \"repair-all\""), Ok(Action::RepairAll));
        assert_eq!(step("action = \"release-all\""), Ok(Action::ReleaseAll));
        assert_eq!(
            step("action = \"release\"\nfrom = 1\nto = 2"),
            Ok(Action::Release { from: Target::Id(1), to: Target::Id(2) })
        );
        // A release names its link, as a hold does.
        let err = step("action = \"release\"").unwrap_err().to_string();
        assert!(err.contains("from"), "{err}");
    }

    #[test]
    fn an_unknown_action_is_an_error() {
        let text = format!("{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"explode\"\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("explode"), "{err}");
    }

    #[test]
    fn targets_are_ids_or_roles() {
        let text = format!(
            "{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"crash\"\nnode = \"leader\"\nat = \"within-heartbeat\"\n\
             [[timeline]]\nat_ms = 20\naction = \"pause\"\nnode = 2\nfor_ms = 5\n"
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(
            s.timeline[0].action,
            Action::Crash {
                node: Target::Role(RoleTarget::Leader),
                at: CrashPoint::WithinHeartbeat,
                window_ms: None,
                restart_after_ms: None,
            }
        );
        assert_eq!(s.timeline[1].action, Action::Pause { node: Target::Id(2), for_ms: 5.0 });
    }
}
