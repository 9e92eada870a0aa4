#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: scripts/fuzz.sh [seconds-per-target] [target...]
# (default 60 s, all targets). Needs a nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). Exits non-zero when any target crashes; the input that did
# it is under fuzz/artifacts/<target>/ (turn it into a regression test: copy it to
# fuzz/corpus/<target>/, which tests/fuzz_corpus.rs replays on stable).
#
# New inputs go to fuzz/work/<target>/ (not committed, kept between runs); the committed seed
# corpus fuzz/corpus/<target>/ is read only. FUZZ_JOBS=N runs N processes per target.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

# The targets, one per line: adding a target is adding its name here (and its file under
# fuzz/fuzz_targets/, a [[bin]] in fuzz/Cargo.toml and a line in tests/fuzz_corpus.rs).
TARGETS=(
    shingle
    fpfile
    npy
    records_jsonl
    records_csv
    records_parquet
    index
)

seconds=${1:-60}
shift || true
if [ $# -gt 0 ]; then
    TARGETS=("$@")
fi
toolchain=${FUZZ_TOOLCHAIN:-nightly}
jobs=${FUZZ_JOBS:-1}

cargo "+$toolchain" fuzz build -O
parallel=()
if [ "$jobs" -gt 1 ]; then
    parallel=(-jobs="$jobs" -workers="$jobs")
fi

failed=()
for target in "${TARGETS[@]}"; do
    mkdir -p "work/$target" "corpus/$target"
    echo "fuzz: $target for ${seconds}s"
    # -rss_limit_mb: the inputs are small, anything near 2 GB is a runaway allocation.
    if ! cargo "+$toolchain" fuzz run -O "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=60 -print_final_stats=1 \
        "${parallel[@]}" >"work/$target.log" 2>&1; then
        failed+=("$target")
        echo "fuzz: $target FAILED; the last lines of fuzz/work/$target.log:"
        tail -n 40 "work/$target.log"
    else
        grep -E '^stat::number_of_executed_units' "work/$target.log" | tail -n 1 || true
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: no crash in ${#TARGETS[@]} targets x ${seconds}s"
