#!/usr/bin/env bash
# The prepared GPU check (issue 14; README, "Training on GPUs"). On a machine
# with an NVIDIA GPU, a CUDA LibTorch (a pip `torch` of the C++11 ABI, found through python3,
# or TORCH_DIR=DIR laid out as DIR/include, DIR/lib), g++ and no network, it
#   1. compiles the OpenCV-free core (model, box, trainer, precision; ~30 files) and two
#      programs with g++ (no Bazel, CMake or system packages needed there),
#   2. runs tools/gpu_check/gpu_check.cc: CUDA against CPU for forward, matching, loss,
#      post-processing and one SGD step (TF32 off), channels-last, bf16/fp16 steps, peak memory,
#   3. runs tools/gpu_check/gpu_train_step.cc: images/s and peak memory of one training step,
#      batch 32, 300 px, fp32/bf16/fp16, scratchdet300 and ssd300_vgg16,
#   4. runs tools/gpu_check/gpu_shapes_train.cc: ScratchDet300 trained on shapes at 300 px for
#      GPU_CHECK_TRAIN_SECONDS (default 300), then its VOC07 mAP on the test split.
# Reports go to $OUT (or ./gpu_check_out): gpu_check.json, gpu_train_step.json,
# gpu_shapes_train.json, gpu_check.log.
#
# fmt, nlohmann/json and stb_image headers come from .gpu_check/include and the shapes data from
# .gpu_check/shapes, which `bash tools/gpu_check.sh --prepare` fills here from Debian's
# packages and `scratchdet make-shapes` (19 MiB; ignored by git, carried to the GPU machine). Anywhere: `bash tools/gpu_check.sh --device cpu` runs the
# same programs on the CPU (the comparisons against the CPU itself, the benchmark at batch 2):
# a smoke test of the check.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEPS=$ROOT/.gpu_check/include

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p "$DEPS"
  for d in fmt nlohmann; do
    [ -d /usr/include/$d ] || { echo "gpu_check: /usr/include/$d missing (tools/setup.sh)"; exit 1; }
    rm -rf "${DEPS:?}/$d"; cp -r /usr/include/$d "$DEPS/$d"
  done
  [ -f /usr/include/stb/stb_image.h ] || { echo "gpu_check: /usr/include/stb missing (tools/setup.sh)"; exit 1; }
  mkdir -p "$DEPS/stb"; cp /usr/include/stb/stb_image.h "$DEPS/stb/"
  echo "gpu_check: headers in $DEPS ($(du -sh "$DEPS" | cut -f1))"
  # The shapes data of the training run: the mini profile's layout (experiments/profiles/
  # mini.json over the base config), 2000 + 200 images of 120 px, JPEGs plus boxes in JSON.
  SHAPES=$ROOT/.gpu_check/shapes
  if [ ! -f "$SHAPES/test.json" ]; then
    rm -rf "$SHAPES"
    bazel run //:scratchdet -- make-shapes --out "$SHAPES" --train 2000 --test 200 --size 120 \
      --seed 7 --min-objects 1 --max-objects 4 --min-size 0.25 --max-size 0.9 \
      --outline-probability 0.25 --min-clutter 2 --max-clutter 6
    /usr/bin/python3 tools/gpu_check/shapes_index.py "$SHAPES"
    rm -rf "${SHAPES:?}/Annotations" "${SHAPES:?}/annotations" "${SHAPES:?}/ImageSets"
  fi
  # The GPU machine gets a copy of the tree without .git: the commit travels in .gpu_check.
  { git rev-parse HEAD; git diff --quiet HEAD && echo clean || echo dirty; } > "$ROOT/.gpu_check/commit"
  echo "gpu_check: shapes data in $SHAPES ($(du -sh "$SHAPES" | cut -f1)); carry .gpu_check"
  exit 0
fi
DEVICE=cuda
if [ "${1:-}" = "--device" ]; then DEVICE=$2; fi

OUT_DIR=${OUT:-$ROOT/gpu_check_out}
mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/gpu_check.log
exec > >(tee "$LOG") 2>&1
START=$(date +%s)

# --- the LibTorch ---------------------------------------------------------------------------
if [ -n "${TORCH_DIR:-}" ]; then :;
elif python3 -c 'import torch' 2>/dev/null; then
  TORCH_DIR=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
else
  TORCH_DIR=/usr  # Debian's libtorch-dev
fi
if [ "$TORCH_DIR" = /usr ]; then
  INCLUDES=(-isystem /usr/include/torch/csrc/api/include)
  LIBDIR=/usr/lib/$(gcc -dumpmachine)
  CMAKE_CONFIG=$LIBDIR/cmake/Torch/TorchConfig.cmake
else
  INCLUDES=(-isystem "$TORCH_DIR/include" -isystem "$TORCH_DIR/include/torch/csrc/api/include")
  LIBDIR=$TORCH_DIR/lib
  CMAKE_CONFIG=$TORCH_DIR/share/cmake/Torch/TorchConfig.cmake
fi
if grep -q '_GLIBCXX_USE_CXX11_ABI=0' "$CMAKE_CONFIG" 2>/dev/null; then
  echo "gpu_check: $TORCH_DIR is a LibTorch of the old C++ ABI; use one of the C++11 ABI"; exit 1
fi
DEFINES=(-DFMT_HEADER_ONLY)
LIBS=(-L"$LIBDIR" -Wl,-rpath,"$LIBDIR")
CXX=${CXX:-g++}
CXX_VERSION=$("$CXX" --version | head -1)
# LibTorch 2.13 and later refuse to compile below C++20; the code is C++17 and builds as either.
VERSION_H=""
for d in "${INCLUDES[@]}"; do
  for f in "$d/torch/version.h" "$d/torch/headeronly/version.h"; do
    if [ -z "$VERSION_H" ] && [ -f "$f" ] && grep -qs -- '^#define TORCH_VERSION_MINOR' "$f"; then VERSION_H=$f; fi
  done
done
MINOR=$(sed -n 's/^#define TORCH_VERSION_MINOR \([0-9]*\).*/\1/p' "$VERSION_H" 2>/dev/null || true)
MAJOR=$(sed -n 's/^#define TORCH_VERSION_MAJOR \([0-9]*\).*/\1/p' "$VERSION_H" 2>/dev/null || true)
CXX_STD=c++17
if [ "${MAJOR:-1}" -gt 2 ] || { [ "${MAJOR:-1}" -eq 2 ] && [ "${MINOR:-0}" -ge 13 ]; }; then CXX_STD=c++20; fi
if [ -e "$LIBDIR/libtorch_cuda.so" ]; then
  DEFINES+=(-DSCRATCHDET_WITH_CUDA=1)
  # c10/cuda's headers include cuda_runtime_api.h: CUDA_HOME's, nvcc's toolkit's, or the one a
  # pip `nvidia-cuda-runtime` package holds.
  CUDA_INCLUDE=""
  NVCC=$(command -v nvcc 2>/dev/null || true)
  for d in ${CUDA_HOME:+"$CUDA_HOME/include"} ${NVCC:+"$(dirname "$(dirname "$NVCC")")/include"} \
           /usr/local/cuda/include; do
    if [ -f "$d/cuda_runtime_api.h" ]; then CUDA_INCLUDE=$d; break; fi
  done
  if [ -z "$CUDA_INCLUDE" ]; then
    FOUND=$(find "$(dirname "$TORCH_DIR")/nvidia" -name cuda_runtime_api.h 2>/dev/null | head -1 || true)
    [ -n "$FOUND" ] && CUDA_INCLUDE=$(dirname "$FOUND")
  fi
  [ -f "$CUDA_INCLUDE/cuda_runtime_api.h" ] || {
    echo "gpu_check: no cuda_runtime_api.h (CUDA_HOME, nvcc's toolkit, pip nvidia packages)"; exit 1; }
  INCLUDES+=(-isystem "$CUDA_INCLUDE")
  LIBS+=(-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed)
  # A pip LibTorch finds its CUDA libraries through $ORIGIN run paths when the program runs;
  # the linker need not resolve them.
  [ "$TORCH_DIR" = /usr ] || LIBS+=(-Wl,--allow-shlib-undefined)
fi
LIBS+=(-ltorch -ltorch_cpu -lc10 -lpthread)
[ -d "$DEPS/fmt" ] && INCLUDES+=(-isystem "$DEPS")
echo "gpu_check: LibTorch $TORCH_DIR ${MAJOR:-?}.${MINOR:-?} (libs $LIBDIR), -std=$CXX_STD, defines ${DEFINES[*]}, device $DEVICE"
echo "$CXX_VERSION"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

# --- build ----------------------------------------------------------------------------------
# Objects are kept per LibTorch, defines, compiler and the headers' contents (outside
# .gpu_check, which travels); within a key an object newer than its source is reused.
HEADERS=$(find scratchdet tools/gpu_check -name '*.h' | sort | xargs cat | cksum | cut -d' ' -f1)
KEY=$(echo "$TORCH_DIR $CXX_STD ${DEFINES[*]} $CXX_VERSION $HEADERS" | cksum | cut -d' ' -f1)
BUILD=$ROOT/.gpu_check_build/$KEY
mkdir -p "$BUILD"
SOURCES=(
  scratchdet/box/{box_coder,iou,matcher,multibox_loss,postprocess,prior_config,priors,tensor_checks}.cc
  scratchdet/core/json_keys.cc scratchdet/data/rng.cc scratchdet/eval/{voc_ap,voc_eval}.cc
  scratchdet/engine/{lr_schedule,peak_memory,precision,trainer}.cc
  scratchdet/model/backbone/{backbone,resnet,root_resnet,vgg}.cc
  scratchdet/model/{config,extras,head,init,layers,mac_counter,ssd,winograd_conv}.cc
  tools/gpu_check/{device_augment,stb_decode}.cc
  tools/gpu_check/gpu_check.cc tools/gpu_check/gpu_train_step.cc tools/gpu_check/gpu_shapes_train.cc
)
CXXFLAGS=(-std=$CXX_STD -O2 -fPIC -Wno-deprecated-declarations -I"$ROOT" "${INCLUDES[@]}" "${DEFINES[@]}")
# One compiler per core; an object newer than its source is kept (a rerun only links).
printf '%s\n' "${SOURCES[@]}" | xargs -P "$(nproc)" -I{} bash -c \
  'obj='"$BUILD"'/$(echo {} | tr / _).o; [ "$obj" -nt {} ] || '"$CXX $(printf '%q ' "${CXXFLAGS[@]}")"' -c {} -o "$obj"'
CORE=()
for s in "${SOURCES[@]}"; do
  case $s in tools/gpu_check/gpu_*) ;; *) CORE+=("$BUILD/$(echo "$s" | tr / _).o") ;; esac
done
for prog in gpu_check gpu_train_step gpu_shapes_train; do
  "$CXX" -o "$BUILD/$prog" "$BUILD/tools_gpu_check_$prog.cc.o" "${CORE[@]}" "${LIBS[@]}"
done
echo "gpu_check: built in $(( $(date +%s) - START )) s"
# Provenance of every figure the reports hold: the tree's commit (git here, else the one
# --prepare recorded, with whether the tree had uncommitted changes then), LibTorch, compiler, GPU.
if git rev-parse HEAD >/dev/null 2>&1; then
  COMMIT=$(git rev-parse HEAD); TREE=$(git diff --quiet HEAD && echo clean || echo dirty)
else
  COMMIT=$(sed -n 1p .gpu_check/commit 2>/dev/null || echo unknown)
  TREE="$(sed -n 2p .gpu_check/commit 2>/dev/null || echo unknown) at --prepare"
fi
GPU=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)
python3 -c 'import json, sys; json.dump(dict(a.split("=", 1) for a in sys.argv[2:]), open(sys.argv[1], "w"), indent=1)' \
  "$OUT_DIR/provenance.json" "git_commit=$COMMIT" "tree=$TREE" "libtorch_dir=$TORCH_DIR" \
  "libtorch_version=${MAJOR:-?}.${MINOR:-?}" "compiler=$CXX_VERSION" "gpu=$GPU" "device=$DEVICE" \
  "date=$(date -u +%FT%TZ)"

# --- run ------------------------------------------------------------------------------------
status=0
if [ "$DEVICE" = cpu ]; then
  "$BUILD/gpu_check" --self-test --json "$OUT_DIR/gpu_check.json" || status=1
else
  "$BUILD/gpu_check" --json "$OUT_DIR/gpu_check.json" || status=1
fi
if [ "$DEVICE" = cpu ]; then
  "$BUILD/gpu_train_step" --device cpu --batch 2 --warmup 1 --iterations 1 \
      --json "$OUT_DIR/gpu_train_step.json" || status=1
else
  "$BUILD/gpu_train_step" --device "$DEVICE" --json "$OUT_DIR/gpu_train_step.json" || status=1
fi
# ScratchDet300 on shapes at 300 px for GPU_CHECK_TRAIN_SECONDS (default 300; the CPU
# self-test: 20 s at batch 2, evaluated on 4 test images).
if [ "$DEVICE" = cpu ]; then
  "$BUILD/gpu_shapes_train" --data "$ROOT/.gpu_check/shapes" --device cpu --seconds 20 --batch 2 \
      --calibration 4 --test-images 4 --json "$OUT_DIR/gpu_shapes_train.json" || status=1
else
  "$BUILD/gpu_shapes_train" --data "$ROOT/.gpu_check/shapes" --device "$DEVICE" \
      --seconds "${GPU_CHECK_TRAIN_SECONDS:-300}" --json "$OUT_DIR/gpu_shapes_train.json" || status=1
fi
echo "gpu_check: done in $(( $(date +%s) - START )) s, status $status (reports in $OUT_DIR)"
exit $status
