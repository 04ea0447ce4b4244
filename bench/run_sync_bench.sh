#!/usr/bin/env bash
# The sync benchmark, in one command: shadowplane's agent-to-agent sync over loopback against
# `rsync -a --no-whole-file` on the same pair of trees, with `cat` of the tree into /dev/null as
# the read-speed bound, all in the same run on the same (page-cached) data.
#
# A seeded generator (bench/sync_bench_data.cc) makes ~200 files, ~512 MB (version 1), then two
# successive new versions with ~1% of bytes changed in scattered places (overwrites, inserts, a
# few appends, one file deleted, one new; changed files' mtimes moved). Round 1 (cold: the target
# agent has no cached signatures) syncs version 1 -> 2; round 2 (steady state: signatures cached
# from round 1) syncs 2 -> 3. rsync does the same two rounds on its own copy.
#
#   bench/run_sync_bench.sh [TOTAL_MIB] [FILES]     (default 512 200)
# AGENT_FLAGS adds flags to both agents (e.g. --sync_threads=1). Set SYNC_BENCH_DIR to keep the generated trees somewhere else (default: a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

TOTAL_MIB=${1:-512}
FILES=${2:-200}
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" \
  --target shadowplane-agent shadowplane-instance sync_bench sync_bench_data >/dev/null
BIN="$BUILD_DIR/bench"

WORK=${SYNC_BENCH_DIR:-$(mktemp -d /tmp/shadowplane-sync-bench.XXXXXX)}
mkdir -p "$WORK"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The agents' instances outlive them by design: stop them too.
  pkill -f "shadowplane-instance --instance_dir=$WORK/" 2>/dev/null || true
  [[ -n "${SYNC_BENCH_DIR:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "== data: $FILES files, $TOTAL_MIB MiB, in $WORK"
rm -rf "$WORK/v1" "$WORK/v2" "$WORK/v3" "$WORK/rsync-target" "$WORK/agents"
"$BIN/sync_bench_data" generate "$WORK/v1" --files="$FILES" --total_mib="$TOTAL_MIB" --seed=1
cp -a "$WORK/v1" "$WORK/v2"
"$BIN/sync_bench_data" mutate "$WORK/v2" --seed=2
cp -a "$WORK/v2" "$WORK/v3"
"$BIN/sync_bench_data" mutate "$WORK/v3" --seed=3 --mtime_shift=7200

free_port() { echo $((20000 + RANDOM % 40000)); }
start_agent() {  # NAME NETWORK -> sets AGENT_PORT, AGENT_METRICS, AGENT_PID
  AGENT_PORT=$(free_port)
  AGENT_METRICS=$(free_port)
  "$BUILD_DIR/src/shadowplane-agent" --location="$1" --listen="127.0.0.1:$AGENT_PORT" --insecure \
    --metrics_listen="127.0.0.1:$AGENT_METRICS" --data_root="$WORK/agents/$1" \
    --instance_network="$2" --instance_port="$(free_port)" --log_level=warning \
    --seed_root="$WORK" ${AGENT_FLAGS:-} &
  AGENT_PID=$!
  pids+=("$AGENT_PID")
  for _ in $(seq 1 100); do
    # An answer (here: that the request lacks a source) means the agent is up.
    local answer
    answer=$("$BIN/sync_bench" sync --target_agent="127.0.0.1:$AGENT_PORT" 2>&1 || true)
    [[ $answer == *source_endpoint* ]] && return
    sleep 0.1
  done
  echo "agent $1 did not start" >&2
  exit 1
}
start_agent source 127.0.91
SOURCE_AGENT=127.0.0.1:$AGENT_PORT SOURCE_PID=$AGENT_PID
start_agent target 127.0.92
TARGET_AGENT=127.0.0.1:$AGENT_PORT TARGET_PID=$AGENT_PID

SOURCE_DATA=$("$BIN/sync_bench" create --agent="$SOURCE_AGENT" --instance=bench-source --seed_dir="$WORK/v1")
TARGET_DATA=$("$BIN/sync_bench" create --agent="$TARGET_AGENT" --instance=bench-target --seed_dir="$WORK/v1" --read_only)
cp -a "$WORK/v1" "$WORK/rsync-target"
# The seed copy does not keep mtimes: give both targets version 1 exactly, then settle the cache.
rsync -a --delete "$WORK/v1/" "$SOURCE_DATA/"
rsync -a --delete "$WORK/v1/" "$TARGET_DATA/"
cat $(find "$WORK" -type f) >/dev/null
# Restart the target agent so that round 1 starts cold, with no cached signature.
kill -TERM "$TARGET_PID"; wait "$TARGET_PID" 2>/dev/null || true
start_agent target 127.0.92
TARGET_AGENT=127.0.0.1:$AGENT_PORT TARGET_PID=$AGENT_PID TARGET_METRICS=$AGENT_METRICS

# After a round the target agent signs the files it rebuilt in the background (for the next
# round); wait for that to finish so that it does not slow down what is measured next.
wait_for_idle_target() {
  for _ in $(seq 1 600); do
    curl -s "http://127.0.0.1:$TARGET_METRICS/metrics" |
      grep -q '^shadowplane_agent_sync_signature_backlog 0' && return
    sleep 0.1
  done
  echo "the target agent's signature backlog did not drain" >&2
}

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
rsync_round() {  # VERSION -> prints "wall wire peak_kib"
  local out s e
  s=$(date +%s.%N)
  out=$(/usr/bin/time -f 'peak_kib=%M' rsync -a --no-whole-file --delete --stats \
    "$WORK/$1/" "$WORK/rsync-target/" 2>&1)
  e=$(date +%s.%N)
  local sent recv
  sent=$(echo "$out" | awk -F': ' '/^Total bytes sent/ {gsub(",","",$2); print $2}')
  recv=$(echo "$out" | awk -F': ' '/^Total bytes received/ {gsub(",","",$2); print $2}')
  echo "$(echo "$e - $s" | bc -l) $((sent + recv)) $(echo "$out" | sed -n 's/^peak_kib=//p')"
}
our_round() {  # VERSION -> prints sync_bench's figures
  rsync -a --delete "$WORK/$1/" "$SOURCE_DATA/"   # the source instance moves to VERSION
  cat $(find "$SOURCE_DATA" "$TARGET_DATA" -type f) >/dev/null
  "$BIN/sync_bench" sync --target_agent="$TARGET_AGENT" --source_agent="$SOURCE_AGENT" \
    --source_instance=bench-source --target_instance=bench-target --mode=quick
}
cpu_seconds() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
peak_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
reset_peak() { echo 5 >"/proc/$1/clear_refs"; }  # VmHWM starts over from the current RSS
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }

CAT=$(seconds sh -c "cat \$(find '$WORK/v2' -type f) > /dev/null")
echo "== cat of the tree into /dev/null: ${CAT}s"
for round in 1 2; do
  version=v$((round + 1))
  label=$([[ $round == 1 ]] && echo "cold  " || echo "steady")
  src_cpu0=$(cpu_seconds "$SOURCE_PID") dst_cpu0=$(cpu_seconds "$TARGET_PID")
  reset_peak "$SOURCE_PID"
  reset_peak "$TARGET_PID"
  ours=$(our_round "$version")
  src_cpu=$(echo "$(cpu_seconds "$SOURCE_PID") - $src_cpu0" | bc -l)
  dst_cpu=$(echo "$(cpu_seconds "$TARGET_PID") - $dst_cpu0" | bc -l)
  src_peak=$(peak_mib "$SOURCE_PID") dst_peak=$(peak_mib "$TARGET_PID")
  wait_for_idle_target
  read -r rs_wall rs_wire rs_peak < <(rsync_round "$version")
  wall=$(field "$ours" wall_seconds)
  wire=$(field "$ours" wire_bytes)
  echo "== round $round ($label): $ours"
  printf '   shadowplane: %8.3f s  %11d wire bytes (signatures %d, literal %d)\n' "$wall" "$wire" \
    "$(field "$ours" signature_bytes)" "$(field "$ours" literal_bytes)"
  printf '   agents:      CPU source %.2f s, target %.2f s; peak memory source %s MiB, target %s MiB\n' \
    "$src_cpu" "$dst_cpu" "$src_peak" "$dst_peak"
  printf '   rsync:       %8.3f s  %11d wire bytes, peak memory %.1f MiB\n' "$rs_wall" "$rs_wire" \
    "$(echo "$rs_peak / 1024" | bc -l)"
  printf '   ratio:       %8.2fx time %7.3fx wire bytes\n' "$(echo "$wall / $rs_wall" | bc -l)" \
    "$(echo "$wire / $rs_wire" | bc -l)"
done
# Final rounds (a migration's cutover, source frozen): a checksum round first fills both sides'
# hash caches, then each final round syncs only a dirty set and proves identity by tree hash.
reset_peak "$SOURCE_PID"
reset_peak "$TARGET_PID"
# sync_bench exits non-zero when a checksum or final round does not end with equal tree hashes.
full=$("$BIN/sync_bench" sync --target_agent="$TARGET_AGENT" --source_agent="$SOURCE_AGENT" \
  --source_instance=bench-source --target_instance=bench-target --mode=checksum) ||
  { echo "FAILED: the checksum round did not prove the trees identical" >&2; exit 1; }
printf '== checksum round over the quiet tree: %s s (identical: %s)\n' \
  "$(field "$full" wall_seconds)" "$(field "$full" identical)"
echo "== final rounds: duration against the dirty set"
for count in 1 10 50; do
  read -r paths bytes < <("$BIN/sync_bench_data" dirty "$SOURCE_DATA" --count="$count" --seed="$count")
  final=$("$BIN/sync_bench" sync --target_agent="$TARGET_AGENT" --source_agent="$SOURCE_AGENT" \
    --source_instance=bench-source --target_instance=bench-target --mode=final --paths="$paths") ||
    { echo "FAILED: the final round over $count dirty files did not prove the trees identical" >&2; exit 1; }
  printf '   %3d dirty files, %10d bytes: %.3f s, %d wire bytes, identical: %s\n' "$count" "$bytes" \
    "$(field "$final" wall_seconds)" "$(field "$final" wire_bytes)" "$(field "$final" identical)"
  wait_for_idle_target
done
rsync -a --delete "$WORK/v3/" "$SOURCE_DATA/"
"$BIN/sync_bench" sync --target_agent="$TARGET_AGENT" --source_agent="$SOURCE_AGENT" \
  --source_instance=bench-source --target_instance=bench-target --mode=quick >/dev/null
if ! diff -r "$WORK/v3" "$TARGET_DATA" >/dev/null; then
  echo "MISMATCH: the target differs from version 3" >&2
  exit 1
fi
echo "== target is identical to version 3 (diff -r)"
echo "== peak memory (VmHWM) over the checksum and final rounds: source agent $(peak_mib "$SOURCE_PID") MiB, target agent $(peak_mib "$TARGET_PID") MiB"
