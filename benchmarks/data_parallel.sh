#!/usr/bin/env bash
# Data-parallel throughput on this machine (benchmarks/README.md, "Data parallel"): mini
# training (ScratchDet300 mini, 300 iterations, no periodic evaluation) as
#   A  1 process x 2 threads, batch 8            (the quickstart's split)
#   B  1 process x 2 threads, batch 4 x 2 accumulation steps
#   C  2 processes x 1 thread, batch 4 each      (--nproc 2; the same batches as B)
# and prints training images/s (training time only, from each result's metrics) and the
# data-parallel synchronisation time per iteration. Run it on an idle machine.
#   bash benchmarks/data_parallel.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
ITER=${1:-300}
bazel build //experiments/table_d:scratchdet300 2>/dev/null
BIN=bazel-bin/experiments/table_d/scratchdet300
OUT=$(mktemp -d /tmp/scratchdet_dp_bench.XXXXXX)
COMMON=(--profile mini --fresh --set solver.iterations=$ITER --set "solver.steps=[$((ITER - 20)),$((ITER - 10))]"
        --set eval.interval=0 --set run.log_interval=100000)
"$BIN" "${COMMON[@]}" --threads 2 --out "$OUT/A" >"$OUT/A.log" 2>&1
"$BIN" "${COMMON[@]}" --threads 2 --set solver.batch_size=4 --set solver.accumulation_steps=2 --out "$OUT/B" >"$OUT/B.log" 2>&1
"$BIN" "${COMMON[@]}" --threads 1 --set solver.batch_size=4 --nproc 2 --out "$OUT/C" >"$OUT/C.log" 2>&1
python3 - "$OUT" <<'PY'
import json, glob, sys
out = sys.argv[1]
rows = {"A": "1 process x 2 threads, batch 8", "B": "1 process x 2 threads, batch 4 x 2 accumulation",
        "C": "2 processes x 1 thread, batch 4 each (--nproc 2)"}
ips = {}
print("| run | split | train images/s | sync s / iteration | provenance |")
print("|---|---|---|---|---|")
for key, label in rows.items():
    r = json.load(open(glob.glob(f"{out}/{key}/**/result.json", recursive=True)[0]))
    m, p = r["metrics"], r["provenance"]
    ips[key] = m["train_images_per_second"]
    sync = m.get("sync_seconds")
    sync_text = f"{sync / m['iterations']:.4f}" if sync is not None else "-"
    print(f"| {key} | {label} | {ips[key]:.1f} | {sync_text} | commit {p.get('git_commit', '?')[:10]}, "
          f"world {p['world_size']}, threads {p['threads']} |")
print(f"\nC / A = {ips['C'] / ips['A']:.2f}x, C / B = {ips['C'] / ips['B']:.2f}x")
PY
echo "(results under $OUT)"
