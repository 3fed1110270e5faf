#!/usr/bin/env bash
# The project's test command: the Rust test suite, the C ABI checks (header freshness,
# C, C++ and Python callers, valgrind, pkg-config) and a build of the fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test --locked 2>&1

echo "== C ABI"
bash .ci/ffi.sh

echo "== fuzz targets build"
cargo build --quiet --manifest-path fuzz/Cargo.toml --bins
