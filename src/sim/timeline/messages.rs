//! Pairing each message's send with what became of it: its delivery, or its drop.
//!
//! A trace records a send and, later, a delivery or a drop, with nothing that names the
//! message. A delivery is paired with the earliest unpaired send of the same sender, receiver,
//! kind and term (links deliver most messages in order, and a held link releases in order). A
//! drop carries no term: one on the way (a cut link, loss) is recorded with its send, so it
//! takes the latest unpaired send of its kind; one at a down receiver takes the earliest, the
//! longest in flight; a refusal at the receiver follows the delivery it refuses.

use std::collections::{BTreeMap, VecDeque};

use super::read::{DropReason, MessageKind};
use crate::core::NodeId;

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It reached its receiver.
    Delivered,
    /// The network lost it as it was sent (a cut link, random loss).
    Lost,
    /// It reached a receiver that was down, or that refused it.
    Refused,
}

/// One message, from its send to its delivery or drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// What.
    pub message: MessageKind,
    /// Its term.
    pub term: u64,
    /// When it was sent, ns.
    pub sent_ns: u64,
    /// When it was delivered or dropped, ns.
    pub end_ns: u64,
    /// Which.
    pub fate: Fate,
}

type Key = (NodeId, NodeId, MessageKind);

/// Messages in flight and those already paired.
#[derive(Debug, Default)]
pub struct Pairing {
    /// Unpaired sends per link and kind, oldest first: term and time.
    in_flight: BTreeMap<Key, VecDeque<(u64, u64)>>,
    /// The last delivery per link and kind: the index of its arrow.
    last_delivered: BTreeMap<Key, usize>,
    arrows: Vec<Arrow>,
}

impl Pairing {
    /// A message was sent.
    pub fn send(&mut self, t_ns: u64, from: NodeId, to: NodeId, message: MessageKind, term: u64) {
        self.in_flight.entry((from, to, message)).or_default().push_back((term, t_ns));
    }

    /// A message was delivered. A delivery without an unpaired send (a duplicate) is not drawn.
    pub fn deliver(
        &mut self,
        t_ns: u64,
        from: NodeId,
        to: NodeId,
        message: MessageKind,
        term: u64,
    ) {
        let key = (from, to, message);
        let Some(queue) = self.in_flight.get_mut(&key) else { return };
        let Some(k) = queue.iter().position(|&(t, _)| t == term) else { return };
        let (_, sent_ns) = queue.remove(k).expect("found above");
        self.last_delivered.insert(key, self.arrows.len());
        let fate = Fate::Delivered;
        self.arrows.push(Arrow { from, to, message, term, sent_ns, end_ns: t_ns, fate });
    }

    /// A message was dropped.
    pub fn drop(
        &mut self,
        t_ns: u64,
        from: NodeId,
        to: NodeId,
        message: MessageKind,
        why: DropReason,
    ) {
        let key = (from, to, message);
        if why == DropReason::Refused {
            if let Some(&i) = self.last_delivered.get(&key) {
                if self.arrows[i].end_ns == t_ns {
                    self.arrows[i].fate = Fate::Refused;
                }
            }
            return;
        }
        let Some(queue) = self.in_flight.get_mut(&key) else { return };
        let sent_now = queue.back().is_some_and(|&(_, sent)| sent == t_ns);
        let taken = match why {
            DropReason::OnTheWay => queue.pop_back().filter(|_| sent_now),
            DropReason::Down => queue.pop_front(),
            _ if sent_now => queue.pop_back(),
            _ => queue.pop_front(),
        };
        let Some((term, sent_ns)) = taken else { return };
        let fate = if sent_ns == t_ns { Fate::Lost } else { Fate::Refused };
        self.arrows.push(Arrow { from, to, message, term, sent_ns, end_ns: t_ns, fate });
    }

    /// The paired messages, in the order they were sent. Messages still in flight at the end
    /// of the trace are left out.
    pub fn finish(mut self) -> Vec<Arrow> {
        self.arrows.sort_by_key(|a| (a.sent_ns, a.end_ns));
        self.arrows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HB: MessageKind = MessageKind::Heartbeat;

    #[test]
    fn a_delivery_pairs_with_the_earliest_unpaired_send_of_its_term() {
        let (a, b) = (NodeId(1), NodeId(2));
        let mut p = Pairing::default();
        p.send(10, a, b, HB, 1);
        p.send(20, a, b, HB, 2);
        p.send(30, a, b, HB, 2);
        p.deliver(35, a, b, HB, 2);
        p.deliver(36, a, b, HB, 1);
        p.deliver(37, a, b, HB, 1); // a duplicate: nothing left to pair with
        let arrows = p.finish();
        let spans: Vec<(u64, u64, u64)> =
            arrows.iter().map(|a| (a.term, a.sent_ns, a.end_ns)).collect();
        assert_eq!(spans, vec![(1, 10, 36), (2, 20, 35)]);
        assert!(arrows.iter().all(|a| a.fate == Fate::Delivered));
    }

    #[test]
    fn a_drop_on_the_way_takes_the_send_it_follows_and_is_short() {
        let (a, b) = (NodeId(1), NodeId(2));
        let mut p = Pairing::default();
        p.send(10, a, b, HB, 1);
        p.send(20, a, b, HB, 1);
        p.drop(20, a, b, HB, DropReason::OnTheWay);
        p.deliver(25, a, b, HB, 1);
        let arrows = p.finish();
        assert_eq!(arrows[0].sent_ns, 10);
        assert_eq!((arrows[0].end_ns, arrows[0].fate), (25, Fate::Delivered));
        assert_eq!((arrows[1].sent_ns, arrows[1].end_ns, arrows[1].fate), (20, 20, Fate::Lost));
    }

    #[test]
    fn a_drop_at_a_down_receiver_takes_the_longest_in_flight_and_a_refusal_marks_its_delivery() {
        let (a, b) = (NodeId(1), NodeId(2));
        let mut p = Pairing::default();
        p.send(10, a, b, HB, 1);
        p.send(20, a, b, HB, 1);
        p.drop(30, a, b, HB, DropReason::Down);
        p.deliver(40, a, b, HB, 1);
        p.drop(40, a, b, HB, DropReason::Refused);
        let arrows = p.finish();
        assert_eq!((arrows[0].sent_ns, arrows[0].end_ns, arrows[0].fate), (10, 30, Fate::Refused));
        assert_eq!((arrows[1].sent_ns, arrows[1].end_ns, arrows[1].fate), (20, 40, Fate::Refused));
    }
}
