#!/usr/bin/env bash
# Installs every Debian package calisim needs to build, test and run (Debian 12).
# Idempotent: when everything is already installed it touches nothing and needs no network.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config git
  # libraries
  libfmt-dev libpcap-dev libboost-graph-dev libeigen3-dev libyaml-cpp-dev libsodium-dev libb2-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev pybind11-dev python3-dev
  # tests and validation
  python3-pytest python3-numpy tshark tcpdump bird2 gobgpd iproute2 iputils-ping procps
  # the notebook, executed headlessly in CI
  jupyter-nbconvert python3-ipykernel python3-matplotlib python3-nbformat
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
