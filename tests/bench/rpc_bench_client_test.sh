#!/usr/bin/env bash
# The RPC benchmark's load client against its echo server, briefly: many short runs ending by count
# and runs ending by time with calls still in flight (the path that used to free the client's
# state under running callbacks). Each run must exit 0 and print its one result line.
#   tests/bench/rpc_bench_client_test.sh PATH/TO/rpc_bench
set -euo pipefail
BENCH=$1
# The server binds a port of the kernel's choosing and names it: a random port of ours could be
# taken by another test running beside this one.
LOG=$(mktemp)
"$BENCH" echo-server --listen="127.0.0.1:0" 2>"$LOG" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$LOG"' EXIT
PORT=
for _ in $(seq 1 200); do
  PORT=$(sed -n 's/^echo server on port \([0-9]*\)$/\1/p' "$LOG")
  [[ -n $PORT ]] && break
  kill -0 "$server" 2>/dev/null || { echo "echo server exited: $(cat "$LOG")" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { echo "echo server did not name its port in 20 s: $(cat "$LOG")" >&2; exit 1; }

check() {
  local line
  if ! line=$("$BENCH" load --target="127.0.0.1:$PORT" --method=echo "$@"); then
    echo "load $* failed: $line" >&2
    exit 1
  fi
  # method calls ok errors seconds calls_per_second p50_ms p99_ms
  if ! [[ $line =~ ^echo\ [0-9]+\ [0-9]+\ 0\ [0-9.]+\ [0-9]+\ [0-9.]+\ [0-9.]+$ ]]; then
    echo "load $*: unexpected line '$line'" >&2
    exit 1
  fi
  echo "$line"
}

runs=0
for _ in $(seq 1 15); do
  line=$(check --inflight=64 --count=2000 --max_seconds=30)
  [[ $(cut -d' ' -f2 <<<"$line") == 2000 ]] || { echo "expected 2000 calls: $line" >&2; exit 1; }
  runs=$((runs + 1))
done
for _ in $(seq 1 15); do
  check --inflight=64 --count=100000000 --max_seconds=0.2 >/dev/null
  runs=$((runs + 1))
done
echo "$runs load runs ended cleanly"
