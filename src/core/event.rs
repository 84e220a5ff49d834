//! What the core tells its host, drained with [`Node::poll_event`](crate::core::Node::poll_event).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::types::{NodeId, Role, Term};

/// Something that happened inside the node that its host may want to act on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// The node's role changed.
    RoleChanged {
        /// The term in which the new role holds.
        term: Term,
        /// The previous role.
        from: Role,
        /// The new role.
        to: Role,
    },
    /// The node moved to a later term.
    TermChanged {
        /// The previous term.
        from: Term,
        /// The new term.
        to: Term,
    },
    /// The node learned of a leader, or (with `None`) stopped believing in one.
    LeaderChanged {
        /// The term of the leader.
        term: Term,
        /// The leader, or `None` when it is lost.
        leader: Option<NodeId>,
    },
    /// The election timer fired: the node suspects its leader (or its election failed) and
    /// campaigns. `silence` is the time since the last valid contact from a leader, if any.
    ElectionTimeout {
        /// The term in which the timer fired.
        term: Term,
        /// Time since this node last heard from a leader.
        #[serde(rename = "silence_ms", with = "super::millis::option")]
        #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
        silence: Option<Duration>,
    },
    /// The election timer fired after this node was itself stalled (local health, see
    /// [`Config::local_pause_threshold`](crate::core::Config::local_pause_threshold)): it
    /// does not suspect its leader this time, and drew a fresh timeout instead. Deferred once
    /// until the timer is reset by a leader's contact, a vote or a campaign.
    ElectionTimeoutDeferred {
        /// The term in which the timer fired.
        term: Term,
        /// How late the periodic check that saw the stall was: the node did not run for at
        /// least this long.
        #[serde(rename = "stalled_ms", with = "super::millis")]
        #[cfg_attr(feature = "schema", schemars(with = "f64"))]
        stalled: Duration,
    },
    /// A shadow detector ([`Config::shadow_detectors`](crate::core::Config::shadow_detectors))
    /// would have suspected the leader now; nothing was done about it.
    ShadowSuspected {
        /// The detector's position in `shadow_detectors`.
        index: usize,
        /// Time since this node last heard from a leader.
        #[serde(rename = "silence_ms", with = "super::millis")]
        #[cfg_attr(feature = "schema", schemars(with = "f64"))]
        silence: Duration,
    },
    /// This node granted its vote (not a pre-vote) to `candidate` in `term`, and reset its
    /// election timer (Raft Figure 2). Also reported when a repeated request is granted again.
    VoteGranted {
        /// The term of the vote.
        term: Term,
        /// The candidate voted for.
        candidate: NodeId,
    },
    /// The leader has not heard from a follower for a minimum election timeout.
    PeerSuspected {
        /// The silent follower.
        peer: NodeId,
        /// How long it has been silent.
        #[serde(rename = "silence_ms", with = "super::millis")]
        #[cfg_attr(feature = "schema", schemars(with = "f64"))]
        silence: Duration,
    },
    /// A suspected follower answered again.
    PeerRecovered {
        /// The follower.
        peer: NodeId,
    },
    /// The leader went a minimum election timeout without hearing from a majority and stepped
    /// down (check quorum, thesis §6.2).
    QuorumLost {
        /// The term it led.
        term: Term,
    },
    /// The leader's lease ran out before a newer round was acknowledged by a majority, or
    /// ended because the leader stepped down while holding it: either way, stop serving lease
    /// reads.
    LeaseExpired {
        /// The leader's term.
        term: Term,
    },
    /// The leader began handing over to `target` (thesis §3.10); the host should catch the
    /// target's log up and stop accepting new requests.
    TransferStarted {
        /// The leader's term.
        term: Term,
        /// The member taking over.
        target: NodeId,
    },
    /// The host said the target is caught up: the leader sent it `TimeoutNow` and gave up
    /// its lease for the rest of the term.
    TransferSent {
        /// The leader's term.
        term: Term,
        /// The member taking over.
        target: NodeId,
    },
    /// No new leader within an election timeout of the transfer's start: the leader carries on
    /// (thesis §3.10), without the lease it gave up if it sent `TimeoutNow`.
    TransferAborted {
        /// The leader's term.
        term: Term,
        /// The member that did not take over.
        target: NodeId,
    },
    /// The leader's commit index, as a follower last heard it, advanced.
    LeaderCommit {
        /// The leader's commit index.
        index: u64,
    },
    /// An input carried a `now` earlier than a previous one; the node used the previous one.
    ClockWentBackwards {
        /// How far back the input's `now` was.
        #[serde(rename = "by_ms", with = "super::millis")]
        #[cfg_attr(feature = "schema", schemars(with = "f64"))]
        by: Duration,
    },
}
