//! `raft-heartbeat node`: one member of a real cluster, over TCP, with durable hard state.
//! Prints every event of the node, and every change of the lease it holds, as a JSON line on
//! stdout, and logs on stderr (`RUST_LOG`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use raft_heartbeat::core::{Config, LeaderDetectorKind, LogPosition, NodeId};
use raft_heartbeat::runtime::{Driver, FaultyTransport, FileStore, TcpConfig, TcpTransport};
use serde::Deserialize;

use super::args::parse_range;
use super::event_line::{to_unix_us, unix_us, EventLine, LeaseLine, LeaseSpan};

/// Mixed into the seed for the loss generator, so it is not the timeout generator's stream.
const LOSS_STREAM: u64 = 0x6c6f_7373;

/// Options of `node`. Flags override the `--config` file.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// This node's id.
    #[arg(long)]
    id: Option<u64>,
    /// Address to listen on, e.g. 127.0.0.1:7001.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// A peer, as ID=ADDRESS; repeat for each.
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<(u64, SocketAddr)>,
    /// Where the hard state (term and vote) is kept.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Cluster id checked in every connection's handshake.
    #[arg(long)]
    cluster_id: Option<u64>,
    /// Heartbeat interval, ms.
    #[arg(long)]
    heartbeat_ms: Option<u64>,
    /// Election timeout range, ms, as MIN..MAX.
    #[arg(long, value_parser = parse_range)]
    election_ms: Option<(u64, u64)>,
    /// Seed of the node's timeout generator (default: from the time and process id; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Injected one-way latency, ms: every inbound message is delayed this long (loopback
    /// standing in for a LAN or a WAN).
    #[arg(long)]
    latency_ms: Option<f64>,
    /// With `--latency-ms` as the median: the injected latency's 99th percentile, ms; each
    /// message's delay is then drawn from the log-normal through both (seeded by `--seed`).
    #[arg(long)]
    latency_p99_ms: Option<f64>,
    /// Injected loss: every inbound message is dropped with this probability (seeded by
    /// `--seed`).
    #[arg(long)]
    loss: Option<f64>,
    /// Serve the node's metrics as Prometheus text at http://ADDR/metrics (any path answers).
    #[arg(long)]
    metrics_addr: Option<SocketAddr>,
    /// A TOML file with the same settings (`id`, `listen`, `peers = { 2 = "addr" }`,
    /// `data_dir`, `cluster_id`, `heartbeat_ms`, `election_ms = [min, max]`, `latency_ms`,
    /// `latency_p99_ms`, `loss`, `metrics_addr`, and, with no flag, `leader_detector = { kind = "adaptive",
    /// deviations = 4 }` for the followers' detector, `election_timeout_floor_ms` for the
    /// shortest timeout it may draw, the same on every node, `local_pause_threshold_ms` for
    /// local health, and `shadow_detectors = [{ kind = "phi", threshold = 8 }]` for detectors
    /// that only report when they would have suspected the leader).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    id: Option<u64>,
    listen: Option<SocketAddr>,
    #[serde(default)]
    peers: BTreeMap<String, SocketAddr>,
    data_dir: Option<PathBuf>,
    cluster_id: Option<u64>,
    heartbeat_ms: Option<u64>,
    election_ms: Option<[u64; 2]>,
    latency_ms: Option<f64>,
    latency_p99_ms: Option<f64>,
    loss: Option<f64>,
    metrics_addr: Option<SocketAddr>,
    #[serde(default)]
    leader_detector: LeaderDetectorKind,
    election_timeout_floor_ms: Option<u64>,
    local_pause_threshold_ms: Option<u64>,
    #[serde(default)]
    shadow_detectors: Vec<LeaderDetectorKind>,
}

fn parse_peer(s: &str) -> Result<(u64, SocketAddr), String> {
    let (id, addr) =
        s.split_once('=').ok_or_else(|| format!("peer must be ID=ADDRESS, got {s:?}"))?;
    let id = id.trim().parse().map_err(|_| format!("peer id {id:?} is not a number"))?;
    let addr = addr.trim().parse().map_err(|e| format!("peer address {addr:?}: {e}"))?;
    Ok((id, addr))
}

/// Completes at ctrl-c (SIGINT) or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the node until ctrl-c or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("config {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let id = args.id.or(file.id).context("--id is required (or `id` in --config)")?;
    let listen =
        args.listen.or(file.listen).context("--listen is required (or `listen` in --config)")?;
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .context("--data-dir is required (or `data_dir` in --config)")?;
    let mut peers: BTreeMap<NodeId, SocketAddr> = BTreeMap::new();
    for (k, addr) in &file.peers {
        let pid: u64 =
            k.parse().with_context(|| format!("config peers: {k:?} is not a node id"))?;
        peers.insert(NodeId(pid), *addr);
    }
    for (pid, addr) in &args.peers {
        peers.insert(NodeId(*pid), *addr);
    }
    if peers.contains_key(&NodeId(id)) {
        bail!("--peer {id}=… names this node itself; list only the others");
    }
    let heartbeat = Duration::from_millis(args.heartbeat_ms.or(file.heartbeat_ms).unwrap_or(50));
    let (min, max) =
        args.election_ms.or(file.election_ms.map(|[a, b]| (a, b))).unwrap_or((150, 300));
    let seed = args.seed.unwrap_or_else(|| {
        let now =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        now ^ (u64::from(std::process::id()) << 32)
    });
    let members = peers.keys().copied().chain([NodeId(id)]);
    let config = Config::new(NodeId(id), members).with(|c| {
        c.heartbeat_interval = heartbeat;
        c.election_timeout_min = Duration::from_millis(min);
        c.election_timeout_max = Duration::from_millis(max);
        c.seed = seed;
        c.leader_detector = file.leader_detector;
        c.election_timeout_floor = file.election_timeout_floor_ms.map(Duration::from_millis);
        c.local_pause_threshold = file.local_pause_threshold_ms.map(Duration::from_millis);
        c.shadow_detectors = file.shadow_detectors;
    });
    config.validate().context("invalid node settings")?;
    let cluster_id = args.cluster_id.or(file.cluster_id).unwrap_or(1);
    let latency_ms = args.latency_ms.or(file.latency_ms).unwrap_or(0.0);
    if !(0.0..=60_000.0).contains(&latency_ms) {
        bail!("--latency-ms must be 0 to 60000 ms, got {latency_ms}");
    }
    let latency_p99_ms = args.latency_p99_ms.or(file.latency_p99_ms);
    if let Some(p99) = latency_p99_ms {
        if !(p99.is_finite() && p99 >= latency_ms && p99 <= 600_000.0 && latency_ms > 0.0) {
            bail!(
                "--latency-p99-ms must be at least --latency-ms ({latency_ms}, above 0) and at \
                 most 600000, got {p99}"
            );
        }
    }
    let loss = args.loss.or(file.loss).unwrap_or(0.0);
    if !(0.0..1.0).contains(&loss) {
        bail!("--loss must be a probability in [0, 1), got {loss}");
    }

    let metrics_addr = args.metrics_addr.or(file.metrics_addr);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        if let Some(addr) = metrics_addr {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .with_http_listener(addr)
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    &raft_heartbeat::runtime::buckets_seconds(),
                )
                .context("histogram buckets")?
                .install()
                .with_context(|| format!("cannot serve metrics on {addr}"))?;
            eprintln!("node {id}: metrics at http://{addr}/metrics");
        }
        let store = FileStore::open(&data_dir)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        // Said only once it is true.
        eprintln!(
            "node {id}: listening on {listen}, {} peers, cluster {cluster_id}, seed {seed}, \
             injected latency {latency_ms} ms, loss {loss}",
            peers.len()
        );
        let tcp = TcpTransport::start(
            listener,
            TcpConfig::new(cluster_id, NodeId(id), peers, heartbeat),
        )?;
        let (transport, faults) = FaultyTransport::new(tcp);
        let median = Duration::from_secs_f64(latency_ms / 1000.0);
        match latency_p99_ms {
            Some(p99) => faults.set_delay_distribution(median, Duration::from_secs_f64(p99 / 1e3)),
            None => faults.set_delay(median),
        }
        faults.set_loss(loss, seed ^ LOSS_STREAM);
        faults.set_precise_delays(true);
        let (driver, handle) =
            Driver::new(config, store, transport, LogPosition::default()).await?;
        let mut events = handle.events();
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                let line = EventLine { unix_us: unix_us(), node: id, event };
                if let Ok(line) = serde_json::to_string(&line) {
                    println!("{line}");
                }
            }
        });
        let mut lease = handle.lease.clone();
        tokio::spawn(async move {
            while lease.changed().await.is_ok() {
                let held = *lease.borrow_and_update();
                let lease = held.map(|l| LeaseSpan {
                    term: l.term,
                    since_unix_us: to_unix_us(l.since),
                    until_unix_us: to_unix_us(l.until),
                });
                let line = LeaseLine { node: id, lease, unix_us: unix_us() };
                if let Ok(line) = serde_json::to_string(&line) {
                    println!("{line}");
                }
            }
        });
        driver.run(shutdown_signal()).await?;
        eprintln!("node {id}: stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
