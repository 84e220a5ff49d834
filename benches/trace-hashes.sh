#!/usr/bin/env bash
# Prints the trace hash (with the event count and violations) of every shipped scenario at
# seed 1, and of each Figure 16 curve at 100 trials, for binary $1. Two builds that print the
# same lines simulate the same thing: `diff <(benches/trace-hashes.sh A) <(benches/trace-hashes.sh B)`.
set -euo pipefail
BIN=$(realpath "${1:?usage: benches/trace-hashes.sh BINARY}")
cd "$(dirname "$0")/.."
for f in simulations/*.toml benches/scenarios/steady-1h.toml; do
  "$BIN" simulate "$f" --seed 1 --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sys.argv[1], d["trace_hash"], d["events"], len(d["violations"]))' "$f"
done
"$BIN" experiment figure16 --trials 100 --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["curves"]:
    print("figure16", c["label"], c["trace_hash"])'
