//! The trace of a trial: every send, drop, delivery, disk write, fault and core event, in
//! order. It is hashed as it goes (XXH3-128 over a fixed binary encoding) and, when asked,
//! streamed to a file as JSON lines. Nothing is buffered but the last few records, kept for
//! violation reports.

use std::fmt;
use std::io::Write;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::core::{Envelope, Event, Instant, Message, NodeId, Role, VoteKind};

/// How many records a violation report quotes.
pub const TAIL: usize = 24;

/// Why the network did not deliver a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// The link is cut.
    Cut,
    /// Random loss.
    Loss,
    /// The receiver is down.
    Down,
    /// The receiver does not count the sender among its members (and does not follow it).
    Stranger,
}

/// The kind of a message, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MessageKind {
    /// Heartbeat.
    Heartbeat,
    /// HeartbeatResponse.
    HeartbeatResponse,
    /// Pre-vote request.
    PreVote,
    /// Vote request.
    Vote,
    /// Pre-vote response.
    PreVoteResponse,
    /// Vote response.
    VoteResponse,
    /// A leader's `TimeoutNow` (leadership transfer).
    TimeoutNow,
    /// A vote request of a leadership transfer.
    TransferVote,
}

impl MessageKind {
    /// The kind of `m`.
    pub fn of(m: &Message) -> Self {
        match m {
            Message::Heartbeat(_) => MessageKind::Heartbeat,
            Message::HeartbeatResponse(_) => MessageKind::HeartbeatResponse,
            Message::VoteRequest(r) if r.kind == VoteKind::PreVote => MessageKind::PreVote,
            Message::VoteRequest(r) if r.kind == VoteKind::Transfer => MessageKind::TransferVote,
            Message::VoteRequest(_) => MessageKind::Vote,
            Message::VoteResponse(r) if r.kind == VoteKind::PreVote => MessageKind::PreVoteResponse,
            Message::VoteResponse(_) => MessageKind::VoteResponse,
            Message::TimeoutNow(_) => MessageKind::TimeoutNow,
        }
    }

    /// Its name in a trace.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Heartbeat => "heartbeat",
            MessageKind::HeartbeatResponse => "heartbeat-response",
            MessageKind::PreVote => "pre-vote",
            MessageKind::PreVoteResponse => "pre-vote-response",
            MessageKind::Vote => "vote",
            MessageKind::VoteResponse => "vote-response",
            MessageKind::TimeoutNow => "timeout-now",
            MessageKind::TransferVote => "transfer-vote",
        }
    }

    /// Heartbeats and their answers: the steady traffic a dense timeline samples.
    pub fn is_heartbeat(self) -> bool {
        matches!(self, MessageKind::Heartbeat | MessageKind::HeartbeatResponse)
    }

    /// An answer rather than a request.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            MessageKind::HeartbeatResponse
                | MessageKind::PreVoteResponse
                | MessageKind::VoteResponse
        )
    }
}

/// A fault the simulator injected.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "fault")]
pub enum Fault {
    /// A node crashed.
    Crash,
    /// A node restarted.
    Restart,
    /// A node paused.
    Pause {
        /// Duration, ns.
        for_ns: u64,
    },
    /// A paused node resumed.
    Resume,
    /// The link set changed (partition, heal, hold, release, loss).
    Network,
    /// A node's clock rate changed.
    ClockRate {
        /// The new rate, in millionths.
        ppm: u64,
    },
    /// The leader appended a membership change (thesis §4.1).
    Membership {
        /// Voters in the new membership.
        voters: u64,
        /// Learners in it.
        learners: u64,
    },
}

/// One thing that happened.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Record {
    /// A node sent a message.
    Send {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// What.
        message: MessageKind,
        /// Its term.
        term: u64,
    },
    /// The network dropped a message.
    Drop {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// What.
        message: MessageKind,
        /// Why.
        reason: DropReason,
    },
    /// A message reached its receiver.
    Deliver {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// What.
        message: MessageKind,
        /// Its term.
        term: u64,
    },
    /// A node's hard state reached its disk.
    Persist {
        /// The node.
        node: NodeId,
        /// The term written.
        term: u64,
    },
    /// The core reported an event.
    Node {
        /// The node.
        node: NodeId,
        /// The event.
        event: Event,
    },
    /// A fault was injected.
    Fault {
        /// The node, or none for the network.
        node: Option<NodeId>,
        /// The fault.
        fault: Fault,
    },
    /// A host (`sim::Host`) sent a payload of its own.
    PayloadSend {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Its length.
        bytes: u64,
        /// XXH3-64 of its contents, so the trace hash sees what hosts say, not only how much.
        digest: u64,
    },
    /// The network dropped a host's payload.
    PayloadDrop {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Why.
        reason: DropReason,
    },
    /// A host's payload reached the receiving host.
    PayloadDeliver {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Its length.
        bytes: u64,
    },
    /// A host's own timer fired.
    HostTimer {
        /// The node whose host set it.
        node: NodeId,
        /// The token the host gave it.
        token: u64,
    },
}

impl Record {
    /// A send of `env`.
    pub fn send(env: &Envelope) -> Self {
        Record::Send {
            from: env.from,
            to: env.to,
            message: MessageKind::of(&env.message),
            term: env.message.term().0,
        }
    }

    /// A delivery of `env`.
    pub fn deliver(env: &Envelope) -> Self {
        Record::Deliver {
            from: env.from,
            to: env.to,
            message: MessageKind::of(&env.message),
            term: env.message.term().0,
        }
    }

    /// A drop of `env`.
    pub fn drop(env: &Envelope, reason: DropReason) -> Self {
        Record::Drop { from: env.from, to: env.to, message: MessageKind::of(&env.message), reason }
    }

    /// The fixed binary encoding that is hashed: four words, stable across releases.
    fn words(&self) -> [u64; 4] {
        match *self {
            Record::Send { from, to, message, term } => [1, pair(from, to), message as u64, term],
            Record::Drop { from, to, message, reason } => {
                [2, pair(from, to), message as u64, reason as u64]
            }
            Record::Deliver { from, to, message, term } => {
                [3, pair(from, to), message as u64, term]
            }
            Record::Persist { node, term } => [4, node.0, term, 0],
            Record::Node { node, event } => {
                let (code, a, b) = event_words(&event);
                [5 | (code << 8), node.0, a, b]
            }
            Record::Fault { node, fault } => {
                let (code, a) = match fault {
                    Fault::Crash => (1, 0),
                    Fault::Restart => (2, 0),
                    Fault::Pause { for_ns } => (3, for_ns),
                    Fault::Resume => (4, 0),
                    Fault::Network => (5, 0),
                    Fault::ClockRate { ppm } => (6, ppm),
                    Fault::Membership { voters, learners } => (7, voters << 32 | learners),
                };
                [6 | (code << 8), node.map_or(0, |n| n.0), a, 0]
            }
            Record::PayloadSend { from, to, bytes, digest } => [7, pair(from, to), bytes, digest],
            Record::PayloadDrop { from, to, reason } => [8, pair(from, to), reason as u64, 0],
            Record::PayloadDeliver { from, to, bytes } => [9, pair(from, to), bytes, 0],
            Record::HostTimer { node, token } => [10, node.0, token, 0],
        }
    }
}

fn pair(a: NodeId, b: NodeId) -> u64 {
    (a.0 << 32) | (b.0 & 0xFFFF_FFFF)
}

fn role_code(r: Role) -> u64 {
    match r {
        Role::Follower => 1,
        Role::PreCandidate => 2,
        Role::Candidate => 3,
        Role::Leader => 4,
    }
}

fn event_words(e: &Event) -> (u64, u64, u64) {
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    match *e {
        Event::RoleChanged { term, from, to } => (1, term.0, role_code(from) << 8 | role_code(to)),
        Event::TermChanged { from, to } => (2, from.0, to.0),
        Event::LeaderChanged { term, leader } => (3, term.0, leader.map_or(0, |l| l.0 + 1)),
        Event::ElectionTimeout { term, silence } => (4, term.0, silence.map_or(u64::MAX, nanos)),
        Event::PeerSuspected { peer, silence } => (5, peer.0, nanos(silence)),
        Event::PeerRecovered { peer } => (6, peer.0, 0),
        Event::QuorumLost { term } => (7, term.0, 0),
        Event::LeaseExpired { term } => (8, term.0, 0),
        Event::LeaderCommit { index } => (9, index, 0),
        Event::ClockWentBackwards { by } => (10, nanos(by), 0),
        Event::VoteGranted { term, candidate } => (11, term.0, candidate.0),
        Event::TransferStarted { term, target } => (12, term.0, target.0),
        Event::TransferSent { term, target } => (13, term.0, target.0),
        Event::TransferAborted { term, target } => (14, term.0, target.0),
        Event::ElectionTimeoutDeferred { term, stalled } => (15, term.0, nanos(stalled)),
        Event::ShadowSuspected { index, silence } => (16, index as u64, nanos(silence)),
        // `Event` is exhaustive today; a new variant must get its own code here.
    }
}

/// A record with its time, as written to the trace file.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct Line<'a> {
    /// The trial, by its index in the run.
    trial: u64,
    /// Virtual time since the trial started, ns.
    t_ns: u64,
    /// What happened, tagged by `kind`.
    #[serde(flatten)]
    record: &'a Record,
}

/// The JSON Schema of a line of a trace file (`simulate --trace`, one object per line).
#[cfg(feature = "schema")]
pub fn trace_line_schema() -> schemars::Schema {
    schemars::schema_for!(Line<'static>)
}

/// Encoded records hashed at once: the streaming hash gives the same digest whatever the chunks,
/// and feeding it large ones costs far less per record.
const BATCH: usize = 128 * RECORD_BYTES;

/// Bytes of one record's encoding: its time and four words.
const RECORD_BYTES: usize = 40;

/// Where a trial's records go: the hash, the tail, and optionally a file.
pub struct TraceSink {
    trial: u64,
    hasher: Xxh3,
    /// Encoded records not yet hashed.
    pending: Box<[u8; BATCH]>,
    pending_len: usize,
    /// The last `TAIL` records, a ring: `next` is the oldest once it has wrapped. Kept only
    /// when asked (see [`with_tail`](Self::with_tail)).
    tail: Vec<(Instant, Record)>,
    keep_tail: bool,
    next: usize,
    file: Option<Box<dyn Write + Send>>,
    error: Option<std::io::Error>,
}

impl fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceSink")
            .field("trial", &self.trial)
            .field("tail", &self.tail.len())
            .finish()
    }
}

impl TraceSink {
    /// A sink for trial `trial`, writing JSON lines to `file` if given.
    pub fn new(trial: u64, file: Option<Box<dyn Write + Send>>) -> Self {
        TraceSink {
            trial,
            hasher: Xxh3::new(),
            pending: Box::new([0; BATCH]),
            pending_len: 0,
            tail: Vec::new(),
            keep_tail: false,
            next: 0,
            file,
            error: None,
        }
    }

    /// The same sink, also keeping the last records for a violation report. A run keeps
    /// none, and replays a violating trial with them (the trial is deterministic), so that
    /// the common case pays nothing for them.
    pub fn with_tail(mut self) -> Self {
        self.keep_tail = true;
        self.tail = Vec::with_capacity(TAIL);
        self
    }

    /// Records `record` at `t`.
    pub fn record(&mut self, t: Instant, record: Record) {
        let words = record.words();
        if self.pending_len == BATCH {
            self.hasher.update(&self.pending[..]);
            self.pending_len = 0;
        }
        let at = self.pending_len;
        let out = &mut self.pending[at..at + RECORD_BYTES];
        out[..8].copy_from_slice(&t.as_nanos().to_le_bytes());
        for (chunk, w) in out[8..].chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        self.pending_len += RECORD_BYTES;
        if self.keep_tail {
            if self.tail.len() < TAIL {
                self.tail.push((t, record));
            } else {
                self.tail[self.next] = (t, record);
            }
            self.next += 1;
            if self.next == TAIL {
                self.next = 0;
            }
        }
        if let (Some(file), None) = (self.file.as_mut(), self.error.as_ref()) {
            let line = Line { trial: self.trial, t_ns: t.as_nanos(), record: &record };
            let written = serde_json::to_writer(&mut *file, &line)
                .map_err(std::io::Error::other)
                .and_then(|()| file.write_all(b"\n"));
            if let Err(e) = written {
                self.error = Some(e);
            }
        }
    }

    /// The last records, oldest first, one per line (none unless made [`with_tail`](Self::with_tail)).
    pub fn tail(&self) -> Vec<String> {
        let (newer, older) = self.tail.split_at(self.next.min(self.tail.len()));
        older.iter().chain(newer).map(|(t, r)| format!("{t} {r:?}")).collect()
    }

    /// Flushes the file and returns the digest of every record.
    pub fn finish(mut self) -> Result<u128, std::io::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(file) = self.file.as_mut() {
            file.flush()?;
        }
        self.hasher.update(&self.pending[..self.pending_len]);
        Ok(self.hasher.digest128())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Term;

    fn digest(records: &[(u64, Record)]) -> u128 {
        let mut sink = TraceSink::new(0, None);
        for (t, r) in records {
            sink.record(Instant::from_nanos(*t), *r);
        }
        sink.finish().unwrap()
    }

    #[test]
    fn the_digest_depends_on_every_field_and_the_order() {
        let a = Record::Persist { node: NodeId(1), term: 2 };
        let b = Record::Node { node: NodeId(1), event: Event::QuorumLost { term: Term(2) } };
        let base = digest(&[(1, a), (2, b)]);
        assert_eq!(base, digest(&[(1, a), (2, b)]));
        assert_ne!(base, digest(&[(2, b), (1, a)]));
        assert_ne!(base, digest(&[(1, a), (3, b)]));
        assert_ne!(base, digest(&[(1, Record::Persist { node: NodeId(1), term: 3 }), (2, b)]));
    }

    #[test]
    fn the_file_gets_one_json_object_per_line() {
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut sink = TraceSink::new(3, Some(Box::new(Shared(buf.clone())))).with_tail();
        sink.record(Instant::from_nanos(5), Record::Persist { node: NodeId(2), term: 1 });
        sink.finish().unwrap();
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "{\"trial\":3,\"t_ns\":5,\"kind\":\"persist\",\"node\":2,\"term\":1}\n");
    }
}
