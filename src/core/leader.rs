//! What a leader tracks about its followers: which heartbeat round each acknowledged and when,
//! from which it derives the last time a majority was heard (check quorum, thesis §6.2) and the
//! start of its lease (thesis §6.4.1).

use std::time::Duration;

use super::arrivals::Arrivals;
use super::time::Instant;

/// The leader's bookkeeping, kept allocated across terms so that steady state never allocates.
#[derive(Clone, Debug)]
pub(crate) struct LeaderState {
    /// When the next heartbeat round is due.
    pub(crate) next_heartbeat: Instant,
    next_round: u64,
    rounds: RoundLog,
    peers: Vec<PeerAcks>,
    scratch: Vec<Instant>,
    /// The latest instant by which a majority (this node included) had been heard from;
    /// `None` when this node alone is a majority.
    pub(crate) quorum_contact: Option<Instant>,
    /// The send time of the latest round acknowledged by a majority, if any.
    pub(crate) lease_start: Option<Instant>,
    /// Whether the lease was valid when last looked at, so its expiry is reported once.
    pub(crate) lease_held: bool,
    /// Set once this leader sent `TimeoutNow`: the target may be elected despite stickiness,
    /// so no lease holds for the rest of the term (thesis §3.10, §6.4.1).
    pub(crate) lease_given_up: bool,
    /// A leadership transfer under way.
    pub(crate) transfer: Option<Transfer>,
}

/// A leadership transfer under way (thesis §3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transfer {
    /// The member taking over.
    pub(crate) target: super::types::NodeId,
    /// When the transfer is abandoned if no new leader emerged.
    pub(crate) deadline: Instant,
}

/// One follower's acknowledgements.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PeerAcks {
    /// Whether it is a voter: only voters count towards check quorum and the lease.
    pub(crate) voter: bool,
    /// When the leader began counting it (its leadership's start, or the peer's addition):
    /// until it answers, it counts as heard at this instant for check quorum, which gives a
    /// new leader (or a new voter) one full window to be heard from.
    pub(crate) since: Instant,
    /// When this follower's latest acknowledgement arrived.
    pub(crate) last_ack_at: Option<Instant>,
    /// The send time of the latest round (or replicated request) it acknowledged.
    pub(crate) acked_sent_at: Option<Instant>,
    /// The gaps between its acknowledgements, for telemetry.
    pub(crate) arrivals: Arrivals,
}

impl LeaderState {
    /// Bookkeeping for peers of which those flagged in `voters` vote, remembering the send
    /// times of `rounds_kept` rounds.
    pub(crate) fn new(voters: impl IntoIterator<Item = bool>, rounds_kept: usize) -> Self {
        let peers: Vec<PeerAcks> =
            voters.into_iter().map(|voter| PeerAcks { voter, ..PeerAcks::default() }).collect();
        LeaderState {
            next_heartbeat: Instant::ZERO,
            next_round: 1,
            rounds: RoundLog::new(rounds_kept),
            scratch: Vec::with_capacity(peers.len()),
            peers,
            quorum_contact: None,
            lease_start: None,
            lease_held: false,
            lease_given_up: false,
            transfer: None,
        }
    }

    /// Starts a new leadership at `now`: nothing is acknowledged yet.
    pub(crate) fn reset(&mut self, now: Instant, needed: usize) {
        self.next_heartbeat = now;
        self.rounds.clear();
        for p in &mut self.peers {
            *p = PeerAcks { voter: p.voter, since: now, ..PeerAcks::default() };
        }
        self.lease_held = false;
        self.lease_given_up = false;
        self.transfer = None;
        self.recompute(needed);
    }

    /// The membership changed at `now`: `peers` lists, in the node's new peer order, whether
    /// each votes and the index it had before (`None` for a peer just added, counted from
    /// `now`). What a remaining peer acknowledged is kept, so the lease and check quorum are
    /// recomputed over the new voters from what they really promised (thesis §4.1, §6.4.1).
    pub(crate) fn set_peers(
        &mut self,
        peers: impl IntoIterator<Item = (bool, Option<usize>)>,
        now: Instant,
        needed: usize,
    ) {
        let old = std::mem::take(&mut self.peers);
        self.peers = peers
            .into_iter()
            .map(|(voter, was)| {
                let kept = was.and_then(|i| old.get(i).copied());
                PeerAcks { voter, ..kept.unwrap_or(PeerAcks { since: now, ..PeerAcks::default() }) }
            })
            .collect();
        self.recompute(needed);
    }

    /// Records that a round is sent at `now` and returns its number.
    pub(crate) fn start_round(&mut self, now: Instant, needed: usize) -> u64 {
        let round = self.next_round;
        self.next_round += 1;
        self.rounds.record(round, now);
        if needed == 0 {
            self.recompute(needed);
        }
        round
    }

    /// The send time of `round`, if it is recent enough to be remembered.
    pub(crate) fn sent_at(&self, round: u64) -> Option<Instant> {
        self.rounds.sent_at(round)
    }

    /// The acknowledgements of the peer at `index`.
    pub(crate) fn peer(&self, index: usize) -> PeerAcks {
        self.peers.get(index).copied().unwrap_or_default()
    }

    /// The peer at `index` acknowledged, at `now`, something sent at `sent_at`; `needed` of
    /// the voting peers make a majority with this node.
    pub(crate) fn ack(
        &mut self,
        index: usize,
        now: Instant,
        sent_at: Option<Instant>,
        needed: usize,
    ) {
        let Some(p) = self.peers.get_mut(index) else {
            return;
        };
        p.last_ack_at = Some(p.last_ack_at.map_or(now, |t| t.max(now)));
        let contact_moved = self.quorum_contact.is_some_and(|q| now > q);
        let mut lease_moved = false;
        if let Some(sent) = sent_at.map(|s| s.min(now)) {
            p.acked_sent_at = Some(p.acked_sent_at.map_or(sent, |t| t.max(sent)));
            lease_moved = self.lease_start.is_none_or(|l| sent > l);
        }
        if !p.voter {
            return;
        }
        // An n-th latest instant only moves when one of the instants passes it.
        if contact_moved {
            self.recompute_contact(needed);
        }
        if lease_moved {
            self.recompute_lease(needed);
        }
    }

    /// Records, for telemetry, that the peer at `index` was heard from at `now`, against the
    /// silence `timeout` after which it would be suspected.
    pub(crate) fn record_arrival(&mut self, index: usize, now: Instant, timeout: Duration) {
        if let Some(p) = self.peers.get_mut(index) {
            p.arrivals.record(now, timeout);
        }
    }

    /// When the lease ends, if the leader holds one.
    pub(crate) fn lease_end(&self, lease: Duration) -> Option<Instant> {
        self.lease_start.map(|s| s + lease)
    }

    /// Writes the state of the peer at `index` that shapes the protocol (not its arrival
    /// statistics, which are telemetry), for the model checker's digest of a node.
    #[cfg(feature = "model")]
    pub(crate) fn peer_digest(&self, index: usize, out: &mut String) {
        use std::fmt::Write;
        let p = self.peer(index);
        let _ = write!(out, "{} {:?} {:?} {:?}", p.voter, p.since, p.last_ack_at, p.acked_sent_at);
    }

    /// Writes everything but the per-peer state, with node ids passed through `rename`, for
    /// the model checker's digest of a node.
    #[cfg(feature = "model")]
    pub(crate) fn digest(
        &self,
        rename: &dyn Fn(super::types::NodeId) -> super::types::NodeId,
        out: &mut String,
    ) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "{:?} {} {:?} {:?} {:?} {} {} {:?}",
            self.next_heartbeat,
            self.next_round,
            self.rounds,
            self.quorum_contact,
            self.lease_start,
            self.lease_held,
            self.lease_given_up,
            self.transfer.map(|t| (rename(t.target), t.deadline)),
        );
    }

    /// Recomputes `quorum_contact` and `lease_start`: the `needed`-th most recent among the
    /// voting peers (a majority less this node, when it votes).
    fn recompute(&mut self, needed: usize) {
        if needed == 0 {
            self.quorum_contact = None;
            self.lease_start = self.rounds.latest();
            return;
        }
        self.recompute_contact(needed);
        self.recompute_lease(needed);
    }

    fn recompute_contact(&mut self, needed: usize) {
        let times = self.peers.iter().filter(|p| p.voter).map(|p| p.last_ack_at.unwrap_or(p.since));
        self.quorum_contact = nth_latest(times, needed, &mut self.scratch);
    }

    fn recompute_lease(&mut self, needed: usize) {
        let times = self.peers.iter().filter(|p| p.voter).filter_map(|p| p.acked_sent_at);
        self.lease_start = nth_latest(times, needed, &mut self.scratch);
    }
}

/// Up to this `n`, [`nth_latest`] keeps its candidates on the stack.
const SMALL: usize = 8;

/// The `n`-th latest of `times` (1-based), or `None` if there are fewer than `n`. For the usual
/// small `n` (a majority of up to 17 nodes) it keeps the `n` latest in a sorted stack array;
/// beyond that it sorts `scratch`.
fn nth_latest(
    times: impl Iterator<Item = Instant>,
    n: usize,
    scratch: &mut Vec<Instant>,
) -> Option<Instant> {
    if n == 0 {
        return None;
    }
    if n <= SMALL {
        let mut top = [Instant::ZERO; SMALL];
        let mut len = 0;
        for t in times {
            if len == n && t <= top[n - 1] {
                continue;
            }
            let mut i = len.min(n - 1);
            while i > 0 && top[i - 1] < t {
                top[i] = top[i - 1];
                i -= 1;
            }
            top[i] = t;
            len = (len + 1).min(n);
        }
        return (len == n).then(|| top[n - 1]);
    }
    scratch.clear();
    scratch.extend(times);
    if scratch.len() < n {
        return None;
    }
    scratch.sort_unstable_by(|a, b| b.cmp(a));
    Some(scratch[n - 1])
}

/// The send times of the most recent rounds, in a ring indexed by round number. Its length is
/// a power of two, so finding a round's slot is a mask, not a division.
#[derive(Clone, Debug)]
struct RoundLog {
    slots: Vec<Option<(u64, Instant)>>,
}

impl RoundLog {
    fn new(kept: usize) -> Self {
        RoundLog { slots: vec![None; kept.max(1).next_power_of_two()] }
    }

    fn clear(&mut self) {
        self.slots.fill(None);
    }

    fn slot(&self, round: u64) -> usize {
        (round & (self.slots.len() as u64 - 1)) as usize
    }

    fn record(&mut self, round: u64, now: Instant) {
        let i = self.slot(round);
        self.slots[i] = Some((round, now));
    }

    fn sent_at(&self, round: u64) -> Option<Instant> {
        match self.slots[self.slot(round)] {
            Some((r, at)) if r == round => Some(at),
            _ => None,
        }
    }

    fn latest(&self) -> Option<Instant> {
        self.slots.iter().flatten().max_by_key(|(r, _)| *r).map(|(_, at)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn quorum_contact_is_the_latest_time_a_majority_was_heard() {
        // Five nodes: the leader plus two of its four peers make a majority.
        let mut s = LeaderState::new([true; 4], 8);
        s.reset(ms(0), 2);
        assert_eq!(s.quorum_contact, Some(ms(0)), "a new leader gets a full window");
        s.ack(0, ms(30), None, 2);
        s.ack(1, ms(20), None, 2);
        s.ack(2, ms(10), None, 2);
        assert_eq!(s.quorum_contact, Some(ms(20)));
    }

    #[test]
    fn lease_starts_at_the_send_time_of_the_latest_round_a_majority_acked() {
        let mut s = LeaderState::new([true; 4], 8);
        s.reset(ms(0), 2);
        let r1 = s.start_round(ms(0), 2);
        let r2 = s.start_round(ms(50), 2);
        s.ack(0, ms(52), s.sent_at(r2), 2);
        assert_eq!(s.lease_start, None, "one peer is not a majority");
        s.ack(1, ms(53), s.sent_at(r1), 2);
        assert_eq!(s.lease_start, Some(ms(0)));
        s.ack(1, ms(54), s.sent_at(r2), 2);
        assert_eq!(s.lease_start, Some(ms(50)));
        s.ack(1, ms(55), s.sent_at(r1), 2);
        assert_eq!(s.lease_start, Some(ms(50)), "a late ack of an old round moves nothing back");
    }

    #[test]
    fn learners_count_in_no_majority_and_a_membership_change_keeps_what_voters_acked() {
        // Voters 1 and 2 of three (the leader is the third), and a learner.
        let mut s = LeaderState::new([true, true, false], 8);
        s.reset(ms(0), 1);
        let r1 = s.start_round(ms(0), 1);
        s.ack(2, ms(5), s.sent_at(r1), 1);
        assert_eq!(s.lease_start, None, "a learner's ack holds no lease");
        s.ack(0, ms(6), s.sent_at(r1), 1);
        assert_eq!(s.lease_start, Some(ms(0)));
        // The learner is promoted (four voters: the leader needs two of its three peers), and
        // a fifth peer joins as a learner at 40 ms.
        s.set_peers([(true, Some(0)), (true, Some(1)), (true, Some(2)), (false, None)], ms(40), 2);
        assert_eq!(s.lease_start, Some(ms(0)), "the promoted learner's ack of round 1 counts");
        assert_eq!(s.quorum_contact, Some(ms(5)));
        // Voter 1 is removed: the remaining voters' acks decide alone.
        s.set_peers([(true, Some(1)), (true, Some(2)), (false, Some(3))], ms(50), 1);
        assert_eq!(s.lease_start, Some(ms(0)));
        assert_eq!(s.quorum_contact, Some(ms(5)));
        s.set_peers([(true, Some(0)), (false, Some(1)), (false, Some(2))], ms(60), 1);
        assert_eq!(s.lease_start, None, "the voter left never acked a round");
        assert_eq!(s.quorum_contact, Some(ms(0)), "counted from the leadership's start");
    }

    #[test]
    fn rounds_older_than_the_ring_are_forgotten() {
        let mut s = LeaderState::new([true; 2], 3);
        s.reset(ms(0), 1);
        let first = s.start_round(ms(0), 1);
        for i in 1..=4 {
            s.start_round(ms(50 * i), 1);
        }
        assert_eq!(s.sent_at(first), None, "three kept rounds round up to a ring of four");
        assert_eq!(s.sent_at(first + 1), Some(ms(50)));
        assert_eq!(s.sent_at(first + 4), Some(ms(200)));
        assert_eq!(s.sent_at(first + 99), None, "a round not yet sent is unknown");
    }

    #[test]
    fn nth_latest_agrees_with_sorting_for_small_and_large_n() {
        let mut scratch = Vec::new();
        let mut x: u64 = 7;
        for len in 0..40usize {
            let times: Vec<Instant> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    Instant::from_nanos((x >> 40) % 50)
                })
                .collect();
            let mut sorted = times.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            for n in 0..=len + 1 {
                let expected = (n >= 1 && n <= len).then(|| sorted[n - 1]);
                assert_eq!(
                    nth_latest(times.iter().copied(), n, &mut scratch),
                    expected,
                    "len {len}, n {n}"
                );
            }
        }
    }

    #[test]
    fn a_single_node_is_its_own_majority() {
        let mut s = LeaderState::new([], 3);
        s.reset(ms(0), 0);
        assert_eq!(s.quorum_contact, None);
        s.start_round(ms(40), 0);
        assert_eq!(s.lease_start, Some(ms(40)));
    }
}
