#!/usr/bin/env bash
# Installs what calisim needs, builds it, and runs the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCALISIM_BUILD_TESTS=OFF -DCALISIM_BUILD_BENCH=OFF >/dev/null
cmake --build build/release --target calisim_cli
./build/release/calisim "$@"
