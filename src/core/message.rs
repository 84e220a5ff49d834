//! The messages nodes exchange. The envelope's `from` names the sender; transports are
//! responsible for authenticating it (the TCP transport does so in its handshake).

use serde::{Deserialize, Serialize};

use super::types::{LogPosition, NodeId, Term};

/// A message with its sender and addressee.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Envelope {
    /// The node that sent the message.
    pub from: NodeId,
    /// The node the message is for.
    pub to: NodeId,
    /// The message itself.
    pub message: Message,
}

/// Everything the heartbeat and election protocol says.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum Message {
    /// An AppendEntries RPC with no entries, sent by the leader every heartbeat interval.
    Heartbeat(Heartbeat),
    /// A follower's answer to a heartbeat.
    HeartbeatResponse(HeartbeatResponse),
    /// A RequestVote RPC, or a pre-vote request (thesis §9.6).
    VoteRequest(VoteRequest),
    /// The answer to a vote or pre-vote request.
    VoteResponse(VoteResponse),
    /// A leader handing over (thesis §3.10): campaign now.
    TimeoutNow(TimeoutNow),
}

impl Message {
    /// The term the sender put in the message.
    pub fn term(&self) -> Term {
        match self {
            Message::Heartbeat(m) => m.term,
            Message::HeartbeatResponse(m) => m.term,
            Message::VoteRequest(m) => m.term,
            Message::VoteResponse(m) => m.term,
            Message::TimeoutNow(m) => m.term,
        }
    }
}

/// An empty AppendEntries (Raft §5.2): "I am the leader of this term".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Heartbeat {
    /// The leader's term.
    pub term: Term,
    /// The position of the leader's last log entry, as its host reported it. Not Raft's
    /// per-follower `prevLogIndex`: an empty heartbeat carries no entries to place.
    pub leader_last_log: LogPosition,
    /// The leader's commit index, reported to the follower's host.
    pub leader_commit: u64,
    /// The leader's round number, echoed in the response so the leader knows which round a
    /// majority acknowledged and when that round was sent (for check quorum and the lease).
    pub round: u64,
}

/// A follower's answer to a [`Heartbeat`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HeartbeatResponse {
    /// The responder's term after handling the heartbeat.
    pub term: Term,
    /// Whether the responder accepted the sender as leader of `term`. A `false` with a higher
    /// term tells a stale leader to step down (Raft §5.1). Log consistency is the host's business.
    pub success: bool,
    /// The round being answered.
    pub round: u64,
}

/// Which election a vote request or response belongs to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum VoteKind {
    /// A real vote (Raft §5.2): granting it records the vote and may raise the voter's term.
    Vote,
    /// A pre-vote (thesis §9.6): would the voter grant a vote? It changes no one's term or vote.
    PreVote,
    /// A real vote asked for by a leadership transfer (thesis §3.10): voters grant it despite
    /// having heard from the leader recently, since the leader itself asked (§4.2.3). Answered
    /// as a [`Vote`](Self::Vote).
    Transfer,
}

/// A request for a vote (Raft §5.2) or for a pre-vote (thesis §9.6).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VoteRequest {
    /// The candidate's term; for a pre-vote, the term it would campaign in (its own plus one).
    pub term: Term,
    /// The candidate's last log position, compared as in Raft §5.4.1.
    pub last_log: LogPosition,
    /// A vote or a pre-vote.
    pub kind: VoteKind,
}

/// A leader's request that `to` campaign at once, skipping pre-vote: the last step of a
/// leadership transfer (thesis §3.10).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TimeoutNow {
    /// The leader's term.
    pub term: Term,
}

/// The answer to a [`VoteRequest`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VoteResponse {
    /// For a granted pre-vote, the term asked about; otherwise the voter's term.
    pub term: Term,
    /// Whether the vote (or pre-vote) was granted.
    pub granted: bool,
    /// What it answers: a vote or a pre-vote.
    pub kind: VoteKind,
}
