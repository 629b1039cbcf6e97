#!/usr/bin/env bash
# Installs every Debian package scratchdet needs. Idempotent: when all are present it
# only checks and returns. Run as root (or with sudo available) on Debian 12.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap                         # Bazel 4.2.3 (or the npm Bazel: README)
  g++ git
  libtorch-dev                            # LibTorch 1.13.1 (CPU)
  libgloo-dev                             # Gloo headers for c10d's ProcessGroupGloo
  libdnnl-dev                             # oneDNN (LibTorch's own): Winograd 3x3 convolutions
  libopencv-dev                           # image decode/encode and resize
  nlohmann-json3-dev libfmt-dev libcli11-dev libpugixml-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libstb-dev                              # stb_image: the GPU check decodes without OpenCV
  python3-torch python3-torchvision python3-numpy   # reference implementations in tests
  python3-scipy                           # t-distribution cross-check in tests/reports
  python3-matplotlib                      # report plots
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
