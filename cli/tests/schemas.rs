//! The JSON Schemas in docs/schemas/: each is what `raft-heartbeat schema NAME` prints today,
//! and real output of every command validates against it (with no field the schema does not
//! name), checked by a JSON Schema validator rather than by reading.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

const NAMES: &[&str] = &[
    "simulate",
    "advise",
    "cluster",
    "cluster-events",
    "model-check",
    "figure16",
    "split-votes",
    "sweep",
    "false-elections",
    "detectors",
    "defaults",
    "trace",
    "node",
];

fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_raft-heartbeat"))
        .current_dir(TOP)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-heartbeat-schemas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn schema_path(name: &str) -> PathBuf {
    Path::new(TOP).join("docs/schemas").join(format!("{name}.schema.json"))
}

/// The schema kept in docs/schemas/, made strict: an object the schema describes may hold no
/// property it does not name (`unevaluatedProperties`, which sees through `oneOf` and the
/// properties a flattened enum adds).
fn strict_validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_path(name)).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    forbid_unnamed(&mut schema, false);
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn forbid_unnamed(schema: &mut Value, flattened_into_parent: bool) {
    let Value::Object(map) = schema else { return };
    let has_properties = map.contains_key("properties");
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            for sub in subs {
                forbid_unnamed(sub, has_properties);
            }
        }
    }
    for key in ["properties", "$defs"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            for child in children.values_mut() {
                forbid_unnamed(child, false);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = map.get_mut(key) {
            forbid_unnamed(child, false);
        }
    }
    if has_properties && !flattened_into_parent && !map.contains_key("unevaluatedProperties") {
        map.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
}

fn check(name: &str, value: &Value) {
    let validator = strict_validator(name);
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name} does not match its schema: {errors:#?}\n{value}");
}

fn one_object(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.trim_end().lines().count(), 1, "exactly one line of JSON: {text}");
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["format_version"], 1, "{text}");
    assert!(text.starts_with(r#"{"format_version":1,"#), "the version first: {text}");
    value
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn every_schema_in_docs_is_what_the_binary_prints_today() {
    for name in NAMES {
        let printed = String::from_utf8(run(&["schema", name]).stdout).unwrap();
        let kept = std::fs::read_to_string(schema_path(name)).unwrap_or_default();
        assert!(
            printed == kept,
            "docs/schemas/{name}.schema.json is stale: regenerate it with\n  \
             cargo run --release -- schema {name} > docs/schemas/{name}.schema.json"
        );
        let schema: Value = serde_json::from_str(&printed).unwrap();
        assert!(jsonschema::meta::is_valid(&schema), "{name}: not a valid JSON Schema");
    }
}

#[test]
fn a_field_the_schema_does_not_name_is_caught() {
    let mut report =
        one_object(&run(&["simulate", "simulations/leader-crash.toml", "--trials", "3", "--json"]));
    check("simulate", &report);
    report["unnamed_ms"] = Value::from(1.0);
    assert!(!strict_validator("simulate").is_valid(&report), "an unnamed field passed");
    let mut report =
        one_object(&run(&["simulate", "simulations/leader-crash.toml", "--trials", "3", "--json"]));
    report["detection_ms"]["p50"] = Value::from("fast");
    assert!(!strict_validator("simulate").is_valid(&report), "a string for a number passed");
}

#[test]
fn simulate_shards_merge_and_trace_match_their_schemas() {
    let scenario = "simulations/leader-crash.toml";
    check("simulate", &one_object(&run(&["simulate", scenario, "--trials", "20", "--json"])));
    let mut shards = Vec::new();
    for i in 0..2 {
        let path = temp(&format!("shard-{i}.json"));
        let shard = format!("{i}/2");
        let out = run(&["simulate", scenario, "--trials", "20", "--shard", &shard, "--json"]);
        check("simulate", &one_object(&out));
        std::fs::write(&path, &out.stdout).unwrap();
        shards.push(path);
    }
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|p| p.to_str().unwrap()));
    check("simulate", &one_object(&run(&args)));

    let trace = temp("trace.jsonl");
    run(&[
        "simulate",
        "simulations/membership.toml",
        "--trials",
        "2",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let records = lines(&trace);
    let validator = strict_validator("trace");
    let mut kinds = std::collections::BTreeSet::new();
    for r in &records {
        let errors: Vec<String> = validator.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{r}: {errors:?}");
        kinds.insert(r["kind"].as_str().unwrap().to_string());
    }
    for kind in ["send", "deliver", "node", "fault", "persist"] {
        assert!(kinds.contains(kind), "the trace has no {kind} record to check: {kinds:?}");
    }
    let mut event = records.iter().find(|r| r["kind"] == "node").unwrap().clone();
    event["event"]["silence"] = Value::from(1.0);
    assert!(!validator.is_valid(&event), "an event with a field of no unit passed: {event}");
    let mut send = records.iter().find(|r| r["kind"] == "send").unwrap().clone();
    send["wall_ms"] = Value::from(1.0);
    assert!(!validator.is_valid(&send), "a record with an unnamed field passed: {send}");
}

#[test]
fn experiments_and_model_check_match_their_schemas() {
    let cases: &[(&str, &[&str])] = &[
        ("figure16", &["experiment", "figure16", "--trials", "20", "--json"]),
        ("split-votes", &["experiment", "split-votes", "--trials", "100", "--json"]),
        ("sweep", &["experiment", "sweep", "--trials", "20", "--json"]),
        ("false-elections", &["experiment", "false-elections", "--hours", "0.01", "--json"]),
        ("detectors", &["experiment", "detectors", "--trials", "20", "--hours", "0.01", "--json"]),
        ("model-check", &["model-check", "--nodes", "2", "--max-term", "1", "--json"]),
        (
            "model-check",
            &[
                "model-check",
                "--nodes",
                "3",
                "--max-term",
                "1",
                "--lease",
                "off",
                "--check-quorum",
                "off",
                "--horizon",
                "4",
                "--json",
            ],
        ),
    ];
    for (name, args) in cases {
        check(name, &one_object(&run(args)));
    }
}

#[test]
fn advise_and_defaults_match_their_schemas() {
    let advice = one_object(&run(&[
        "advise",
        "--nodes",
        "3",
        "--latency-p50-ms",
        "1",
        "--latency-p99-ms",
        "5",
        "--effort",
        "1",
        "--trials",
        "100",
        "--json",
    ]));
    check("advise", &advice);
    check(
        "defaults",
        &one_object(&run(&[
            "experiment",
            "defaults",
            "--trials",
            "100",
            "--effort",
            "1",
            "--json",
        ])),
    );
}

#[test]
fn cluster_its_events_and_nodes_lines_match_their_schemas() {
    let events = temp("events.jsonl");
    let out = run(&[
        "cluster",
        "--nodes",
        "3",
        "--kill-leader",
        "1",
        "--pause-leader",
        "1",
        "--pause-ms",
        "400",
        "--events-out",
        events.to_str().unwrap(),
        "--json",
    ]);
    check("cluster", &one_object(&out));
    let records = lines(&events);
    let (all, node) = (strict_validator("cluster-events"), strict_validator("node"));
    let mut node_lines = 0;
    for r in &records {
        assert!(all.is_valid(r), "cluster-events: {r}");
        if r.get("event").is_some() || r.get("lease").is_some() {
            node_lines += 1;
            let errors: Vec<String> = node.iter_errors(r).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "node: {r}: {errors:?}");
        } else {
            assert!(!node.is_valid(r), "a kill, pause or resume passed as a node's line: {r}");
        }
    }
    assert!(node_lines > 10 && node_lines < records.len(), "{node_lines} of {}", records.len());
}
