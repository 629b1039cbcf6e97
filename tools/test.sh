#!/usr/bin/env bash
# Sets up (idempotent), runs every test under Bazel, then prints one summary line
# `N passed, N failed` counted from the GoogleTest XML reports of exactly these targets.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1

bazel test //... "$@"
status=$?

# --repo_env=LIBTORCH_ROOT: a build against a pip-style LibTorch tree (its own output base).
libtorch_report=$(mktemp /tmp/scratchdet_libtorch_root_report.XXXXXX.xml)
bash tools/check_libtorch_root.sh "$libtorch_report"

bazel query 'tests(//...) except attr(tags, manual, //...)' 2>/dev/null \
  | python3 tools/count_tests.py "$(bazel info bazel-testlogs 2>/dev/null)" --extra "$libtorch_report"
count_status=$?
if [ $status -ne 0 ] || [ $count_status -ne 0 ]; then exit 1; fi
exit 0
