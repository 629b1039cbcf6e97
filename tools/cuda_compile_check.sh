#!/usr/bin/env bash
# Compiles (syntax and types, no linking) the CUDA-only code paths -- NCCL in data_parallel.cc,
# the GPU peak memory, the GPU check's programs -- with SCRATCHDET_WITH_CUDA and USE_C10D_NCCL
# defined, against Debian's LibTorch headers (which include c10/cuda, ATen/cuda and
# ProcessGroupNCCL.hpp) and a CUDA toolkit's headers (CUDA_HOME, default /usr/local/cuda, for
# cuda_runtime_api.h and nccl.h). Without a CUDA LibTorch nothing can be linked or run here;
# this catches the mistakes a compiler can, on a machine without a GPU (issue 14).
#
#   bash tools/cuda_compile_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
if [ ! -f "$CUDA_HOME/include/cuda_runtime_api.h" ] || [ ! -f "$CUDA_HOME/include/nccl.h" ]; then
  echo "cuda_compile_check: no CUDA headers with nccl.h under $CUDA_HOME (set CUDA_HOME)"; exit 2
fi
# Debian's LibTorch headers lack this one generated file of the CUDA build.
STUB=$(mktemp -d)
trap 'rm -rf "$STUB"' EXIT
mkdir -p "$STUB/c10/cuda/impl"
printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$STUB/c10/cuda/impl/cuda_cmake_macros.h"
[ -d .gpu_check/include/stb ] || { echo "cuda_compile_check: run bash tools/gpu_check.sh --prepare first"; exit 2; }
status=0
for f in scratchdet/engine/{data_parallel,peak_memory,precision,trainer}.cc \
         tools/gpu_check/{gpu_check,gpu_train_step,gpu_shapes_train}.cc; do
  if g++ -std=c++17 -fsyntax-only -Wall -Wno-sign-compare -Wno-unused-parameter \
      -Wno-deprecated-declarations -I. -isystem "$STUB" -isystem .gpu_check/include \
      -isystem /usr/include/torch/csrc/api/include -isystem "$CUDA_HOME/include" \
      -DSCRATCHDET_WITH_CUDA=1 -DUSE_C10D_NCCL -DUSE_C10D_GLOO "$f"; then
    echo "ok    $f"
  else
    echo "FAIL  $f"; status=1
  fi
done
exit $status
