#!/usr/bin/env bash
# Installs what calisim needs, builds it twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer) and runs every test: GoogleTest through ctest, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
PY=/usr/bin/python3  # Debian's interpreter, which has pytest and numpy (not the one first on PATH)

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALISIM_WERROR=ON \
  -DPython3_EXECUTABLE=$PY >/dev/null
cmake --build build/test -j "$jobs"
echo "== ctest"
ctest --test-dir build/test -j "$jobs" --output-on-failure

echo "== build (ASan + UBSan)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCALISIM_SANITIZE=ON -DCALISIM_WERROR=ON \
  -DCALISIM_BUILD_BENCH=OFF -DCALISIM_BUILD_PYTHON=OFF -DPython3_EXECUTABLE=$PY >/dev/null
cmake --build build/asan -j "$jobs"
echo "== ctest (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -j "$jobs" --output-on-failure

echo "== pytest"
# The calisim package is imported from the build tree: build/test/python/calisim holds the
# extension (_core) and the pure-Python files beside it.
CALISIM_BIN="$PWD/build/test/calisim" PYTHONPATH="$PWD/build/test/python${PYTHONPATH:+:$PYTHONPATH}" \
  $PY -m pytest -q python/tests

echo "== notebook"
# examples/notebooks/calisim-tour.ipynb, executed headlessly as a user would run it; every cell
# asserts what it shows, and its figures must be written.
nb_out="$PWD/build/test/notebook"
rm -rf "$nb_out" && mkdir -p "$nb_out"
CALISIM_NOTEBOOK_OUT="$nb_out" CALISIM_EXAMPLES="$PWD/examples" \
  PYTHONPATH="$PWD/build/test/python${PYTHONPATH:+:$PYTHONPATH}" PYDEVD_DISABLE_FILE_VALIDATION=1 \
  jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 \
  --output-dir "$nb_out" examples/notebooks/calisim-tour.ipynb
for figure in bgp-convergence reachability mtu-blackhole; do
  test -s "$nb_out/$figure.png" || { echo "notebook: $figure.png was not written" >&2; exit 1; }
done
echo "notebook: ran, figures in $nb_out"
