#!/usr/bin/env bash
# A swarm run split into shards with GNU parallel, on this host or many, then merged.
#
#   deploy/swarm/parallel.sh SCENARIO SEED TRIALS SHARDS OUT_DIR [parallel options...]
#
# Runs `raft-heartbeat simulate SCENARIO --seed SEED --trials TRIALS --shard i/SHARDS --json`
# for every i, each report to OUT_DIR/shard-i.json, then `raft-heartbeat merge` of them all to
# OUT_DIR/merged.json (which refuses a missing, duplicate or mismatched shard). Extra options go
# to GNU parallel, e.g. `--jobs 8`, or `--sshloginfile hosts --transferfile SCENARIO --return
# OUT_DIR/shard-{}.json` to spread the shards over hosts that have the binary on their PATH.
# RAFT_HEARTBEAT names the binary (default: raft-heartbeat on the PATH).
set -euo pipefail
if [ $# -lt 5 ]; then
  sed -n 2,12p "$0" >&2
  exit 2
fi
scenario=$1 seed=$2 trials=$3 shards=$4 out=$5
shift 5
bin=${RAFT_HEARTBEAT:-raft-heartbeat}
mkdir -p "$out"
# Each shard's stderr (its progress and seed) goes to OUT_DIR/shard-i.log.
seq 0 $((shards - 1)) | parallel --halt now,fail=1 "$@" \
  "$bin" simulate "$scenario" --seed "$seed" --trials "$trials" --shard "{}/$shards" --jobs 1 --json \
  ">" "$out/shard-{}.json" "2>" "$out/shard-{}.log"
reports=()
for i in $(seq 0 $((shards - 1))); do reports+=("$out/shard-$i.json"); done
"$bin" merge "${reports[@]}" > "$out/merged.json"
echo "merged report: $out/merged.json" >&2
