#!/usr/bin/env bash
# run.sh - build a Release tree and compare bench_lock bare vs under the agent.
# usage: bash bench/run.sh [ITERATIONS]   (ROUNDS=N in the environment, default 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTL_BUILD_TESTS=OFF
cmake --build build-release -j2

build-release/bin/tl-bench-compare --rounds "${ROUNDS:-5}" \
    --threadlens build-release/bin/threadlens \
    -- build-release/bin/tl-bench-lock "$@"
build-release/bin/tl-bench-compare --rounds "${ROUNDS:-5}" \
    --threadlens build-release/bin/threadlens \
    -- build-release/bin/tl-bench-alloc
