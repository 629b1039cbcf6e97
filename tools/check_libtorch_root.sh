#!/usr/bin/env bash
# Checks --repo_env=LIBTORCH_ROOT (third_party/libtorch.bzl) on a machine with Debian's
# LibTorch: builds a pip-style tree of links to Debian's files (include/, lib/,
# share/cmake/Torch/TorchConfig.cmake), builds //tools/libtorch_probe:probe against it in its own
# output base, and checks that the binary loads libtorch_cpu from TREE/lib; then checks that a
# tree whose TorchConfig.cmake states the old C++ ABI is refused with the message.
# Writes a JUnit report (tools/count_tests.py --extra) to $1 (default: /tmp/.../report.xml).
set -uo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/scratchdet_libtorch_root.XXXXXX)
REPORT=${1:-$WORK/report.xml}
LIB=/usr/lib/x86_64-linux-gnu

make_tree() {  # TREE ABI
  mkdir -p "$1/include" "$1/lib" "$1/share/cmake/Torch"
  for d in ATen c10 caffe2 torch; do ln -s "/usr/include/$d" "$1/include/$d"; done
  for f in "$LIB"/libtorch*.so* "$LIB"/libc10*.so*; do ln -s "$f" "$1/lib/$(basename "$f")"; done
  printf 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=%s")\n' "$2" > "$1/share/cmake/Torch/TorchConfig.cmake"
}
make_tree "$WORK/pip" 1
make_tree "$WORK/old_abi" 0
BAZEL=(bazel --output_base="$WORK/output_base")

cases=()
record() {  # name ok message
  if [ "$2" = 1 ]; then cases+=("<testcase classname=\"LibtorchRoot\" name=\"$1\"/>"); echo "PASS $1";
  else cases+=("<testcase classname=\"LibtorchRoot\" name=\"$1\"><failure message=\"$3\"/></testcase>"); echo "FAIL $1: $3"; fi
}

out=$("${BAZEL[@]}" run --repo_env=LIBTORCH_ROOT="$WORK/pip" //tools/libtorch_probe:probe 2>"$WORK/build.log")
if echo "$out" | grep -q "^libtorch_cpu: $WORK/pip/lib/libtorch_cpu.so" && echo "$out" | grep -q "^sum: 45"; then
  record BuildsAndLoadsFromTheRootsLib 1
else
  record BuildsAndLoadsFromTheRootsLib 0 "probe printed: $(echo "$out" | tr '\n' ' ') $(tail -5 "$WORK/build.log" | tr '\n"<>&' '    ')"
fi

"${BAZEL[@]}" build --repo_env=LIBTORCH_ROOT="$WORK/old_abi" //tools/libtorch_probe:probe >"$WORK/old.log" 2>&1
if [ $? -ne 0 ] && grep -q "built with the old C++ ABI" "$WORK/old.log"; then
  record RefusesTheOldCxxAbi 1
else
  record RefusesTheOldCxxAbi 0 "$(tail -5 "$WORK/old.log" | tr '\n"<>&' '    ')"
fi
"${BAZEL[@]}" shutdown >/dev/null 2>&1

{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<testsuites><testsuite name="check_libtorch_root">'
  printf '%s\n' "${cases[@]}"
  echo '</testsuite></testsuites>'
} > "$REPORT"
rm -rf "$WORK/pip" "$WORK/old_abi"
chmod -R u+w "$WORK/output_base" 2>/dev/null; rm -rf "$WORK/output_base"
