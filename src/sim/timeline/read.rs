//! Reading a trace file (`simulate --trace`): the records of one trial, reduced to what a
//! timeline draws.
//!
//! The file is read line by line and parsed here, not through the simulator's own record
//! types, so that it keeps reading files with record kinds, events, messages or faults it does
//! not know: those are skipped. A line that is not a record at all is an error naming it.

use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::TimelineError;
use crate::core::{NodeId, Role, Term};
pub use crate::sim::trace::MessageKind;

/// Why the network did not deliver a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Lost on the way (a cut link or random loss): dropped as it was sent.
    OnTheWay,
    /// The receiver was down when it arrived.
    Down,
    /// The receiver refused it on arrival (the sender is not a member it knows).
    Refused,
    /// A reason this reader does not know.
    Other,
}

/// A fault that marks a moment rather than a node's span of time.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The link set changed (partition, repair, hold, release, loss).
    Network,
    /// A node's clock rate changed, in millionths.
    ClockRate {
        /// The new rate, in millionths.
        ppm: u64,
    },
    /// The leader appended a membership change.
    Membership {
        /// Voters in the new membership.
        voters: u64,
        /// Learners in it.
        learners: u64,
    },
}

/// One record of the trial, reduced to what the picture draws.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
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
    /// The network dropped a message (the record carries no term).
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
    /// A node's term reached its disk: the term it restarts in.
    Persist {
        /// The node.
        node: NodeId,
        /// The term written.
        term: Term,
    },
    /// A node's role changed.
    RoleChanged {
        /// The node.
        node: NodeId,
        /// The term of the new role.
        term: Term,
        /// The new role.
        to: Role,
    },
    /// A node moved to a later term.
    TermChanged {
        /// The node.
        node: NodeId,
        /// The new term.
        to: Term,
    },
    /// A node's election timer fired.
    ElectionTimeout {
        /// The node.
        node: NodeId,
    },
    /// A node's election timer fired after a stall of its own, and was deferred.
    ElectionTimeoutDeferred {
        /// The node.
        node: NodeId,
    },
    /// A leader's lease ran out or ended.
    LeaseExpired {
        /// The node.
        node: NodeId,
    },
    /// A node crashed.
    Crash(NodeId),
    /// A node restarted.
    Restart(NodeId),
    /// A node paused.
    Pause {
        /// The node.
        node: NodeId,
        /// For how long, ns.
        for_ns: u64,
    },
    /// A paused node resumed.
    Resume(NodeId),
    /// A moment's change, of one node or of the network.
    Change {
        /// The node, or none for the network.
        node: Option<NodeId>,
        /// What changed.
        change: Change,
    },
}

/// An item and its time.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Simulated time, ns.
    pub t_ns: u64,
    /// What happened.
    pub item: Item,
}

/// The items of one trial, in the order of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialTrace {
    /// The trial.
    pub trial: u64,
    /// Its items.
    pub entries: Vec<Entry>,
}

/// Reads the records of trial `trial` (or of the file's first trial) from a trace.
///
/// A trace lists its trials in order, so reading stops at the end of the trial's records:
/// lines after it are not checked.
pub fn read(reader: impl BufRead, trial: Option<u64>) -> Result<TrialTrace, TimelineError> {
    let mut first = None;
    let mut chosen = None;
    let mut entries = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let text = line.map_err(|error| TimelineError::Read { line: line_no, error })?;
        if text.trim().is_empty() {
            continue;
        }
        let head: Head = serde_json::from_str(&text).map_err(|e| bad(line_no, &e))?;
        let first = *first.get_or_insert(head.trial);
        let want = trial.unwrap_or(first);
        if head.trial != want {
            if chosen.is_some() {
                break;
            }
            continue;
        }
        chosen = Some(want);
        if let Some(item) = item(&head.kind, head.rest).map_err(|p| bad_line(line_no, p))? {
            entries.push(Entry { t_ns: head.t_ns, item });
        }
    }
    match (chosen, first) {
        (Some(trial), _) => Ok(TrialTrace { trial, entries }),
        (None, None) => Err(TimelineError::EmptyTrace),
        (None, Some(first)) => {
            Err(TimelineError::UnknownTrial { trial: trial.unwrap_or(first), first })
        }
    }
}

/// The fields every record has, and the rest.
#[derive(Deserialize)]
struct Head {
    trial: u64,
    t_ns: u64,
    kind: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
struct MessageFields {
    from: NodeId,
    to: NodeId,
    message: String,
    term: u64,
}

#[derive(Deserialize)]
struct DropFields {
    from: NodeId,
    to: NodeId,
    message: String,
    reason: String,
}

#[derive(Deserialize)]
struct NodeFields {
    node: NodeId,
    event: Value,
}

#[derive(Deserialize)]
struct PersistFields {
    node: NodeId,
    term: Term,
}

#[derive(Deserialize)]
struct FaultFields {
    node: Option<NodeId>,
    fault: Map<String, Value>,
}

#[derive(Deserialize)]
struct RoleFields {
    term: Term,
    to: Role,
}

#[derive(Deserialize)]
struct TermFields {
    to: Term,
}

#[derive(Deserialize)]
struct PauseFields {
    for_ns: u64,
}

#[derive(Deserialize)]
struct ClockFields {
    ppm: u64,
}

#[derive(Deserialize)]
struct MembershipFields {
    voters: u64,
    learners: u64,
}

/// The item a record of kind `kind` holds, `None` for one the picture does not draw.
fn item(kind: &str, rest: Map<String, Value>) -> Result<Option<Item>, String> {
    let fields = Value::Object(rest);
    Ok(match kind {
        "send" | "deliver" => {
            let f: MessageFields = parse(fields)?;
            let (from, to) = (node(f.from)?, node(f.to)?);
            message_kind(&f.message).map(|message| {
                if kind == "send" {
                    Item::Send { from, to, message, term: f.term }
                } else {
                    Item::Deliver { from, to, message, term: f.term }
                }
            })
        }
        "drop" => {
            let f: DropFields = parse(fields)?;
            let (from, to) = (node(f.from)?, node(f.to)?);
            let reason = match f.reason.as_str() {
                "cut" | "loss" => DropReason::OnTheWay,
                "down" => DropReason::Down,
                "stranger" => DropReason::Refused,
                _ => DropReason::Other,
            };
            message_kind(&f.message).map(|message| Item::Drop { from, to, message, reason })
        }
        "persist" => {
            let f: PersistFields = parse(fields)?;
            Some(Item::Persist { node: node(f.node)?, term: f.term })
        }
        "node" => {
            let f: NodeFields = parse(fields)?;
            event(node(f.node)?, f.event)?
        }
        "fault" => {
            let f: FaultFields = parse(fields)?;
            fault(f.node.map(node).transpose()?, f.fault)?
        }
        _ => None,
    })
}

/// The message kind a trace names `name`, if this build knows it.
fn message_kind(name: &str) -> Option<MessageKind> {
    serde_json::from_value(Value::String(name.to_string())).ok()
}

/// The item a core event holds (tagged by its `kind` field: `{"kind": "role-changed", ..}`).
fn event(node: NodeId, event: Value) -> Result<Option<Item>, String> {
    let Value::Object(mut fields) = event else { return Ok(None) };
    let name = match fields.remove("kind") {
        Some(Value::String(name)) => name,
        _ => return Err("an event without its name (`kind`)".into()),
    };
    let fields = Value::Object(fields);
    Ok(match name.as_str() {
        "role-changed" => {
            let f: RoleFields = parse(fields)?;
            Some(Item::RoleChanged { node, term: f.term, to: f.to })
        }
        "term-changed" => {
            let f: TermFields = parse(fields)?;
            Some(Item::TermChanged { node, to: f.to })
        }
        "election-timeout" => Some(Item::ElectionTimeout { node }),
        "election-timeout-deferred" => Some(Item::ElectionTimeoutDeferred { node }),
        "lease-expired" => Some(Item::LeaseExpired { node }),
        _ => None,
    })
}

/// The item a fault holds (tagged by its `fault` field: `{"fault": "pause", "for_ns": 5}`).
fn fault(node: Option<NodeId>, mut fields: Map<String, Value>) -> Result<Option<Item>, String> {
    let name = match fields.remove("fault") {
        Some(Value::String(name)) => name,
        _ => return Err("a fault without its name (`fault`)".into()),
    };
    let needs_node = |what: &str| node.ok_or_else(|| format!("a {what} names no node"));
    let fields = Value::Object(fields);
    Ok(match name.as_str() {
        "crash" => Some(Item::Crash(needs_node("crash")?)),
        "restart" => Some(Item::Restart(needs_node("restart")?)),
        "resume" => Some(Item::Resume(needs_node("resume")?)),
        "pause" => {
            let f: PauseFields = parse(fields)?;
            Some(Item::Pause { node: needs_node("pause")?, for_ns: f.for_ns })
        }
        "network" => Some(Item::Change { node, change: Change::Network }),
        "clock-rate" => {
            let f: ClockFields = parse(fields)?;
            Some(Item::Change { node, change: Change::ClockRate { ppm: f.ppm } })
        }
        "membership" => {
            let f: MembershipFields = parse(fields)?;
            let change = Change::Membership { voters: f.voters, learners: f.learners };
            Some(Item::Change { node, change })
        }
        _ => None,
    })
}

fn parse<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Node ids start at 1: a lane per id.
fn node(id: NodeId) -> Result<NodeId, String> {
    if id.0 == 0 {
        Err("node ids start at 1".into())
    } else {
        Ok(id)
    }
}

fn bad_line(line: usize, problem: String) -> TimelineError {
    TimelineError::BadLine { line, problem }
}

/// serde_json's message without its position, which counts lines of the one line parsed.
fn bad(line: usize, e: &serde_json::Error) -> TimelineError {
    let text = e.to_string();
    let problem = match text.rfind(" at line ") {
        Some(at) => format!("{}, at column {}", &text[..at], e.column()),
        None => text,
    };
    bad_line(line, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str, trial: Option<u64>) -> Result<TrialTrace, TimelineError> {
        read(text.as_bytes(), trial)
    }

    #[test]
    fn records_of_every_kind_the_picture_draws_are_read() {
        let text = r#"{"trial":0,"t_ns":1,"kind":"send","from":2,"to":1,"message":"pre-vote","term":1}
{"trial":0,"t_ns":2,"kind":"drop","from":2,"to":3,"message":"heartbeat","reason":"loss"}
{"trial":0,"t_ns":3,"kind":"node","node":2,"event":{"kind":"role-changed","term":0,"from":"follower","to":"pre-candidate"}}
{"trial":0,"t_ns":4,"kind":"node","node":2,"event":{"kind":"election-timeout","term":0,"silence":null}}
{"trial":0,"t_ns":5,"kind":"fault","node":3,"fault":{"fault":"pause","for_ns":7}}
{"trial":0,"t_ns":6,"kind":"fault","node":null,"fault":{"fault":"network"}}
"#;
        let trace = read_str(text, None).unwrap();
        let items: Vec<Item> = trace.entries.into_iter().map(|e| e.item).collect();
        assert_eq!(
            items,
            vec![
                Item::Send {
                    from: NodeId(2),
                    to: NodeId(1),
                    message: MessageKind::PreVote,
                    term: 1
                },
                Item::Drop {
                    from: NodeId(2),
                    to: NodeId(3),
                    message: MessageKind::Heartbeat,
                    reason: DropReason::OnTheWay
                },
                Item::RoleChanged { node: NodeId(2), term: Term(0), to: Role::PreCandidate },
                Item::ElectionTimeout { node: NodeId(2) },
                Item::Pause { node: NodeId(3), for_ns: 7 },
                Item::Change { node: None, change: Change::Network },
            ]
        );
    }

    #[test]
    fn every_message_kind_reads_back_under_the_name_the_trace_writes() {
        use MessageKind::*;
        let kinds = [
            Heartbeat,
            HeartbeatResponse,
            PreVote,
            PreVoteResponse,
            Vote,
            VoteResponse,
            TimeoutNow,
            TransferVote,
        ];
        for kind in kinds {
            assert_eq!(serde_json::to_value(kind).unwrap(), Value::String(kind.name().into()));
            assert_eq!(message_kind(kind.name()), Some(kind));
        }
    }

    #[test]
    fn unknown_kinds_events_messages_and_faults_are_skipped() {
        let text = r#"{"trial":0,"t_ns":1,"kind":"payload-send","from":1,"to":2,"bytes":5}
{"trial":0,"t_ns":1,"kind":"payload-drop","from":1,"to":2,"reason":"loss"}
{"trial":0,"t_ns":1,"kind":"host-timer","node":1,"token":3}
{"trial":0,"t_ns":2,"kind":"node","node":1,"event":{"kind":"something-new","x":1}}
{"trial":0,"t_ns":3,"kind":"send","from":1,"to":2,"message":"append","term":1}
{"trial":0,"t_ns":4,"kind":"fault","node":1,"fault":{"fault":"disk-full"}}
{"trial":0,"t_ns":5,"kind":"node","node":1,"event":{"kind":"leader-changed","term":1,"leader":2}}
"#;
        assert_eq!(read_str(text, None).unwrap().entries, vec![]);
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_its_number() {
        let text =
            "{\"trial\":0,\"t_ns\":1,\"kind\":\"persist\",\"node\":1,\"term\":1}\n\nnot json\n";
        match read_str(text, None) {
            Err(TimelineError::BadLine { line: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
        let missing = r#"{"trial":0,"t_ns":1,"kind":"send","from":1,"message":"vote","term":1}"#;
        let err = read_str(missing, None).unwrap_err().to_string();
        assert!(err.starts_with("line 1 is not a trace record: missing field `to`"), "{err}");
        let zero = r#"{"trial":0,"t_ns":1,"kind":"fault","node":0,"fault":{"fault":"crash"}}"#;
        assert!(matches!(read_str(zero, None), Err(TimelineError::BadLine { line: 1, .. })));
    }

    #[test]
    fn the_first_trial_is_read_unless_another_is_asked_for() {
        let text = r#"{"trial":4,"t_ns":1,"kind":"fault","node":1,"fault":{"fault":"crash"}}
{"trial":5,"t_ns":2,"kind":"fault","node":2,"fault":{"fault":"crash"}}
"#;
        assert_eq!(read_str(text, None).unwrap().trial, 4);
        let five = read_str(text, Some(5)).unwrap();
        assert_eq!(five.entries, vec![Entry { t_ns: 2, item: Item::Crash(NodeId(2)) }]);
        match read_str(text, Some(9)) {
            Err(TimelineError::UnknownTrial { trial: 9, first: 4 }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(read_str("\n", None), Err(TimelineError::EmptyTrace)));
    }
}
