#!/usr/bin/env bash
# test/fuzz/run.sh EXE CORPUS: runs the libFuzzer target EXE for FUZZ_SECONDS (30 by
# default) from the committed corpus directory CORPUS, which it only reads (what the
# fuzzer finds goes to a temporary directory, removed at the end), at most 10 s and
# 2 GiB per input. Exit 0 when nothing was found; otherwise the fuzzer's last lines
# and each input that crashed, leaked or timed out (hex and base64, to replay it:
# `base64 -d > input && EXE input`), and exit 1. Bounded: libFuzzer stops itself at
# -max_total_time, and `timeout` ends it 60 s later should it not.
set -uo pipefail
exe=$1 corpus=$2 seconds=${FUZZ_SECONDS:-30}
[[ -x $exe && -d $corpus ]] || { echo "run.sh: usage: run.sh EXE CORPUS_DIR" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/new" "$work/found"
timeout --kill-after=10 $((seconds + 60)) "$exe" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/found/" \
  "$work/new" "$corpus" >"$work/log" 2>&1
status=$?
inputs=$(find "$work/found" -type f | sort)
if [[ $status -eq 0 && -z $inputs ]]; then
  grep -E "^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|stat::new_units_added)" "$work/log" | tail -n 4
  echo "$(basename "$exe"): ${seconds} s, nothing found"
  exit 0
fi
echo "$(basename "$exe"): FAILED (exit status $status); the fuzzer's last lines:"
tail -n 60 "$work/log"
for f in $inputs; do
  echo "--- input $(basename "$f") ($(stat -c %s "$f") bytes):"
  od -An -tx1 -v "$f" | head -n 32
  echo "base64: $(base64 -w0 "$f")"
done
exit 1
