#!/usr/bin/env bash
# Runs scripts/test.sh three times on a fresh clone while busy loops compete
# for every core, and prints each run's time and result: a test that
# depends on the machine's speed shows up here before it turns CI red.
#
# The clone is of this repository's HEAD (committed work only), in a
# temporary directory that has ../shared beside the clone, as CI lays it
# out (a link to this checkout's ../shared). Every busy loop and the
# directory are removed on exit, Ctrl-C included.
#
# Environment: RUNS (default 3), LOAD_LOOPS (default: one per core,
# nproc), KEEP=1 keeps the clone and each run's log.
set -uo pipefail

RUNS=${RUNS:-3}
LOOPS=${LOAD_LOOPS:-$(nproc)}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=$(cd "$ROOT/../shared" 2>/dev/null && pwd) || { echo "test-under-load: no ../shared beside $ROOT" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmprobe-under-load.XXXXXX")
LOAD_PIDS=()

cleanup() {
	local pid
	for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait "${LOAD_PIDS[@]}" 2>/dev/null
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

git clone -q "$ROOT" "$WORK/llmprobe" || exit 2
ln -s "$SHARED" "$WORK/shared"
echo "== fresh clone of $(git -C "$ROOT" rev-parse --short HEAD) in $WORK/llmprobe, ../shared -> $SHARED"

for ((i = 0; i < LOOPS; i++)); do
	(while :; do :; done) &
	LOAD_PIDS+=($!)
done
echo "== $LOOPS busy loops on $(nproc) cores; $RUNS runs of scripts/test.sh"

failed=0
results=()
for ((run = 1; run <= RUNS; run++)); do
	log="$WORK/run-$run.log"
	start=$(date +%s)
	(cd "$WORK/llmprobe" && bash scripts/test.sh) >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if ((rc == 0)); then
		result="passed"
	else
		result="FAILED (exit $rc)"
		failed=1
		echo "--- run $run: last lines of its log"
		grep -E -- '--- FAIL|^FAIL|panic:|^ok|Error' "$log" | tail -n 30
	fi
	line=$(printf 'run %d: %dm%02ds %s (load average %s)' "$run" $((secs / 60)) $((secs % 60)) "$result" "$(cut -d' ' -f1-3 /proc/loadavg)")
	results+=("$line")
	echo "$line"
done

echo "== summary"
printf '%s\n' "${results[@]}"
exit "$failed"
