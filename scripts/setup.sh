#!/usr/bin/env bash
# setup.sh - install the Debian packages threadlens needs to build and test.
# Uses sudo only when not already root.
set -euo pipefail

packages=(
    build-essential g++ cmake pkg-config
    libunwind-dev libsqlite3-dev libncurses-dev libcmocka-dev
    python3 sqlite3 tmux
    pigz zstd xz-utils memcached libjemalloc-dev   # tests/real: real threaded programs
    clang libclang-rt-14-dev                       # tests/fuzz: libFuzzer
)

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "setup.sh: not root and no sudo; install as root: ${packages[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y "${packages[@]}"
