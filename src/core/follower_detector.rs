//! The leader's detector of its followers' failure, shaped after the HeartBeat pattern: it has
//! exactly two operations, *heartbeat received* and *periodic check*.
//!
//! The other direction, a follower's detector of its leader's failure (the randomized election
//! timer and the detectors that may set it), is `leader_detector.rs`: each file is named for
//! whose failure it detects. This trait lets other detectors (phi accrual, Lifeguard-style
//! adaptive timeouts) replace the leader's fixed timeout.

use std::fmt;
use std::time::Duration;

use super::time::Instant;
use super::types::NodeId;

/// A change in a detector's verdict on one peer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Verdict {
    /// The peer is now suspected of having failed; it has been silent this long.
    Suspected(Duration),
    /// A suspected peer was heard from again.
    Recovered,
}

/// A failure detector over a fixed set of peers.
///
/// `Send + Sync`, so that a node can be moved to another thread or shared behind a lock.
pub trait FailureDetector: fmt::Debug + Send + Sync {
    /// Starts watching `peers` afresh at `now`, as if each had just been heard from.
    fn reset(&mut self, peers: &[NodeId], now: Instant);

    /// The membership changed at `now`: watch `peers` from now on. The default starts afresh;
    /// a detector should keep what it knows of the peers that remain, as
    /// [`TimeoutDetector`] does, so a change does not hide a silent follower.
    fn peers_changed(&mut self, peers: &[NodeId], now: Instant) {
        self.reset(peers, now);
    }

    /// Operation one: proof of life from `peer` arrived at `now`. Returns the verdict change,
    /// if the peer was suspected until now.
    fn heartbeat_received(&mut self, peer: NodeId, now: Instant) -> Option<Verdict>;

    /// Operation two: the periodic check at `now`. Reports every peer whose verdict changed.
    fn check(&mut self, now: Instant, report: &mut dyn FnMut(NodeId, Verdict));

    /// The earliest instant at which [`check`](Self::check) could change a verdict.
    fn next_check(&self) -> Option<Instant>;

    /// Whether `peer` is currently suspected.
    fn is_suspected(&self, peer: NodeId) -> bool;

    /// A copy of this detector in its current state, for [`Node::try_clone`]. The default is
    /// `None`: a detector that cannot be copied makes its node impossible to fork.
    ///
    /// [`Node::try_clone`]: super::Node::try_clone
    fn try_clone(&self) -> Option<Box<dyn FailureDetector>> {
        None
    }
}

/// Suspects a peer once it has been silent for a fixed timeout (the pattern's detector).
#[derive(Clone, Debug)]
pub struct TimeoutDetector {
    timeout: Duration,
    peers: Vec<Watched>,
}

#[derive(Clone, Copy, Debug)]
struct Watched {
    id: NodeId,
    last_heard: Instant,
    /// `last_heard + timeout`, kept so that the next check costs no arithmetic.
    suspect_at: Instant,
    suspected: bool,
}

impl TimeoutDetector {
    /// A detector that suspects a peer after `timeout` of silence.
    pub fn new(timeout: Duration) -> Self {
        TimeoutDetector { timeout, peers: Vec::new() }
    }

    fn find(&mut self, peer: NodeId) -> Option<&mut Watched> {
        self.peers.iter_mut().find(|w| w.id == peer)
    }
}

impl FailureDetector for TimeoutDetector {
    fn reset(&mut self, peers: &[NodeId], now: Instant) {
        self.peers.clear();
        let suspect_at = now + self.timeout;
        self.peers.extend(peers.iter().map(|&id| Watched {
            id,
            last_heard: now,
            suspect_at,
            suspected: false,
        }));
    }

    fn peers_changed(&mut self, peers: &[NodeId], now: Instant) {
        let old = std::mem::take(&mut self.peers);
        let fresh =
            |id| Watched { id, last_heard: now, suspect_at: now + self.timeout, suspected: false };
        self.peers = peers
            .iter()
            .map(|&id| old.iter().find(|w| w.id == id).copied().unwrap_or_else(|| fresh(id)))
            .collect();
    }

    fn heartbeat_received(&mut self, peer: NodeId, now: Instant) -> Option<Verdict> {
        let timeout = self.timeout;
        let watched = self.find(peer)?;
        if now > watched.last_heard {
            watched.last_heard = now;
            watched.suspect_at = now + timeout;
        }
        if watched.suspected {
            watched.suspected = false;
            Some(Verdict::Recovered)
        } else {
            None
        }
    }

    fn check(&mut self, now: Instant, report: &mut dyn FnMut(NodeId, Verdict)) {
        for w in self.peers.iter_mut().filter(|w| !w.suspected) {
            let silence = now - w.last_heard;
            if silence >= self.timeout {
                w.suspected = true;
                report(w.id, Verdict::Suspected(silence));
            }
        }
    }

    fn next_check(&self) -> Option<Instant> {
        self.peers.iter().filter(|w| !w.suspected).map(|w| w.suspect_at).min()
    }

    fn is_suspected(&self, peer: NodeId) -> bool {
        self.peers.iter().any(|w| w.id == peer && w.suspected)
    }

    fn try_clone(&self) -> Option<Box<dyn FailureDetector>> {
        Some(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    fn checked(d: &mut TimeoutDetector, now: Instant) -> Vec<(NodeId, Verdict)> {
        let mut out = Vec::new();
        d.check(now, &mut |p, v| out.push((p, v)));
        out
    }

    #[test]
    fn silent_peer_is_suspected_once_the_timeout_passes_and_recovers_when_heard() {
        let mut d = TimeoutDetector::new(Duration::from_millis(150));
        d.reset(&[NodeId(2), NodeId(3)], ms(0));
        assert_eq!(d.next_check(), Some(ms(150)));
        assert_eq!(d.heartbeat_received(NodeId(3), ms(100)), None);
        assert!(checked(&mut d, ms(149)).is_empty());
        let verdicts = checked(&mut d, ms(150));
        assert_eq!(verdicts, vec![(NodeId(2), Verdict::Suspected(Duration::from_millis(150)))]);
        assert!(d.is_suspected(NodeId(2)));
        assert!(checked(&mut d, ms(200)).is_empty(), "a suspicion is reported once");
        assert_eq!(d.next_check(), Some(ms(250)));
        assert_eq!(d.heartbeat_received(NodeId(2), ms(210)), Some(Verdict::Recovered));
        assert!(!d.is_suspected(NodeId(2)));
    }

    #[test]
    fn a_membership_change_keeps_the_silence_of_the_peers_that_remain() {
        let mut d = TimeoutDetector::new(Duration::from_millis(150));
        d.reset(&[NodeId(2), NodeId(3)], ms(0));
        d.peers_changed(&[NodeId(2), NodeId(4)], ms(100));
        assert_eq!(d.next_check(), Some(ms(150)), "node 2 is still silent since 0");
        let verdicts = checked(&mut d, ms(150));
        assert_eq!(verdicts, vec![(NodeId(2), Verdict::Suspected(Duration::from_millis(150)))]);
        assert_eq!(d.next_check(), Some(ms(250)), "node 4 is counted from its addition");
        assert!(!d.is_suspected(NodeId(3)), "a removed peer is forgotten");
    }

    #[test]
    fn unknown_peer_and_stale_time_change_nothing() {
        let mut d = TimeoutDetector::new(Duration::from_millis(10));
        d.reset(&[NodeId(2)], ms(100));
        assert_eq!(d.heartbeat_received(NodeId(7), ms(105)), None);
        assert_eq!(d.heartbeat_received(NodeId(2), ms(50)), None);
        assert_eq!(d.next_check(), Some(ms(110)));
    }
}
