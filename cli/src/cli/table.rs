//! The human-readable report of `simulate`.

use std::fmt::Write;

use raft_heartbeat::sim::{Report, Summary};

/// Renders `report` as a small table.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario {}  seed {}  trials {}", r.scenario, r.seed, r.trials);
    let _ = writeln!(
        out,
        "{:<24}{:>9}{:>9}{:>9}{:>9}{:>9}{:>7}",
        "", "mean", "p50", "p90", "p99", "max", "n"
    );
    row(&mut out, "detection (ms)", &r.detection_ms);
    row(&mut out, "time without leader (ms)", &r.time_without_leader_ms);
    row(&mut out, "election rounds", &r.election_rounds);
    row(&mut out, "term increase", &r.term_increase);
    let _ = writeln!(out, "split votes {}", r.split_votes);
    let _ = writeln!(
        out,
        "false suspicions {} ({:.2}/h)  spurious leader changes {} ({:.2}/h)  \
         leaders elected {} ({:.2}/h)",
        r.false_suspicions.total,
        r.false_suspicions.per_hour,
        r.spurious_leader_changes.total,
        r.spurious_leader_changes.per_hour,
        r.leaders_elected.total,
        r.leaders_elected.per_hour
    );
    let q = &r.qos;
    let or_dash = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    let _ = writeln!(
        out,
        "detector QoS: mistake every {} s (T_MR), lasting {} ms (T_M), accuracy {:.6} (P_A)",
        or_dash(q.t_mr_seconds, 1),
        or_dash(q.t_m_ms, 1),
        q.p_a
    );
    if r.timeouts_deferred.total > 0 {
        let _ = writeln!(
            out,
            "election timeouts deferred for a stall of the node's own (local health): {} ({:.2}/h)",
            r.timeouts_deferred.total, r.timeouts_deferred.per_hour
        );
    }
    for (i, s) in r.shadows.iter().enumerate() {
        let _ = writeln!(
            out,
            "shadow {i} {}: would have suspected {} times, {} falsely ({:.2}/h, T_MR {} s)",
            s.detector,
            s.suspicions.total,
            s.false_suspicions.total,
            s.false_suspicions.per_hour,
            or_dash(s.t_mr_seconds, 1)
        );
        row(&mut out, &format!("  shadow {i} detection (ms)"), &s.detection_ms);
    }
    let _ = writeln!(out, "messages {}  bytes {}", r.messages, r.bytes);
    let speed = if r.wall_ms > 0.0 { r.sim_seconds * 1e3 / r.wall_ms } else { 0.0 };
    let _ = writeln!(
        out,
        "simulated {:.1} s in {:.0} ms wall ({:.0}x real time), {} events",
        r.sim_seconds, r.wall_ms, speed, r.events
    );
    let _ = writeln!(out, "trace hash {}", r.trace_hash);
    let _ = writeln!(
        out,
        "violations: {}",
        if r.violations.is_empty() { "none".to_string() } else { r.violations.len().to_string() }
    );
    out
}

fn row(out: &mut String, name: &str, s: &Summary) {
    if s.count == 0 {
        let _ = writeln!(out, "{name:<24}{:>9}", "-");
        return;
    }
    let _ = writeln!(
        out,
        "{name:<24}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>7}",
        s.mean, s.p50, s.p90, s.p99, s.max, s.count
    );
}
