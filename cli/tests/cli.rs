//! The `raft-heartbeat` binary: output contracts, exit codes, error messages, traces, merging.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_raft-heartbeat"));
    // The workspace's top, where the shipped scenarios are.
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-heartbeat-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.trim_end().lines().count(), 1, "exactly one line of JSON: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn simulate_json_prints_one_object_with_the_contract_fields() {
    let out = run(&[
        "simulate",
        "simulations/leader-crash.toml",
        "--trials",
        "3",
        "--json",
        "--seed",
        "9",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    for field in [
        "scenario",
        "seed",
        "trials",
        "trace_hash",
        "detection_ms",
        "time_without_leader_ms",
        "split_votes",
        "false_suspicions",
        "violations",
        "sim_seconds",
        "events",
        "wall_ms",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    for stat in ["mean", "p50", "p90", "p99", "max"] {
        assert!(
            v["detection_ms"][stat].is_number() && v["time_without_leader_ms"][stat].is_number()
        );
    }
    assert_eq!(v["seed"], 9);
    assert_eq!(v["trials"], 3);
    assert_eq!(v["violations"].as_array().unwrap().len(), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("seed 9"), "the seed is printed");
}

#[test]
fn the_table_names_the_seed_and_the_trace_hash() {
    let out = run(&["simulate", "simulations/wan.toml", "--trials", "2"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("seed 1")
            && text.contains("trace hash")
            && text.contains("time without leader"),
        "{text}"
    );
}

#[test]
fn a_bad_scenario_names_the_file_and_the_field_and_exits_2() {
    let path = temp("bad.toml");
    std::fs::write(
        &path,
        "name = \"x\"\nduration_ms = 100\n[cluster]\nnodes = 3\n[network]\nloss = 2\n",
    )
    .unwrap();
    let out = run(&["simulate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("network.loss"), "{err}");

    std::fs::write(&path, "name = \"x\"\nduration_ms = 100\n[cluster]\nnodez = 3\n").unwrap();
    let out = run(&["simulate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nodez"));

    let out = run(&["simulate", "simulations/no-such-file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read scenario"));
}

#[test]
fn every_cause_of_an_error_is_printed_once() {
    let path = temp("wrong-type.toml");
    std::fs::write(&path, "name = \"x\"\nduration_ms = 100\n[cluster]\nnodes = \"three\"\n")
        .unwrap();
    let out = run(&["simulate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("TOML parse error").count(), 1, "{err}");
    assert_eq!(err.matches("wrong-type.toml").count(), 1, "{err}");
}

#[test]
fn a_scenario_without_duration_is_told_what_to_add() {
    let path = temp("no-duration.toml");
    std::fs::write(&path, "name = \"x\"\n[cluster]\nnodes = 3\n").unwrap();
    let out = run(&["simulate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("duration_ms = "), "{err}");
}

#[test]
fn zero_trials_or_jobs_are_refused_before_anything_runs() {
    for args in [
        &["simulate", "simulations/leader-crash.toml", "--trials", "0"][..],
        &["simulate", "simulations/leader-crash.toml", "--jobs", "0"],
        &["experiment", "figure16", "--trials", "0"],
        &["experiment", "figure16", "--jobs", "0"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let says_why = err.contains("at least 1") || err.contains("0 is not in 1..");
        assert!(says_why && !err.contains("real time"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn traces_are_byte_identical_whatever_the_number_of_jobs() {
    let one = temp("one.jsonl");
    let two = temp("two.jsonl");
    for (path, jobs) in [(&one, "1"), (&two, "2")] {
        let out = run(&[
            "simulate",
            "simulations/flaky-link.toml",
            "--trials",
            "4",
            "--jobs",
            jobs,
            "--trace",
            path.to_str().unwrap(),
            "--json",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (a, b) = (std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
    assert!(a.len() > 1000);
    assert_eq!(a, b);
    let leftovers = std::fs::read_dir(one.parent().unwrap())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".part"));
    assert_eq!(leftovers.count(), 0, "part files are cleaned up");
}

#[test]
fn merging_shard_reports_gives_the_whole_runs_hash() {
    let whole = json(&run(&["simulate", "simulations/swarm.toml", "--trials", "4", "--json"]));
    let mut paths = Vec::new();
    for shard in ["0/2", "1/2"] {
        let out = run(&[
            "simulate",
            "simulations/swarm.toml",
            "--trials",
            "4",
            "--json",
            "--shard",
            shard,
        ]);
        let path = temp(&format!("shard-{}.json", &shard[..1]));
        std::fs::write(&path, &out.stdout).unwrap();
        paths.push(path.to_str().unwrap().to_string());
    }
    let out = run(&["merge", &paths[0], &paths[1]]);
    let provenance = String::from_utf8_lossy(&out.stderr);
    assert!(provenance.contains("merged 2 shards: scenario swarm (content xxh3 "), "{provenance}");
    assert!(provenance.contains("seed 1, 4 trials, raft-heartbeat 0.1.0"), "{provenance}");
    let merged = json(&out);
    assert_eq!(merged["trace_hash"], whole["trace_hash"]);
    let out = run(&["merge", &paths[0]]);
    assert_eq!(out.status.code(), Some(2), "one shard of two is not the run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 of 2 shards missing: 1/2"), "{err}");
    assert_eq!(merged["time_without_leader_ms"], whole["time_without_leader_ms"]);
    let out = run(&["simulate", "simulations/swarm.toml", "--shard", "2/2"]);
    assert_eq!(out.status.code(), Some(2), "a shard index out of range is refused");

    // A report whose trace hash is not one is refused, not read as zero.
    let text = std::fs::read_to_string(&paths[1]).unwrap();
    let mut report: serde_json::Value = serde_json::from_str(&text).unwrap();
    report["trial_results"][0]["trace_hash"] = "not-hex".into();
    let bad = temp("shard-bad.json");
    std::fs::write(&bad, report.to_string()).unwrap();
    let out = run(&["merge", &paths[0], bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not-hex") && err.contains("trace hash"), "{err}");
}

#[test]
fn figure16_json_has_every_curve() {
    let svg = temp("lateness.svg");
    let out = run(&[
        "experiment",
        "figure16",
        "--trials",
        "10",
        "--json",
        "--lateness-svg",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let drawn = std::fs::read_to_string(&svg).unwrap();
    for lateness in ["0.05", "0.1", "0.25", "0.5"] {
        assert!(drawn.contains(&format!("L = {lateness} ms")), "{lateness} missing");
    }
    let v = json(&out);
    let labels: Vec<&str> =
        v["curves"].as_array().unwrap().iter().map(|c| c["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "150-150", "150-151", "150-155", "150-175", "150-200", "150-300", "12-24", "25-50",
            "50-100", "100-200"
        ]
    );
    let first = &v["curves"][0];
    assert_eq!(first["trials"], 1, "150-150 gets a tenth of the trials");
    assert!(v["curves"][2]["time_without_leader_ms"]["p50"].as_f64().unwrap() > 75.0);
    assert_eq!(v["timer_rule"], "figure2", "Raft's Figure 2 rule is the default");
}

#[test]
fn figure16_compares_the_two_timer_rules() {
    let args = ["experiment", "figure16", "--trials", "10", "--json", "--timer-rule"];
    let figure2 = json(&run(&[&args[..], &["figure2"]].concat()));
    let etcd = json(&run(&[&args[..], &["reset-on-step-down"]].concat()));
    assert_eq!(etcd["timer_rule"], "reset-on-step-down");
    assert_ne!(
        figure2["curves"][1]["trace_hash"], etcd["curves"][1]["trace_hash"],
        "150-151 runs differently under the two rules"
    );
    let out = run(&[&args[..], &["sometimes"]].concat());
    assert_eq!(out.status.code(), Some(2), "an unknown rule is refused");
}

#[test]
fn split_votes_json_is_exactly_the_rows_of_fractions() {
    let out = run(&["experiment", "split-votes", "--trials", "200", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["format_version", "rows"]);
    let rows = v["rows"].as_array().unwrap();
    let latencies: Vec<f64> = rows.iter().map(|r| r["latency_ms"].as_f64().unwrap()).collect();
    assert_eq!(latencies, [1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
    for r in rows {
        let mut keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["closed_form", "latency_ms", "simulated", "trials"]);
        assert_eq!(r["trials"], 200);
        for f in ["simulated", "closed_form"] {
            let x = r[f].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{f} is a fraction, not a percent: {x}");
        }
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seed 1"), "the seed is printed: {err}");
}

#[test]
fn node_refuses_bad_settings_with_a_clear_error_and_exit_2() {
    let dir = temp("node-data");
    let d = dir.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["node", "--listen", "127.0.0.1:0", "--data-dir", d], "--id is required"),
        (
            &["node", "--id", "1", "--listen", "127.0.0.1:0", "--data-dir", d, "--loss", "1.5"],
            "--loss must be a probability",
        ),
        (
            &["node", "--id", "1", "--listen", "127.0.0.1:0", "--data-dir", d, "--peer", "2"],
            "ID=ADDRESS",
        ),
        (
            &[
                "node",
                "--id",
                "1",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                d,
                "--election-ms",
                "40..300",
            ],
            "heartbeat_interval",
        ),
        (
            &[
                "node",
                "--id",
                "1",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                d,
                "--peer",
                "1=127.0.0.1:9",
            ],
            "names this node itself",
        ),
    ];
    for (args, expected) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn node_refuses_to_start_from_corrupt_hard_state() {
    let dir = temp("corrupt-node");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hard-state"), b"not a hard state").unwrap();
    let out =
        run(&["node", "--id", "1", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corrupt") && err.contains("refusing"), "{err}");
}

#[test]
fn cluster_kills_the_leader_and_reports_each_failover_as_json() {
    let out = run(&["cluster", "--nodes", "3", "--kill-leader", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let failovers = v["failovers_ms"].as_array().unwrap();
    assert_eq!(failovers.len(), 2);
    for f in failovers {
        let ms = f.as_f64().unwrap();
        assert!((50.0..5000.0).contains(&ms), "failover of {ms} ms");
    }
    assert_eq!(v["leaders_per_term_max"], 1);
    assert!(v["rejoin_term_bumps"].is_number());
    assert!(v["predicted_ms"]["p50"].as_f64().unwrap() > 0.0);
}

#[test]
fn cluster_pauses_the_leader_past_its_lease_and_checks_leases_and_votes_on_one_clock() {
    // Issue 30, §5: SIGSTOP for longer than the lease, then SIGCONT, interleaved with kills.
    let out = run(&[
        "cluster",
        "--nodes",
        "3",
        "--kill-leader",
        "1",
        "--pause-leader",
        "2",
        "--latency-ms",
        "5",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!((v["kills"].as_u64(), v["pauses"].as_u64()), (Some(1), Some(2)), "{v}");
    assert_eq!(v["pause_ms"], 600, "twice the maximum timeout by default");
    let during = v["pause_failovers_ms"].as_array().unwrap();
    assert_eq!(during.len(), 2, "600 ms is past the lease and the timeouts: {v}");
    assert!(v["leases"].as_u64().unwrap() >= 3, "a lease per leader at least: {v}");
    assert_eq!(v["lease_overlaps"], 0, "{v}");
    assert!(v["lease_gap_min_ms"].as_f64().unwrap() > 0.0, "{v}");
    assert_eq!(v["votes_lost"], 0, "{v}");
    assert_eq!(v["leaders_per_term_max"], 1, "{v}");
}

#[test]
fn cluster_checks_an_advice_live_with_its_setting_and_network() {
    // Issue 29, §6: advise's JSON in, its setting run live with its profile's latency drawn
    // from a distribution and its loss, the prediction printed beside the live failovers.
    let dir = temp("cluster-advice");
    std::fs::create_dir_all(&dir).unwrap();
    let advice = dir.join("advice.json");
    let out = run(&[
        "advise",
        "--nodes",
        "3",
        "--latency-p50-ms",
        "2",
        "--latency-p99-ms",
        "5",
        "--loss",
        "0.01",
        "--effort",
        "3",
        "--trials",
        "500",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&advice, &out.stdout).unwrap();
    let a = json(&out);
    let out =
        run(&["cluster", "--advice", advice.to_str().unwrap(), "--kill-leader", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["advised_ms"]["p50"], a["predicted"]["failover_ms"]["p50"], "{v}");
    assert_eq!(v["latency_ms"], a["latency"]["median_ms"]);
    assert!(v["latency_p99_ms"].as_f64().unwrap() > 4.0, "a distribution, not a constant: {v}");
    assert_eq!(v["loss"], 0.01);
    let min = a["recommended"]["election_timeout_ms"][0].as_f64().unwrap();
    for f in v["failovers_ms"].as_array().unwrap() {
        let ms = f.as_f64().unwrap();
        assert!(ms > min / 2.0 && ms < 20.0 * min, "failover of {ms} ms, timeouts from {min}");
    }
    assert_eq!(v["leaders_per_term_max"], 1);
    // An answer that is not advise's is refused by name.
    std::fs::write(&advice, "{}").unwrap();
    let out = run(&["cluster", "--advice", advice.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("advise --json"));
}

#[test]
fn cluster_with_injected_latency_slows_every_failover_and_writes_the_events() {
    let events = temp("cluster-events").join("events.jsonl");
    std::fs::create_dir_all(events.parent().unwrap()).unwrap();
    let out = run(&[
        "cluster",
        "--nodes",
        "3",
        "--kill-leader",
        "2",
        "--latency-ms",
        "20",
        "--events-out",
        events.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["latency_ms"], 20.0);
    // The last heartbeat was sent at most 50 ms before the kill and lands 20 ms later, the
    // timeout (>= 150 ms) runs from there, and a pre-vote, a vote and the new leader's
    // heartbeat cross five more links: at least -50 + 20 + 150 + 5 x 20 = 220 ms.
    for f in v["failovers_ms"].as_array().unwrap() {
        let ms = f.as_f64().unwrap();
        assert!((220.0..5000.0).contains(&ms), "failover of {ms} ms with 20 ms links");
    }
    assert!(v["predicted_ms"]["p50"].as_f64().unwrap() > 220.0, "{v}");
    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().filter(|l| l.get("killed").is_some()).count(), 2);
    assert!(lines.iter().any(|l| l["event"]["kind"] == "election-timeout"), "{text}");
}

/// Clocks 30% fast against a lease that assumes 1%, the leader's slowed to 0.7 and then cut off:
/// the lease check fires. The late pauses have nothing to do with it.
const UNSAFE_DRIFT: &str = r#"
name = "unsafe-drift"
trials = 300
duration_ms = 8000

[cluster]
nodes = 5
max_clock_drift = 0.01

[network]
latency = { dist = "normal", mean_ms = 0.5, std_ms = 0.1 }
disk = { dist = "normal", mean_ms = 1.0, std_ms = 0.2 }

[[nodes]]
id = 1
clock_rate = 1.3
[[nodes]]
id = 2
clock_rate = 1.3
[[nodes]]
id = 3
clock_rate = 1.3
[[nodes]]
id = 4
clock_rate = 1.3
[[nodes]]
id = 5
clock_rate = 1.3

[[timeline]]
at_ms = 1000
action = "isolate"
node = "leader"

[[timeline]]
at_ms = 2500
action = "heal"

[[timeline]]
at_ms = 900
action = "clock-rate"
node = "leader"
rate = 0.7

[[timeline]]
at_ms = 100
action = "pause"
node = 3
for_ms = 2

[[timeline]]
at_ms = 2900
action = "pause"
node = 4
for_ms = 5

[check]
liveness_within_ms = 3000
"#;

#[test]
fn a_violation_leaves_the_trial_and_a_shrunk_scenario_that_each_replay_it() {
    let scenario = temp("unsafe-drift.toml");
    std::fs::write(&scenario, UNSAFE_DRIFT).unwrap();
    let dir = temp("shrunk");
    std::fs::create_dir_all(&dir).unwrap();
    let out = run(&[
        "simulate",
        scenario.to_str().unwrap(),
        "--trials",
        "50",
        "--shrink-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let path_after = |prefix: &str| -> PathBuf {
        let line = err.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{err}"));
        PathBuf::from(line[prefix.len()..].split(' ').next().unwrap())
    };
    // Where the files go is said, as an absolute path (issue 31, §4).
    assert!(err.contains(&format!("scenarios to {} (choose with --shrink-dir)", dir.display())));
    let trial_file = path_after("trial scenario: ");
    let minimal = path_after("minimal scenario: ");
    assert!(minimal.starts_with(&dir), "{err}");
    let replay = err.lines().rfind(|l| l.starts_with("replay: ")).unwrap();
    assert!(replay.contains(minimal.to_str().unwrap()), "{err}");
    let draw = err.lines().find(|l| l.starts_with("draw: ")).unwrap();
    assert!(
        draw.contains(" --trace ")
            && draw.contains("&& raft-heartbeat timeline ")
            && draw.contains(" --from "),
        "{err}"
    );
    let steps = |p: &PathBuf| std::fs::read_to_string(p).unwrap().matches("[[timeline]]").count();
    assert!(steps(&minimal) < steps(&trial_file), "{err}");
    let args: Vec<&str> = replay["replay: raft-heartbeat ".len()..].split(' ').collect();
    for file in [&trial_file, &minimal] {
        let mut args = args.clone();
        args[1] = file.to_str().unwrap();
        args.extend(["--no-shrink", "--shrink-dir", dir.to_str().unwrap()]);
        let again = run(&args);
        assert_eq!(again.status.code(), Some(1), "{file:?}");
        let text = String::from_utf8(again.stderr).unwrap();
        assert!(text.contains("VIOLATION of lease safety"), "{text}");
    }
}

#[test]
fn advise_json_has_the_contract_fields_and_agrees_with_an_independent_simulate_run() {
    let scenario = temp("advise-failover.toml");
    let out = run(&[
        "advise",
        "--nodes",
        "5",
        "--latency-p50-ms",
        "0.3",
        "--latency-p99-ms",
        "1",
        "--fsync-p99-ms",
        "5",
        "--max-pause-ms",
        "50",
        "--failover-p99-ms",
        "500",
        "--trials",
        "2000",
        "--json",
        "--scenario-out",
        scenario.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let r = &v["recommended"];
    let h = r["heartbeat_ms"].as_f64().unwrap();
    let min = r["election_timeout_ms"][0].as_f64().unwrap();
    let max = r["election_timeout_ms"][1].as_f64().unwrap();
    assert!(h > 2.0 && min >= 3.0 * h && max > min, "{r}");
    assert!(r["lease_ms"].as_f64().unwrap() < min);
    let p = &v["predicted"];
    for key in ["p50", "p99", "p999"] {
        assert!(p["failover_ms"][key].as_f64().unwrap() > min / 2.0, "{p}");
    }
    assert!(p["split_vote_rate"].as_f64().unwrap() < 0.05);
    assert!(p["false_elections_per_day"].as_f64().unwrap() >= 0.0);
    let predicted_p99 = p["failover_ms"]["p99"].as_f64().unwrap();
    assert!(predicted_p99 <= 500.0, "the budget is met: {predicted_p99}");

    // The recommended setting, run by `simulate` with another seed.
    let check = run(&["simulate", scenario.to_str().unwrap(), "--seed", "2", "--json"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let s = json(&check);
    for (key, predicted) in
        [("p50", p["failover_ms"]["p50"].as_f64().unwrap()), ("p99", predicted_p99)]
    {
        let simulated = s["time_without_leader_ms"][key].as_f64().unwrap();
        assert!(
            (simulated - predicted).abs() <= 0.1 * predicted,
            "{key}: advise predicted {predicted}, simulate measured {simulated}"
        );
    }
}

#[test]
fn advise_refuses_impossible_goals_and_bad_profiles_with_the_reason() {
    let out = run(&[
        "advise",
        "--nodes",
        "5",
        "--latency-p50-ms",
        "30",
        "--latency-p99-ms",
        "40",
        "--failover-p99-ms",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("below 60.00 ms, the median round trip"), "{err}");
    let out = run(&["advise", "--nodes", "2", "--latency-p50-ms", "1", "--latency-p99-ms", "2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot fail over"));
    let out = run(&["advise", "--nodes", "5", "--latency-p50-ms", "3", "--latency-p99-ms", "1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("latency-p99-ms: must be at least"));
    let out = run(&["advise", "--latency-p50-ms", "3"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nodes is required"));
}

#[test]
fn advise_takes_a_profile_file_with_a_named_latency_distribution() {
    let out =
        run(&["advise", "--config", "simulations/profiles/lan.toml", "--trials", "500", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["profile"]["latency"]["dist"], "long-tail");
    assert!(v["predicted"]["failover_ms"]["p99"].as_f64().unwrap() <= 400.0);
    let out =
        run(&["advise", "--config", "simulations/profiles/lan.toml", "--latency-p50-ms", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("either the latency percentiles or a distribution"));
}

#[test]
fn sweep_json_has_a_row_per_setting_and_wider_ranges_split_fewer_votes() {
    let out = run(&["experiment", "sweep", "--trials", "300", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9);
    let split = |i: usize| rows[i]["split_vote_rate"].as_f64().unwrap();
    assert!(split(0) > split(3), "150-155 splits more than 150-300 (Raft §9.3)");
    let p50 = |i: usize| rows[i]["p50_ms"].as_f64().unwrap();
    assert!(p50(5) < p50(6) && p50(6) < p50(8), "failover grows with the minimum timeout");
}

#[test]
fn experiment_false_elections_prints_every_family_beside_the_closed_forms() {
    let out = run(&["experiment", "false-elections", "--hours", "1", "--jobs", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 15);
    for family in ["loss", "jitter", "heartbeats"] {
        assert_eq!(rows.iter().filter(|r| r["family"] == family).count(), 5, "{family}");
    }
    let rate = |r: &serde_json::Value, what: &str, which: &str| r[what][which].as_f64().unwrap();
    let lossless = &rows[0];
    assert_eq!(rate(lossless, "false_timeouts_per_hour", "simulated"), 0.0);
    let lossy = rows.iter().find(|r| r["family"] == "loss" && r["value"] == 0.2).unwrap();
    let (sim, closed) = (
        rate(lossy, "false_timeouts_per_hour", "simulated"),
        rate(lossy, "false_timeouts_per_hour", "closed_form"),
    );
    assert!(sim > 0.7 * closed && sim < 1.3 * closed, "{sim} against {closed}");
    assert!(rate(lossy, "false_elections_per_hour", "simulated") > 10.0, "{lossy}");
    assert!(lossy["leader_changes_per_hour"].as_f64().unwrap() > 0.0);
}

#[test]
fn node_serves_its_metrics_as_prometheus_text() {
    use std::io::{Read, Write};
    // A free port for the exporter: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let dir = temp("metrics-node");
    let mut child = bin()
        .args(["node", "--id", "1", "--listen", "127.0.0.1:0", "--metrics-addr", &addr])
        .args(["--data-dir", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Alone, the node leads within an election timeout; poll until the exporter says so.
    let mut text = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let Ok(mut s) = std::net::TcpStream::connect(&addr) else { continue };
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        text.clear();
        let _ = s.read_to_string(&mut text);
        if text.contains("raft_heartbeat_is_leader{node=\"1\"} 1") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("raft_heartbeat_is_leader{node=\"1\"} 1"), "{text}");
    for name in [
        "raft_heartbeat_term{node=\"1\"} 1",
        "raft_heartbeat_elections_started_total{node=\"1\"} 1",
        "raft_heartbeat_timer_lateness_seconds",
        "raft_heartbeat_lease_remaining_seconds",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[test]
fn node_takes_the_followers_detector_from_its_config_and_refuses_a_bad_one() {
    let dir = temp("detector-node");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("node.toml");
    let data = dir.join("data");
    let text = format!(
        "id = 1\nlisten = \"127.0.0.1:0\"\ndata_dir = {:?}\n\
         leader_detector = {{ kind = \"adaptive\", deviations = -1 }}\n",
        data.to_str().unwrap()
    );
    std::fs::write(&file, text).unwrap();
    let out = run(&["node", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("deviations must be a finite number"), "{err}");
}

#[test]
fn node_refuses_a_timeout_floor_outside_heartbeat_and_minimum_timeout_raft_5_6() {
    let dir = temp("floor-node");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    for floor in [50, 151] {
        let file = dir.join(format!("node-{floor}.toml"));
        let text = format!(
            "id = 1\nlisten = \"127.0.0.1:0\"\ndata_dir = {:?}\nheartbeat_ms = 50\n\
             election_ms = [150, 300]\nleader_detector = {{ kind = \"adaptive\", deviations = 4 }}\n\
             election_timeout_floor_ms = {floor}\n",
            data.to_str().unwrap()
        );
        std::fs::write(&file, text).unwrap();
        let out = run(&["node", "--config", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "floor {floor}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("election_timeout_floor"), "floor {floor}: {err}");
    }
}

#[test]
fn node_refuses_a_bad_shadow_detector_or_a_zero_local_pause_threshold() {
    let dir = temp("shadow-node");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let cases = [
        ("shadow_detectors = [{ kind = \"phi\", threshold = 0 }]", "shadow_detectors[0]: the phi"),
        ("local_pause_threshold_ms = 0", "local_pause_threshold"),
    ];
    for (i, (line, named)) in cases.into_iter().enumerate() {
        let file = dir.join(format!("node-{i}.toml"));
        let head =
            format!("id = 1\nlisten = \"127.0.0.1:0\"\ndata_dir = {:?}\n", data.to_str().unwrap());
        std::fs::write(&file, head + line + "\n").unwrap();
        let out = run(&["node", "--config", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{line}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{line}: {err}");
    }
}

#[test]
fn experiment_detectors_measures_each_detector_over_its_thresholds_with_the_qos_figures() {
    let args = ["experiment", "detectors", "--only", "lan,gc-pauses", "--trials", "100"];
    let out = run(&[&args[..], &["--hours", "1", "--jobs", "2", "--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 26, "13 detector settings in each of two environments");
    for r in rows {
        for key in ["false_elections_per_hour", "t_d_ms", "p_a"] {
            assert!(r[key].as_f64().is_some(), "{key} in {r}");
        }
        assert!(
            r["failover_ms"]["p50"].as_f64().unwrap() <= r["failover_ms"]["p99"].as_f64().unwrap()
        );
        assert!(r.get("t_mr_seconds").is_some() && r.get("t_m_ms").is_some(), "{r}");
    }
    let row = |scenario: &str, detector: &str, threshold: f64| {
        rows.iter()
            .find(|r| {
                r["scenario"] == scenario
                    && r["detector"] == detector
                    && r["threshold"] == threshold
            })
            .unwrap_or_else(|| panic!("no {scenario} {detector} {threshold}"))
    };
    let p50 = |r: &serde_json::Value| r["failover_ms"]["p50"].as_f64().unwrap();
    let elections = |r: &serde_json::Value| r["false_elections_per_hour"].as_f64().unwrap();
    // On a LAN the floor lets the adaptive detector fail over well inside Raft's range...
    let (fixed, adaptive) = (row("lan", "fixed", 150.0), row("lan", "adaptive", 4.0));
    assert!(p50(adaptive) < 0.7 * p50(fixed), "{adaptive} against {fixed}");
    assert!(elections(adaptive) <= elections(fixed));
    // ...and the same floor takes the leader's pauses for crashes, where Raft's range does not.
    let (fixed, adaptive) = (row("gc-pauses", "fixed", 150.0), row("gc-pauses", "adaptive", 4.0));
    assert!(elections(adaptive) > elections(fixed) + 10.0, "{adaptive} against {fixed}");
}

#[test]
fn experiment_detectors_refuses_an_unknown_environment_and_a_floor_outside_the_timing() {
    for (args, says) in [
        (&["--only", "moon"][..], "no environment \"moon\""),
        (&["--floor-heartbeats", "1"][..], "--floor-heartbeats: must be above 1"),
        (&["--floor-heartbeats", "4"][..], "--floor-heartbeats: must be above 1"),
    ] {
        let out = run(&[&["experiment", "detectors"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn experiment_detectors_with_local_health_measures_follower_pauses_without_false_suspicions() {
    let base = [
        "experiment",
        "detectors",
        "--only",
        "follower-pauses",
        "--trials",
        "20",
        "--hours",
        "1",
        "--jobs",
        "2",
        "--json",
    ];
    let out = run(&[&base[..], &["--local-health-heartbeats", "1"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let healthy = json(&out);
    // Without local health these rows see false suspicions (docs/detectors.md; the simulator's
    // test local_health_stops_a_paused_follower_from_suspecting_a_healthy_leader_cassandra_9183).
    for r in healthy["rows"].as_array().unwrap() {
        assert_eq!(r["local_pause_threshold_ms"].as_f64(), Some(50.0), "{r}");
        assert!(r["t_mr_seconds"].is_null(), "no false suspicion with local health: {r}");
        assert!(r["timeouts_deferred_per_hour"].as_f64().unwrap() > 0.0, "{r}");
    }
    let bad = run(&[&base[..], &["--local-health-heartbeats", "0"]].concat());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--local-health-heartbeats"));
}

const TINY_FAILOVER: &str = r#"
name = "tiny-failover"
trials = 2
duration_ms = 3000
stop_after_recovery = true

[cluster]
nodes = 3

[[timeline]]
at_ms = 600
action = "crash"
node = "leader"
"#;

#[test]
fn timeline_draws_a_traced_trial_with_a_lane_per_node_and_its_leader() {
    let scenario = temp("tiny-failover.toml");
    std::fs::write(&scenario, TINY_FAILOVER).unwrap();
    let trace = temp("tiny-failover.jsonl");
    let out = run(&["simulate", scenario.to_str().unwrap(), "--trace", trace.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = temp("tiny-failover.svg");
    let out = run(&[
        "timeline",
        trace.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--trial",
        "1",
        "--from",
        "500",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"), "{text}");
    for lane in ["n1", "n2", "n3"] {
        assert_eq!(text.matches(&format!("class=\"lane\">{lane}</text>")).count(), 1, "{lane}");
    }
    assert!(!text.contains(">n4</text>"));
    assert!(text.contains("class=\"band leader\"") && text.contains("class=\"crashed\""));
    assert!(text.contains("trial 1, 500 to"), "the window and trial asked for");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("trial 1, 500.000 to ") && err.contains("3 nodes"), "{err}");
}

#[test]
fn timeline_refuses_a_bad_line_an_unknown_trial_and_an_empty_window_with_exit_2() {
    let trace = temp("bad-trace.jsonl");
    let good = r#"{"trial":0,"t_ns":5000000,"kind":"fault","node":2,"fault":{"fault":"crash"}}"#;
    std::fs::write(&trace, format!("{good}\n{{\"trial\":0,\"t_ns\":\n")).unwrap();
    let svg = temp("bad-trace.svg");
    let draw = |extra: &[&str]| {
        let mut args = vec!["timeline", trace.to_str().unwrap(), "--svg", svg.to_str().unwrap()];
        args.extend(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let err = draw(&[]);
    assert!(err.contains("line 2 is not a trace record"), "{err}");
    std::fs::write(&trace, format!("{good}\n")).unwrap();
    let err = draw(&["--trial", "7"]);
    assert!(err.contains("no trial 7"), "{err}");
    let err = draw(&["--from", "9", "--to", "20"]);
    assert!(err.contains("holds nothing"), "{err}");
    let err = draw(&["--from=-3"]);
    assert!(err.contains("--from"), "{err}");
    assert!(!svg.exists(), "nothing is written on an error");
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_program_quietly() {
    // Issue 31, §4: `simulate ... | head` used to panic with exit status 101.
    let mut child = bin()
        .args(["simulate", "simulations/leader-crash.toml", "--trials", "20"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn cluster_refuses_bad_settings_and_an_empty_plan_before_starting_any_node() {
    // Issue 31, §4: these used to start five nodes and fail ten seconds later.
    let started = std::time::Instant::now();
    let out = run(&["cluster", "--heartbeat-ms", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid cluster settings") && stderr.contains("heartbeat"),
        "{stderr}"
    );
    assert!(!stderr.contains("nodes on 127.0.0.1"), "no node was started: {stderr}");
    let out = run(&["cluster", "--kill-leader", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing to measure"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused at once");
}

#[test]
fn node_says_it_listens_only_once_it_does() {
    // Issue 31, §4: "listening on ..." used to come before "Address already in use".
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = temp("node-taken");
    let out = run(&[
        "node",
        "--id",
        "1",
        "--listen",
        &addr,
        "--peer",
        "2=127.0.0.1:9",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
}

#[test]
fn experiments_take_fractions_of_an_hour_and_refuse_an_unwritable_figure_before_running() {
    // Issue 31, §4: `--hours 0.1` was refused; a bad `--svg` failed only after the run.
    let out = run(&["experiment", "false-elections", "--hours", "0.1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let rows = v.as_array().or_else(|| v["rows"].as_array()).expect("rows");
    for r in rows {
        let hours = r["hours"].as_f64().unwrap();
        assert!((0.09..0.11).contains(&hours), "six minutes simulated: {r}");
    }
    let started = std::time::Instant::now();
    let out = run(&[
        "experiment",
        "false-elections",
        "--hours",
        "100000",
        "--svg",
        "/nonexistent-raft-heartbeat-dir/figure.svg",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write /nonexistent-raft-heartbeat-dir/figure.svg"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused before running");
}
