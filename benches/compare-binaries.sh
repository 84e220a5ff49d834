#!/usr/bin/env bash
# Runs two builds of raft-heartbeat alternately on one scenario, N times each, and prints each
# run's trace hash and events per second, then the medians and their ratio (B over A).
# Usage: benches/compare-binaries.sh A B [SCENARIO] [N]
set -euo pipefail
A=$(realpath "${1:?usage: benches/compare-binaries.sh A B [SCENARIO] [N]}"); B=$(realpath "${2:?}")
S=${3:-benches/scenarios/steady-24h.toml}; N=${4:-5}
cd "$(dirname "$0")/.."
for _ in $(seq "$N"); do
  for bin in "$A" "$B"; do
    "$bin" simulate "$S" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sys.argv[1], d["trace_hash"], d["events"] / d["wall_ms"] * 1000)' "$bin"
  done
done | python3 -c '
import statistics, sys
runs = {}
for line in sys.stdin:
    print(line, end="")
    bin, _, speed = line.split()
    runs.setdefault(bin, []).append(float(speed))
(a, ra), (b, rb) = runs.items()
ma, mb = statistics.median(ra), statistics.median(rb)
print(f"median {a}: {ma / 1e6:.3f} M events/s")
print(f"median {b}: {mb / 1e6:.3f} M events/s")
print(f"ratio: {mb / ma:.3f}")'
