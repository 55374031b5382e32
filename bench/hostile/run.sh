#!/usr/bin/env bash
# The hostile market at growing sizes: largest component and pairwise F1 at both levels.
# Usage: bench/hostile/run.sh OBSERVATIONS... (default 1000000 10000000); needs release
# examples (cargo build --release --examples). Writes one JSON line per size and level.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BIN:-target/release/examples}
DIR=${DIR:-/tmp/sellerlink-hostile}
mkdir -p "$DIR"
for obs in "${@:-1000000 10000000}"; do
  accounts=$(( obs * 10 / 59 ))
  "$B/generate" --accounts "$accounts" --seed 7 --hostile --output "$DIR/obs.csv" --truth "$DIR/truth.csv" > "$DIR/gen.json"
  for level in components operators; do
    run=$("$B/cluster" --input "$DIR/obs.csv" --output "$DIR/clusters.csv" --level "$level" 2>/dev/null)
    score=$("$B/score" --truth "$DIR/truth.csv" --clusters "$DIR/clusters.csv")
    python3 - "$obs" "$level" "$run" "$score" <<'PY'
import json, sys
obs, level, run, score = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(json.dumps({"observations": run["observations"], "accounts": run["accounts"], "level": level,
    "largest": run["largest_cluster"], "clusters": run["clusters"], "f1": round(score["pairwise_f1"], 4),
    "precision": round(score["pairwise_precision"], 4), "recall": round(score["pairwise_recall"], 4),
    "set_aside": run["hubs_suppressed"], "total_ms": run["total_ms"], "peak_rss_bytes": run["peak_rss_bytes"]}))
PY
  done
done
rm -f "$DIR/obs.csv" "$DIR/clusters.csv"
