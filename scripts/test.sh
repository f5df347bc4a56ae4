#!/usr/bin/env bash
# test.sh - build and run every test, then rebuild with ASan/UBSan and run
# the unit and viewer tests again under the sanitizers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
ctest --test-dir build --output-on-failure

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTL_SANITIZE=ON
cmake --build build-asan -j2
ctest --test-dir build-asan --output-on-failure -L 'unit|viewer'
