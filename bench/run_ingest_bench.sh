#!/usr/bin/env bash
# The ingest benchmark, in one command: the same seeded events (bench/ingest_bench.cc: 8 origin
# regions, IPv4 and IPv6, 50,000 clients, 50 resources, one hour of traffic) loaded
#   (a) through TelemetryService.RecordAccess over loopback from a separate client process, end to
#       end to commit (validation, origin lookup, COPY, demand_hourly rollup, batch ids), and
#   (b) with `psql \copy` of the equivalent CSV into the same partitioned client_access_log
#       (no rollup),
# into one throwaway PostgreSQL, alternating, ROUNDS times (a fresh server and empty tables each
# round); prints rows per second and the ratio, affinity writes, and the server's peak memory and
# CPU time over the load.
#
#   bench/run_ingest_bench.sh [--tls] [EVENTS] [ROUNDS]     (default 1000000 2)
# --tls: as shadowplane runs by default: TLS (certificates of a CA made by deploy/local-ca.sh) and
# a bearer token on every stream, checked against a tokens file (an admin's: the events speak of every team's resources).
# SEND_FLAGS adds flags to the client (e.g. --streams=4 --batch=5000), SERVER_FLAGS to the server.
set -euo pipefail
cd "$(dirname "$0")/.."

TLS=
if [[ "${1:-}" == --tls ]]; then
  TLS=1
  shift
fi
EVENTS=${1:-1000000}
ROUNDS=${2:-2}
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target shadowplane ingest_bench >/dev/null
BENCH="$BUILD_DIR/bench/ingest_bench"

source deploy/lib/throwaway-postgres.sh
start_throwaway_postgres
ADMIN_URL=$SHADOWPLANE_TEST_DATABASE_URL
psql -q "$ADMIN_URL" -c "CREATE DATABASE ingest_bench" >/dev/null
DB_URL=${ADMIN_URL%/postgres}/ingest_bench
WORK=$(mktemp -d /tmp/shadowplane-ingest-bench.XXXXXX)
chmod 0755 "$WORK"
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  [[ -n "${KEEP_SERVER_LOG:-}" ]] && cp "$WORK/server.log" "$KEEP_SERVER_LOG"
  rm -rf "$WORK"
  stop_throwaway_postgres
}
trap cleanup EXIT

server_security=(--insecure)
send_security=()
if [[ -n "$TLS" ]]; then
  ./deploy/local-ca.sh "$WORK/ca" >/dev/null
  token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  (umask 077 && printf 'tokens:\n  - {name: bench, role: admin, sha256: %s}\n' \
    "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" >"$WORK/tokens.yaml")
  server_security=("--tls_cert=$WORK/ca/server.pem" "--tls_key=$WORK/ca/server.key"
    "--tls_ca=$WORK/ca/ca.pem" "--tokens_file=$WORK/tokens.yaml")
  send_security=("--tls_dir=$WORK/ca" "--token=$token")
fi

END=$(($(date +%s) - 60))
"$BENCH" config >"$WORK/locations.yaml"
echo "== generating $EVENTS events (seed 1, one hour ending $(date -u -d "@$END" +%FT%TZ))"
"$BENCH" csv --events="$EVENTS" --seed=1 --end="$END" >"$WORK/events.csv"

# A fresh server for each round: its caches (resources, affinity already written) start empty,
# so no round benefits from an earlier one.
start_server() {
  PORT=$((20000 + RANDOM % 40000))
  METRICS=$((20000 + RANDOM % 40000))
  "$BUILD_DIR/src/shadowplane" --database_url="$DB_URL" --listen="127.0.0.1:$PORT" "${server_security[@]}" \
    --metrics_listen="127.0.0.1:$METRICS" --locations_file="$WORK/locations.yaml" \
    --log_level=${SERVER_LOG_LEVEL:-warning} ${SERVER_FLAGS:-} 2>>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if psql -qtA "$DB_URL" -c "SELECT count(*) FROM geo_networks" 2>/dev/null | grep -q '^16$' &&
      curl -sf "http://127.0.0.1:$METRICS/metrics" >/dev/null; then
      return
    fi
    sleep 0.2
  done
  echo "shadowplane did not start; its log:" >&2
  cat "$WORK/server.log" >&2
  exit 1
}
stop_server() {
  kill -TERM "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
start_server
"$BENCH" setup --resources=50 | psql -q "$DB_URL" >/dev/null
stop_server  # it applied the schema and the locations file
for day in "$(date -u -d "@$((END - 86400))" +%F)" "$(date -u -d "@$END" +%F)"; do
  next=$(date -u -d "$day + 1 day" +%F)
  psql -q "$DB_URL" -c "CREATE TABLE IF NOT EXISTS client_access_log_p${day//-/} PARTITION OF \
    client_access_log FOR VALUES FROM ('$day 00:00:00+00') TO ('$next 00:00:00+00')" >/dev/null
done

COLUMNS_LIST="ts, client_ip, resource_id, instance_id, request_type, cpu_millis, memory_bytes, bytes_in, bytes_out, latency_ms, origin_region, client_id"
reset_tables() {
  psql -q "$DB_URL" -c "TRUNCATE client_access_log, demand_hourly, ingest_batches, client_affinity" >/dev/null
  psql -q "$DB_URL" -c "CHECKPOINT" >/dev/null
}
count() { psql -qtA "$DB_URL" -c "$1"; }

if [[ -n "$TLS" ]]; then echo "== TLS and a bearer token on every stream"; else echo "== plaintext (--insecure)"; fi
printf '%-6s %-34s %10s %12s\n' round method seconds rows/s
best_copy=0 best_grpc=0 max_peak_kib=0
for round in $(seq 1 "$ROUNDS"); do
  reset_tables
  start=$(date +%s.%N)
  psql -q "$DB_URL" -c "\\copy client_access_log ($COLUMNS_LIST) FROM '$WORK/events.csv' WITH (FORMAT csv)"
  end=$(date +%s.%N)
  copy_s=$(echo "$end - $start" | bc -l)
  rows=$(count "SELECT count(*) FROM client_access_log")
  [[ $rows -eq $EVENTS ]] || { echo "psql \\copy stored $rows of $EVENTS" >&2; exit 1; }
  copy_rate=$(echo "$EVENTS / $copy_s" | bc -l)
  printf '%-6s %-34s %10.3f %12.0f\n' "$round" "(b) psql \\copy" "$copy_s" "$copy_rate"

  reset_tables
  start_server
  read -r grpc_s accepted acked refused < <("$BENCH" send --events="$EVENTS" --seed=1 --end="$END" \
    --server="127.0.0.1:$PORT" "${send_security[@]}" ${SEND_FLAGS:-})
  rows=$(count "SELECT count(*) FROM client_access_log")
  demand=$(count "SELECT sum(requests) FROM demand_hourly")
  if [[ $rows -ne $EVENTS || $demand -ne $EVENTS || $accepted -ne $EVENTS ]]; then
    echo "RecordAccess: $accepted accepted, $rows rows, $demand in demand_hourly, of $EVENTS" >&2
    exit 1
  fi
  grpc_rate=$(echo "$EVENTS / $grpc_s" | bc -l)
  printf '%-6s %-34s %10.3f %12.0f   ratio %.2fx (%s batches, %s refused and resent)\n' \
    "$round" "(a) RecordAccess, rollup included" "$grpc_s" "$grpc_rate" \
    "$(echo "$grpc_rate / $copy_rate" | bc -l)" "$acked" "$refused"
  peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
  # utime + stime (fields 14 and 15; the name in field 2 has no spaces) in clock ticks.
  cpu_s=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$SERVER_PID/stat")
  ((peak_kib > max_peak_kib)) && max_peak_kib=$peak_kib
  sleep 6  # the last affinity flush
  metric() { curl -sf "http://127.0.0.1:$METRICS/metrics" | awk -v m="$1" 'index($0, m) == 1 {print $2}'; }
  echo "       client_affinity: $(count "SELECT count(*) FROM client_affinity") clients, $(metric 'shadowplane_client_affinity_updates_total{result="written"}') row writes; peak memory $((peak_kib / 1024)) MiB; server CPU ${cpu_s} s"
  stop_server
  (($(echo "$copy_rate > $best_copy" | bc -l))) && best_copy=$copy_rate
  (($(echo "$grpc_rate > $best_grpc" | bc -l))) && best_grpc=$grpc_rate
done

cells=$(count "SELECT count(*) FROM demand_hourly")
regions=$(count "SELECT string_agg(origin_region || '=' || n, ' ') FROM (SELECT origin_region, sum(requests) n FROM demand_hourly GROUP BY 1 ORDER BY 2 DESC) x")
echo
echo "demand_hourly: $cells rows; requests by origin region: $regions"
printf 'best of %s: RecordAccess %.0f rows/s, psql \\copy %.0f rows/s: ratio %.2fx (target 0.7x)\n' \
  "$ROUNDS" "$best_grpc" "$best_copy" "$(echo "$best_grpc / $best_copy" | bc -l)"
printf 'server peak memory (VmHWM), highest round: %.1f MiB (target under 256 MB)\n' "$(echo "$max_peak_kib / 1024" | bc -l)"
