//! The host `advise` plans for: what the profile gives of it, and a stated, realistic default
//! for what it leaves out. A setting planned for a host that never writes, never stalls and
//! whose timers are exact is planned for no host at all, so a silent field is not zero but the
//! figure of a typical cloud VM with an SSD; `--host ideal` keeps the zero-cost host for study.
//!
//! | figure | default | where it comes from |
//! |---|---|---|
//! | fsync p50 | 1 ms | a cloud SSD's flush; etcd's own fsync histograms on such disks put most writes under 1 ms |
//! | fsync p99 | 10 ms | etcd's hardware guidance: `wal_fsync_duration_seconds` p99 under 10 ms for a disk to count as fast enough |
//! | longest leader pause | 50 ms | Linux CFS bandwidth control throttles a container over its CPU quota until the next 100 ms period (`Documentation/scheduler/sched-bwc`), and GC pauses cluster there (golang/go#19378, kubernetes#67577) |
//! | timer lateness | 1 ms | tokio's timer wheel works in whole milliseconds (`tokio::time::sleep`) |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::profile::Profile;
use crate::closed_form::Delay;

/// The host assumed where the profile gives no figure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Host {
    /// A cloud VM with an SSD, in a container with a CPU limit: the defaults in the table.
    #[default]
    Cloud,
    /// Instant writes, no pauses, exact timers: for study, not for a deployment.
    Ideal,
}

impl Host {
    /// Its name, as `--host` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Host::Cloud => "cloud",
            Host::Ideal => "ideal",
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Host {
    type Err = String;

    fn from_str(s: &str) -> Result<Host, String> {
        match s {
            "cloud" => Ok(Host::Cloud),
            "ideal" => Ok(Host::Ideal),
            other => Err(format!("unknown host {other:?}: expected \"cloud\" or \"ideal\"")),
        }
    }
}

/// Where a figure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The profile (a flag or the TOML file).
    Given,
    /// The assumed host's figure.
    Default,
    /// A running cluster's metrics (`advise --from-metrics`).
    Measured,
}

/// One figure of the host and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assumed {
    /// The figure, ms.
    pub value: f64,
    /// Given or assumed.
    pub source: Source,
    /// Why the default is what it is (empty when given).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub basis: &'static str,
}

/// The host `advise` planned for, one source per figure.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assumptions {
    /// The host the defaults are those of.
    pub host: Host,
    /// Durable write of term and vote, median.
    pub fsync_p50_ms: Assumed,
    /// Durable write of term and vote, 99th percentile.
    pub fsync_p99_ms: Assumed,
    /// The longest stall of a leader that must not cost an election.
    pub max_pause_ms: Assumed,
    /// How late a timer may fire.
    pub timer_lateness_ms: Assumed,
}

const FSYNC_P50: &str =
    "a cloud SSD's flush (etcd's fsync histograms on such disks: most under 1 ms)";
const FSYNC_P99: &str =
    "etcd's hardware guidance: wal_fsync_duration_seconds p99 under 10 ms for a fast enough disk";
const PAUSE: &str = "Linux CFS throttles a container over its CPU quota until the next 100 ms \
                     period (sched-bwc; golang/go#19378, kubernetes#67577)";
const LATENESS: &str = "tokio's timer works in whole milliseconds";
const MEASURED: &str = "the cluster's own metrics";
const IDEAL: &str = "--host ideal: a zero-cost host, for study only";

impl Assumptions {
    /// The host of `profile`: its figures where it gives them, its host's defaults elsewhere.
    pub fn of(profile: &Profile) -> Assumptions {
        let host = profile.host;
        let pick = |given: Option<f64>, cloud: f64, basis: &'static str| match (given, host) {
            (Some(value), _) => Assumed { value, source: Source::Given, basis: "" },
            (None, Host::Cloud) => Assumed { value: cloud, source: Source::Default, basis },
            (None, Host::Ideal) => Assumed { value: 0.0, source: Source::Default, basis: IDEAL },
        };
        let mut fsync_p50_ms = pick(profile.fsync_p50_ms, 1.0, FSYNC_P50);
        let mut fsync_p99_ms = pick(profile.fsync_p99_ms, 10.0, FSYNC_P99);
        // One figure given: the assumed other never contradicts it.
        if fsync_p99_ms.source == Source::Default && fsync_p99_ms.value < fsync_p50_ms.value {
            fsync_p99_ms.value = fsync_p50_ms.value;
        }
        if fsync_p50_ms.source == Source::Default && fsync_p50_ms.value > fsync_p99_ms.value {
            fsync_p50_ms.value = fsync_p99_ms.value;
        }
        let mut out = Assumptions {
            host,
            fsync_p50_ms,
            fsync_p99_ms,
            max_pause_ms: pick(profile.max_pause_ms, 50.0, PAUSE),
            timer_lateness_ms: pick(profile.timer_lateness_ms, 1.0, LATENESS),
        };
        for (field, figure) in [
            ("fsync_p50_ms", &mut out.fsync_p50_ms),
            ("fsync_p99_ms", &mut out.fsync_p99_ms),
            ("max_pause_ms", &mut out.max_pause_ms),
            ("timer_lateness_ms", &mut out.timer_lateness_ms),
        ] {
            if profile.was_measured(field) {
                figure.source = Source::Measured;
                figure.basis = MEASURED;
            }
        }
        out
    }

    /// The durable write, log-normal through the two percentiles (constant if they are equal).
    pub fn fsync(&self) -> Delay {
        let (p50, p99) = (self.fsync_p50_ms.value, self.fsync_p99_ms.value);
        if p99 <= p50 {
            Delay { median_ms: p99, sigma: 0.0 }
        } else if p50 <= 0.0 {
            // A log-normal needs a positive median: a write that is usually instant but
            // sometimes takes p99 is taken at p99, the pessimistic reading.
            Delay { median_ms: p99, sigma: 0.0 }
        } else {
            Delay::fit(p50, p99, None)
        }
    }

    /// The longest leader pause, ms.
    pub fn pause_ms(&self) -> f64 {
        self.max_pause_ms.value
    }

    /// Timer lateness, ms.
    pub fn lateness_ms(&self) -> f64 {
        self.timer_lateness_ms.value
    }

    /// Each figure by name, for the table.
    pub fn rows(&self) -> [(&'static str, &Assumed); 4] {
        [
            ("fsync p50 (ms)", &self.fsync_p50_ms),
            ("fsync p99 (ms)", &self.fsync_p99_ms),
            ("longest leader pause (ms)", &self.max_pause_ms),
            ("timer lateness (ms)", &self.timer_lateness_ms),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_profile_assumes_a_real_host_and_says_so_per_figure() {
        let a = Assumptions::of(&Profile::new(5, 0.3, 1.0));
        assert_eq!(a.host, Host::Cloud);
        for (name, f) in a.rows() {
            assert!(f.value > 0.0 && f.source == Source::Default, "{name}: {f:?}");
            assert!(!f.basis.is_empty(), "{name} states why");
        }
        assert_eq!(a.fsync().quantile(0.99).round(), 10.0);
        let ideal = Assumptions::of(&Profile { host: Host::Ideal, ..Profile::new(5, 0.3, 1.0) });
        assert!(ideal.rows().iter().all(|(_, f)| f.value == 0.0));
        assert_eq!(ideal.fsync(), Delay::ZERO);
    }

    #[test]
    fn a_given_figure_is_kept_and_the_assumed_other_never_contradicts_it() {
        let slow = Profile { fsync_p50_ms: Some(20.0), ..Profile::new(5, 0.3, 1.0) };
        let a = Assumptions::of(&slow);
        assert_eq!(a.fsync_p50_ms.source, Source::Given);
        assert_eq!((a.fsync_p50_ms.value, a.fsync_p99_ms.value), (20.0, 20.0));
        let given = Profile { max_pause_ms: Some(0.0), ..Profile::new(5, 0.3, 1.0) };
        assert_eq!(Assumptions::of(&given).max_pause_ms.source, Source::Given);
        assert_eq!("ideal".parse::<Host>(), Ok(Host::Ideal));
        assert!("fast".parse::<Host>().unwrap_err().contains("cloud"));
    }
}
