//! The recipes in deploy/swarm/ that can run here: GNU parallel splits a swarm run into shards
//! and merges them into the report of the unsharded run; the Slurm script is valid shell.

use std::path::Path;
use std::process::Command;

const TOP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const BIN: &str = env!("CARGO_BIN_EXE_raft-heartbeat");

/// GNU parallel, not moreutils' command of the same name (which takes other options).
fn have_gnu_parallel() -> bool {
    Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("GNU parallel"))
}

#[test]
fn gnu_parallel_shards_a_swarm_run_and_merges_it_into_the_whole_runs_report() {
    if !have_gnu_parallel() {
        // CI installs it and sets the variable, so that there a missing `parallel` fails.
        let required = std::env::var_os("RAFT_HEARTBEAT_REQUIRE_PARALLEL").is_some();
        assert!(!required, "no GNU parallel, and RAFT_HEARTBEAT_REQUIRE_PARALLEL is set");
        eprintln!("skipped: no GNU parallel (Debian: apt-get install parallel); CI installs it");
        return;
    }
    let out = std::env::temp_dir().join(format!("raft-heartbeat-parallel-{}", std::process::id()));
    let recipe = Command::new("bash")
        .current_dir(TOP)
        .env("RAFT_HEARTBEAT", BIN)
        .args(["deploy/swarm/parallel.sh", "simulations/swarm.toml", "7", "40", "4"])
        .arg(&out)
        .args(["--jobs", "2"])
        .output()
        .unwrap();
    assert!(recipe.status.success(), "{}", String::from_utf8_lossy(&recipe.stderr));
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("merged.json")).unwrap()).unwrap();
    let whole = Command::new(BIN)
        .current_dir(TOP)
        .args(["simulate", "simulations/swarm.toml", "--seed", "7", "--trials", "40", "--json"])
        .output()
        .unwrap();
    let whole: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    assert_eq!(merged["trials"], 40);
    assert_eq!(merged["trace_hash"], whole["trace_hash"], "the merged run is the whole run");
    for i in 0..4 {
        assert!(out.join(format!("shard-{i}.log")).is_file(), "shard {i} kept its log");
    }

    // A shard that fails stops the recipe, which then merges nothing.
    let failed = Command::new("bash")
        .current_dir(TOP)
        .env("RAFT_HEARTBEAT", BIN)
        .args(["deploy/swarm/parallel.sh", "simulations/no-such.toml", "7", "40", "4"])
        .arg(out.join("failed"))
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(!out.join("failed/merged.json").exists());
}

#[test]
fn the_slurm_and_parallel_recipes_are_valid_shell() {
    for script in ["deploy/swarm/slurm.sbatch", "deploy/swarm/parallel.sh"] {
        let check =
            Command::new("bash").arg("-n").arg(Path::new(TOP).join(script)).output().unwrap();
        assert!(check.status.success(), "{script}: {}", String::from_utf8_lossy(&check.stderr));
    }
}
