//! Shadow detectors: other leader detectors run beside the one in charge, fed the same
//! contacts, that only report when they would have suspected the leader. An operator learns
//! what a detector would have done on their own cluster before switching to it.
//!
//! Each shadow draws its timeouts as the node would with it in charge (uniformly from its
//! range, never below the timeout floor, in the timer's steps), from a generator of its own, so
//! adding a shadow changes nothing the node does.

use std::collections::VecDeque;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::event::Event;
use super::leader_detector::{self, LeaderDetector, LeaderDetectorKind};
use super::time::Instant;

/// Most shadow detectors a node runs.
pub const MAX_SHADOWS: usize = 8;

/// What one shadow detector would have done, in [`Status::shadows`](crate::core::Status).
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ShadowStatus {
    /// The detector.
    pub kind: LeaderDetectorKind,
    /// The range its next timeout after a contact would be drawn from.
    pub timeout_range: (Duration, Duration),
    /// Whether it suspected the leader at the node's latest input: its timeout passed since the
    /// last contact (the node is woken at every shadow's deadline, so this is never stale by
    /// more than the host's lateness in calling it).
    pub suspected: bool,
    /// How many times it would have suspected a leader so far.
    pub suspicions: u64,
}

#[derive(Debug)]
struct Shadow {
    kind: LeaderDetectorKind,
    detector: Box<dyn LeaderDetector>,
    rng: ChaCha8Rng,
    /// When it would suspect the leader, unless contact comes first.
    deadline: Option<Instant>,
    contact: Option<Instant>,
    suspected: bool,
    suspicions: u64,
}

impl Clone for Shadow {
    fn clone(&self) -> Self {
        Shadow { detector: self.detector.boxed_clone(), rng: self.rng.clone(), ..*self }
    }
}

/// The shadow detectors of one node.
#[derive(Clone, Debug)]
pub(crate) struct Shadows {
    list: Vec<Shadow>,
    floor: Duration,
    step: Duration,
}

impl Shadows {
    /// Shadows of `kinds` for the configured range `[min, max]`, timeout `floor` and timer
    /// `step`; shadow `i` draws from a generator seeded from `seed` and `i`, on `stream`.
    pub(crate) fn new(
        kinds: &[LeaderDetectorKind],
        (min, max): (Duration, Duration),
        floor: Duration,
        step: Duration,
        (seed, stream): (u64, u64),
    ) -> Shadows {
        let list = kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((i as u64 + 1) << 56));
                rng.set_stream(stream);
                Shadow {
                    kind,
                    detector: leader_detector::build(kind, min, max, floor),
                    rng,
                    deadline: None,
                    contact: None,
                    suspected: false,
                    suspicions: 0,
                }
            })
            .collect();
        Shadows { list, floor, step }
    }

    /// The leader was heard from at `now`; `new_leadership` when it is a new leader or term,
    /// whose history starts afresh; `own_stall` when the gap since the last contact was partly
    /// this node's own stall, not to be learned.
    pub(crate) fn contact(&mut self, now: Instant, new_leadership: bool, own_stall: bool) {
        for s in &mut self.list {
            if new_leadership {
                s.detector.reset();
            }
            if own_stall {
                s.detector.resume(now);
            } else {
                s.detector.heartbeat(now);
            }
            let (lo, hi) = s.detector.floored_range(self.floor);
            let timeout = leader_detector::draw(&mut s.rng, lo, hi, self.step);
            s.deadline = Some(now + timeout);
            s.contact = Some(now);
            s.suspected = false;
        }
    }

    /// Reports, at `now`, every shadow whose timeout has passed since the last contact.
    pub(crate) fn check(&mut self, now: Instant, events: &mut VecDeque<Event>) {
        for (index, s) in self.list.iter_mut().enumerate() {
            if s.deadline.is_some_and(|d| now >= d) {
                s.deadline = None;
                s.suspected = true;
                s.suspicions += 1;
                let silence = s.contact.map_or(Duration::ZERO, |c| now - c);
                events.push_back(Event::ShadowSuspected { index, silence });
            }
        }
    }

    /// This node leads: there is no leader to suspect.
    pub(crate) fn stop(&mut self) {
        for s in &mut self.list {
            s.deadline = None;
            s.suspected = false;
        }
    }

    /// The earliest instant a shadow would suspect the leader.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.list.iter().filter_map(|s| s.deadline).min()
    }

    /// What each shadow would have done so far, in the configured order.
    pub(crate) fn status(&self) -> Vec<ShadowStatus> {
        self.list
            .iter()
            .map(|s| ShadowStatus {
                kind: s.kind,
                timeout_range: s.detector.floored_range(self.floor),
                suspected: s.suspected,
                suspicions: s.suspicions,
            })
            .collect()
    }
}
