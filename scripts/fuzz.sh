#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (swift build --sanitize fuzzer, into .build-fuzz/) and runs each
# for FUZZ_SECONDS (default 60), starting from the seed corpus in fuzz/corpus/<target>. What a run
# discovers stays in .build-fuzz/corpus/ (so the repository's seeds are not touched); a crashing input
# lands in .build-fuzz/crashes/<target>/ and the script fails naming it — turn it into a regression test.
#   scripts/fuzz.sh [target ...]      targets: templates json spiffe csr routing
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(templates json spiffe csr routing)
scratch=.build-fuzz
(cd fuzz && swift build --sanitize fuzzer --scratch-path "../$scratch" 2>&1 | grep -E "error:|Compiling fuzz|Build complete" >&2) \
  || { echo "fuzz: building the fuzz targets failed" >&2; exit 1; }
bin="$scratch/debug"
failed=0
for target in "${targets[@]}"; do
  [ -x "$bin/fuzz-$target" ] || { echo "fuzz: no target fuzz-$target" >&2; failed=1; continue; }
  work="$scratch/corpus/$target"; crashes="$scratch/crashes/$target"
  mkdir -p "$work" "$crashes"
  cp -n fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
  dict=(); [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
  log="$scratch/fuzz-$target.log"
  # -timeout: one input running longer is a hang; -rss_limit_mb: memory past it is a finding too.
  "$bin/fuzz-$target" "$work" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1536 \
    -artifact_prefix="$crashes/" -print_final_stats=1 > "$log" 2>&1
  status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  if [ $status -ne 0 ]; then
    found=$(ls -t "$crashes" 2>/dev/null | head -1)
    echo "fuzz-$target: FAILED after ${runs:-?} runs — input saved as $crashes/$found; log $log" >&2
    grep -E "ERROR|Fatal error|==[0-9]+==" "$log" | head -5 >&2
    failed=1
  else
    echo "fuzz-$target: ${runs:-?} inputs in ${seconds}s, no crash, hang or runaway memory ($(ls "$work" | wc -l) in corpus)"
  fi
done
exit $failed
