//! Node configuration and its validation.
//!
//! The defaults follow the Raft paper's example (§5.2, §5.6): heartbeats every 50 ms and election
//! timeouts drawn from 150–300 ms. The timeout is three heartbeat intervals at its shortest, so a
//! follower survives two lost heartbeats in a row before it suspects the leader, and the range is
//! as wide as its minimum, which the paper's Figure 16 shows is enough to make split votes rare.
//! Both are far above a LAN round trip (well under 1 ms), which keeps the pattern's rule:
//! timeout > heartbeat interval > round-trip time.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::leader_detector::LeaderDetectorKind;
use super::membership::{Membership, MembershipError};
use super::shadow::MAX_SHADOWS;
use super::time::duration_nanos;
use super::types::{NodeId, Term};

/// How one node behaves. Build it, adjust fields, then hand it to
/// [`Node::new`](crate::core::Node::new), which validates it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// This node's id; must be one of `members` or `learners`.
    pub id: NodeId,
    /// Every voting member of the cluster.
    pub members: Vec<NodeId>,
    /// Members that receive heartbeats but neither campaign nor count in any majority (thesis
    /// §4.2.1's catching-up servers; openraft's and etcd-raft's learners). Empty by default.
    pub learners: Vec<NodeId>,
    /// How often the leader sends a round of heartbeats.
    pub heartbeat_interval: Duration,
    /// Shortest election timeout. Also the silence after which the leader suspects a follower,
    /// the window of check quorum (thesis §6.2), and of leader stickiness (thesis §4.2.3).
    pub election_timeout_min: Duration,
    /// Longest election timeout. Each timeout is drawn uniformly from
    /// `[election_timeout_min, election_timeout_max]`; equal bounds mean no randomization.
    pub election_timeout_max: Duration,
    /// Ask for a pre-vote before raising the term (thesis §9.6). On by default.
    pub pre_vote: bool,
    /// The leader steps down when a minimum election timeout passes without hearing from a
    /// majority (thesis §6.2). On by default.
    pub check_quorum: bool,
    /// Refuse votes while a current leader has been heard within the minimum election timeout
    /// (thesis §4.2.3). On by default; the leader lease depends on it.
    pub leader_stickiness: bool,
    /// Let the leader hold a lease (thesis §6.4.1). Requires `leader_stickiness`.
    pub leader_lease: bool,
    /// Bound on how far two clocks' rates may differ, as a fraction: a duration measured as `d`
    /// on one node lasts at least `d * (1 - max_clock_drift)` on any other. The lease lasts
    /// `election_timeout_min * (1 - max_clock_drift)`. Must be in `[0, 1)`.
    pub max_clock_drift: f64,
    /// When the election timer is reset. The default, [`TimerRule::Figure2`], is Raft's.
    pub timer_rule: TimerRule,
    /// The step in which election timeouts are drawn: zero (the default) draws any duration
    /// in the range; a positive step draws a whole number of steps, uniformly among the
    /// multiples of the step in `[election_timeout_min, election_timeout_max]`, both of which
    /// must then be multiples of it. Models a host whose timer has a granularity: LogCabin
    /// drew its timeout in whole milliseconds, and tick-driven hosts (etcd-raft, raft-rs)
    /// count whole ticks, so a coarse tick leaves few distinct timeouts to break split votes
    /// (cockroachdb/cockroach#98584).
    pub timer_granularity: Duration,
    /// How a follower decides its leader failed: Raft's randomized range after every contact
    /// (the default), or a timeout that adapts to the observed heartbeat gaps, never below
    /// the floor.
    pub leader_detector: LeaderDetectorKind,
    /// The shortest silence after which any detector may suspect the leader: `None` (the
    /// default) means `election_timeout_min`. A lower floor lets an adaptive detector fire
    /// sooner than the configured range on a steady network, and shrinks the leader's lease
    /// with it (the lease is the floor less the drift margin), so every node of a cluster must
    /// be configured with the same floor. Must lie in `(heartbeat_interval,
    /// election_timeout_min]`. See docs/architecture.md, "The promise".
    pub election_timeout_floor: Option<Duration>,
    /// Local health (Lifeguard; the HeartBeat pattern's advice after CASSANDRA-9183): with a
    /// threshold, the node checks itself every `heartbeat_interval`, takes a check late by more
    /// than the threshold for a stall of its own (a pause, a starved thread), and defers the
    /// first election timeout that fires after one by a fresh timeout instead of suspecting a
    /// leader whose heartbeats may be waiting unread. `None` (the default) is Raft's timer.
    /// Must be above zero; one heartbeat interval is a natural choice (a stall that long can
    /// hide a heartbeat), above the host's usual timer lateness.
    pub local_pause_threshold: Option<Duration>,
    /// Detectors run in shadow beside `leader_detector`, fed the same contacts, that only
    /// report when they would have suspected the leader ([`Event::ShadowSuspected`] and
    /// [`Status::shadows`]), so an operator can see what another detector would do before
    /// switching. At most [`MAX_SHADOWS`]; empty by default.
    ///
    /// [`Event::ShadowSuspected`]: crate::core::Event::ShadowSuspected
    /// [`Status::shadows`]: crate::core::Status::shadows
    pub shadow_detectors: Vec<LeaderDetectorKind>,
    /// Seed of this node's random generator (ChaCha8, stream = node id). A restart with a
    /// persisted hard state mixes that hard state (term, vote) and the restart's `now` into
    /// it, so a member restarted after its term or vote changed does not replay its last
    /// incarnation's timeouts. A restart with the same hard state at the same `now` (the tokio
    /// driver always starts at zero) does replay them: a host should draw a fresh seed per
    /// process where it can, as the `node` command does. Same seed and same
    /// inputs give the same timeouts, always.
    pub seed: u64,
}

/// When a follower or candidate draws a fresh election timeout.
///
/// Both rules redraw the timer when a valid heartbeat (or host-reported leader contact) is
/// accepted, when a vote is granted, when a campaign starts, and when a leader steps down (a
/// leader runs no election timer, so it needs a fresh one). They differ only in what a
/// candidate does when its campaign fails before its timer fires. See docs/architecture.md for
/// the events a host sees under each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TimerRule {
    /// Raft's Figure 2, as LogCabin (the implementation behind the paper's Figure 16) does it:
    /// a candidate stays a candidate until it wins, hears from a leader of its term or newer,
    /// or its timer fires (Raft §5.2). Learning a higher term makes it a follower but keeps its
    /// timer running, and a majority of refusals changes nothing. Candidates whose campaigns
    /// fail together therefore keep the offsets their random timeouts gave them.
    #[default]
    Figure2,
    /// etcd-raft's behaviour: a candidate refused by a majority becomes a follower at once, and
    /// every step-down to follower draws a fresh timeout at that moment. Candidates that fail
    /// together then restart their timers together, which pulls them back into lock-step.
    ResetOnStepDown,
}

impl Config {
    /// A configuration with the defaults for node `id` of a cluster of `members`.
    pub fn new(id: NodeId, members: impl IntoIterator<Item = NodeId>) -> Self {
        Config { id, members: members.into_iter().collect(), ..Config::default() }
    }

    /// This configuration with the fields `set` changes, in one expression:
    /// `Config::new(NodeId(1), members).with(|c| c.seed = 42)`. `Config` is
    /// `#[non_exhaustive]` (a new field is not a breaking change), so it is built this way or
    /// by assigning its fields, not with a struct literal.
    #[must_use]
    pub fn with(mut self, set: impl FnOnce(&mut Config)) -> Config {
        set(&mut self);
        self
    }

    /// Checks every rule and names the first one broken.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::ZeroHeartbeatInterval);
        }
        if self.election_timeout_min <= self.heartbeat_interval {
            return Err(ConfigError::TimeoutNotAboveHeartbeat {
                election_timeout_min: self.election_timeout_min,
                heartbeat_interval: self.heartbeat_interval,
            });
        }
        if self.election_timeout_min > self.election_timeout_max {
            return Err(ConfigError::TimeoutRangeInverted {
                min: self.election_timeout_min,
                max: self.election_timeout_max,
            });
        }
        if let Some(floor) = self.election_timeout_floor {
            if floor <= self.heartbeat_interval || floor > self.election_timeout_min {
                return Err(ConfigError::FloorOutOfRange {
                    floor,
                    heartbeat_interval: self.heartbeat_interval,
                    election_timeout_min: self.election_timeout_min,
                });
            }
        }
        if !self.timer_granularity.is_zero() {
            let step = duration_nanos(self.timer_granularity);
            for (name, bound) in [
                ("election_timeout_min", self.election_timeout_min),
                ("election_timeout_max", self.election_timeout_max),
            ] {
                if duration_nanos(bound) % step != 0 {
                    return Err(ConfigError::TimeoutOffGranularity {
                        name,
                        timeout: bound,
                        granularity: self.timer_granularity,
                    });
                }
            }
        }
        let membership = self.membership();
        membership.validate()?;
        if !membership.contains(self.id) {
            return Err(ConfigError::SelfNotMember(self.id));
        }
        if !(self.max_clock_drift.is_finite() && (0.0..1.0).contains(&self.max_clock_drift)) {
            return Err(ConfigError::ClockDriftOutOfRange(self.max_clock_drift));
        }
        validate_detector(self.leader_detector)?;
        if self.shadow_detectors.len() > MAX_SHADOWS {
            return Err(ConfigError::TooManyShadows(self.shadow_detectors.len()));
        }
        for (index, &kind) in self.shadow_detectors.iter().enumerate() {
            validate_detector(kind)
                .map_err(|e| ConfigError::ShadowDetector { index, error: Box::new(e) })?;
        }
        if self.local_pause_threshold.is_some_and(|t| t.is_zero()) {
            return Err(ConfigError::ZeroLocalPauseThreshold);
        }
        if self.leader_lease && !self.leader_stickiness {
            return Err(ConfigError::LeaseWithoutStickiness);
        }
        if self.leader_lease && self.lease_duration().is_zero() {
            return Err(ConfigError::NoPositiveLease {
                floor: self.timeout_floor(),
                max_clock_drift: self.max_clock_drift,
            });
        }
        Ok(())
    }

    /// The shortest silence after which a follower may suspect its leader: the configured
    /// [`election_timeout_floor`](Self::election_timeout_floor), or `election_timeout_min`.
    /// Every voter promises not to vote for at least this long after acknowledging a leader.
    pub fn timeout_floor(&self) -> Duration {
        self.election_timeout_floor.unwrap_or(self.election_timeout_min)
    }

    /// How long a lease lasts from the send time of a round acknowledged by a majority: the
    /// [`timeout_floor`](Self::timeout_floor) less the drift margin.
    pub fn lease_duration(&self) -> Duration {
        let min = duration_nanos(self.timeout_floor());
        // Round the margin up, so the lease errs on the short side. The float-to-int cast
        // saturates, so an absurd drift gives a zero lease, which `validate` rejects.
        let margin = (min as f64 * self.max_clock_drift).ceil() as u64;
        Duration::from_nanos(min.saturating_sub(margin))
    }

    /// How many votes (or acknowledgements) make a majority of the voting members.
    pub fn quorum(&self) -> usize {
        self.membership().quorum()
    }

    /// The voters and learners.
    pub fn membership(&self) -> Membership {
        Membership { voters: self.members.clone(), learners: self.learners.clone() }
    }
}

/// A detector's parameters are numbers it can work with.
fn validate_detector(kind: LeaderDetectorKind) -> Result<(), ConfigError> {
    match kind {
        LeaderDetectorKind::Adaptive { deviations }
            if !(deviations.is_finite() && deviations >= 0.0) =>
        {
            Err(ConfigError::DetectorDeviations(deviations))
        }
        LeaderDetectorKind::Phi { threshold } if !(threshold.is_finite() && threshold > 0.0) => {
            Err(ConfigError::PhiThreshold(threshold))
        }
        LeaderDetectorKind::Fixed
        | LeaderDetectorKind::Adaptive { .. }
        | LeaderDetectorKind::Phi { .. } => Ok(()),
    }
}

impl Default for Config {
    /// Node 1 alone, with the timing of the Raft paper's example: see the module docs.
    fn default() -> Self {
        Config {
            id: NodeId(1),
            members: vec![NodeId(1)],
            learners: Vec::new(),
            heartbeat_interval: Duration::from_millis(50),
            election_timeout_min: Duration::from_millis(150),
            election_timeout_max: Duration::from_millis(300),
            pre_vote: true,
            check_quorum: true,
            leader_stickiness: true,
            leader_lease: true,
            max_clock_drift: 0.05,
            timer_rule: TimerRule::Figure2,
            timer_granularity: Duration::ZERO,
            leader_detector: LeaderDetectorKind::Fixed,
            election_timeout_floor: None,
            local_pause_threshold: None,
            shadow_detectors: Vec::new(),
            seed: 0,
        }
    }
}

/// A rule of [`Config::validate`] that a configuration breaks.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A leader must send heartbeats at some positive interval.
    #[error("heartbeat_interval must be greater than zero")]
    ZeroHeartbeatInterval,
    /// Followers would time out between two heartbeats of a healthy leader.
    #[error(
        "election_timeout_min ({election_timeout_min:?}) must be greater than heartbeat_interval \
         ({heartbeat_interval:?}): otherwise followers time out between two heartbeats"
    )]
    TimeoutNotAboveHeartbeat {
        /// The configured minimum election timeout.
        election_timeout_min: Duration,
        /// The configured heartbeat interval.
        heartbeat_interval: Duration,
    },
    /// The timeout range is empty.
    #[error("election_timeout_min ({min:?}) must not exceed election_timeout_max ({max:?})")]
    TimeoutRangeInverted {
        /// The configured minimum.
        min: Duration,
        /// The configured maximum.
        max: Duration,
    },
    /// A bound of the timeout range is not a whole number of `timer_granularity` steps.
    #[error(
        "{name} ({timeout:?}) must be a whole multiple of timer_granularity ({granularity:?}): \
         timeouts are drawn in whole steps"
    )]
    TimeoutOffGranularity {
        /// Which bound: `election_timeout_min` or `election_timeout_max`.
        name: &'static str,
        /// The bound's value.
        timeout: Duration,
        /// The configured granularity.
        granularity: Duration,
    },
    /// The voters and learners break a rule of [`Membership::validate`].
    #[error("invalid membership: {0}")]
    Membership(#[from] MembershipError),
    /// This node is neither a voter nor a learner.
    #[error("this node's id {0} is neither among the members nor among the learners")]
    SelfNotMember(NodeId),
    /// The drift bound is negative, not finite, or 1 and above.
    #[error("max_clock_drift must be a fraction in [0, 1), got {0}")]
    ClockDriftOutOfRange(f64),
    /// The adaptive detector's deviations are negative or not finite.
    #[error("the adaptive detector's deviations must be a finite number of at least 0, got {0}")]
    DetectorDeviations(f64),
    /// The phi detector's threshold is not a finite number above 0.
    #[error("the phi detector's threshold must be a finite number above 0, got {0}")]
    PhiThreshold(f64),
    /// A lease is only safe when voters refuse to vote while they hear from a leader.
    #[error("leader_lease requires leader_stickiness: without it a new leader can be elected while the old lease runs")]
    LeaseWithoutStickiness,
    /// The floor is not above the heartbeat interval, or above the range's minimum.
    #[error(
        "election_timeout_floor ({floor:?}) must be greater than heartbeat_interval \
         ({heartbeat_interval:?}) and at most election_timeout_min ({election_timeout_min:?})"
    )]
    FloorOutOfRange {
        /// The configured floor.
        floor: Duration,
        /// The configured heartbeat interval.
        heartbeat_interval: Duration,
        /// The configured minimum election timeout.
        election_timeout_min: Duration,
    },
    /// A shadow detector breaks a rule of its kind.
    #[error("shadow_detectors[{index}]: {error}")]
    ShadowDetector {
        /// Its position in `shadow_detectors`.
        index: usize,
        /// The rule it breaks.
        error: Box<ConfigError>,
    },
    /// More shadow detectors than a node runs.
    #[error("shadow_detectors holds {0} detectors; at most {MAX_SHADOWS} are run")]
    TooManyShadows(usize),
    /// A zero threshold would take every input for a stall.
    #[error("local_pause_threshold must be greater than zero")]
    ZeroLocalPauseThreshold,
    /// The drift bound leaves no time for a lease.
    #[error(
        "the timeout floor ({floor:?}) reduced by max_clock_drift ({max_clock_drift}) leaves \
         no positive lease"
    )]
    NoPositiveLease {
        /// The timeout floor the lease is taken from.
        floor: Duration,
        /// The configured drift bound.
        max_clock_drift: f64,
    },
    /// The hard state handed to [`Node::restart`](crate::core::Node::restart) holds a term past
    /// [`Term::LAST`]: storage is corrupt, or a peer sent a term no honest node can reach.
    #[error("the restored hard state's term {0} is past the last usable term {last}", last = Term::LAST)]
    TermOutOfRange(Term),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn three() -> Config {
        Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)])
    }

    #[test]
    fn defaults_are_valid_and_follow_the_paper_example() {
        let c = three();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.heartbeat_interval, Duration::from_millis(50));
        assert_eq!(c.election_timeout_min, Duration::from_millis(150));
        assert_eq!(c.election_timeout_max, Duration::from_millis(300));
        assert!(c.pre_vote && c.check_quorum && c.leader_stickiness && c.leader_lease);
        assert_eq!(c.timer_rule, TimerRule::Figure2, "Raft's Figure 2 timer rule by default");
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn zero_heartbeat_is_rejected() {
        let c = Config { heartbeat_interval: Duration::ZERO, ..three() };
        assert_eq!(c.validate(), Err(ConfigError::ZeroHeartbeatInterval));
    }

    #[test]
    fn timeout_must_exceed_heartbeat_interval() {
        let c = Config { election_timeout_min: Duration::from_millis(50), ..three() };
        assert!(matches!(c.validate(), Err(ConfigError::TimeoutNotAboveHeartbeat { .. })));
    }

    #[test]
    fn inverted_range_is_rejected_but_equal_bounds_are_allowed() {
        let c = Config { election_timeout_max: Duration::from_millis(149), ..three() };
        assert!(matches!(c.validate(), Err(ConfigError::TimeoutRangeInverted { .. })));
        let c = Config { election_timeout_max: Duration::from_millis(150), ..three() };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn membership_rules_are_checked() {
        let c = Config { members: vec![], ..three() };
        assert_eq!(c.validate(), Err(MembershipError::NoVoters.into()));
        let c = Config { members: vec![NodeId(1), NodeId(2), NodeId(2)], ..three() };
        assert_eq!(c.validate(), Err(MembershipError::Duplicate(NodeId(2)).into()));
        let c = Config { learners: vec![NodeId(3)], ..three() };
        assert_eq!(c.validate(), Err(MembershipError::VoterAndLearner(NodeId(3)).into()));
        let c = Config { id: NodeId(9), ..three() };
        assert_eq!(c.validate(), Err(ConfigError::SelfNotMember(NodeId(9))));
        let c = Config { id: NodeId(4), learners: vec![NodeId(4)], ..three() };
        assert_eq!(c.validate(), Ok(()), "a learner runs a node too");
    }

    #[test]
    fn drift_must_leave_a_positive_lease() {
        for bad in [-0.1, 1.0, 2.0, f64::NAN, f64::INFINITY] {
            let c = Config { max_clock_drift: bad, ..three() };
            assert!(matches!(c.validate(), Err(ConfigError::ClockDriftOutOfRange(_))), "{bad}");
        }
        let c = Config { max_clock_drift: 0.999_999_999_99, ..three() };
        assert!(matches!(c.validate(), Err(ConfigError::NoPositiveLease { .. })));
        let c = Config { max_clock_drift: 0.1, ..three() };
        assert_eq!(c.lease_duration(), Duration::from_millis(135));
    }

    #[test]
    fn a_lower_floor_shrinks_the_lease_with_it_thesis_6_4_1() {
        let c = Config { max_clock_drift: 0.1, election_timeout_floor: Some(ms(80)), ..three() };
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.timeout_floor(), ms(80));
        assert_eq!(c.lease_duration(), ms(72), "the floor less the drift margin, not the minimum");
        let c = Config { election_timeout_floor: Some(ms(150)), ..three() };
        assert_eq!(
            c.lease_duration(),
            three().lease_duration(),
            "a floor at the minimum changes nothing"
        );
    }

    #[test]
    fn the_floor_must_lie_above_the_heartbeat_and_at_most_the_minimum() {
        for bad in [ms(0), ms(50), ms(151)] {
            let c = Config { election_timeout_floor: Some(bad), ..three() };
            assert!(matches!(c.validate(), Err(ConfigError::FloorOutOfRange { .. })), "{bad:?}");
        }
        let c = Config { election_timeout_floor: Some(ms(51)), ..three() };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn shadow_detectors_are_checked_like_the_one_in_charge_and_bounded() {
        let bad = LeaderDetectorKind::Phi { threshold: -1.0 };
        let c = Config { shadow_detectors: vec![LeaderDetectorKind::Fixed, bad], ..three() };
        let shadow = ConfigError::ShadowDetector {
            index: 1,
            error: Box::new(ConfigError::PhiThreshold(-1.0)),
        };
        assert_eq!(c.validate(), Err(shadow));
        let c = Config { shadow_detectors: vec![LeaderDetectorKind::Fixed; 9], ..three() };
        assert_eq!(c.validate(), Err(ConfigError::TooManyShadows(9)));
        let c = Config { shadow_detectors: vec![LeaderDetectorKind::Fixed; 8], ..three() };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_local_pause_threshold_must_be_positive() {
        let c = Config { local_pause_threshold: Some(Duration::ZERO), ..three() };
        assert_eq!(c.validate(), Err(ConfigError::ZeroLocalPauseThreshold));
        let c = Config { local_pause_threshold: Some(ms(50)), ..three() };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn lease_needs_stickiness() {
        let c = Config { leader_stickiness: false, ..three() };
        assert_eq!(c.validate(), Err(ConfigError::LeaseWithoutStickiness));
        let c = Config { leader_stickiness: false, leader_lease: false, ..three() };
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn quorum_is_a_strict_majority() {
        let sizes = [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)];
        for (n, q) in sizes {
            let c = Config::new(NodeId(1), (1..=n).map(NodeId));
            assert_eq!(c.quorum(), q, "cluster of {n}");
        }
    }
}
