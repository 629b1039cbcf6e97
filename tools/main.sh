#!/usr/bin/env bash
# The main job (README quickstart): set up, then train ScratchDet300 (Root-ResNet-34 + residual
# extras, BN everywhere) on the generated `shapes` benchmark with the mini profile, evaluate,
# print mAP with a per-class table and write the result JSON under results/mini/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec bazel run //experiments/table_d:scratchdet300 -- --profile mini "$@"
