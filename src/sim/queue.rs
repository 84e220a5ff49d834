//! The event queue: earliest time first, ties in insertion order. Payloads live in a slab so
//! that the heap only moves small keys.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::core::Instant;

/// A heap entry: the time in the high 64 bits of the key and the insertion sequence in the low,
/// so one integer comparison orders entries; ordered in reverse, so the max-heap pops the
/// earliest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    key: u128,
    slot: u32,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A priority queue of `T` keyed by (time, insertion sequence).
#[derive(Debug)]
pub(crate) struct EventQueue<T> {
    heap: BinaryHeap<Entry>,
    slots: Vec<Option<T>>,
    free: Vec<u32>,
    seq: u64,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), slots: Vec::new(), free: Vec::new(), seq: 0 }
    }

    /// Schedules `item` at `at`, after everything already scheduled at `at`.
    pub(crate) fn push(&mut self, at: Instant, item: T) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(item);
                slot
            }
            None => {
                self.slots.push(Some(item));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        self.seq += 1;
        let key = (u128::from(at.as_nanos()) << 64) | u128::from(self.seq);
        self.heap.push(Entry { key, slot });
    }

    /// Takes the earliest item.
    pub(crate) fn pop(&mut self) -> Option<(Instant, T)> {
        let Entry { key, slot } = self.heap.pop()?;
        self.free.push(slot);
        let item = self.slots[slot as usize].take().expect("each slot is popped once");
        Some((Instant::from_nanos((key >> 64) as u64), item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut q = EventQueue::new();
        let t = Instant::from_millis;
        q.push(t(5), "b");
        q.push(t(1), "a");
        q.push(t(5), "c");
        assert_eq!(q.pop(), Some((t(1), "a")));
        q.push(t(5), "d");
        q.push(t(2), "x");
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, s)| s).collect();
        assert_eq!(rest, ["x", "b", "c", "d"]);
        assert_eq!(q.slots.len(), 4, "five pushes, one slot reused");
    }
}
