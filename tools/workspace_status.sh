#!/usr/bin/env bash
# Bazel's --workspace_status_command (.bazelrc): the commit the binaries are built from and
# whether tracked files differed from it. //scratchdet/core:build_stamp_cc writes both into
# every binary, so a result's provenance names the code that computed it wherever the binary
# runs from (README, "Result JSON"). Keys starting with STABLE_ re-run only the stamp action.
commit=$(git rev-parse HEAD 2>/dev/null) || commit=unknown
if [ "$commit" = unknown ]; then
  dirty=unknown
elif [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  dirty=false
else
  dirty=true
fi
echo "STABLE_SCRATCHDET_GIT_COMMIT $commit"
echo "STABLE_SCRATCHDET_GIT_DIRTY $dirty"
