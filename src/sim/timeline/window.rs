//! The part of a timeline a picture shows: a window of time, with its messages thinned when
//! there are too many to tell apart.
//!
//! Thinning keeps every election message (pre-votes, votes, their answers, `TimeoutNow` and
//! transfer votes), the few that explain a failover, and samples heartbeats and their answers
//! evenly over the window, so the steady rhythm stays visible without hiding the rest.

use super::error::TimelineError;
use super::messages::Arrow;
use super::model::Timeline;

/// About how many messages a picture draws before it thins heartbeats.
pub const MAX_ARROWS: usize = 300;

/// Fewest heartbeats a thinned picture keeps, however many election messages it draws.
const MIN_HEARTBEATS: usize = MAX_ARROWS / 4;

/// A span of simulated time, ns, that holds something of the trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Start, ns.
    pub from_ns: u64,
    /// End, ns; after the start.
    pub to_ns: u64,
}

impl Window {
    /// The window from `from_ms` (default 0) to `to_ms` (default, and at most, the trial's
    /// last record) of `timeline`. An empty window is an error.
    pub fn of(
        timeline: &Timeline,
        from_ms: Option<f64>,
        to_ms: Option<f64>,
    ) -> Result<Window, TimelineError> {
        let end_ms = timeline.end_ns as f64 / 1e6;
        let (from, to) = (from_ms.unwrap_or(0.0), to_ms.unwrap_or(end_ms));
        let empty = || TimelineError::EmptyWindow {
            trial: timeline.trial,
            from_ms: from,
            to_ms: to,
            end_ms,
        };
        if from.is_nan() || to.is_nan() {
            return Err(empty());
        }
        // Saturating float-to-int casts: below 0 is 0, beyond the trial is its end.
        let from_ns = (from * 1e6).round() as u64;
        let to_ns = ((to * 1e6).round() as u64).min(timeline.end_ns);
        if from_ns >= to_ns {
            return Err(empty());
        }
        Ok(Window { from_ns, to_ns })
    }

    /// Whether anything of the span from `start_ns` to `end_ns` falls inside.
    pub fn overlaps(&self, start_ns: u64, end_ns: u64) -> bool {
        start_ns <= self.to_ns && end_ns >= self.from_ns
    }

    /// Its length, ns.
    pub fn len_ns(&self) -> u64 {
        self.to_ns - self.from_ns
    }
}

/// What a picture of a window draws of its messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene<'a> {
    /// The whole trial.
    pub timeline: &'a Timeline,
    /// The part shown.
    pub window: Window,
    /// The messages drawn, in the order they were sent.
    pub arrows: Vec<Arrow>,
    /// The messages in the window, drawn or not.
    pub messages: usize,
    /// Heartbeats (and answers) drawn and in the window, when thinned.
    pub heartbeats: Option<(usize, usize)>,
}

impl<'a> Scene<'a> {
    /// The scene of `window` of `timeline`, its messages thinned to about [`MAX_ARROWS`].
    pub fn new(timeline: &'a Timeline, window: Window) -> Self {
        let inside: Vec<Arrow> = timeline
            .arrows
            .iter()
            .filter(|a| window.overlaps(a.sent_ns, a.end_ns))
            .copied()
            .collect();
        let messages = inside.len();
        if messages <= MAX_ARROWS {
            return Scene { timeline, window, arrows: inside, messages, heartbeats: None };
        }
        let heartbeats = inside.iter().filter(|a| a.message.is_heartbeat()).count();
        let budget = MAX_ARROWS.saturating_sub(messages - heartbeats).max(MIN_HEARTBEATS);
        let keep = budget.min(heartbeats);
        let mut seen = 0;
        let arrows = inside
            .into_iter()
            .filter(|a| {
                if !a.message.is_heartbeat() {
                    return true;
                }
                // Exactly `keep` of the `heartbeats`, evenly spread, the first among them.
                let k = seen;
                seen += 1;
                (k * keep) % heartbeats < keep
            })
            .collect::<Vec<_>>();
        let drawn = arrows.iter().filter(|a| a.message.is_heartbeat()).count();
        Scene { timeline, window, arrows, messages, heartbeats: Some((drawn, heartbeats)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::NodeId;
    use crate::sim::timeline::fixture::FAILOVER;
    use crate::sim::timeline::messages::Fate;
    use crate::sim::timeline::read::{read, MessageKind};

    fn failover() -> Timeline {
        Timeline::build(&read(FAILOVER.as_bytes(), None).unwrap()).unwrap()
    }

    #[test]
    fn the_default_window_is_the_whole_trial_and_the_end_is_clamped_to_it() {
        let t = failover();
        assert_eq!(Window::of(&t, None, None).unwrap(), Window { from_ns: 0, to_ns: 500_000_000 });
        let w = Window::of(&t, Some(240.0), Some(9000.0)).unwrap();
        assert_eq!(w, Window { from_ns: 240_000_000, to_ns: 500_000_000 });
    }

    #[test]
    fn an_empty_window_or_one_after_the_trial_is_an_error() {
        let t = failover();
        for (from, to) in [(300.0, 300.0), (400.0, 100.0), (600.0, 700.0), (f64::NAN, 10.0)] {
            match Window::of(&t, Some(from), Some(to)) {
                Err(TimelineError::EmptyWindow { trial: 0, .. }) => {}
                other => panic!("{from}..{to}: {other:?}"),
            }
        }
    }

    #[test]
    fn cropping_keeps_the_messages_that_overlap_the_window() {
        let t = failover();
        let scene = Scene::new(&t, Window::of(&t, Some(240.0), None).unwrap());
        assert_eq!(scene.messages, 1);
        assert_eq!(scene.arrows[0].message, MessageKind::PreVote);
        assert_eq!(scene.heartbeats, None);
        let scene = Scene::new(&t, Window::of(&t, Some(50.35), Some(60.0)).unwrap());
        assert_eq!(scene.messages, 1, "the lost heartbeat, dropped at 50.4 ms");
    }

    fn dense(heartbeats: u64, votes: u64) -> Timeline {
        let arrow = |i: u64, message| Arrow {
            from: NodeId(1),
            to: NodeId(2),
            message,
            term: 1,
            sent_ns: i * 1000,
            end_ns: i * 1000 + 500,
            fate: Fate::Delivered,
        };
        let mut arrows: Vec<Arrow> =
            (0..heartbeats).map(|i| arrow(i, MessageKind::Heartbeat)).collect();
        arrows.extend((0..votes).map(|i| arrow(i, MessageKind::Vote)));
        arrows.sort_by_key(|a| a.sent_ns);
        Timeline {
            trial: 0,
            nodes: 2,
            end_ns: heartbeats.max(votes) * 1000,
            bands: vec![],
            leases: vec![],
            outages: vec![],
            marks: vec![],
            notes: vec![],
            arrows,
        }
    }

    #[test]
    fn a_dense_window_keeps_every_vote_and_samples_heartbeats_evenly() {
        let t = dense(1000, 50);
        let scene = Scene::new(&t, Window::of(&t, None, None).unwrap());
        assert_eq!(scene.messages, 1050);
        assert_eq!(scene.heartbeats, Some((250, 1000)));
        assert_eq!(scene.arrows.len(), 300);
        let votes = scene.arrows.iter().filter(|a| a.message == MessageKind::Vote).count();
        assert_eq!(votes, 50);
        let times: Vec<u64> = scene
            .arrows
            .iter()
            .filter(|a| a.message.is_heartbeat())
            .map(|a| a.sent_ns / 1000)
            .collect();
        assert!(times.windows(2).all(|w| w[1] - w[0] == 4), "every fourth: {times:?}");
    }

    #[test]
    fn a_window_of_election_traffic_alone_still_keeps_some_heartbeats() {
        let t = dense(400, 400);
        let scene = Scene::new(&t, Window::of(&t, None, None).unwrap());
        assert_eq!(scene.heartbeats, Some((MIN_HEARTBEATS, 400)));
        assert_eq!(scene.arrows.len(), 400 + MIN_HEARTBEATS);
    }

    #[test]
    fn a_sparse_window_draws_every_message() {
        let t = dense(200, 100);
        let scene = Scene::new(&t, Window::of(&t, None, None).unwrap());
        assert_eq!((scene.arrows.len(), scene.heartbeats), (300, None));
    }
}
