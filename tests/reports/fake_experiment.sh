#!/usr/bin/env bash
# Stands in for `bazel run` of an experiment binary in paper_runner_test:
#   fake_experiment.sh //experiments/table_<t>:<name> -- --profile P --seed 0,1 --out ROOT [...]
# Writes an ok result.json per seed (mAP 0.5 + seed/100) where the trainer would, and appends
# the command line to $FAKE_EXPERIMENT_LOG. An experiment named will_fail exits 3 instead.
set -euo pipefail
label="$1"
shift
[ "$1" = "--" ] && shift
profile="" seeds="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --seed) seeds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) shift ;;
  esac
done
echo "$label $profile $seeds" >> "${FAKE_EXPERIMENT_LOG:?}"
package="${label#//experiments/}"
table="${package%%:*}"
table="${table#table_}"
table="${table^^}"
name="${label##*:}"
[ "$name" = "will_fail" ] && exit 3
for seed in ${seeds//,/ }; do
  dir="$out/$profile/table_${table,,}/$name/seed$seed"
  mkdir -p "$dir"
  cat > "$dir/result.json" <<JSON
{"schema_version": 1, "experiment": {"name": "$name", "table": "$table", "row": "$name"},
 "profile": "$profile", "seed": $seed, "status": {"state": "ok", "message": ""},
 "metrics": {"mAP": 0.5$seed}}
JSON
done
