#!/usr/bin/env bash
# Instructions per operation of one mode of examples/hot_paths.rs, under callgrind: the difference of
# two run lengths, divided by the difference of the lengths. Usage: benches/callgrind.sh MODE N1 N2
# Extra cargo flags in CARGO_FLAGS, for example CARGO_FLAGS=--no-default-features (tracing off).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1 n1=$2 n2=$3
cargo build -p airssys-rt-suite --release --quiet --example hot_paths ${CARGO_FLAGS:-}
binary=target/release/examples/hot_paths
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$mode" "$1" 2>&1 \
        | awk '/Collected/ { print $4 }'
}
a=$(count "$n1")
b=$(count "$n2")
echo "$mode: $(( (b - a) / (n2 - n1) )) instructions per operation"
