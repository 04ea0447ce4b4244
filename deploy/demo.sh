#!/usr/bin/env bash
# The whole idea on one machine, in about five minutes: the embedded PostgreSQL, the server, three
# agents (fra-1, iad-1, sin-1), HAProxy in front of the resource and Prometheus scraping them all
# (deploy/prometheus/alerts.yml loaded), on a clock running an hour every two seconds. A resource
# is reserved with the planner in auto mode, three weeks of the synthetic follow-the-sun trace
# are back-filled, then the load generator replays the next days live through HAProxy while the
# planner moves the resource after its demand. At the end it prints what happened and stops
# everything it started (also on Ctrl-C or SIGTERM).
#
#   ./deploy/demo.sh                 # installs what is missing, builds Release, runs
#   DEMO_HOURS=48 ./deploy/demo.sh   # fewer simulated hours (default 96: four days, ~3.5 min)
#
# For tests (tests/deploy/demo_test.cc): DEMO_BIN_DIR=DIR takes the binaries from DIR (their
# build directory's src/) instead of installing and building; DEMO_PORT_BASE=P puts its twelve
# ports at P..P+11 instead of those below; DEMO_HOLD=1 keeps everything running after the summary until stopped (at the latest
# when the five minutes are up), so that it can be looked at.
#
# Needs the ports below free (it refuses to start otherwise). State goes to a fresh directory
# under /tmp, kept afterwards for a look (its path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${DEMO_BIN_DIR:-}" ]]; then
  BIN=$DEMO_BIN_DIR
else
  ./deploy/install-deps.sh
  BUILD_DIR=${BUILD_DIR:-build-release}
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target shadowplane shadowplane-agent shadowplane-instance shadowctl
  BIN=$BUILD_DIR/src
fi

SCALE=1800                      # domain seconds per real second: an hour every 2 s
HOURS=${DEMO_HOURS:-96}         # simulated hours replayed live
FROM_HOUR=672                   # the trace's hour where the live part starts (after 4 weeks)
if [[ -n "${DEMO_PORT_BASE:-}" ]]; then
  [[ "$DEMO_PORT_BASE" =~ ^[0-9]+$ && DEMO_PORT_BASE -ge 1024 && DEMO_PORT_BASE -le 65524 ]] ||
    { echo "demo.sh: DEMO_PORT_BASE must be a port number from 1024 to 65524" >&2; exit 2; }
  PORTS=($(seq "$DEMO_PORT_BASE" $((DEMO_PORT_BASE + 11))))
else
  PORTS=(50151 9564 50161 50162 50163 9565 9566 9567 8181 8182 8183 9590)
fi
SERVER_PORT=${PORTS[0]}
SERVER=127.0.0.1:$SERVER_PORT
SERVER_METRICS=${PORTS[1]}
AGENT_PORTS=("${PORTS[@]:2:3}")
AGENT_METRICS=("${PORTS[@]:5:3}")
LOCATIONS=(fra-1 iad-1 sin-1)
NETWORKS=(127.0.1 127.0.2 127.0.3)
FRONTEND=${PORTS[8]}            # HAProxy's frontend for the service name "web"
FRONTENDS_OTHER=("${PORTS[@]:9:2}")
PROMETHEUS=${PORTS[11]}

for port in "${PORTS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo.sh: port $port on 127.0.0.1 is in use (deploy/run.sh or another demo?); stop it first" >&2
    exit 1
  fi
done

STATE=$(mktemp -d /tmp/shadowplane-demo.XXXXXX)
chmod 755 "$STATE"  # as root, the embedded PostgreSQL runs as an unprivileged user
EPOCH=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TIME_FLAGS=(--time_scale="$SCALE" --time_epoch="$EPOCH")
# Everything over mutual TLS with a CA of the demo's own, callers authenticated (as deploy/run.sh).
source deploy/lib/local-admin-token.sh
./deploy/local-ca.sh "$STATE/tls" --agent "${LOCATIONS[0]}" --agent "${LOCATIONS[1]}" \
  --agent "${LOCATIONS[2]}"
make_local_admin_token "$STATE" demo-admin
CTL=("$BIN/shadowctl" --server="$SERVER" --ca="$STATE/tls/ca.pem" --token_file="$STATE/admin.token")

pids=()
server_pid=
source deploy/lib/stop-process.sh
stop_everything() {
  trap - EXIT INT TERM HUP
  echo "stopping everything the demo started..." >&2
  for pid in "${pids[@]}"; do [[ "$pid" == "$server_pid" ]] || kill -TERM "$pid" 2>/dev/null || true; done
  [[ -n "$server_pid" ]] && stop_within "$server_pid" 30  # with it its PostgreSQL
  for pid in "${pids[@]}"; do stop_within "$pid" 10; done
  for pidfile in "$STATE"/agents/*/instances/*/instance.pid; do
    [[ -f "$pidfile" ]] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
  echo "state and logs kept in $STATE" >&2
}
trap stop_everything EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The locations file with the demo's agent ports.
sed -e "s/127.0.0.1:50061/127.0.0.1:${AGENT_PORTS[0]}/" -e "s/127.0.0.1:50062/127.0.0.1:${AGENT_PORTS[1]}/" \
  -e "s/127.0.0.1:50063/127.0.0.1:${AGENT_PORTS[2]}/" deploy/local/locations.yaml >"$STATE/locations.yaml"

mkdir -p "$STATE/haproxy"
touch "$STATE/haproxy/servers.state"
sed -e "s|@STATE@|$STATE|g" -e "s/127.0.0.1:8081/127.0.0.1:$FRONTEND/" -e "s/127.0.0.1:8082/127.0.0.1:${FRONTENDS_OTHER[0]}/" \
  -e "s/127.0.0.1:8083/127.0.0.1:${FRONTENDS_OTHER[1]}/" deploy/local/haproxy.cfg >"$STATE/haproxy/haproxy.cfg"
/usr/sbin/haproxy -db -f "$STATE/haproxy/haproxy.cfg" >"$STATE/haproxy.log" 2>&1 &
pids+=($!)

for i in 0 1 2; do
  "$BIN/shadowplane-agent" --location="${LOCATIONS[$i]}" --listen="127.0.0.1:${AGENT_PORTS[$i]}" \
    --tls_cert="$STATE/tls/agent-${LOCATIONS[$i]}.pem" --tls_key="$STATE/tls/agent-${LOCATIONS[$i]}.key" \
    --tls_ca="$STATE/tls/ca.pem" \
    --metrics_listen="127.0.0.1:${AGENT_METRICS[$i]}" --data_root="$STATE/agents/${LOCATIONS[$i]}" \
    --instance_network="${NETWORKS[$i]}" --control_plane="$SERVER" --trusted_proxies=127.0.0.1 \
    --access_poll_interval=250ms --utilization_interval=1s "${TIME_FLAGS[@]}" \
    --seed_root="$PWD/deploy/local" >"$STATE/agent-${LOCATIONS[$i]}.log" 2>&1 &
  pids+=($!)
done

# Intervals fitted to the clock: forecasts refit every simulated hour, a plan every half hour of
# domain time (a second), the planner looking six hours ahead (and a move judged over as long);
# latency priced so that a hundred milliseconds nearer the clients outweighs the locations' price
# differences.
"$BIN/shadowplane" --listen="$SERVER" --metrics_listen="127.0.0.1:$SERVER_METRICS" \
  --tls_cert="$STATE/tls/server.pem" --tls_key="$STATE/tls/server.key" --tls_ca="$STATE/tls/ca.pem" \
  --tokens_file="$STATE/tokens.yaml" \
  --data_dir="$STATE/db" --locations_file="$STATE/locations.yaml" "${TIME_FLAGS[@]}" \
  --traffic_provider=haproxy --haproxy_socket="$STATE/haproxy/admin.sock" \
  --haproxy_state_file="$STATE/haproxy/servers.state" \
  --forecast_interval=1s --forecast_refit_hours=1 --plan_interval=30m --plan_horizon=6h \
  --latency_price_per_request_ms=0.00002 --reconcile_interval=1s --sync_tick=250ms \
  --max_batch_events=30000 \
  >"$STATE/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")

mkdir -p "$STATE/prometheus"
cat >"$STATE/prometheus/prometheus.yml" <<EOF
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: ['$PWD/deploy/prometheus/alerts.yml']
scrape_configs:
  - job_name: shadowplane
    static_configs: [{targets: ['127.0.0.1:$SERVER_METRICS']}]
  - job_name: shadowplane-agent
    static_configs: [{targets: ['127.0.0.1:${AGENT_METRICS[0]}', '127.0.0.1:${AGENT_METRICS[1]}', '127.0.0.1:${AGENT_METRICS[2]}']}]
EOF
/usr/bin/prometheus --config.file="$STATE/prometheus/prometheus.yml" \
  --storage.tsdb.path="$STATE/prometheus/data" --web.listen-address="127.0.0.1:$PROMETHEUS" \
  --log.level=warn >"$STATE/prometheus.log" 2>&1 &
pids+=($!)

echo "waiting for the server..." >&2
for ((i = 0; i < 120; i++)); do
  grep -q '"shadowplane started"' "$STATE/server.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$STATE/server.log" >&2; exit 1; }
  sleep 0.5
done
until "${CTL[@]}" locations list >/dev/null 2>&1; do sleep 0.5; done

# The resource, its history, then live load. The demo ends within five minutes whatever happens.
# (Its sleep is stopped with it, so that nothing of the demo outlives it.)
( trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  sleep 300 & nap=$!; wait "$nap"; echo "demo.sh: five minutes are up" >&2; kill -TERM $$ ) &
watchdog=$!
pids+=("$watchdog")
"${CTL[@]}" reserve --request_id=demo --name=web --millicores=1000 --memory_mib=512 \
  --seed_dir="$PWD/deploy/local/seed" --planner_mode=auto --json >"$STATE/reservation.json"
RESOURCE=$(sed -n 's/.*"resource_id": "\([^"]*\)".*/\1/p' "$STATE/reservation.json" | head -1)
RESERVATION=$(sed -n 's/^  "id": "\([^"]*\)".*/\1/p' "$STATE/reservation.json" | head -1)
echo "reserved web ($RESERVATION): $(sed -n 's/.*"location": "\([^"]*\)".*/\1/p' "$STATE/reservation.json" | head -1) primary" >&2
echo "back-filling three weeks of the synthetic trace..." >&2
"${CTL[@]}" loadgen --backfill=3 --resource="$RESOURCE" --from_hour="$FROM_HOUR" \
  --locations_file="$STATE/locations.yaml" --max_requests=500000 | tail -1 >&2

# Domain time now (every process computes it the same way from the epoch and the scale): the
# hour the live part's demand starts in.
epoch_s=$(date -u -d "$EPOCH" +%s)
now_s=$(date -u +%s)
LIVE_FROM=$(date -u -d "@$(( (epoch_s + (now_s - epoch_s) * SCALE) / 3600 * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
echo "live: $HOURS simulated hours from $LIVE_FROM through HAProxy at 127.0.0.1:$FRONTEND (an hour every 2 s)" >&2
"${CTL[@]}" loadgen --endpoint="127.0.0.1:$FRONTEND" --from_hour="$FROM_HOUR" --hours="$HOURS" \
  --time_scale="$SCALE" --locations_file="$STATE/locations.yaml" --max_seconds=260 \
  --resource="$RESOURCE" --report_json="$STATE/loadgen.json" \
  >"$STATE/loadgen.txt" 2>"$STATE/loadgen.err" &
loadgen=$!
pids+=("$loadgen")
if [[ -t 1 ]]; then
  while kill -0 "$loadgen" 2>/dev/null; do
    "${CTL[@]}" top --iterations=1 2>/dev/null | sed '1s/^/\x1b[H\x1b[2J/' || true
    sleep 2
  done
else
  while kill -0 "$loadgen" 2>/dev/null; do
    "${CTL[@]}" top --iterations=1 2>/dev/null | head -6 || true
    sleep 20
  done
fi
wait "$loadgen" || true

echo
echo "=== shadowplane demo: summary ==="
cat "$STATE/loadgen.txt"
echo
echo "--- migrations ---"
"${CTL[@]}" migrations list --resource="$RESOURCE"
echo
echo "--- what each move's observation found: the demand shift it was made for, forecast against realised demand, whether it paid ---"
"${CTL[@]}" --json migrations list --resource="$RESOURCE" | awk -F'"' '
  /^ *"id": / { id = $4 } /^ *"target_location": / { to = $4 }
  /"observation_note": / { note = $4; sub(/^ */, "", note); printf "%s -> %s: %s\n", id, to, note }' || true
echo
echo "--- planner decisions that moved it ---"
"${CTL[@]}" decisions list --resource="$RESOURCE" --outcome=move | head -20 || true
echo
echo "--- requests the control plane recorded from the instances' own logs since $LIVE_FROM ---"
# Summed over the hours of the live part (the instances' records, shipped by the agents), to set
# against what the load generator counted as answered above.
"${CTL[@]}" demand "$RESOURCE" --from="$LIVE_FROM" | awk '
  NR == 1 { for (i = 1; i <= NF; i++) { name[i] = $i; if ($i == "TOTAL") last = i } next }
  { for (i = 3; i <= last; i++) sum[i] += $i }
  END { for (i = 3; i <= last; i++) printf "%s %d  ", tolower(name[i]), sum[i]; print "" }' || true
echo
echo "Prometheus:  http://127.0.0.1:$PROMETHEUS (alerts: http://127.0.0.1:$PROMETHEUS/alerts)"
echo "Dashboard:   $PWD/deploy/grafana/shadowplane.json (import into Grafana 9+, data source: that Prometheus)"
echo "shadowctl:   $BIN/shadowctl --server=$SERVER --ca=$STATE/tls/ca.pem --token_file=$STATE/admin.token ..."
echo "State, logs: $STATE"
if [[ -n "${DEMO_HOLD:-}" ]]; then
  echo "holding (DEMO_HOLD): everything keeps running until stopped"
  wait "$watchdog" || true
fi
