#!/usr/bin/env bash
# Where the service's workers spend their CPU at the native level (the interpreter, the kernel,
# C extensions), with `perf`, inside a verification run at concurrency 16. py-spy counts a thread
# that is runnable but preempted as busy, which on a shared 2-core machine inflates the frames
# that wake Postgres or OpenBao (see the README, "what the CPU really is"). Not a test: it prints
# perf's summary by shared object. Needs perf and root (or perf_event_paranoid <= 1).
#   bench/native_profile.sh [seconds]     (3 by default; the run lasts until the codes are used)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

.venv/bin/python -m bench.run --concurrency 16 --scenarios verify --duration 12 --no-scale \
  --no-components --wait-for-quiet 0 --verify-users 6000 --verify-users-max 6000 \
  --results "$work" >"$work/bench.log" 2>&1 &
bench=$!

wait_for() {  # wait_for <what> <command…>: up to 15 minutes
  local what=$1; shift
  for _ in $(seq 1 9000); do "$@" && return 0; sleep 0.1; done
  echo "gave up waiting for $what" >&2; kill "$bench"; exit 1
}
# The users are enrolled through wrk too: wait for that wrk to end, then for the run's own.
wait_for "the users to be enrolled" grep -q "users enrolled" "$work/bench.log"
wait_for "the enrollment's wrk to end" bash -c "! pgrep -P $bench -x wrk >/dev/null"
wait_for "the verification run's wrk" pgrep -P "$bench" -x wrk >/dev/null
service=$(pgrep -P "$bench" -f "mfa-service serve")
workers=$(pgrep -d, -P "$service")
perf record -F 999 -g -p "$workers" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$bench"
grep " verify " "$work/bench.log" || true
perf report -i "$work/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
  | grep -v '^#' | grep -v '^$' | head -12
