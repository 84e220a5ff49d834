//! What `advise` is told: the cluster, its network and disks as percentiles, and the goals.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::assumptions::{Assumptions, Host};
use super::error::AdviseError;
use super::measured::Measured;
use crate::closed_form::{Delay, Environment};
use crate::sim::Latency;

/// Draws of a named distribution its percentiles are read from.
const DRAWS: usize = 200_000;

/// A deployment as an operator measures it, and what they want from failover. Every field has
/// the name of its `advise` flag (with `_` for `-`); a TOML file of the same keys is accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Voting members.
    pub nodes: u64,
    /// One-way network latency, median, ms.
    #[serde(default)]
    pub latency_p50_ms: f64,
    /// One-way network latency, 99th percentile, ms.
    #[serde(default)]
    pub latency_p99_ms: f64,
    /// One-way network latency, 99.9th percentile, ms (optional: widens the fitted tail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p999_ms: Option<f64>,
    /// Instead of the percentiles: a named distribution, as a scenario file writes it (e.g.
    /// `{ dist = "normal", mean_ms = 0.3, std_ms = 0.05 }`). The simulator draws from it as
    /// given; the closed forms use the log-normal through its p50, p99 and p99.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// Probability that a message is lost.
    #[serde(default)]
    pub loss: f64,
    /// Time to make the term and vote durable, median, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsync_p50_ms: Option<f64>,
    /// Time to make the term and vote durable, 99th percentile, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsync_p99_ms: Option<f64>,
    /// The longest stall expected on a leader (a GC pause, a VM stolen away, a throttled
    /// container), ms: no heartbeat leaves while it lasts, and it must not cost an election.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pause_ms: Option<f64>,
    /// How late the host's timers fire, at worst, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_lateness_ms: Option<f64>,
    /// The host assumed for the figures above that are not given (see
    /// [`Assumptions`](super::Assumptions)).
    #[serde(default)]
    pub host: Host,
    /// Bound on the difference of two clocks' rates, as a fraction (the lease's margin).
    #[serde(default = "default_drift")]
    pub clock_drift: f64,
    /// The host's timer step, whole ms: heartbeat and timeouts are multiples of it.
    #[serde(default = "default_granularity")]
    pub timer_granularity_ms: f64,
    /// Goal: failover (crash → every survivor follows a new leader) at the 99th percentile, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_p99_ms: Option<f64>,
    /// Goal: elections started while the leader is alive, over the cluster, per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_elections_per_day: Option<f64>,
    /// What a running cluster's metrics measured, if the profile was built from them
    /// ([`Profile::measure`]), and which fields they set.
    #[serde(skip)]
    pub measured: Option<(Measured, Vec<&'static str>)>,
}

fn default_drift() -> f64 {
    0.05
}
fn default_granularity() -> f64 {
    1.0
}

/// The most voting members `advise` answers for.
pub const MAX_NODES: u64 = 15;

/// The false-election budget assumed when no goal is given: one per hundred days.
pub const DEFAULT_FALSE_ELECTIONS_PER_DAY: f64 = 0.01;

impl Profile {
    /// A profile of `nodes` with the given latency percentiles and every other field at its
    /// default (no loss, the cloud host's disk, pauses and timers, 5% drift, 1 ms steps, no
    /// goals).
    pub fn new(nodes: u64, latency_p50_ms: f64, latency_p99_ms: f64) -> Profile {
        Profile {
            nodes,
            latency_p50_ms,
            latency_p99_ms,
            latency_p999_ms: None,
            latency: None,
            loss: 0.0,
            fsync_p50_ms: None,
            fsync_p99_ms: None,
            max_pause_ms: None,
            timer_lateness_ms: None,
            host: Host::Cloud,
            clock_drift: default_drift(),
            timer_granularity_ms: default_granularity(),
            failover_p99_ms: None,
            false_elections_per_day: None,
            measured: None,
        }
    }

    /// Sets the network's and the host's figures from what a cluster measured (latency, loss,
    /// and the disk's and timers' where enough was observed; a stall longer than the host's
    /// default pause becomes the pause planned for), remembering which fields they set.
    pub fn measure(&mut self, m: Measured) {
        let mut set = vec!["latency_p50_ms", "latency_p99_ms", "loss"];
        self.latency = None;
        self.latency_p999_ms = None;
        self.latency_p50_ms = m.latency_p50_ms;
        self.latency_p99_ms = m.latency_p99_ms;
        self.loss = m.loss;
        if let Some([p50, p99]) = m.fsync_ms {
            (self.fsync_p50_ms, self.fsync_p99_ms) = (Some(p50), Some(p99));
            set.extend(["fsync_p50_ms", "fsync_p99_ms"]);
        }
        if let Some(late) = m.timer_lateness_ms {
            self.timer_lateness_ms = Some(late);
            set.push("timer_lateness_ms");
        }
        let default_pause =
            Assumptions::of(&Profile { max_pause_ms: None, ..self.clone() }).pause_ms();
        if let Some(stall) = m.longest_stall_ms.filter(|&s| s > default_pause) {
            self.max_pause_ms = Some(stall);
            set.push("max_pause_ms");
        }
        self.measured = Some((m, set));
    }

    /// Whether `field` was set from a cluster's metrics.
    pub fn was_measured(&self, field: &str) -> bool {
        self.measured.as_ref().is_some_and(|(_, set)| set.contains(&field))
    }

    /// Forgets that `field` was measured (a flag overrode it).
    pub fn overridden(&mut self, field: &str) {
        if let Some((_, set)) = &mut self.measured {
            set.retain(|f| *f != field);
        }
    }

    /// Parses a TOML profile.
    pub fn parse(text: &str) -> Result<Profile, AdviseError> {
        toml::from_str(text)
            .map_err(|e| AdviseError::Invalid { field: "profile", problem: e.to_string() })
    }

    /// Checks every field and names the first one out of range.
    pub fn validate(&self) -> Result<(), AdviseError> {
        let bad = |field, problem: String| Err(AdviseError::Invalid { field, problem });
        if self.nodes < 3 {
            return Err(AdviseError::TooFewNodes {
                nodes: self.nodes,
                survivors: self.nodes.saturating_sub(1),
            });
        }
        if self.nodes > MAX_NODES {
            return bad(
                "nodes",
                format!(
                    "{} voting members: advise answers for up to {MAX_NODES} (Raft clusters run \
                     3 to 7 voters; past {MAX_NODES} the simulated search would not finish \
                     within its 30 s)",
                    self.nodes
                ),
            );
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if let Some(dist) = &self.latency {
            if self.latency_p50_ms != 0.0
                || self.latency_p99_ms != 0.0
                || self.latency_p999_ms.is_some()
            {
                return bad(
                    "latency",
                    "give either the latency percentiles or a distribution, not both".into(),
                );
            }
            dist.validate("latency")
                .map_err(|e| AdviseError::Invalid { field: "latency", problem: e.to_string() })?;
            if self.latency().median_ms <= 0.0 {
                return bad("latency", "its median must be above zero".into());
            }
        } else if !positive(self.latency_p50_ms) {
            return bad(
                "latency-p50-ms",
                format!("must be a positive number of ms, got {}", self.latency_p50_ms),
            );
        }
        if self.latency.is_none()
            && !(positive(self.latency_p99_ms) && self.latency_p99_ms >= self.latency_p50_ms)
        {
            return bad(
                "latency-p99-ms",
                format!(
                    "must be at least latency-p50-ms ({}), got {}",
                    self.latency_p50_ms, self.latency_p99_ms
                ),
            );
        }
        if let Some(p999) = self.latency_p999_ms {
            if !(positive(p999) && p999 >= self.latency_p99_ms) {
                return bad(
                    "latency-p999-ms",
                    format!(
                        "must be at least latency-p99-ms ({}), got {p999}",
                        self.latency_p99_ms
                    ),
                );
            }
        }
        if !(self.loss.is_finite() && (0.0..0.5).contains(&self.loss)) {
            return bad("loss", format!("must be a fraction in [0, 0.5), got {}", self.loss));
        }
        match (self.fsync_p50_ms, self.fsync_p99_ms) {
            (Some(p50), _) if !non_negative(p50) => {
                return bad("fsync-p50-ms", format!("must be a number of ms >= 0, got {p50}"));
            }
            (p50, Some(p99)) if !(non_negative(p99) && p99 >= p50.unwrap_or(0.0)) => {
                return bad(
                    "fsync-p99-ms",
                    format!("must be at least fsync-p50-ms ({}), got {p99}", p50.unwrap_or(0.0)),
                );
            }
            _ => {}
        }
        for (field, v) in
            [("max-pause-ms", self.max_pause_ms), ("timer-lateness-ms", self.timer_lateness_ms)]
        {
            match v {
                Some(v) if !(non_negative(v) && v <= 60_000.0) => {
                    return bad(field, format!("must be a number of ms from 0 to 60000, got {v}"));
                }
                _ => {}
            }
        }
        if !(self.clock_drift.is_finite() && (0.0..0.5).contains(&self.clock_drift)) {
            return bad(
                "clock-drift",
                format!("must be a fraction in [0, 0.5), got {}", self.clock_drift),
            );
        }
        let g = self.timer_granularity_ms;
        if !(g.is_finite() && g >= 1.0 && g.fract() == 0.0 && g <= 1000.0) {
            return bad(
                "timer-granularity-ms",
                format!(
                    "must be a whole number of ms from 1 to 1000 (settings are whole ms), got {g}"
                ),
            );
        }
        if let Some(b) = self.failover_p99_ms {
            if !positive(b) {
                return bad("failover-p99-ms", format!("must be a positive number of ms, got {b}"));
            }
        }
        if let Some(r) = self.false_elections_per_day {
            if !positive(r) {
                return bad("false-elections-per-day", format!("must be a positive rate, got {r}"));
            }
        }
        Ok(())
    }

    /// The one-way latency the closed forms use: the fitted percentiles, or the log-normal
    /// through the named distribution's p50, p99 and p99.9 (from 200,000 seeded draws).
    pub fn latency(&self) -> Delay {
        match &self.latency {
            None => Delay::fit(self.latency_p50_ms, self.latency_p99_ms, self.latency_p999_ms),
            Some(dist) => {
                let sampler = dist.sampler();
                let mut rng = ChaCha8Rng::seed_from_u64(0);
                let mut draws: Vec<f64> =
                    (0..DRAWS).map(|_| sampler.sample_nanos(&mut rng) as f64 / 1e6).collect();
                draws.sort_by(f64::total_cmp);
                let at = |p: f64| draws[((p * DRAWS as f64) as usize).min(DRAWS - 1)];
                Delay::fit(at(0.5), at(0.99), Some(at(0.999)))
            }
        }
    }

    /// The one-way latency the simulator draws from.
    pub fn sim_latency(&self) -> Latency {
        self.latency.clone().unwrap_or_else(|| self.latency().latency())
    }

    /// The host planned for: the figures given, the host's defaults for the rest.
    pub fn assumptions(&self) -> Assumptions {
        Assumptions::of(self)
    }

    /// What the closed forms need of this deployment.
    pub fn environment(&self) -> Environment {
        let (survivors, quorum) = self.survivors_and_quorum();
        Environment {
            latency: self.latency(),
            fsync: self.assumptions().fsync(),
            loss: self.loss,
            nodes: survivors + 1,
            quorum,
        }
    }

    /// Survivors of a leader crash, and the votes a leader needs.
    pub fn survivors_and_quorum(&self) -> (u32, u32) {
        let n = self.nodes as u32;
        (n - 1, n / 2 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_profiles_are_refused_naming_the_field() {
        let ok = Profile::new(5, 0.3, 1.0);
        assert!(ok.validate().is_ok());
        let field = |p: Profile| match p.validate() {
            Err(AdviseError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(field(Profile { latency_p99_ms: 0.1, ..ok.clone() }), "latency-p99-ms");
        assert_eq!(field(Profile { latency_p50_ms: f64::NAN, ..ok.clone() }), "latency-p50-ms");
        assert_eq!(field(Profile { loss: 0.7, ..ok.clone() }), "loss");
        assert_eq!(
            field(Profile { fsync_p50_ms: Some(5.0), fsync_p99_ms: Some(1.0), ..ok.clone() }),
            "fsync-p99-ms"
        );
        assert_eq!(
            field(Profile { timer_granularity_ms: 0.5, ..ok.clone() }),
            "timer-granularity-ms"
        );
        assert_eq!(field(Profile { failover_p99_ms: Some(-1.0), ..ok.clone() }), "failover-p99-ms");
        assert!(matches!(
            Profile { nodes: 2, ..ok.clone() }.validate(),
            Err(AdviseError::TooFewNodes { nodes: 2, survivors: 1 })
        ));
        let named = Profile::parse(
            "nodes = 5\nlatency = { dist = \"normal\", mean_ms = 1.0, std_ms = 0.1 }",
        )
        .unwrap();
        assert!(named.validate().is_ok());
        let d = named.latency();
        assert!(
            (d.median_ms - 1.0).abs() < 0.01 && (d.quantile(0.99) - 1.233).abs() < 0.02,
            "{d:?}"
        );
        assert!(matches!(named.sim_latency(), Latency::Normal { .. }));
        let both = Profile { latency_p50_ms: 1.0, ..named };
        assert_eq!(field(both), "latency");
        assert!(Profile::parse("nodes = 5\nlatency_p50_ms = 1\nlatency_p99_ms = 2\nbogus = 1")
            .unwrap_err()
            .to_string()
            .contains("bogus"));
    }
}
