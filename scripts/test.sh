#!/usr/bin/env bash
# The project's test command: the Rust test suite, the C ABI checks (header freshness,
# C, C++ and Python callers, valgrind, pkg-config), a build of the fuzz targets and the
# Suricata plugin inside a real Suricata 8 (needs root and a Debian mirror; set
# AFTERIMAGE_SKIP_SURICATA=1 to skip it).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test"
cargo test --locked 2>&1

echo "== C ABI"
bash .ci/ffi.sh

echo "== fuzz targets build"
cargo build --quiet --manifest-path fuzz/Cargo.toml --bins

if [ "${AFTERIMAGE_SKIP_SURICATA:-0}" = 1 ]; then
    echo "== Suricata plugin: skipped (AFTERIMAGE_SKIP_SURICATA=1)"
else
    echo "== Suricata plugin"
    bash tests/suricata/run.sh
fi
