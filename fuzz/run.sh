#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, starting from the committed seed corpus, and
# fails on the first crash, panic, leak, timeout (> 10 s for one input) or out-of-memory (> 2 GiB).
#
#   fuzz/run.sh 60                      # CI
#   fuzz/run.sh 300 policy              # one target, five minutes
#
# Needs cargo-fuzz (installed here when missing) and, for AddressSanitizer, a nightly toolchain.
# Without nightly it falls back to the stable compiler with RUSTC_BOOTSTRAP=1 and no sanitizer
# (`--sanitizer none`): coverage-guided fuzzing still works and Rust panics are still crashes.
#
# The seed corpus is not modified: libFuzzer writes what it discovers to target/fuzz-corpus/.
# A crashing input is saved under fuzz/artifacts/TARGET/; reproduce it with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(nft_notifications rtnl_decode policy iptables_restore)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
    sanitizer=(--sanitizer address)
    echo "fuzz: nightly toolchain, AddressSanitizer"
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    sanitizer=(--sanitizer none)
    echo "fuzz: no nightly toolchain: stable with RUSTC_BOOTSTRAP=1, no sanitizer"
fi

"${fuzz[@]}" build -O "${sanitizer[@]}"
for t in "${targets[@]}"; do
    work="$here/target/fuzz-corpus/$t"
    mkdir -p "$work" "$here/artifacts/$t"
    echo "== fuzz $t for ${seconds}s"
    log="$here/target/fuzz-$t.log"
    # -print_final_stats shows the executions; the exit status is non-zero on any finding.
    set +e
    "${fuzz[@]}" run -O "${sanitizer[@]}" "$t" "$work" "$here/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$here/artifacts/$t/" >"$log" 2>&1
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $t FAILED (exit $status); the input is in $here/artifacts/$t/"
        exit 1
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added|#[0-9]+ +DONE)' "$log" || true
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no findings"
