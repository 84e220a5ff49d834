//! The recommended setting in the words of this crate and of its peers (`peers/`, each checked
//! by that peer's own start-up rules).

use serde::Serialize;

use super::peers::{self, Peer};

/// A setting in whole milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// Everything ready to paste.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Settings {
    /// A `core::Config` for node `id` of `members`.
    pub config_rust: String,
    /// The lines of a `raft-heartbeat node --config` file.
    pub node_toml: String,
    /// Peers' settings, each accepted by that peer's own start-up check.
    pub peers: Vec<Peer>,
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
        "Config::new(id, members).with(|c| {{\n    \
         c.heartbeat_interval = Duration::from_millis({h});\n    \
         c.election_timeout_min = Duration::from_millis({min});\n    \
         c.election_timeout_max = Duration::from_millis({max});\n    \
         c.max_clock_drift = {drift};\n    c.timer_granularity = {granularity};\n}})"
    );
    let node_toml = format!("heartbeat_ms = {h}\nelection_ms = [{min}, {max}]");
    let peers = peers::all(w, lease_ms);
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
        let written = |system: &str| {
            let p = s.peers.iter().find(|p| p.setting.system() == system).unwrap();
            (p.setting.written(), p.differs.clone())
        };
        let (raft_rs, differs) = written("raft-rs");
        assert!(raft_rs.starts_with("tick every 2 ms, heartbeat_tick: 10, election_tick: 30"));
        assert!(raft_rs.ends_with("max_election_tick: 46"));
        // The same range, but drawn on raft-rs's 2 ms tick rather than every millisecond.
        assert!(differs.starts_with("timeouts fire on a 2 ms tick"), "{differs}");
        // etcd refuses 20 / 60 (below five heartbeats): the nearest it accepts is 20 / 100.
        let (etcd, differs) = written("etcd");
        assert_eq!(etcd, "--heartbeat-interval=20 --election-timeout=100");
        assert!(differs.contains("[100, 180] ms, not [60, 90]"), "{differs}");
        assert!(s.config_rust.contains("c.election_timeout_max = Duration::from_millis(90);"));
    }
}
