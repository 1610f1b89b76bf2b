#!/usr/bin/env bash
# Fuzzes the parsers: the cattackle.toml loader, the scenario loader, the JSON-RPC line readers
# and the tools/call response parser (targets in tests/fuzz/fuzz_targets, seed corpora in
# tests/fuzz/corpus, checked in and kept small).
#
#   scripts/fuzz.sh [SECONDS [TARGET…]]   every target (or those named) for SECONDS each
#                                         (default 60, as CI runs it)
#   FUZZ_RUNS=1000000 scripts/fuzz.sh   every target for that many executions instead
#
# A crash, a panic or a timeout of one input is a failure: the script stops with the input
# under tests/fuzz/artifacts/. New corpus entries are written to a scratch copy, not into the
# checked-in corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(config scenario lines response)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo fuzz passes nightly-only flags to rustc; the stable toolchain accepts them so.
export RUSTC_BOOTSTRAP=1
fuzz=(cargo fuzz run --fuzz-dir tests/fuzz --sanitizer none --release)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    cp -r "tests/fuzz/corpus/$target/." "$scratch/$target/"
    if [[ -n "${FUZZ_RUNS:-}" ]]; then
        limit=(-runs="$FUZZ_RUNS")
        echo "== fuzz $target ($FUZZ_RUNS runs)"
    else
        limit=(-max_total_time="$seconds")
        echo "== fuzz $target (${seconds}s)"
    fi
    status=0
    "${fuzz[@]}" "$target" "$scratch/$target" -- "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 >"$scratch/$target.log" 2>&1 || status=$?
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|#[0-9]+ *DONE)" "$scratch/$target.log" || true
    if [[ $status -ne 0 ]]; then
        tail -n 60 "$scratch/$target.log"
        echo "error: fuzz target $target failed (exit $status); the input is under tests/fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
