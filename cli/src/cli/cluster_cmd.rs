//! `raft-heartbeat cluster`: a live local cluster of `node` processes on 127.0.0.1. It kills the
//! leader with SIGKILL several times, restarting it after each failover, and pauses it with
//! SIGSTOP for longer than its lease (a GC pause, a frozen VM), interleaved; measures each
//! failover from the nodes' own event reports, next to the simulator's prediction; and checks,
//! on the host's one clock, that no two nodes ever held a valid lease at one instant, that no
//! term had two leaders and that no vote was lost across a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use raft_heartbeat::core::{Config, Event, NodeId, Role, Term};
use raft_heartbeat::sim::{
    self, ClusterSpec, CrashPoint, Lanes, Latency, NetworkSpec, RunOptions, Scenario, Step,
    Summary, Target,
};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::args::parse_range;
use super::event_line::{unix_us, EventLine, LeaseLine, NodeLine};
use super::live_checks::{LeaseCheck, Leases, Votes};
use super::output;

/// Options of `cluster`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of node processes.
    #[arg(long, default_value_t = 5)]
    nodes: u64,
    /// How many times to kill the leader (SIGKILL; restarted after the failover).
    #[arg(long, default_value_t = 3)]
    kill_leader: u32,
    /// How many times to pause the leader (SIGSTOP, then SIGCONT after `--pause-ms`), as a GC
    /// pause or a frozen VM would; interleaved with the kills, a kill first.
    #[arg(long, default_value_t = 0)]
    pause_leader: u32,
    /// How long each pause lasts, ms [default: twice the maximum election timeout, longer
    /// than any lease, so the others elect a new leader meanwhile].
    #[arg(long)]
    pause_ms: Option<u64>,
    /// Heartbeat interval, ms.
    #[arg(long, default_value_t = 50)]
    heartbeat_ms: u64,
    /// Election timeout range, ms, as MIN..MAX.
    #[arg(long, default_value = "150..300", value_parser = parse_range)]
    election_ms: (u64, u64),
    /// Injected one-way latency on every link, ms (each node's `--latency-ms`).
    #[arg(long, default_value_t = 0.0)]
    latency_ms: f64,
    /// With `--latency-ms` as the median: the injected latency's 99th percentile (each node's
    /// `--latency-p99-ms`: a log-normal draw per message).
    #[arg(long)]
    latency_p99_ms: Option<f64>,
    /// Injected loss on every link (each node's `--loss`).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Check an `advise --json` answer live: its nodes, heartbeat and timeouts, its profile's
    /// latency (as a distribution) and loss injected, its predicted failover printed beside
    /// the live one. Overrides those flags.
    #[arg(long)]
    advice: Option<PathBuf>,
    /// How long the cluster runs with an agreed leader before each kill or pause, and before
    /// it stops, ms: long enough for a scraper to see each leader (`--metrics-port-base`).
    #[arg(long, default_value_t = 500)]
    settle_ms: u64,
    /// Node `i` serves its Prometheus metrics on 127.0.0.1:(BASE + i) (each node's
    /// `--metrics-addr`), for a Prometheus server or a dashboard to watch the soak.
    #[arg(long)]
    metrics_port_base: Option<u16>,
    /// A `node` configuration file given to every node (`--config`; the flags `cluster` sets
    /// win): detectors, shadow detectors, local health.
    #[arg(long)]
    node_config: Option<PathBuf>,
    /// Write every node's events and every kill, one JSON line each, to this file.
    #[arg(long)]
    events_out: Option<PathBuf>,
    /// Print exactly one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The failover `advise` predicted, ms.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
struct Advised {
    p50: f64,
    p99: f64,
}

#[derive(Serialize, JsonSchema)]
struct Report {
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_p99_ms: Option<f64>,
    loss: f64,
    /// With `--advice`: what `advise` predicted for this setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    advised_ms: Option<Advised>,
    /// Leaders killed.
    kills: u32,
    /// Leaders paused, and for how long each, ms.
    pauses: u32,
    pause_ms: u64,
    /// Per kill: from SIGKILL until every live node follows a new leader, ms.
    #[serde(rename = "failovers_ms")]
    failovers: Vec<f64>,
    /// Per pause in which the others elected a new leader: from SIGSTOP until every other
    /// live node follows it, ms.
    #[serde(rename = "pause_failovers_ms")]
    pause_failovers: Vec<f64>,
    /// Lease stints reported (a node's lease from when it took it until it ran out or gave it
    /// up): the lease check is not vacuous when this is well above zero.
    leases: usize,
    /// Pairs of stints of two nodes valid at one instant on the host's clock (thesis §6.4.1):
    /// must be 0.
    lease_overlaps: usize,
    /// The shortest time from one node's lease running out to another's taking one, ms.
    lease_gap_min_ms: Option<f64>,
    /// Votes a node cast in a term in which it had already voted for another candidate (its
    /// own campaign included), across restarts: must be 0.
    votes_lost: usize,
    /// Per kill: the terms it took (more than one: a split vote or a failed candidacy).
    rounds: Vec<u64>,
    /// Per failover: the election timers that fired on the live nodes before every one
    /// followed the new leader (more than one: a pre-vote or a vote that did not win at once).
    election_timeouts: Vec<u32>,
    live_ms: Summary,
    rejoin_term_bumps: u32,
    predicted_ms: Summary,
    /// The simulator's share of failovers that took more than one term.
    predicted_more_than_one_round: f64,
    leaders_per_term_max: usize,
}

/// The JSON Schema of `cluster --json`.
pub fn schema() -> Schema {
    output::schema_of::<Report>(
        "raft-heartbeat cluster --json",
        "A live local cluster whose leader was killed and paused: each failover measured beside \
         the simulator's prediction, and the lease, term and vote checks on the host's clock.",
    )
}

/// The JSON Schema of a line of `cluster --events-out`.
pub fn events_schema() -> Schema {
    output::line_schema_of::<Record>(
        "a line of raft-heartbeat cluster --events-out",
        "One object per line: a node's event or lease as the node printed it, or the moment \
         cluster killed, paused or resumed a node (µs since the Unix epoch).",
    )
}

/// One failover as measured.
struct Failover {
    ms: f64,
    rounds: u64,
    election_timeouts: u32,
}

/// One line of `--events-out`: a node's event or lease, or the moment `cluster` killed,
/// paused or resumed a node.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
enum Record {
    Event(EventLine),
    Lease(LeaseLine),
    Kill { unix_us: u64, killed: u64 },
    Pause { unix_us: u64, paused: u64, for_ms: u64 },
    Resume { unix_us: u64, resumed: u64 },
}

/// What `cluster` does to the leader in one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Kill,
    Pause,
}

/// `kills` kills and `pauses` pauses, alternating while both last, a kill first.
fn plan(kills: u32, pauses: u32) -> Vec<Fault> {
    let mut out = Vec::new();
    let (mut k, mut p) = (kills, pauses);
    while k + p > 0 {
        if k > 0 {
            out.push(Fault::Kill);
            k -= 1;
        }
        if p > 0 {
            out.push(Fault::Pause);
            p -= 1;
        }
    }
    out
}

/// The node processes; every one still running is killed when this is dropped, also on error.
struct Processes {
    children: BTreeMap<u64, Child>,
    dir: PathBuf,
}

/// Empties the shared [`Processes`] (killing them) when dropped.
struct Cleanup(Arc<Mutex<Processes>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        drop(std::mem::replace(&mut *lock(&self.0), Processes::empty()));
    }
}

impl Processes {
    fn empty() -> Self {
        Processes { children: BTreeMap::new(), dir: PathBuf::new() }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in self.children.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What the nodes have reported so far.
#[derive(Default)]
struct View {
    leader: BTreeMap<u64, (Option<NodeId>, Term, u64)>,
    term: BTreeMap<u64, Term>,
    leaders_by_term: BTreeMap<Term, BTreeSet<u64>>,
    election_timeouts: u32,
    records: Vec<Record>,
    leases: Leases,
    votes: Votes,
}

impl View {
    fn apply(&mut self, line: &NodeLine) {
        match line {
            NodeLine::Event(event) => self.event(event),
            NodeLine::Lease(lease) => {
                self.records.push(Record::Lease(*lease));
                self.leases.report(lease);
            }
        }
    }

    fn event(&mut self, line: &EventLine) {
        self.records.push(Record::Event(*line));
        match line.event {
            Event::LeaderChanged { term, leader } => {
                self.leader.insert(line.node, (leader, term, line.unix_us));
            }
            Event::TermChanged { to, .. } => {
                self.term.insert(line.node, to);
            }
            Event::ElectionTimeout { .. } => self.election_timeouts += 1,
            Event::RoleChanged { term, to: Role::Leader, .. } => {
                self.leaders_by_term.entry(term).or_default().insert(line.node);
            }
            Event::RoleChanged { term, to: Role::Candidate, .. } => {
                self.votes.cast(line.node, term, NodeId(line.node));
            }
            Event::VoteGranted { term, candidate } => self.votes.cast(line.node, term, candidate),
            _ => {}
        }
    }

    /// The leader every node in `live` follows, with its term, if they agree.
    fn agreed(&self, live: &BTreeSet<u64>) -> Option<(NodeId, Term)> {
        let mut seen =
            live.iter().map(|n| self.leader.get(n).and_then(|(l, t, _)| l.map(|l| (l, *t))));
        let first = seen.next()??;
        seen.all(|x| x == Some(first)).then_some(first)
    }
}

fn lock(procs: &Mutex<Processes>) -> std::sync::MutexGuard<'_, Processes> {
    procs.lock().unwrap_or_else(|e| e.into_inner())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(
    exe: &Path,
    dir: &Path,
    id: u64,
    ports: &BTreeMap<u64, u16>,
    args: &Args,
    tx: &mpsc::Sender<NodeLine>,
) -> anyhow::Result<Child> {
    let mut cmd = Command::new(exe);
    cmd.arg("node").arg("--id").arg(id.to_string());
    cmd.arg("--listen").arg(format!("127.0.0.1:{}", ports[&id]));
    for (peer, port) in ports.iter().filter(|(p, _)| **p != id) {
        cmd.arg("--peer").arg(format!("{peer}=127.0.0.1:{port}"));
    }
    cmd.arg("--data-dir").arg(dir.join(format!("n{id}")));
    cmd.arg("--heartbeat-ms")
        .arg(args.heartbeat_ms.to_string())
        .arg("--election-ms")
        .arg(format!("{}..{}", args.election_ms.0, args.election_ms.1))
        .arg("--latency-ms")
        .arg(args.latency_ms.to_string())
        .arg("--loss")
        .arg(args.loss.to_string());
    if let Some(p99) = args.latency_p99_ms {
        cmd.arg("--latency-p99-ms").arg(p99.to_string());
    }
    if let Some(base) = args.metrics_port_base {
        cmd.arg("--metrics-addr").arg(format!("127.0.0.1:{}", u64::from(base) + id));
    }
    if let Some(path) = &args.node_config {
        cmd.arg("--config").arg(path);
    }
    let log = std::fs::File::create(dir.join(format!("n{id}.log")))?;
    cmd.stdout(Stdio::piped()).stderr(log).stdin(Stdio::null());
    let mut child = cmd.spawn().with_context(|| format!("cannot start node {id}"))?;
    let stdout = child.stdout.take().context("node stdout")?;
    let tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(parsed) = serde_json::from_str::<NodeLine>(&line) else { continue };
            if tx.send(parsed).is_err() {
                return;
            }
        }
    });
    Ok(child)
}

/// Applies reports until `done` holds or `limit` passes.
fn wait_until(
    rx: &mpsc::Receiver<NodeLine>,
    view: &mut View,
    limit: Duration,
    done: impl Fn(&View) -> bool,
) -> bool {
    let end = Instant::now() + limit;
    while !done(view) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if let Ok(line) = rx.recv_timeout(left.min(Duration::from_millis(50))) {
            view.apply(&line);
        }
    }
    true
}

/// Takes the setting, the network and the prediction from an `advise --json` answer.
fn apply_advice(args: &mut Args, path: &Path) -> anyhow::Result<Advised> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let a: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not advise's JSON", path.display()))?;
    let number = |pointer: &str| {
        a.pointer(pointer).and_then(serde_json::Value::as_f64).with_context(|| {
            format!("{}: no number at {pointer} (is it `advise --json`?)", path.display())
        })
    };
    args.nodes = number("/profile/nodes")? as u64;
    args.heartbeat_ms = number("/recommended/heartbeat_ms")? as u64;
    args.election_ms = (
        number("/recommended/election_timeout_ms/0")? as u64,
        number("/recommended/election_timeout_ms/1")? as u64,
    );
    let (median, sigma) = (number("/latency/median_ms")?, number("/latency/sigma")?);
    args.latency_ms = median;
    args.latency_p99_ms = (sigma > 0.0).then(|| median * (2.326_347_874 * sigma).exp());
    args.loss = number("/profile/loss")?;
    Ok(Advised {
        p50: number("/predicted/failover_ms/p50")?,
        p99: number("/predicted/failover_ms/p99")?,
    })
}

/// Runs the live cluster.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let advised = match args.advice.clone() {
        Some(path) => Some(apply_advice(&mut args, &path)?),
        None => None,
    };
    if !(3..=9).contains(&args.nodes) {
        bail!("--nodes must be 3 to 9 (one machine, a majority must survive a kill)");
    }
    if !(0.0..=10_000.0).contains(&args.latency_ms) {
        bail!("--latency-ms must be 0 to 10000 ms, got {}", args.latency_ms);
    }
    if !(0.0..1.0).contains(&args.loss) {
        bail!("--loss must be a probability in [0, 1), got {}", args.loss);
    }
    if let Some(p99) = args.latency_p99_ms {
        if !(args.latency_ms > 0.0 && p99 >= args.latency_ms && p99 <= 600_000.0) {
            bail!(
                "--latency-p99-ms must be at least --latency-ms ({}, above 0), got {p99}",
                args.latency_ms
            );
        }
    }
    if args.kill_leader == 0 && args.pause_leader == 0 {
        bail!("nothing to measure: give --kill-leader or --pause-leader a count above 0");
    }
    // The nodes' own check, before any is started: a bad setting fails here, not as "no
    // leader" ten seconds later.
    let (min, max) = args.election_ms;
    Config::new(NodeId(1), (1..=args.nodes).map(NodeId))
        .with(|c| {
            c.heartbeat_interval = Duration::from_millis(args.heartbeat_ms);
            c.election_timeout_min = Duration::from_millis(min);
            c.election_timeout_max = Duration::from_millis(max);
        })
        .validate()
        .context("invalid cluster settings")?;
    if !(1..=600_000).contains(&args.settle_ms) {
        bail!("--settle-ms must be 1 to 600000 ms, got {}", args.settle_ms);
    }
    if let Some(base) = args.metrics_port_base {
        if u64::from(base) + args.nodes > u64::from(u16::MAX) {
            bail!("--metrics-port-base {base} leaves no port for node {}", args.nodes);
        }
    }
    if let Some(path) = &args.node_config {
        if !path.is_file() {
            bail!("--node-config {}: no such file", path.display());
        }
    }
    let pause_ms = args.pause_ms.unwrap_or(2 * args.election_ms.1);
    if !(1..=600_000).contains(&pause_ms) {
        bail!("--pause-ms must be 1 to 600000 ms, got {pause_ms}");
    }
    if args.pause_leader > 0 && !cfg!(unix) {
        bail!("--pause-leader needs SIGSTOP and SIGCONT, which only Unix has");
    }
    let mut view = View::default();
    let measured = measure(&args, pause_ms, &mut view);
    if let Some(path) = &args.events_out {
        write_records(path, &view.records)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("cluster: {} events in {}", view.records.len(), path.display());
    }
    let Measured { failovers, pause_failovers, bumps, kills, pauses } = measured?;
    let leaders_per_term_max = view.leaders_by_term.values().map(BTreeSet::len).max().unwrap_or(0);
    let leases: LeaseCheck = view.leases.check();
    for (a, b) in leases.overlaps.iter().take(5) {
        eprintln!(
            "cluster: LEASE OVERLAP: n{} held a lease of {} until {} µs, n{} took one of {} at {} µs",
            a.node, a.term, a.until_us, b.node, b.term, b.since_us
        );
    }
    for lost in view.votes.lost.iter().take(5) {
        eprintln!("cluster: VOTE LOST: {lost}");
    }
    let (predicted, predicted_rounds) = predict(&args, min, max)?;
    let report = Report {
        latency_ms: args.latency_ms,
        latency_p99_ms: args.latency_p99_ms,
        loss: args.loss,
        advised_ms: advised,
        live_ms: Summary::of(&failovers.iter().map(|f| f.ms).collect::<Vec<_>>()),
        kills,
        pauses,
        pause_ms,
        failovers: failovers.iter().map(|f| f.ms).collect(),
        pause_failovers,
        leases: leases.stints,
        lease_overlaps: leases.overlaps.len(),
        lease_gap_min_ms: leases.gap_min_us.map(|us| us as f64 / 1000.0),
        votes_lost: view.votes.lost.len(),
        rounds: failovers.iter().map(|f| f.rounds).collect(),
        election_timeouts: failovers.iter().map(|f| f.election_timeouts).collect(),
        rejoin_term_bumps: bumps,
        predicted_ms: predicted,
        predicted_more_than_one_round: predicted_rounds,
        leaders_per_term_max,
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        println!("failovers (ms): {:?}", report.failovers);
        println!(
            "live p50 {:.0} / p90 {:.0} / p99 {:.0} ms over {} kills; \
             simulator predicts p50 {:.0} / p90 {:.0} / p99 {:.0} ms",
            report.live_ms.p50,
            report.live_ms.p90,
            report.live_ms.p99,
            report.failovers.len(),
            report.predicted_ms.p50,
            report.predicted_ms.p90,
            report.predicted_ms.p99
        );
        if let Some(a) = &report.advised_ms {
            println!(
                "advise predicted p50 {:.0} / p99 {:.0} ms: live p50 {:+.1}%, p99 {:+.1}%",
                a.p50,
                a.p99,
                100.0 * (report.live_ms.p50 / a.p50 - 1.0),
                100.0 * (report.live_ms.p99 / a.p99 - 1.0)
            );
        }
        println!(
            "failovers that took more than one term: {} (simulator: {:.1}%); \
             more than one election timeout: {}",
            report.rounds.iter().filter(|r| **r > 1).count(),
            100.0 * report.predicted_more_than_one_round,
            report.election_timeouts.iter().filter(|t| **t > 1).count()
        );
        println!(
            "rejoins that raised the term: {}; most leaders in one term: {}",
            report.rejoin_term_bumps, report.leaders_per_term_max
        );
        if report.pauses > 0 {
            println!(
                "pauses of {} ms: {}, a new leader during {} of them (p50 {:.0} ms)",
                report.pause_ms,
                report.pauses,
                report.pause_failovers.len(),
                Summary::of(&report.pause_failovers).p50
            );
        }
        println!(
            "leases: {} stints, {} overlapping, shortest handover gap {}; votes lost: {}",
            report.leases,
            report.lease_overlaps,
            report.lease_gap_min_ms.map_or("-".to_string(), |g| format!("{g:.1} ms")),
            report.votes_lost
        );
    }
    let safe =
        report.leaders_per_term_max <= 1 && report.lease_overlaps == 0 && report.votes_lost == 0;
    Ok(if safe { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn write_records(path: &Path, records: &[Record]) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for r in records {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// What [`measure`] saw.
struct Measured {
    failovers: Vec<Failover>,
    pause_failovers: Vec<f64>,
    /// Rejoins that raised the term.
    bumps: u32,
    kills: u32,
    pauses: u32,
}

/// Sends `signal` to a node process.
#[cfg(unix)]
fn signal(child: &Child, signal: rustix::process::Signal) -> anyhow::Result<()> {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, signal)
        .with_context(|| format!("cannot signal node process {}", child.id()))
}

/// Stops (`stop`) or continues a node process.
fn stop_or_continue(child: &Child, stop: bool) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use rustix::process::Signal;
        signal(child, if stop { Signal::STOP } else { Signal::CONT })
    }
    #[cfg(not(unix))]
    {
        let _ = (child, stop);
        bail!("pausing a process needs Unix")
    }
}

/// Every live node's report of the leader's moment, the latest of them (when the last one
/// followed), or `from` if none.
fn followed_at(view: &View, live: &BTreeSet<u64>, from: u64) -> u64 {
    live.iter().filter_map(|n| view.leader.get(n).map(|x| x.2)).max().unwrap_or(from)
}

/// Starts the nodes, then kills the leader `--kill-leader` times and pauses it
/// `--pause-leader` times for `pause_ms`, interleaved.
fn measure(args: &Args, pause_ms: u64, view: &mut View) -> anyhow::Result<Measured> {
    let dir = std::env::temp_dir().join(format!("raft-heartbeat-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let procs = Arc::new(Mutex::new(Processes { children: BTreeMap::new(), dir: dir.clone() }));
    // On any return, error included, every node started is killed and the data removed.
    let cleanup = Cleanup(procs.clone());
    // Ctrl-c (or SIGTERM) does the same, then exits.
    let on_signal = procs.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(super::node_cmd::shutdown_signal());
        drop(std::mem::replace(
            &mut *on_signal.lock().unwrap_or_else(|e| e.into_inner()),
            Processes::empty(),
        ));
        eprintln!("cluster: interrupted; every node stopped");
        std::process::exit(130);
    });
    let measured = rounds(args, pause_ms, view, &procs, &dir);
    if measured.is_err() {
        // The nodes' logs say why: the processes are killed, their logs kept.
        lock(&procs).dir = PathBuf::new();
        eprintln!("cluster: the nodes' logs are kept in {}", dir.display());
    }
    drop(cleanup);
    measured
}

/// Starts the nodes in `dir` and runs the rounds of kills and pauses.
fn rounds(
    args: &Args,
    pause_ms: u64,
    view: &mut View,
    procs: &Arc<Mutex<Processes>>,
    dir: &Path,
) -> anyhow::Result<Measured> {
    let exe = std::env::current_exe()?;
    let ports: BTreeMap<u64, u16> =
        (1..=args.nodes).map(|id| Ok((id, free_port()?))).collect::<anyhow::Result<_>>()?;
    let (tx, rx) = mpsc::channel();
    for id in 1..=args.nodes {
        let child = spawn(&exe, dir, id, &ports, args, &tx)?;
        lock(procs).children.insert(id, child);
    }
    eprintln!(
        "cluster: {} nodes on 127.0.0.1 ports {:?}, data in {}",
        args.nodes,
        ports.values().collect::<Vec<_>>(),
        dir.display()
    );
    let mut live: BTreeSet<u64> = (1..=args.nodes).collect();
    let mut m = Measured {
        failovers: Vec::new(),
        pause_failovers: Vec::new(),
        bumps: 0,
        kills: 0,
        pauses: 0,
    };
    let faults = plan(args.kill_leader, args.pause_leader);
    let total = faults.len();
    for (round, fault) in faults.into_iter().enumerate() {
        let round = round + 1;
        let l = live.clone();
        if !wait_until(&rx, view, Duration::from_secs(10), |v| v.agreed(&l).is_some()) {
            bail!("no leader agreed on by every node within 10 s (logs in {})", dir.display());
        }
        std::thread::sleep(Duration::from_millis(args.settle_ms));
        while let Ok(line) = rx.try_recv() {
            view.apply(&line);
        }
        let (leader, term) = view.agreed(&live).context("the leader changed while settling")?;
        let timeouts_before = view.election_timeouts;
        let struck_at = unix_us();
        if fault == Fault::Pause {
            let others: BTreeSet<u64> = live.iter().copied().filter(|&n| n != leader.0).collect();
            let child_stopped = {
                let guard = lock(procs);
                let child = guard.children.get(&leader.0).context("the leader's process")?;
                stop_or_continue(child, true)?;
                child.id()
            };
            let record = Record::Pause { unix_us: struck_at, paused: leader.0, for_ms: pause_ms };
            view.records.push(record);
            let resume_at = Instant::now() + Duration::from_millis(pause_ms);
            let o = others.clone();
            let moved_on =
                move |v: &View| v.agreed(&o).is_some_and(|(n, t)| n != leader && t > term);
            let moved = wait_until(&rx, view, Duration::from_millis(pause_ms), &moved_on);
            if moved {
                let ms =
                    followed_at(view, &others, struck_at).saturating_sub(struck_at) as f64 / 1e3;
                m.pause_failovers.push(ms);
            }
            let rest = resume_at.saturating_duration_since(Instant::now());
            wait_until(&rx, view, rest, |_| false);
            {
                let guard = lock(procs);
                let child = guard.children.get(&leader.0).context("the leader's process")?;
                stop_or_continue(child, false)?;
            }
            let record = Record::Resume { unix_us: unix_us(), resumed: leader.0 };
            view.records.push(record);
            m.pauses += 1;
            let l = live.clone();
            if !wait_until(&rx, view, Duration::from_secs(10), |v| v.agreed(&l).is_some()) {
                bail!(
                    "no leader agreed on by every node within 10 s of resuming {leader} (pid \
                     {child_stopped}; logs in {})",
                    dir.display()
                );
            }
            let (now_leading, now_term) = view.agreed(&live).expect("just agreed");
            eprintln!(
                "round {round}/{total}: {leader} paused {pause_ms} ms; {now_leading} leads \
                 {now_term}{}",
                if moved { " (elected during the pause)" } else { "" }
            );
            continue;
        }
        view.records.push(Record::Kill { unix_us: struck_at, killed: leader.0 });
        let killed = lock(procs).children.remove(&leader.0);
        if let Some(mut child) = killed {
            child.kill()?;
            child.wait()?;
        }
        // Its lease is not cut short: nobody else can tell a killed leader from a paused one,
        // so no other node may take a lease before this one's would have run out.
        m.kills += 1;
        live.remove(&leader.0);
        let l = live.clone();
        let moved_on = move |v: &View| v.agreed(&l).is_some_and(|(n, t)| n != leader && t > term);
        if !wait_until(&rx, view, Duration::from_secs(10), moved_on) {
            bail!("no new leader within 10 s of killing {leader} (logs in {})", dir.display());
        }
        let ms = followed_at(view, &live, struck_at).saturating_sub(struck_at) as f64 / 1e3;
        let (new_leader, new_term) = view.agreed(&live).expect("just agreed");
        eprintln!(
            "round {round}/{total}: {leader} killed, {new_leader} leads {new_term} after {ms:.0} ms"
        );
        m.failovers.push(Failover {
            ms,
            rounds: new_term.0 - term.0,
            election_timeouts: view.election_timeouts - timeouts_before,
        });
        let child = spawn(&exe, dir, leader.0, &ports, args, &tx)?;
        lock(procs).children.insert(leader.0, child);
        live.insert(leader.0);
        let l = live.clone();
        let rejoined = wait_until(&rx, view, Duration::from_secs(5), |v| v.agreed(&l).is_some());
        let max_term = view.term.values().copied().max().unwrap_or(new_term);
        if !rejoined || max_term > new_term {
            m.bumps += 1;
        }
    }
    let l = live.clone();
    if wait_until(&rx, view, Duration::from_secs(10), |v| v.agreed(&l).is_some()) {
        wait_until(&rx, view, Duration::from_millis(args.settle_ms), |_| false);
    }
    drop(std::mem::replace(&mut *lock(procs), Processes::empty()));
    while let Ok(line) = rx.try_recv() {
        view.apply(&line);
    }
    Ok(m)
}

/// The simulator's failover distribution for the same settings on loopback with an SSD.
///
/// Loopback carries a message in about 0.1 ms, and an injected delay ends on a blocking
/// thread's sleep (`Faults::set_precise_delays`), which overshoots by some tens of
/// microseconds: `latency_ms` plus 0.1 to 0.25 ms. The node's own timers are tokio's, late by
/// up to 1 ms. Loss is the injected one.
/// Returns the failover distribution and the share of failovers that took more than one term.
fn predict(args: &Args, min: u64, max: u64) -> anyhow::Result<(Summary, f64)> {
    // The runtime's nodes use the core's defaults, which are the scenario format's.
    let cluster = ClusterSpec {
        heartbeat_ms: args.heartbeat_ms as f64,
        election_timeout_ms: [min as f64, max as f64],
        ..ClusterSpec::new(args.nodes)
    };
    let latency = if let Some(p99) = args.latency_p99_ms.filter(|_| args.latency_ms > 0.0) {
        // The drawn delay, plus loopback and the sleep's overshoot.
        let sigma = (p99 / args.latency_ms).ln() / 2.326_347_874;
        Latency::LogNormal { median_ms: args.latency_ms + 0.15, sigma }
    } else if args.latency_ms > 0.0 {
        Latency::Uniform { min_ms: args.latency_ms + 0.1, max_ms: args.latency_ms + 0.25 }
    } else {
        Latency::Normal { mean_ms: 0.1, std_ms: 0.03 }
    };
    let scenario = Scenario {
        trials: 1000,
        stop_after_recovery: true,
        network: NetworkSpec {
            latency,
            loss: args.loss,
            disk: Latency::Normal { mean_ms: 1.0, std_ms: 0.3 },
            lane: Lanes::Dedicated,
            timer_jitter: Latency::Uniform { min_ms: 0.0, max_ms: 1.0 },
            ..NetworkSpec::default()
        },
        timeline: vec![Step {
            at_ms: 2000.0,
            action: sim::Action::Crash {
                node: Target::Role(sim::RoleTarget::Leader),
                at: CrashPoint::WithinHeartbeat,
                window_ms: None,
                restart_after_ms: None,
            },
        }],
        ..Scenario::new("cluster-prediction", cluster, 60_000.0)
    };
    let opts = RunOptions { seed: 1, keep_trial_results: true, ..RunOptions::default() };
    let report = sim::run(&scenario, &opts, &|_| {})?;
    let recovered: Vec<u64> = report
        .trial_results
        .iter()
        .filter(|r| r.time_without_leader_ms.is_some())
        .map(|r| r.election_rounds)
        .collect();
    let more = recovered.iter().filter(|r| **r > 1).count() as f64 / recovered.len().max(1) as f64;
    Ok((report.time_without_leader_ms, more))
}
