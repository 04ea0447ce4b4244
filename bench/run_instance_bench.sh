#!/usr/bin/env bash
# The instance HTTP server benchmark, in one command: shadowplane-instance against nginx (Debian's
# nginx-light, WebDAV module for PUT) serving the same small files in the same run, each measured
# directly and through one HAProxy 2.6 on its defaults, with wrk as the load (closed loop).
#
#   bench/run_instance_bench.sh [SECONDS] [CONNECTIONS]     (default 10 32)
#
# Per row: requests per second and wrk's p50/p99 latency, for GETs of random files among FILES
# (default 1000) of FILE_BYTES (default 1024) and PUTs of FILE_BYTES to random paths among them.
# The instance runs with MILLICORES (default 64000: 64 workers and a 64,000 requests/s limit, so
# that the limit sits above the offered load; the 429s it answered are reported). nginx runs
# `worker_processes auto` (one per core). Note: the instance fsyncs every PUT before answering;
# nginx's WebDAV PUT does not.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-32}
FILES=${FILES:-1000}
FILE_BYTES=${FILE_BYTES:-1024}
MILLICORES=${MILLICORES:-64000}
./deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHADOWPLANE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target shadowplane-instance >/dev/null

WORK=$(mktemp -d /tmp/shadowplane-instance-bench.XXXXXX)
chmod 0755 "$WORK"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  while true; do
    local p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

# The same files for both servers.
mkdir -p "$WORK/instance/data/f" "$WORK/nginx/root/f"
head -c "$FILE_BYTES" /dev/urandom >"$WORK/one"
for i in $(seq 1 "$FILES"); do cp "$WORK/one" "$WORK/instance/data/f/$i"; done
cp -a "$WORK/instance/data/f/." "$WORK/nginx/root/f/"

INSTANCE_PORT=$(free_port)
cat >"$WORK/instance/instance.yaml" <<EOF
instance_id: bench
resource_id: bench
millicores: $MILLICORES
memory_mib: 4096
capacity_type: on_demand
read_only: false
active: true
address: 127.0.0.1
port: $INSTANCE_PORT
# A write lease for the benchmark's day (instance/file_server.h: no lease, no writes).
write_lease_until_ms: $(( ($(date +%s) + 86400) * 1000 ))
EOF
"$BUILD_DIR/src/shadowplane-instance" --instance_dir="$WORK/instance" \
  --max_connections=4096 &
pids+=($!)

NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
user root;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/nginx/root;
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 1m;
    }
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
NGINX_WORKERS=$(grep -c ^processor /proc/cpuinfo)

HAPROXY_INSTANCE=$(free_port)
HAPROXY_NGINX=$(free_port)
cat >"$WORK/haproxy.cfg" <<EOF
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend fe_instance
  bind 127.0.0.1:$HAPROXY_INSTANCE
  default_backend instance
frontend fe_nginx
  bind 127.0.0.1:$HAPROXY_NGINX
  default_backend nginx
backend instance
  server live 127.0.0.1:$INSTANCE_PORT
backend nginx
  server live 127.0.0.1:$NGINX_PORT
EOF
/usr/sbin/haproxy -db -f "$WORK/haproxy.cfg" &
pids+=($!)

for port in "$INSTANCE_PORT" "$NGINX_PORT" "$HAPROXY_INSTANCE" "$HAPROXY_NGINX"; do
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/f/1" && break
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:$port/f/1" || { echo "nothing answers on $port" >&2; exit 1; }
done

cat >"$WORK/get.lua" <<EOF
request = function()
  return wrk.format("GET", "/f/" .. math.random(1, $FILES))
end
EOF
cat >"$WORK/put.lua" <<EOF
local body = string.rep("x", $FILE_BYTES)
request = function()
  return wrk.format("PUT", "/f/" .. math.random(1, $FILES), nil, body)
end
EOF

# wrk's latency figures in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}

declare -A RPS
echo "== $FILES files of $FILE_BYTES B; wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s; instance: $MILLICORES millicores ($((MILLICORES / 250 > 64 ? 64 : MILLICORES / 250)) workers, $MILLICORES requests/s limit); nginx: $NGINX_WORKERS worker processes"
printf "%-10s %-8s %-5s %12s %10s %10s %8s\n" server path op "requests/s" "p50 ms" "p99 ms" "non-2xx"
for op in get put; do
  for path in direct haproxy; do
    for server in instance nginx; do
      case "$server/$path" in
        instance/direct) port=$INSTANCE_PORT ;;
        instance/haproxy) port=$HAPROXY_INSTANCE ;;
        nginx/direct) port=$NGINX_PORT ;;
        nginx/haproxy) port=$HAPROXY_NGINX ;;
      esac
      out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/$op.lua" \
        "http://127.0.0.1:$port")
      rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
      p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
      p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
      bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
      RPS[$server/$path/$op]=$rps
      printf "%-10s %-8s %-5s %12.0f %10s %10s %8s\n" "$server" "$path" "$op" "$rps" "$p50" "$p99" "${bad:-0}"
    done
  done
done

echo "== instance / nginx, requests per second"
for op in get put; do
  for path in direct haproxy; do
    awk -v a="${RPS[instance/$path/$op]}" -v b="${RPS[nginx/$path/$op]}" -v n="$op $path" \
      'BEGIN { printf "%-14s %.2fx\n", n, a / b }'
  done
done
status=$(curl -fs "http://127.0.0.1:$INSTANCE_PORT/_shadowplane/status")
echo "== instance status: rate_limited=$(sed -E 's/.*"rate_limited":([0-9]+).*/\1/' <<<"$status")" \
  "connections_accepted=$(sed -E 's/.*"connections_accepted":([0-9]+).*/\1/' <<<"$status")" \
  "worker_threads=$(sed -E 's/.*"worker_threads":([0-9]+).*/\1/' <<<"$status")"

# The cost of self-monitoring: the same GETs direct with the access log on, off and on again
# (instance.yaml's record_accesses, reloaded on SIGHUP as the agent does), in this run.
set_recording() {
  sed -i '/^record_accesses:/d' "$WORK/instance/instance.yaml"
  echo "record_accesses: $1" >>"$WORK/instance/instance.yaml"
  kill -HUP "${pids[0]}"
  sleep 1
}
recorded() {
  curl -fs "http://127.0.0.1:$INSTANCE_PORT/_shadowplane/status" |
    sed -E 's/.*"accesses_recorded":([0-9]+).*/\1/'
}
echo "== self-monitoring: GET direct with the access log on, off, on"
printf "%-10s %12s %10s %10s %12s\n" recording "requests/s" "p50 ms" "p99 ms" "recorded"
declare -a SELF
for mode in true false true; do
  set_recording "$mode"
  before=$(recorded)
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/get.lua" \
    "http://127.0.0.1:$INSTANCE_PORT")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  SELF+=("$rps")
  printf "%-10s %12.0f %10s %10s %12d\n" "$mode" "$rps" \
    "$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")" \
    "$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")" "$(( $(recorded) - before ))"
done
awk -v on1="${SELF[0]}" -v off="${SELF[1]}" -v on2="${SELF[2]}" \
  'BEGIN { printf "recording on / off: %.2fx (mean of the two on runs against the off run)\n", (on1 + on2) / 2 / off }'
