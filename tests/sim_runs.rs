//! The simulator as a whole: determinism, parallel and sharded runs, every shipped scenario,
//! and the behaviours the scenarios exist to show.

use std::path::Path;

use raft_heartbeat::core::LeaderDetectorKind;
use raft_heartbeat::sim::{
    merge, run, shrink, Action, Invariant, Lanes, Report, RoleTarget, RunOptions, Scenario, Shard,
    Step, Target,
};

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulations").join(name);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn go(scenario: &Scenario, seed: u64, trials: u64, jobs: usize) -> Report {
    let opts = RunOptions { seed, trials: Some(trials), jobs, ..RunOptions::default() };
    run(scenario, &opts, &|_| {}).unwrap()
}

/// The report without the one figure that may differ between identical runs.
fn comparable(mut r: Report) -> Report {
    r.wall_ms = 0.0;
    r
}

#[test]
fn the_same_seed_gives_the_same_trace_and_another_seed_another() {
    let s = load("swarm.toml");
    let a = go(&s, 11, 6, 1);
    let b = go(&s, 11, 6, 1);
    assert_eq!(comparable(a.clone()), comparable(b));
    let c = go(&s, 12, 6, 1);
    assert_ne!(a.trace_hash, c.trace_hash);
}

#[test]
fn two_jobs_give_exactly_the_report_of_one() {
    let s = load("flaky-link.toml");
    assert_eq!(comparable(go(&s, 5, 8, 1)), comparable(go(&s, 5, 8, 2)));
}

#[test]
fn merged_shards_give_exactly_the_report_of_the_whole_run() {
    let s = load("leader-crash.toml");
    let whole = go(&s, 3, 9, 1);
    let shards: Vec<Report> = (0..3)
        .map(|index| {
            let opts = RunOptions {
                seed: 3,
                trials: Some(9),
                shard: Some(Shard { index, count: 3 }),
                ..RunOptions::default()
            };
            run(&s, &opts, &|_| {}).unwrap()
        })
        .collect();
    assert_eq!(shards.iter().map(|r| r.trials).sum::<u64>(), 9);
    assert_eq!(comparable(merge(&shards).unwrap()), comparable(whole));
    assert!(
        merge(&[shards[0].clone(), shards[0].clone()]).is_err(),
        "a shard merged twice is refused"
    );
}

#[test]
fn every_shipped_scenario_runs_clean_at_a_small_trial_count() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulations");
    // Scenario files only: `simulations/profiles/` holds `advise` profiles.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let name = name.to_string_lossy().into_owned();
        let s = load(&name);
        let r = go(&s, 1, 4, 2);
        assert!(r.violations.is_empty(), "{name}: {:#?}", r.violations);
        assert_eq!(r.trials, 4, "{name}");
        assert!(r.events > 0 && r.messages > 0, "{name}");
    }
}

#[test]
fn a_crashed_leader_is_detected_no_sooner_than_half_the_minimum_timeout_and_replaced() {
    // The crash falls within a heartbeat interval (50 ms) after the last round, and followers
    // wait at least 150 ms after it: detection takes at least 100 ms, and at most 300 ms.
    let r = go(&load("leader-crash.toml"), 2, 40, 2);
    assert_eq!(r.time_without_leader_ms.count, 40);
    assert!(r.detection_ms.max <= 301.0 && r.detection_ms.p50 >= 100.0, "{:?}", r.detection_ms);
    assert!(r.time_without_leader_ms.p50 >= r.detection_ms.p50);
}

#[test]
fn pre_vote_stops_a_rejoining_node_from_deposing_the_leader() {
    let with = go(&load("rejoin-after-partition.toml"), 1, 20, 2);
    let without = go(&load("rejoin-after-partition-no-prevote.toml"), 1, 20, 2);
    assert_eq!(with.spurious_leader_changes.total, 0);
    assert!(without.spurious_leader_changes.total >= 10, "{:?}", without.spurious_leader_changes);
}

#[test]
fn a_dedicated_heartbeat_lane_removes_head_of_line_suspicions() {
    let shared = load("head-of-line.toml");
    let mut dedicated = shared.clone();
    dedicated.network.lane = Lanes::Dedicated;
    let a = go(&shared, 1, 5, 2);
    let b = go(&dedicated, 1, 5, 2);
    assert!(a.spurious_leader_changes.total > 0, "shared lane: {:?}", a.spurious_leader_changes);
    assert_eq!(b.spurious_leader_changes.total + b.false_suspicions.total, 0);
}

#[test]
fn an_unsafe_drift_bound_is_caught_by_the_lease_check_and_replays_exactly() {
    // The leader's clock runs at 0.7 and everyone else's at 1.3, while the lease assumes clocks
    // within 1% of each other: cut off, the leader keeps believing in its lease after the
    // others, whose clocks run fast, have elected a new leader with a lease of its own.
    let mut s = load("clock-drift.toml");
    s.cluster.max_clock_drift = 0.01;
    for n in &mut s.nodes {
        n.clock_rate = Some(1.3);
    }
    s.timeline.retain(|step| step.at_ms < 3000.0);
    s.timeline.insert(
        0,
        Step {
            at_ms: 900.0,
            action: Action::ClockRate { node: Target::Role(RoleTarget::Leader), rate: 0.7 },
        },
    );
    let r = go(&s, 1, 50, 1);
    let v = r.violations.first().expect("the lease check fires");
    assert_eq!(v.invariant, Invariant::LeaseSafety);
    assert!(!v.last_events.is_empty());
    assert_eq!(v.seed, 1);
    let again = run(
        &s,
        &RunOptions { seed: 1, only_trial: Some(v.trial), ..RunOptions::default() },
        &|_| {},
    )
    .unwrap();
    assert_eq!(again.violations[0].detail, v.detail, "the replay reproduces it");
    assert_eq!(again.violations[0].at_ms, v.at_ms);
}

/// The unsafe drift bound above, with faults that have nothing to do with the violation.
fn unsafe_drift_with_noise() -> Scenario {
    let mut s = load("clock-drift.toml");
    s.cluster.max_clock_drift = 0.01;
    for n in &mut s.nodes {
        n.clock_rate = Some(1.3);
    }
    s.timeline.retain(|step| step.at_ms < 3000.0);
    let step = |at_ms: f64, action: Action| Step { at_ms, action };
    s.timeline.extend([
        step(900.0, Action::ClockRate { node: Target::Role(RoleTarget::Leader), rate: 0.7 }),
        step(100.0, Action::Pause { node: Target::Id(3), for_ms: 2.0 }),
        step(200.0, Action::SetLoss { loss: 0.0 }),
        step(300.0, Action::Redeliver { count: 2 }),
        step(2900.0, Action::Pause { node: Target::Id(4), for_ms: 5.0 }),
    ]);
    s.timeline.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    s
}

#[test]
fn shrinking_keeps_the_violation_with_fewer_faults_nodes_and_time() {
    let s = unsafe_drift_with_noise();
    let r = go(&s, 1, 50, 2);
    let v = r.violations.first().expect("the lease check fires");
    assert_eq!(v.invariant, Invariant::LeaseSafety);
    let trial = Scenario::parse(&v.trial_scenario).unwrap();
    let shrunk = shrink(&trial, 1, v.trial, v.invariant, 2000);
    assert_eq!(shrunk.steps_before, s.timeline.len());
    assert!(shrunk.steps_after < shrunk.steps_before, "{shrunk:?}");
    assert!(shrunk.scenario.cluster.nodes < s.cluster.nodes, "{shrunk:?}");
    assert!(shrunk.scenario.duration_ms <= v.at_ms + 1.0, "{shrunk:?}");
    // The shrunk scenario, written and read back, still breaks the same invariant.
    let text = shrunk.scenario.to_toml().unwrap();
    let again = run(
        &Scenario::parse(&text).unwrap(),
        &RunOptions { seed: 1, only_trial: Some(v.trial), ..RunOptions::default() },
        &|_| {},
    )
    .unwrap();
    assert_eq!(again.violations[0].invariant, Invariant::LeaseSafety, "{text}");
}

/// Node 2 (too short a log to lead) is paused for 600 ms and, inside that, for 50 ms; the
/// leader crashes right after the short pause ends. The short pause must not end the long one
/// in the engine's books: the node's timer and inbox stay frozen until 1600 ms, and the
/// detection bound must wait for that too.
const NESTED_PAUSES: &str = r#"
name = "nested-pauses"
duration_ms = 4000
[cluster]
nodes = 3
[[nodes]]
id = 2
log_index = 50
[[timeline]]
at_ms = 1000
action = "pause"
node = 2
for_ms = 600
[[timeline]]
at_ms = 1050
action = "pause"
node = 2
for_ms = 50
[[timeline]]
at_ms = 1100.2
action = "crash"
node = "leader"
"#;

#[test]
fn a_pause_nested_in_a_longer_one_does_not_end_it_or_fire_the_detection_bound() {
    let s = Scenario::parse(NESTED_PAUSES).unwrap();
    let r = go(&s, 1, 40, 2);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert_eq!(r.time_without_leader_ms.count, 40, "every trial recovered");
}

/// Five nodes without stickiness or pre-vote, 15 ms mean latency, the first leader crashed
/// right after its first round. In trial 22 of seed 1, node 5 accepts node 3's first heartbeat
/// of term 2 at 328.1 ms and only then node 3's own delayed vote request, which it grants at
/// 339.1 ms: granting a vote resets the timer (Raft Figure 2), so node 5 may time out up to
/// 160 ms after 339.1 ms, not after the heartbeat. A checker that counts only heartbeats as
/// resets reported a false detection-bound violation here.
const VOTE_AFTER_HEARTBEAT: &str = r#"
name = "votes-after-heartbeats"
duration_ms = 5000
stop_after_recovery = true
[cluster]
nodes = 5
pre_vote = false
leader_stickiness = false
leader_lease = false
election_timeout_ms = [150, 160]
timer_rule = "reset-on-step-down"
[network]
latency = { dist = "exponential", min_ms = 0.5, mean_ms = 15 }
[[timeline]]
at_ms = 0
action = "crash"
node = "leader"
at = "within-heartbeat"
"#;

#[test]
fn a_vote_granted_after_the_last_heartbeat_moves_the_detection_bound_raft_figure_2() {
    let s = Scenario::parse(VOTE_AFTER_HEARTBEAT).unwrap();
    let trace = std::env::temp_dir().join(format!("vote-after-hb-{}.jsonl", std::process::id()));
    let opts = RunOptions {
        seed: 1,
        only_trial: Some(22),
        trace: Some(trace.clone()),
        ..RunOptions::default()
    };
    let r = run(&s, &opts, &|_| {}).unwrap();
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    let text = std::fs::read_to_string(&trace).unwrap();
    std::fs::remove_file(&trace).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle));
    let heartbeat =
        line_of(r#""t_ns":328134186,"kind":"deliver","from":3,"to":5,"message":"heartbeat""#);
    let grant = line_of(r#""node":5,"event":{"kind":"vote-granted","term":2,"candidate":3}"#);
    assert!(heartbeat.is_some() && heartbeat < grant, "the history is the one described");
    let many = go(&s, 1, 300, 2);
    assert!(many.violations.is_empty(), "{:#?}", many.violations);
}

#[test]
fn a_scenario_built_in_code_is_validated_by_run_and_run_trial_not_trusted() {
    let mut s = load("leader-crash.toml");
    s.cluster.heartbeat_ms = 0.0;
    let opts = RunOptions { trials: Some(2), ..RunOptions::default() };
    let err = run(&s, &opts, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("heartbeat"), "{err}");
    let err = raft_heartbeat::sim::run_trial(&s, &opts, 0, None).unwrap_err();
    assert!(err.to_string().contains("heartbeat"), "{err}");

    let s = load("leader-crash.toml");
    let bad = RunOptions { shard: Some(Shard { index: 0, count: 0 }), ..opts.clone() };
    let err = run(&s, &bad, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("0/0"), "{err}");
    let none = RunOptions { jobs: 0, ..opts.clone() };
    assert!(run(&s, &none, &|_| {}).is_err());

    let mut s = load("leader-crash.toml");
    s.timeline[0].action = Action::Pause { node: Target::Id(9), for_ms: 5.0 };
    let err = run(&s, &opts, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("timeline[0]"), "{err}");
}

const VOTE_WRITES: &str = r#"
name = "vote-writes"
duration_ms = 1000
[cluster]
nodes = 3
pre_vote = false
check_quorum = false
leader_stickiness = false
leader_lease = false
max_clock_drift = 0.0
[network]
latency = { dist = "constant", ms = 1.0 }
disk = { dist = "constant", ms = 10.0 }
"#;

/// How long node 1 takes from receiving the first vote request to answering it, ms.
fn vote_answer_ms(vote_writes: &str) -> f64 {
    let s = Scenario::parse(&format!("{VOTE_WRITES}vote_writes = \"{vote_writes}\"\n")).unwrap();
    let trace = std::env::temp_dir()
        .join(format!("vote-writes-{vote_writes}-{}.jsonl", std::process::id()));
    let opts = RunOptions { seed: 1, trace: Some(trace.clone()), ..RunOptions::default() };
    let r = run(&s, &opts, &|_| {}).unwrap();
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    let text = std::fs::read_to_string(&trace).unwrap();
    std::fs::remove_file(&trace).unwrap();
    let t_of = |kind: &str, from_to: &str, message: &str| -> f64 {
        let needle = format!(r#""kind":"{kind}",{from_to},"message":"{message}""#);
        let line = text.lines().find(|l| l.contains(&needle)).expect(&needle);
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["t_ns"].as_f64().unwrap() / 1e6
    };
    t_of("send", r#""from":1,"to":2"#, "vote-response")
        - t_of("deliver", r#""from":2,"to":1"#, "vote")
}

#[test]
fn a_voter_writing_term_then_vote_answers_after_two_writes_as_logcabin_did() {
    // Raft Figure 2: a voter persists currentTerm and votedFor before it answers. Node 2 is
    // the first candidate at seed 1; node 1 learns term 1 and grants its vote in one step.
    assert!((vote_answer_ms("together") - 10.0).abs() < 1e-6);
    assert!((vote_answer_ms("term-then-vote") - 20.0).abs() < 1e-6);
}

/// The paper's stated Figure 16 numbers (Raft paper §9.3), under LogCabin's 2014 setup, at
/// the seed docs/figure16.md reports: medians and means within 5%, and 150–150 elections above
/// 10 s in at least 95 trials of 100 ("consistently took longer than 10 seconds").
#[test]
fn figure16_stated_numbers_hold_under_logcabins_setup_raft_9_3() {
    use raft_heartbeat::lab::figure16::{curves, run_curve, Model, Options};
    let opts = Options { model: Model::logcabin_2014(), seed: 1, jobs: 2, ..Options::default() };
    let curve = |label: &str| {
        let c = curves().into_iter().find(|c| c.label() == label).unwrap();
        let r = run_curve(c, &opts).unwrap();
        assert_eq!(r.samples.len() as u64, r.trials, "{label}: every trial elected a leader");
        r
    };
    let r = curve("150-155");
    assert!(
        (r.time_without_leader_ms.p50 - 287.0).abs() < 0.05 * 287.0,
        "{:?}",
        r.time_without_leader_ms
    );
    let r = curve("12-24");
    assert!(
        (r.time_without_leader_ms.mean - 35.0).abs() < 0.05 * 35.0,
        "{:?}",
        r.time_without_leader_ms
    );
    let r = curve("150-150");
    let short: Vec<f64> = r.samples.iter().copied().filter(|ms| *ms <= 10_000.0).collect();
    // "Consistently" read as at least 95 of 100; docs/figure16.md reports the two of seed 1.
    assert!(short.len() * 20 <= r.samples.len(), "150-150 elections at or under 10 s: {short:?}");
}

#[test]
fn check_quorum_loses_half_a_round_when_the_minimum_timeout_is_whole_heartbeats_raft_thesis_6_2() {
    // At 150 ms = 3 x 50 ms, round r - 3's acknowledgment turns W old just as round r's is due,
    // so about half the time the window holds two rounds; at 151 ms it always holds three.
    // Same loss, same false timeouts, several times the step-downs of a healthy leader.
    let exact = go(&load("steady-lossy.toml"), 1, 4, 2);
    let offset = go(&load("steady-lossy-151.toml"), 1, 4, 2);
    let (a, b) = (exact.leaders_elected.total, offset.leaders_elected.total);
    assert!(a > 3 * b && b > 0, "leaders elected: {a} at 150 ms, {b} at 151 ms");
    let (ta, tb) = (exact.false_suspicions.total as f64, offset.false_suspicions.total as f64);
    assert!((ta / tb - 1.0).abs() < 0.1, "false timeouts {ta} against {tb}");
}

#[test]
fn a_leader_hands_over_twice_in_every_trial_with_every_invariant_holding_thesis_3_10() {
    let r = go(&load("leader-transfer.toml"), 1, 40, 2);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    // Two transfers per trial, each a change of leader while the old one was healthy.
    assert_eq!(r.spurious_leader_changes.total, 80);
    assert_eq!(r.leaders_elected.total, 120, "the first election and two hand-overs");
    assert_eq!(r.false_suspicions.total, 0, "a hand-over is no failure");
}

#[test]
fn a_deposed_leader_confirms_no_read_on_a_late_ack_of_an_old_round_thesis_6_4() {
    // The simulator's read-index check passes on the path a receipt-time rule fails
    // (docs/simulation.md shows that rule caught here).
    let r = go(&load("read-index-held-ack.toml"), 1, 30, 2);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert!(r.leaders_elected.total > 30, "a later leader is elected in some trials");
}

#[test]
fn membership_changes_one_voter_at_a_time_keep_every_invariant_raft_thesis_4_1() {
    // A learner promoted, the leader removing itself, a follower demoted while another is cut
    // off: nodes disagree for a while about which of two adjacent memberships is current.
    let r = go(&load("membership.toml"), 1, 40, 2);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    // The removed leader steps down once its removal commits (thesis §4.2.2), so every trial
    // elects a second leader.
    assert!(r.leaders_elected.total >= 80, "{}", r.leaders_elected.total);
}

#[test]
fn a_membership_change_reaches_a_deposed_leader_only_inside_a_message_of_its_term_thesis_4_1() {
    // Issue 30: this trial handed a change the leader of term 8 made to n1, which still led
    // term 7 and was never told of term 8; n1 then removed its last other voter and confirmed
    // a read alone ("read index: n1 confirmed a read of T7 ... but a leader of T8 had been
    // elected"). In Raft the entry comes only inside a message of term 8, which deposes n1.
    let opts = RunOptions { seed: 12, only_trial: Some(23583), ..RunOptions::default() };
    let r = run(&load("swarm.toml"), &opts, &|_| {}).unwrap();
    assert_eq!(r.trials, 1);
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
}

#[test]
fn a_scenario_naming_a_learner_outside_the_cluster_is_refused() {
    let text = "name = \"x\"\nduration_ms = 1000\n[cluster]\nnodes = 3\nlearners = [4]\n";
    let e = Scenario::parse(text).unwrap_err().to_string();
    assert!(e.contains("cluster.learners") && e.contains('4'), "{e}");
    let text = "name = \"x\"\nduration_ms = 1000\n[cluster]\nnodes = 2\nlearners = [1, 2]\n";
    let e = Scenario::parse(text).unwrap_err().to_string();
    assert!(e.contains("voter"), "{e}");
}

#[test]
fn the_followers_detection_is_measured_by_chen_toueg_and_aguilera_qos() {
    // No false suspicion on a clean LAN: perfect accuracy, no recurrence to speak of.
    let clean = go(&load("leader-crash.toml"), 1, 50, 2);
    assert_eq!((clean.qos.t_mr_seconds, clean.qos.t_m_ms, clean.qos.p_a), (None, None, 1.0));
    // 20% loss: mistakes recur every few tens of seconds per node and end at the next
    // heartbeat that gets through (one to a few 50 ms intervals).
    let lossy = go(&load("flaky-link.toml"), 1, 50, 2);
    let (t_mr, t_m, p_a) =
        (lossy.qos.t_mr_seconds.unwrap(), lossy.qos.t_m_ms.unwrap(), lossy.qos.p_a);
    assert!((5.0..200.0).contains(&t_mr), "T_MR {t_mr} s");
    assert!((1.0..200.0).contains(&t_m), "T_M {t_m} ms");
    // P_A and the other two agree: the share of time in mistakes is about T_M / T_MR.
    let implied = 1.0 - t_m / 1e3 / t_mr;
    assert!((p_a - implied).abs() < 2e-3 && p_a < 1.0, "P_A {p_a}, implied {implied}");
}

#[test]
fn an_adaptive_detector_trades_failover_time_for_fewer_false_suspicions_on_a_lossy_link() {
    // 20% loss: the gaps between heartbeats that get through widen the adaptive timeout.
    let fixed = load("flaky-link.toml");
    let mut adaptive = fixed.clone();
    adaptive.cluster.leader_detector = LeaderDetectorKind::Adaptive { deviations: 4.0 };
    let (f, a) = (go(&fixed, 1, 100, 2), go(&adaptive, 1, 100, 2));
    assert!(a.violations.is_empty(), "{:#?}", a.violations);
    assert!(
        a.false_suspicions.per_hour < 0.85 * f.false_suspicions.per_hour,
        "adaptive {} against fixed {} an hour",
        a.false_suspicions.per_hour,
        f.false_suspicions.per_hour
    );
    assert!(a.time_without_leader_ms.p50 >= f.time_without_leader_ms.p50, "and pays in failover");
}

#[test]
fn local_health_stops_a_paused_follower_from_suspecting_a_healthy_leader_cassandra_9183() {
    // Followers pause 100-500 ms each second; the leader never fails.
    let raft = go(&load("follower-gc-pauses.toml"), 1, 60, 2);
    let healthy = go(&load("follower-gc-pauses-local-health.toml"), 1, 60, 2);
    assert!(raft.violations.is_empty() && healthy.violations.is_empty());
    assert!(raft.false_suspicions.total >= 10, "Raft's timer: {}", raft.false_suspicions.total);
    assert_eq!(healthy.false_suspicions.total, 0, "deferred instead");
    assert!(healthy.timeouts_deferred.total > 0);
}

#[test]
fn shadow_detectors_report_what_they_would_have_done_and_change_nothing_raft_5_2() {
    let plain = load("flaky-link.toml");
    let mut shadowed = plain.clone();
    shadowed.cluster.shadow_detectors = vec![
        LeaderDetectorKind::Adaptive { deviations: 4.0 },
        LeaderDetectorKind::Phi { threshold: 1.0 },
    ];
    let (p, s) = (go(&plain, 1, 40, 2), go(&shadowed, 1, 40, 2));
    assert!(s.violations.is_empty(), "{:#?}", s.violations);
    // The nodes did exactly the same: every figure of the detector in charge is unchanged.
    assert_eq!(p.false_suspicions, s.false_suspicions);
    assert_eq!(p.time_without_leader_ms, s.time_without_leader_ms);
    assert_eq!(p.leaders_elected, s.leaders_elected);
    assert_eq!((p.messages, p.bytes), (s.messages, s.bytes));
    // On a lossy link, the adaptive shadow suspects less often than phi at 1 (a 10% chance of
    // a wrong suspicion per gap), and each shadow saw the crashed leader.
    let [adaptive, phi] = [&s.shadows[0], &s.shadows[1]];
    assert!(adaptive.false_suspicions.total < phi.false_suspicions.total);
    assert!(phi.detection_ms.count > 0 && adaptive.detection_ms.count > 0);
}

fn shards_of(s: &Scenario, seed: u64, trials: u64, count: u64) -> Vec<Report> {
    (0..count)
        .map(|index| {
            let opts = RunOptions {
                seed,
                trials: Some(trials),
                shard: Some(Shard { index, count }),
                ..RunOptions::default()
            };
            run(s, &opts, &|_| {}).unwrap()
        })
        .collect()
}

#[test]
fn merge_refuses_a_missing_shard_a_duplicate_and_shards_of_other_runs() {
    let s = load("leader-crash.toml");
    let shards = shards_of(&s, 3, 8, 4);
    let message = |reports: &[Report]| merge(reports).unwrap_err().to_string();
    assert!(merge(&shards).is_ok());

    let e = message(&[shards[0].clone(), shards[2].clone()]);
    assert_eq!(e, "2 of 4 shards missing: 1/4, 3/4 (the merged run would be incomplete)");
    let e = message(&[shards[0].clone(), shards[1].clone(), shards[1].clone(), shards[3].clone()]);
    assert_eq!(e, "shard 1/4 is given twice: merge each shard once");

    // The same scenario and seed but another number of trials: not one run.
    let longer = shards_of(&s, 3, 16, 4);
    let e = message(&[shards[0].clone(), shards[1].clone(), longer[2].clone(), shards[3].clone()]);
    assert!(e.contains("the run's trials differs (8 and 16)"), "{e}");
    let other_seed = shards_of(&s, 4, 8, 4);
    let e = message(&[shards[0].clone(), other_seed[1].clone()]);
    assert!(e.contains("the seed differs (3 and 4)"), "{e}");

    // Another scenario under the same name: its content differs.
    let mut edited = s.clone();
    edited.cluster.heartbeat_ms += 1.0;
    assert_eq!(edited.name, s.name);
    let e = message(&[shards[0].clone(), shards_of(&edited, 3, 8, 4)[1].clone()]);
    assert!(e.contains("the scenario's content differs"), "{e}");

    let mut whole = go(&s, 3, 8, 1);
    assert!(whole.manifest.is_none());
    whole.trial_results = shards[0].trial_results.clone();
    assert!(message(&[whole]).contains("only reports made with --shard"));
}
