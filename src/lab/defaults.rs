//! `advise` against what people run today: for four networks (a LAN, cross-zone, a WAN and a
//! lossy link), `advise`'s recommendation beside etcd's defaults, etcd's tuning rule,
//! hashicorp/raft's and openraft's defaults, each simulated under that system's own timers
//! ([`PeerSetting::timing`]) on the same network and cloud host: failover p50 / p99 and false
//! elections a day (closed form).
//!
//! | system | setting | source |
//! |---|---|---|
//! | etcd defaults | `--heartbeat-interval=100 --election-timeout=1000` | etcd's configuration flags |
//! | etcd's tuning rule | heartbeat the mean round trip, election ten round trips (at least five heartbeats) | etcd's `tuning.md` |
//! | hashicorp/raft defaults | `HeartbeatTimeout` 1 s, `ElectionTimeout` 1 s, `LeaderLeaseTimeout` 500 ms | `DefaultConfig` in config.go |
//! | openraft defaults | heartbeat 50 ms, election 150-300 ms | openraft's `Config` |

use serde::Serialize;

use super::{each, LabError, Progress};
use crate::advise::peers::{etcd, hashicorp, openraft};
use crate::advise::{self, Options as AdviseOptions, PeerSetting, Profile};
use crate::closed_form::{self, Timing};

/// One network.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Network {
    /// Its name in the rows.
    pub name: &'static str,
    /// What it is.
    pub profile: Profile,
}

/// The four networks: one-way latency p50 / p99 (and loss), five nodes, the cloud host.
pub fn networks() -> Vec<Network> {
    let net = |name, p50, p99, loss| Network {
        name,
        profile: Profile { loss, ..Profile::new(5, p50, p99) },
    };
    vec![
        net("lan", 0.3, 1.0, 0.0),
        net("cross-zone", 2.0, 5.0, 0.0),
        net("wan", 40.0, 120.0, 0.0),
        net("lossy", 1.0, 5.0, 0.2),
    ]
}

/// One system's setting on one network.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Row {
    /// The network.
    pub network: &'static str,
    /// `advise`, `etcd-defaults`, `etcd-tuning-rule`, `hashicorp-defaults`,
    /// `openraft-defaults`.
    pub system: &'static str,
    /// The setting as its users write it.
    pub written: String,
    /// Heartbeat interval as run, ms.
    pub heartbeat_ms: f64,
    /// The range a follower draws from, as run, ms.
    pub election_timeout_ms: [f64; 2],
    /// The step of its draw, ms.
    pub step_ms: f64,
    /// Failovers simulated.
    pub trials: u64,
    /// Failover median, ms.
    pub p50_ms: f64,
    /// Failover 99th percentile, ms.
    pub p99_ms: f64,
    /// Elections while the leader lives, cluster-wide, per day (closed form).
    pub false_elections_per_day: f64,
    /// Heartbeats the leader sends each follower, per second.
    pub heartbeats_per_second: f64,
    /// The longest leader stall the shortest timeout absorbs, ms: what is left of it after
    /// one heartbeat interval and a heartbeat late by the latency's p99.9, the disk's p99 and
    /// the timer's lateness (`advise`'s rule). The cloud host assumes pauses of 50 ms.
    pub stall_survived_ms: f64,
}

/// How to run the experiment.
#[derive(Clone, Debug)]
pub struct Options {
    /// Failovers per setting, at least 100.
    pub trials: u64,
    /// `advise`'s effort, million simulated events.
    pub effort: u64,
    /// The seed of every run.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { trials: 5000, effort: 150, seed: 1 }
    }
}

/// etcd's tuning rule for a network whose mean round trip is `rtt_ms`: the heartbeat about
/// the round trip (whole ms, at least 1), the election timeout ten round trips and at least
/// the five heartbeats etcd requires.
pub fn etcd_tuning_rule(rtt_ms: f64) -> etcd::Flags {
    let heartbeat = rtt_ms.round().max(1.0) as u64;
    let election = ((10.0 * rtt_ms).ceil() as u64).max(5 * heartbeat);
    etcd::Flags { heartbeat_interval_ms: heartbeat, election_timeout_ms: election }
}

/// The other systems' settings on `network`.
fn others(network: &Network) -> Vec<(&'static str, PeerSetting)> {
    let rtt = 2.0 * network.profile.environment().latency.partial_expectation(0.0);
    vec![
        (
            "etcd-defaults",
            PeerSetting::Etcd(etcd::Flags {
                heartbeat_interval_ms: 100,
                election_timeout_ms: 1000,
            }),
        ),
        ("etcd-tuning-rule", PeerSetting::Etcd(etcd_tuning_rule(rtt))),
        (
            "hashicorp-defaults",
            PeerSetting::HashicorpRaft(hashicorp::Timeouts {
                heartbeat_timeout_ms: 1000,
                election_timeout_ms: 1000,
                leader_lease_timeout_ms: 500,
                commit_timeout_ms: 50,
            }),
        ),
        (
            "openraft-defaults",
            PeerSetting::Openraft(openraft::Timeouts {
                heartbeat_interval_ms: 50,
                election_timeout_min_ms: 150,
                election_timeout_max_ms: 300,
            }),
        ),
    ]
}

/// Runs the experiment: per network (stage `"networks"`), `advise` and then each system.
pub fn run(opts: &Options, progress: Progress) -> Result<Vec<Row>, LabError> {
    if opts.trials < 100 {
        let problem = format!("must be at least 100, got {}", opts.trials);
        return Err(LabError::Invalid { option: "trials", problem });
    }
    let rows = each(&networks(), "networks", progress, |network| {
        let failed = |what: String| move |error| LabError::Advise { what, error };
        let advice = advise::advise(
            &network.profile,
            &AdviseOptions {
                seed: opts.seed,
                final_trials: opts.trials,
                effort_million_events: opts.effort,
                ..AdviseOptions::default()
            },
        )
        .map_err(failed(format!("advise on {}", network.name)))?;
        let env = network.profile.environment();
        let stall = advise::stall_ms(&env, network.profile.assumptions().lateness_ms());
        let survived = |t: &Timing| (t.min_ms - t.heartbeat_ms - stall).max(0.0);
        let r = &advice.recommended;
        let mut rows = vec![Row {
            network: network.name,
            system: "advise",
            written: format!(
                "heartbeat {} ms, timeouts {}-{} ms",
                r.heartbeat_ms, r.election_timeout_ms[0], r.election_timeout_ms[1]
            ),
            heartbeat_ms: r.heartbeat_ms as f64,
            election_timeout_ms: [r.election_timeout_ms[0] as f64, r.election_timeout_ms[1] as f64],
            step_ms: r.timer_granularity_ms as f64,
            trials: advice.simulated.trials,
            p50_ms: advice.predicted.failover_ms.p50,
            p99_ms: advice.predicted.failover_ms.p99,
            false_elections_per_day: advice.predicted.false_elections_per_day,
            heartbeats_per_second: advice.cost.heartbeats_per_second_per_follower,
            stall_survived_ms: advice.predicted.pause_tolerance_ms,
        }];
        for (system, setting) in others(network) {
            let t: Timing = setting.timing();
            let f = advise::failover(&network.profile, &t, opts.trials, opts.seed)
                .map_err(failed(format!("{system} on {}", network.name)))?;
            rows.push(Row {
                network: network.name,
                system,
                written: setting.written(),
                heartbeat_ms: t.heartbeat_ms,
                election_timeout_ms: [t.min_ms, t.max_ms],
                step_ms: t.step_ms,
                trials: f.trials,
                p50_ms: f.p50_ms,
                p99_ms: f.p99_ms,
                false_elections_per_day: closed_form::false_elections_per_day(&t, &env),
                heartbeats_per_second: 1000.0 / t.heartbeat_ms,
                stall_survived_ms: survived(&t),
            });
        }
        Ok(rows)
    })?;
    Ok(rows.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcds_tuning_rule_is_one_round_trip_and_ten_and_etcd_accepts_it() {
        // tuning.md: heartbeat about the mean round trip, election at least ten of them.
        let f = etcd_tuning_rule(80.0);
        assert_eq!((f.heartbeat_interval_ms, f.election_timeout_ms), (80, 800));
        // A sub-millisecond LAN: 1 ms heartbeats, and etcd's own five-heartbeat floor.
        let lan = etcd_tuning_rule(0.7);
        assert_eq!((lan.heartbeat_interval_ms, lan.election_timeout_ms), (1, 7));
        for rtt in [0.1, 0.7, 4.0, 80.0, 2400.0] {
            PeerSetting::Etcd(etcd_tuning_rule(rtt)).validate().unwrap();
        }
        for network in networks() {
            for (system, setting) in others(&network) {
                setting.validate().unwrap_or_else(|e| panic!("{system}: {e}"));
            }
        }
    }
}
