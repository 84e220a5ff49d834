//! Validation: what the types cannot check (ranges, ids, the core's own rules).

use std::collections::BTreeSet;

use super::{Action, Scenario, Step, SwarmSpec, Target};
use crate::core::NodeId;
use crate::sim::error::ScenarioError;

impl Scenario {
    /// Checks what the types cannot: ranges, ids, the core's own rules. Reports the first
    /// problem, in the order of the file's sections.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.validate_run()?;
        self.validate_cluster()?;
        self.validate_network()?;
        self.validate_nodes()?;
        self.validate_links()?;
        for (i, step) in self.timeline.iter().enumerate() {
            self.validate_step(i, step)?;
        }
        if let Some(s) = &self.swarm {
            s.validate()?;
        }
        if let Some(l) = self.check.liveness_within_ms {
            check_ms("check.liveness_within_ms", l)?;
        }
        Ok(())
    }

    /// The cluster's size, a trial's length, the number of trials.
    fn validate_run(&self) -> Result<(), ScenarioError> {
        let n = self.cluster.nodes;
        if !(1..=64).contains(&n) {
            return invalid("cluster.nodes", format!("must be 1 to 64, got {n}"));
        }
        if self.duration_ms.is_nan() {
            return invalid(
                "duration_ms",
                "is missing: say how long each trial runs, in simulated ms, for example \
                 `duration_ms = 10000` at the top of the file"
                    .into(),
            );
        }
        if !(self.duration_ms.is_finite() && self.duration_ms > 0.0) {
            return invalid(
                "duration_ms",
                format!("must be a positive number, got {}", self.duration_ms),
            );
        }
        if self.trials == 0 {
            return invalid("trials", "must be at least 1".into());
        }
        Ok(())
    }

    /// The cluster's times, its learners, and the core's own rules for its configuration.
    fn validate_cluster(&self) -> Result<(), ScenarioError> {
        let n = self.cluster.nodes;
        for (field, v) in [
            ("cluster.heartbeat_ms", self.cluster.heartbeat_ms),
            ("cluster.election_timeout_ms[0]", self.cluster.election_timeout_ms[0]),
            ("cluster.election_timeout_ms[1]", self.cluster.election_timeout_ms[1]),
            ("cluster.timer_granularity_ms", self.cluster.timer_granularity_ms),
            (
                "cluster.election_timeout_floor_ms",
                self.cluster.election_timeout_floor_ms.unwrap_or(0.0),
            ),
            (
                "cluster.local_pause_threshold_ms",
                self.cluster.local_pause_threshold_ms.unwrap_or(1.0),
            ),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return invalid(field, format!("must be a non-negative number, got {v}"));
            }
        }
        if let Some(&id) = self.cluster.learners.iter().find(|&&id| !(1..=n).contains(&id)) {
            return invalid(
                "cluster.learners",
                format!("{id} is not a node of a {n}-node cluster"),
            );
        }
        if let Err(e) = self.membership().validate() {
            return invalid("cluster.learners", e.to_string());
        }
        if let Err(e) = self.core_config(NodeId(1), 0).validate() {
            return invalid("cluster", e.to_string());
        }
        Ok(())
    }

    /// The network's probabilities and distributions.
    fn validate_network(&self) -> Result<(), ScenarioError> {
        check_probability("network.loss", self.network.loss)?;
        check_probability("network.duplicate", self.network.duplicate)?;
        self.network.latency.validate("network.latency")?;
        self.network.disk.validate("network.disk")?;
        self.network.timer_jitter.validate("network.timer_jitter")?;
        if self.network.timer_jitter.max_ms().is_none() {
            return invalid(
                "network.timer_jitter",
                "must be bounded (constant or uniform): the detection bound adds its maximum"
                    .into(),
            );
        }
        if let Some(b) = self.network.bandwidth_mbps {
            if !(b.is_finite() && b > 0.0) {
                return invalid("network.bandwidth_mbps", format!("must be positive, got {b}"));
            }
        }
        Ok(())
    }

    /// Each node's settings, of a node of the cluster.
    fn validate_nodes(&self) -> Result<(), ScenarioError> {
        let n = self.cluster.nodes;
        for (i, node) in self.nodes.iter().enumerate() {
            let at = |f: &str| format!("nodes[{i}].{f}");
            if !(1..=n).contains(&node.id) {
                return invalid(
                    &at("id"),
                    format!("{} is not a node of a {n}-node cluster", node.id),
                );
            }
            if let Some(rate) = node.clock_rate {
                if !(rate.is_finite() && rate > 0.0) {
                    return invalid(&at("clock_rate"), format!("must be positive, got {rate}"));
                }
            }
            if let Some(p) = node.processing_ms {
                check_ms(&at("processing_ms"), p)?;
            }
            if let Some(d) = &node.disk {
                d.validate(&at("disk"))?;
            }
        }
        Ok(())
    }

    /// Each link override, of a link between two nodes of the cluster.
    fn validate_links(&self) -> Result<(), ScenarioError> {
        let n = self.cluster.nodes;
        let id_ok = |id: u64| (1..=n).contains(&id);
        for (i, link) in self.links.iter().enumerate() {
            let at = |f: &str| format!("links[{i}].{f}");
            if !id_ok(link.from) || !id_ok(link.to) || link.from == link.to {
                return invalid(
                    &at("from"),
                    format!("{} → {} is not a link of a {n}-node cluster", link.from, link.to),
                );
            }
            if let Some(l) = &link.latency {
                l.validate(&at("latency"))?;
            }
            if let Some(p) = link.loss {
                check_probability(&at("loss"), p)?;
            }
        }
        Ok(())
    }

    /// Step `i`: its time, the nodes it names, and its action's numbers.
    fn validate_step(&self, i: usize, step: &Step) -> Result<(), ScenarioError> {
        let n = self.cluster.nodes;
        let field = |f: &str| format!("timeline[{i}].{f}");
        check_ms(&field("at_ms"), step.at_ms)?;
        if step.at_ms > self.duration_ms {
            return invalid(
                &field("at_ms"),
                format!(
                    "{} ms is after the scenario ends (duration_ms = {}): the step would never \
                     happen",
                    step.at_ms, self.duration_ms
                ),
            );
        }
        // No node is in two of a partition's groups.
        let disjoint = matches!(step.action, Action::Partition { .. });
        let mut seen = BTreeSet::new();
        for (f, target) in step.action.targets() {
            match target {
                Target::Id(id) if !(1..=n).contains(&id) => {
                    return invalid(&field(f), format!("{id} is not a node of a {n}-node cluster"));
                }
                Target::Id(id) => {
                    if disjoint && !seen.insert(id) {
                        return invalid(&field(f), format!("node {id} is in two groups"));
                    }
                }
                Target::Role(_) => {}
            }
        }
        match &step.action {
            Action::Crash { window_ms, restart_after_ms, .. } => {
                if let Some(w) = window_ms {
                    check_ms(&field("window_ms"), *w)?;
                }
                if let Some(r) = restart_after_ms {
                    check_ms(&field("restart_after_ms"), *r)?;
                }
                Ok(())
            }
            Action::Pause { for_ms, .. } => check_ms(&field("for_ms"), *for_ms),
            Action::ClockRate { rate, .. } => {
                if rate.is_finite() && *rate > 0.0 {
                    Ok(())
                } else {
                    invalid(&field("rate"), format!("must be positive, got {rate}"))
                }
            }
            Action::SetLoss { loss } => check_probability(&field("loss"), *loss),
            Action::SetLatency { latency } => latency.validate(&field("latency")),
            Action::Bulk { every_ms, for_ms, .. } => {
                check_ms(&field("for_ms"), *for_ms)?;
                if *every_ms > 0.0 && every_ms.is_finite() {
                    Ok(())
                } else {
                    invalid(&field("every_ms"), format!("must be positive, got {every_ms}"))
                }
            }
            Action::Delay { extra_ms, .. } => check_ms(&field("extra_ms"), *extra_ms),
            Action::Restart { .. }
            | Action::Isolate { .. }
            | Action::Bridge { .. }
            | Action::Read { .. }
            | Action::Transfer { .. }
            | Action::Add { .. }
            | Action::Remove { .. }
            | Action::Hold { .. }
            | Action::Release { .. }
            | Action::Partition { .. }
            | Action::OneWayPartition { .. }
            | Action::Repair { .. }
            | Action::OneWayRepair { .. }
            | Action::Split { .. }
            | Action::RepairAll
            | Action::ReleaseAll
            | Action::Redeliver { .. } => Ok(()),
        }
    }
}

impl SwarmSpec {
    /// Every range non-empty and within what a trial can run.
    fn validate(&self) -> Result<(), ScenarioError> {
        check_range("swarm.loss", self.loss, 0.0, 1.0)?;
        check_range("swarm.duplicate", self.duplicate, 0.0, 1.0)?;
        check_range("swarm.late", self.late, 0.0, 1.0)?;
        check_range("swarm.latency_ms", self.latency_ms, 0.0, f64::MAX)?;
        for (f, r) in [
            ("swarm.crashes", self.crashes),
            ("swarm.flaps", self.flaps),
            ("swarm.leader_crashes", self.leader_crashes),
            ("swarm.write_crashes", self.write_crashes),
            ("swarm.pauses", self.pauses),
            ("swarm.partitions", self.partitions),
            ("swarm.latency_spikes", self.latency_spikes),
            ("swarm.holds", self.holds),
            ("swarm.stale_deliveries", self.stale_deliveries),
            ("swarm.partial_repairs", self.partial_repairs),
            ("swarm.transfers", self.transfers),
            ("swarm.reads", self.reads),
            ("swarm.membership_changes", self.membership_changes),
            ("swarm.deposed_reads", self.deposed_reads),
        ] {
            if r[0] > r[1] {
                return invalid(f, format!("range [{}, {}] is empty", r[0], r[1]));
            }
        }
        check_ms("swarm.max_pause_ms", self.max_pause_ms)?;
        if let Some([lo, hi]) = self.nodes {
            if !(1 <= lo && lo <= hi && hi <= 64) {
                return invalid(
                    "swarm.nodes",
                    format!("must be a range within [1, 64], got [{lo}, {hi}]"),
                );
            }
        }
        if let Some(r) = self.heartbeat_ms {
            check_range("swarm.heartbeat_ms", r, 0.001, 1e7)?;
            if self.timeout_heartbeats.is_none() {
                return invalid(
                    "swarm.heartbeat_ms",
                    "needs swarm.timeout_heartbeats, so every drawn interval gets a timeout \
                     above it"
                        .into(),
                );
            }
        }
        if let Some(r) = self.timeout_heartbeats {
            check_range("swarm.timeout_heartbeats", r, 1.001, 1e4)?;
        }
        if let Some(r) = self.timeout_spread {
            check_range("swarm.timeout_spread", r, 1.0, 1e4)?;
        }
        check_probability("swarm.equal_timeouts", self.equal_timeouts)?;
        if let Some(r) = self.drift_bound {
            check_range("swarm.drift_bound", r, 0.0, 0.9)?;
        }
        if let Some([lo, hi]) = self.log_lag {
            if lo > hi {
                return invalid("swarm.log_lag", format!("range [{lo}, {hi}] is empty"));
            }
        }
        if let Some(r) = self.disk_ms {
            check_range("swarm.disk_ms", r, 0.0, 1e7)?;
        }
        check_ms("swarm.faults_until_ms", self.faults_until_ms)?;
        if !(0.0..0.5).contains(&self.clock_drift) {
            return invalid(
                "swarm.clock_drift",
                format!("must be in [0, 0.5), got {}", self.clock_drift),
            );
        }
        Ok(())
    }
}

/// The error for `field`, which has `problem`.
fn invalid(field: &str, problem: String) -> Result<(), ScenarioError> {
    Err(ScenarioError::Invalid { field: field.to_string(), problem })
}

fn check_ms(field: &str, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: format!("must be a non-negative number of ms, got {v}"),
        })
    }
}

fn check_probability(field: &str, p: f64) -> Result<(), ScenarioError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: format!("must be a probability in [0, 1], got {p}"),
        })
    }
}

fn check_range(field: &str, r: [f64; 2], lo: f64, hi: f64) -> Result<(), ScenarioError> {
    if r[0].is_finite() && r[1].is_finite() && lo <= r[0] && r[0] <= r[1] && r[1] <= hi {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field: field.into(),
            problem: format!("must be a range [low, high] within [{lo}, {hi}], got {r:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::scenario::{Scenario, MINIMAL};

    #[test]
    fn a_bad_value_names_its_field() {
        let text = MINIMAL.replace("nodes = 3", "nodes = 3\nelection_timeout_ms = [40, 300]");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("cluster") && err.contains("heartbeat_interval"), "{err}");
        let text = format!("{MINIMAL}[network]\nloss = 1.5\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("network.loss") && err.contains("1.5"), "{err}");
        let text = format!("{MINIMAL}[[timeline]]\nat_ms = 10\naction = \"crash\"\nnode = 9\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("timeline[0].node") && err.contains('9'), "{err}");
    }

    #[test]
    fn a_step_after_the_end_is_refused_by_name_and_one_at_the_end_is_kept() {
        let duration = Scenario::parse(MINIMAL).unwrap().duration_ms;
        let step = |at: f64| {
            format!("{MINIMAL}[[timeline]]\nat_ms = {at}\naction = \"crash\"\nnode = 1\n")
        };
        let err = Scenario::parse(&step(duration + 1.0)).unwrap_err().to_string();
        assert!(err.contains("timeline[0].at_ms") && err.contains("never happen"), "{err}");
        assert!(Scenario::parse(&step(duration)).is_ok());
    }
}
