//! The recommended setting in the words of this crate and of its peers, with what each peer's
//! knobs cannot say. Peers' rules are those of `REFERENCES.md` §3 and §8: etcd-raft draws in
//! `[E, 2E)` ticks, raft-rs and openraft in `[min, max)`, hashicorp/raft's followers in
//! `[HT, 2HT)` with `LeaderLeaseTimeout <= HeartbeatTimeout`.

use serde::Serialize;

/// A setting in whole milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Whole {
    /// Heartbeat interval.
    pub heartbeat_ms: u64,
    /// Shortest election timeout.
    pub min_ms: u64,
    /// Longest election timeout (drawn inclusively, in steps of `step_ms`).
    pub max_ms: u64,
    /// The timer step.
    pub step_ms: u64,
}

/// One system's knobs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeerKnobs {
    /// The system.
    pub system: &'static str,
    /// Its settings, as its users write them.
    pub settings: String,
    /// What of the recommendation its knobs cannot express, and what it does instead.
    pub cannot_express: String,
}

/// Everything ready to paste.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// A `core::Config` for node `id` of `members`.
    pub config_rust: String,
    /// The lines of a `raft-heartbeat node --config` file.
    pub node_toml: String,
    /// Peers' equivalents.
    pub peers: Vec<PeerKnobs>,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The settings of `w` for this crate and its peers; `drift` is the clock-drift bound.
pub fn settings(w: &Whole, drift: f64, lease_ms: f64) -> Settings {
    let Whole { heartbeat_ms: h, min_ms: min, max_ms: max, step_ms: step } = *w;
    let granularity = if step <= 1 {
        "Duration::ZERO".to_string()
    } else {
        format!("Duration::from_millis({step})")
    };
    let config_rust = format!(
        "Config {{\n    heartbeat_interval: Duration::from_millis({h}),\n    \
         election_timeout_min: Duration::from_millis({min}),\n    \
         election_timeout_max: Duration::from_millis({max}),\n    \
         max_clock_drift: {drift},\n    timer_granularity: {granularity},\n    \
         ..Config::new(id, members)\n}}"
    );
    let node_toml = format!("heartbeat_ms = {h}\nelection_ms = [{min}, {max}]");
    let tick = gcd(gcd(h, min), max);
    let width = max - min;
    let etcd_range = format!("[{min}, {}) ms in steps of {h} ms", 2 * min);
    let mut peers = vec![PeerKnobs {
        system: "etcd",
        settings: format!("--heartbeat-interval={h} --election-timeout={min}"),
        cannot_express: if max + h == 2 * min {
            format!("nothing material: it draws {etcd_range}")
        } else {
            format!(
                "the range's width: it ticks once per heartbeat and draws {etcd_range}, \
                 {min} ms wide instead of {width}"
            )
        },
    }];
    peers.push(PeerKnobs {
        system: "etcd-raft",
        settings: format!(
            "tick every {tick} ms, HeartbeatTick: {}, ElectionTick: {}",
            h / tick,
            min / tick
        ),
        cannot_express: format!(
            "the range's upper bound: it draws [ElectionTick, 2*ElectionTick) ticks, [{min}, \
             {}) ms",
            2 * min
        ),
    });
    peers.push(PeerKnobs {
        system: "raft-rs",
        settings: format!(
            "tick every {tick} ms, heartbeat_tick: {}, election_tick: {}, min_election_tick: {}, \
             max_election_tick: {}",
            h / tick,
            min / tick,
            min / tick,
            max / tick + 1
        ),
        cannot_express: "nothing: its range is [min, max) ticks, so max_election_tick is one \
                         past the longest timeout"
            .into(),
    });
    peers.push(PeerKnobs {
        system: "hashicorp/raft",
        settings: format!(
            "HeartbeatTimeout: {min}ms, ElectionTimeout: {min}ms, LeaderLeaseTimeout: {}ms",
            lease_ms.floor() as u64
        ),
        cannot_express: format!(
            "the heartbeat interval and the range: the leader's heartbeat rate derives from \
             HeartbeatTimeout, and followers draw [HT, 2HT), [{min}, {}) ms",
            2 * min
        ),
    });
    peers.push(PeerKnobs {
        system: "openraft",
        settings: format!(
            "heartbeat_interval: {h}, election_timeout_min: {min}, election_timeout_max: {}",
            max + 1
        ),
        cannot_express: "the timer step: it draws any millisecond in [min, max), so \
                         election_timeout_max is one past the longest timeout"
            .into(),
    });
    Settings { config_rust, node_toml, peers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_divide_every_setting_and_exclusive_bounds_are_one_past() {
        let s =
            settings(&Whole { heartbeat_ms: 20, min_ms: 60, max_ms: 90, step_ms: 1 }, 0.05, 57.0);
        assert_eq!(s.node_toml, "heartbeat_ms = 20\nelection_ms = [60, 90]");
        let raft_rs = s.peers.iter().find(|p| p.system == "raft-rs").unwrap();
        assert!(raft_rs
            .settings
            .starts_with("tick every 10 ms, heartbeat_tick: 2, election_tick: 6"));
        assert!(raft_rs.settings.ends_with("max_election_tick: 10"));
        let etcd = s.peers.iter().find(|p| p.system == "etcd").unwrap();
        assert_eq!(etcd.settings, "--heartbeat-interval=20 --election-timeout=60");
        assert!(etcd.cannot_express.contains("60 ms wide instead of 30"));
        assert!(s.config_rust.contains("election_timeout_max: Duration::from_millis(90)"));
    }
}
