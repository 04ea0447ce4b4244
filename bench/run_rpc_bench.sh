#!/usr/bin/env bash
# The RPC benchmark, in one command: shadowplane's cheapest read RPCs (GetReservation,
# ListLocations) against an empty echo service with the same gRPC settings, measured in the same
# run. The servers and PostgreSQL share core 0; the load client runs on core 1 with 64 calls in
# flight, a fixed count and a time cap. Prints calls per second, p50 and p99 latency, and the
# ratio to the echo service.
#   bench/run_rpc_bench.sh [--tls] [COUNT]    (default 200000 calls per method, at most 60 s each)
# --tls: as shadowplane runs by default: TLS (certificates of a CA made by deploy/local-ca.sh) and
# a bearer token on every call, checked against a tokens file; the echo service serves the same
# TLS and gets the same token (which it does not check).
set -euo pipefail
cd "$(dirname "$0")/.."

TLS=
if [[ "${1:-}" == --tls ]]; then
  TLS=1
  shift
fi
COUNT=${1:-200000}
INFLIGHT=64
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target shadowplane rpc_bench >/dev/null

source deploy/lib/throwaway-postgres.sh
start_throwaway_postgres
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_throwaway_postgres
  [[ -n "${TLS_DIR:-}" ]] && rm -rf "$TLS_DIR"
}
trap cleanup EXIT

server_security=(--insecure)
echo_security=()
load_security=()
if [[ -n "$TLS" ]]; then
  TLS_DIR=$(mktemp -d /tmp/shadowplane-rpc-bench-tls.XXXXXX)
  ./deploy/local-ca.sh "$TLS_DIR/ca"
  token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  (umask 077 && printf 'tokens:\n  - {name: bench, role: viewer, sha256: %s}\n' \
    "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" >"$TLS_DIR/tokens.yaml")
  server_security=("--tls_cert=$TLS_DIR/ca/server.pem" "--tls_key=$TLS_DIR/ca/server.key"
    "--tls_ca=$TLS_DIR/ca/ca.pem" "--tokens_file=$TLS_DIR/tokens.yaml")
  echo_security=("--tls_dir=$TLS_DIR/ca")
  load_security=("--tls_dir=$TLS_DIR/ca" "--token=$token")
fi

# PostgreSQL (its backends inherit the postmaster's affinity) and both servers on core 0.
taskset -pc 0 "$(head -1 "$_PG_DIR/data/postmaster.pid")" >/dev/null
DB_URL=${SHADOWPLANE_TEST_DATABASE_URL%/postgres}/shadowplane_bench
psql -q "$SHADOWPLANE_TEST_DATABASE_URL" -c "CREATE DATABASE shadowplane_bench"

free_port() { echo $((20000 + RANDOM % 40000)); }
SP_PORT=$(free_port)
ECHO_PORT=$(free_port)
taskset -c 0 "$BUILD_DIR/src/shadowplane" --database_url="$DB_URL" --listen="127.0.0.1:$SP_PORT" "${server_security[@]}" \
  --metrics_listen="127.0.0.1:$(free_port)" --log_level=warning &
pids+=($!)
taskset -c 0 "$BUILD_DIR/bench/rpc_bench" echo-server --listen="127.0.0.1:$ECHO_PORT" "${echo_security[@]}" 2>/dev/null &
pids+=($!)

# Wait until shadowplane has migrated the database, then give it something to read.
for _ in $(seq 1 100); do
  psql -qtA "$DB_URL" -c "SELECT max(version) FROM schema_migrations" 2>/dev/null | grep -q '[0-9]' && break
  sleep 0.2
done
RESERVATION=$(psql -qtA "$DB_URL" <<'SQL'
INSERT INTO regions VALUES ('eu-central', 'Central Europe', 50.11, 8.68, '2026-01-01Z');
INSERT INTO regions VALUES ('us-east', 'US East', 39.04, -77.49, '2026-01-01Z');
INSERT INTO locations (name, region, latitude, longitude, agent_endpoint,
  on_demand_price_per_vcpu_hour, on_demand_price_per_gib_hour, capacity_millicores,
  capacity_memory_mib, updated_at)
VALUES ('fra-1', 'eu-central', 50.11, 8.68, '127.0.0.1:1', 0.0464, 0.0058, 8000, 16384, '2026-01-01Z'),
       ('iad-1', 'us-east', 39.04, -77.49, '127.0.0.1:2', 0.0416, 0.0052, 8000, 16384, '2026-01-01Z');
WITH res AS (INSERT INTO resources (name, created_at) VALUES ('bench', '2026-01-01Z') RETURNING id),
     ins AS (INSERT INTO instances (resource_id, role, location, capacity_millicores, memory_mib,
               capacity_type, read_only, state, endpoint, created_at, updated_at)
             SELECT id, r.role, r.location, r.m, r.mib, 'on_demand', r.ro, 'running', r.ep,
                    '2026-01-01Z', '2026-01-01Z' FROM res,
             (VALUES ('primary', 'iad-1', 1000, 512, false, '127.0.2.1:8080'),
                     ('shadow', 'fra-1', 250, 128, true, '127.0.1.1:8080'))
               AS r(role, location, m, mib, ro, ep) RETURNING 1)
INSERT INTO reservations (request_id, resource_id, state, capacity_millicores, memory_mib,
  capacity_type, created_at, updated_at)
SELECT 'bench', id, 'active', 1000, 512, 'on_demand', '2026-01-01Z', '2026-01-01Z' FROM res
RETURNING id;
SQL
)
RESERVATION=$(echo "$RESERVATION" | grep -E '^[0-9a-f-]{36}$' | head -1)

load() {
  taskset -c 1 "$BUILD_DIR/bench/rpc_bench" load --target="$1" --method="$2" --id="$RESERVATION" \
    --inflight=$INFLIGHT --count="${3:-$COUNT}" --max_seconds=60 "${load_security[@]}"
}
# A short warm-up of each, then the measured runs.
load "127.0.0.1:$ECHO_PORT" echo $((COUNT / 10)) >/dev/null
load "127.0.0.1:$SP_PORT" get_reservation $((COUNT / 10)) >/dev/null
load "127.0.0.1:$SP_PORT" list_locations $((COUNT / 10)) >/dev/null
echo_line=$(load "127.0.0.1:$ECHO_PORT" echo)
get_line=$(load "127.0.0.1:$SP_PORT" get_reservation)
list_line=$(load "127.0.0.1:$SP_PORT" list_locations)

echo
echo "RPC benchmark${TLS:+ (TLS and a bearer token on every call)}: $COUNT calls per method, $INFLIGHT in flight; servers and PostgreSQL on core 0, load on core 1"
printf '%-18s %10s %8s %12s %9s %9s %8s\n' method calls errors calls/s p50_ms p99_ms ratio
echo_rate=$(echo "$echo_line" | awk '{print $6}')
for line in "$echo_line" "$get_line" "$list_line"; do
  echo "$line" | awk -v base="$echo_rate" \
    '{printf "%-18s %10d %8d %12.0f %9.3f %9.3f %8.2f\n", $1, $2, $4, $6, $7, $8, $6 / base}'
done
