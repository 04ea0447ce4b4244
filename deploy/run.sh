#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs shadowplane in the foreground on its embedded
# PostgreSQL (created on first run, reused after) with three local agents, one per location of
# deploy/local/locations.yaml. Ctrl-C stops the server, the agents and their instances.
# Arguments go to shadowplane, e.g. --listen=0.0.0.0:50051.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target shadowplane shadowplane-agent shadowplane-instance shadowctl

if [[ $(id -u) -eq 0 ]]; then
  STATE_DIR=${SHADOWPLANE_LOCAL_STATE:-/var/lib/shadowplane-local}
else
  STATE_DIR=${SHADOWPLANE_LOCAL_STATE:-${XDG_DATA_HOME:-$HOME/.local/share}/shadowplane-local}
fi
mkdir -p "$STATE_DIR"

# location  agent port  metrics port  instance network (must match deploy/local/locations.yaml)
AGENTS=("fra-1 50061 9465 127.0.1" "iad-1 50062 9466 127.0.2" "sin-1 50063 9467 127.0.3")
agent_pids=()

stop_everything() {
  for pid in "${agent_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${agent_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Instances outlive their agents by design; in this local setup they go with the rest.
  for pidfile in "$STATE_DIR"/agents/*/instances/*/instance.pid; do
    [[ -f "$pidfile" ]] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap stop_everything EXIT

for agent in "${AGENTS[@]}"; do
  read -r name port metrics network <<<"$agent"
  "$BUILD_DIR/src/shadowplane-agent" --location="$name" --listen="127.0.0.1:$port" \
    --metrics_listen="127.0.0.1:$metrics" --data_root="$STATE_DIR/agents/$name" \
    --instance_network="$network" >>"$STATE_DIR/agent-$name.log" 2>&1 &
  agent_pids+=($!)
done
echo "agents: fra-1 127.0.0.1:50061, iad-1 127.0.0.1:50062, sin-1 127.0.0.1:50063 (logs in $STATE_DIR)" >&2
echo "try:    $BUILD_DIR/src/shadowctl locations list" >&2

"$BUILD_DIR/src/shadowplane" --locations_file=deploy/local/locations.yaml "$@"
