#!/usr/bin/env bash
# Runs the Python reference and `afterimage extract` on the same capture, one after the
# other in the same run, and prints packets per second for each and their ratio.
#
# Usage: scripts/compare_with_reference.sh REFERENCE_DIR CAPTURE [RUNS]
#   REFERENCE_DIR  folder of the Python reference (run_reference.py; its
#                  requirements installed: scapy 2.8.0, numpy, tqdm)
#   CAPTURE        a pcap or pcapng file
#   RUNS           runs of afterimage per format, median reported (default 5)
set -euo pipefail
reference_dir=${1:?usage: $0 REFERENCE_DIR CAPTURE [RUNS]}
capture=${2:?usage: $0 REFERENCE_DIR CAPTURE [RUNS]}
runs=${3:-5}
cd "$(dirname "$0")/.."
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds_of() { # runs the command, prints its wall time in seconds
    local start end
    # Every run writes new files, as a first run does: overwriting the previous run's
    # tables would add the file system's time to truncate them.
    rm -f "$work"/out.* "$work"/out_meta.*
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s.%N)
    awk -v start="$start" -v end="$end" 'BEGIN { printf "%.6f\n", end - start }'
}

median() { sort -g | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'; }

packets=$(target/release/afterimage extract "$capture" -o "$work/count.npy" --format npy 2>&1 | sed -n 's/^read \([0-9]*\) packets.*/\1/p')
echo "capture: $capture ($packets packets)"

reference_seconds=$(seconds_of python3 "$reference_dir/run_reference.py" "$capture" "$work/reference")
reference_rate=$(awk -v n="$packets" -v s="$reference_seconds" 'BEGIN { print n / s }')
printf 'reference (Python)      %10.0f packets/s  (%.2f s)\n' "$reference_rate" "$reference_seconds"
update_rate=$(python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["update_vectors_per_second"]))' "$work/reference/summary.json")
echo "reference update() alone: $update_rate vectors/s (its own timing; compare with: cargo bench --bench engine)"

for format in csv npy; do
    extension=$format
    times=$(for _ in $(seq "$runs"); do seconds_of target/release/afterimage extract "$capture" -o "$work/out.$extension" --format "$format" --quiet; done | median)
    rate=$(awk -v n="$packets" -v s="$times" 'BEGIN { print n / s }')
    ratio=$(awk -v a="$rate" -v b="$reference_rate" 'BEGIN { print a / b }')
    printf 'afterimage --format %-3s %10.0f packets/s  (median of %d: %.3f s)  %6.0fx the reference\n' "$format" "$rate" "$runs" "$times" "$ratio"
done
