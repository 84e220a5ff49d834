//! The metrics as their consumers see them: the Grafana dashboard in deploy/ queries only
//! metrics a live cluster exposes, and a real Prometheus server scraping a live cluster sees
//! one leader, then a leader change after a kill, and runs every query of the dashboard.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const TOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The two tests each run a live cluster: one at a time, on a machine of two cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A process killed when the test ends, passing or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-heartbeat-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A base port `b` with `b + 1 ..= b + n` free now on 127.0.0.1.
fn free_base(n: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 20_000) as u16;
    (0..200)
        .map(|k| start + k * (n + 1))
        .find(|b| (1..=n).all(|i| std::net::TcpListener::bind(("127.0.0.1", b + i)).is_ok()))
        .expect("a free run of ports")
}

fn get(url: &str) -> Option<String> {
    ureq::get(url).call().ok()?.body_mut().read_to_string().ok()
}

/// A cluster of 3 nodes serving metrics on `base + i`, with a phi shadow detector (so its
/// suspicions counter exists), killing its leader once, `settle_ms` with each leader.
fn cluster(base: u16, settle_ms: u64) -> Killed {
    let config = temp("shadow.toml");
    std::fs::write(&config, "shadow_detectors = [{ kind = \"phi\", threshold = 8 }]\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_raft-heartbeat"))
        .current_dir(TOP)
        .args(["cluster", "--nodes", "3", "--kill-leader", "1", "--json"])
        .args(["--settle-ms", &settle_ms.to_string(), "--metrics-port-base", &base.to_string()])
        .arg("--node-config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Killed(child)
}

/// Waits for the cluster to end and checks it passed.
fn finished(mut cluster: Killed) {
    let status = cluster.0.wait().unwrap();
    let mut err = String::new();
    if let Some(mut e) = cluster.0.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "cluster: {status}\n{err}");
    eprintln!("{err}");
}

/// The dashboard's queries: every panel target's and template variable's expression.
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let targets = panel["targets"].as_array().expect("every panel has targets");
        assert!(!targets.is_empty(), "{} queries nothing", panel["title"]);
        for t in targets {
            out.push(t["expr"].as_str().expect("a PromQL expression").to_string());
        }
    }
    for var in dashboard["templating"]["list"].as_array().into_iter().flatten() {
        if let Some(q) = var["query"]["query"].as_str() {
            out.push(q.to_string());
        }
    }
    out
}

/// The metric names a query reads.
fn metric_names(query: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = query;
    while let Some(at) = rest.find("raft_heartbeat_") {
        let name: String =
            rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        rest = &rest[at + name.len()..];
        out.insert(name);
    }
    out
}

/// The names of the samples in an exposition text.
fn exposed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// The names the dashboard queries that `exposed` lacks.
fn missing(dashboard: &Value, exposed: &BTreeSet<String>) -> Vec<String> {
    let wanted: BTreeSet<String> =
        dashboard_queries(dashboard).iter().flat_map(|q| metric_names(q)).collect();
    wanted.into_iter().filter(|n| !exposed.contains(n)).collect()
}

fn dashboard() -> Value {
    let path = Path::new(TOP).join("deploy/grafana/raft-heartbeat.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_metric_the_dashboard_queries_is_in_a_live_clusters_exposition() {
    let _one_cluster_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let base = free_base(3);
    let run = cluster(base, 1500);
    let started = Instant::now();
    let mut names = BTreeSet::new();
    let mut run = Some(run);
    while let Some(mut c) = run.take() {
        if c.0.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(60) {
            finished(c);
            break;
        }
        for i in 1..=3 {
            if let Some(text) = get(&format!("http://127.0.0.1:{}/metrics", base + i)) {
                names.extend(exposed(&text));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        run = Some(c);
    }
    let dashboard = dashboard();
    assert_eq!(missing(&dashboard, &names), Vec::<String>::new(), "exposed: {names:#?}");
    // The check fires on a name no node exposes.
    let mut wrong = dashboard.clone();
    wrong["panels"][0]["targets"][0]["expr"] = Value::from("raft_heartbeat_is_leading");
    assert_eq!(missing(&wrong, &names), ["raft_heartbeat_is_leading"]);
    for panel in dashboard["panels"].as_array().unwrap() {
        assert!(panel["description"].as_str().is_some_and(|d| d.len() > 20), "{}", panel["title"]);
    }
}

/// Runs `query` at the Prometheus server on `port`: its result vector.
fn query(port: u16, query: &str) -> Vec<Value> {
    let url = format!(
        "http://127.0.0.1:{port}/api/v1/query?query={}",
        query.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
    );
    let body = get(&url).unwrap_or_else(|| panic!("Prometheus refused {query}"));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{query}: {body}");
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The single number a query returns, if it returns one series.
fn number(port: u16, q: &str) -> Option<f64> {
    let result = query(port, q);
    let [one] = result.as_slice() else { return None };
    one["value"][1].as_str()?.parse().ok()
}

#[test]
fn a_real_prometheus_sees_one_leader_then_a_leader_change_after_a_kill() {
    let Ok(version) = Command::new("prometheus").arg("--version").output() else {
        // CI installs it and sets the variable, so that there a missing server fails.
        let required = std::env::var_os("RAFT_HEARTBEAT_REQUIRE_PROMETHEUS").is_some();
        assert!(!required, "no `prometheus` binary, and RAFT_HEARTBEAT_REQUIRE_PROMETHEUS is set");
        eprintln!(
            "skipped: no `prometheus` binary (Debian: apt-get install prometheus); CI installs it"
        );
        return;
    };
    assert!(version.status.success());
    let _one_cluster_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Nodes on base + 1 ..= base + 3, Prometheus on base + 4.
    let base = free_base(4);
    let port = base + 4;
    let config = temp("prometheus.yml");
    let targets: Vec<String> = (1..=3).map(|i| format!("'127.0.0.1:{}'", base + i)).collect();
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: raft-heartbeat\n    \
             static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ),
    )
    .unwrap();
    let log = std::fs::File::create(temp("prometheus.log")).unwrap();
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", temp("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let ready = Instant::now();
    while get(&format!("http://127.0.0.1:{port}/-/ready")).is_none() {
        assert!(ready.elapsed() < Duration::from_secs(30), "Prometheus not ready in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Prometheus applies its targets a few seconds after it is ready: wait until it scrapes
    // all three (down for now), so that it sees the first leader before the kill.
    while number(port, "count(up)") != Some(3.0) {
        assert!(ready.elapsed() < Duration::from_secs(30), "Prometheus scraped nothing in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }

    let run = cluster(base, 4000);
    let seen = Instant::now();
    while number(port, "sum(raft_heartbeat_is_leader)") != Some(1.0) {
        assert!(seen.elapsed() < Duration::from_secs(20), "Prometheus never saw one leader");
        std::thread::sleep(Duration::from_millis(250));
    }
    finished(run);

    let leaders = number(port, "count(max_over_time(raft_heartbeat_is_leader[5m]) == 1)");
    assert_eq!(
        leaders,
        Some(2.0),
        "the killed leader and its successor each led: {:#?}",
        query(port, "max_over_time(raft_heartbeat_is_leader[5m])")
            .iter()
            .chain(&query(port, "count_over_time(raft_heartbeat_is_leader[5m])"))
            .chain(&query(port, "min_over_time(up[5m])"))
            .map(|r| format!("{} {}", r["metric"], r["value"][1]))
            .collect::<Vec<_>>()
    );
    let changes = number(port, "sum(max_over_time(raft_heartbeat_leader_changes_total[5m]))");
    assert!(
        changes.is_some_and(|c| c >= 4.0),
        "first leader on 3 nodes, then a change: {changes:?}"
    );
    let failovers = number(port, "sum(max_over_time(raft_heartbeat_leaderless_seconds_count[5m]))");
    assert!(
        failovers.is_some_and(|c| c >= 2.0),
        "both survivors timed the failover: {failovers:?}"
    );

    // Every query of the dashboard runs, over the whole soak.
    for q in dashboard_queries(&dashboard()) {
        let q =
            q.replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$node", ".*");
        if q.starts_with("label_values") {
            continue;
        }
        query(port, &q);
    }
}
