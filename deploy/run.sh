#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs shadowplane in the foreground on its embedded
# PostgreSQL (created on first run, reused after) with three local agents, one per location of
# deploy/local/locations.yaml. Ctrl-C, SIGTERM or SIGHUP stop the server (and with it its
# PostgreSQL), then the agents, their instances and the traffic servers.
# Everything speaks TLS with certificates of a local CA made on first run (deploy/local-ca.sh, in
# $STATE_DIR/tls), and callers authenticate: an admin token is made on first run too
# ($STATE_DIR/admin.token; the tokens file is $STATE_DIR/tokens.yaml). With --insecure among the
# arguments, everything speaks plaintext on loopback and nobody is authenticated instead.
# Arguments go to shadowplane, e.g. --database_url=..., except the first when it is
#   --traffic=dns       also start Knot DNS (deploy/local/knot.conf, zone shadowplane.local. on
#                       127.0.0.1:5353) and steer each reservation's name there (rfc2136)
#   --traffic=haproxy   also start HAProxy (deploy/local/haproxy.cfg, frontends 127.0.0.1:8081-8083
#                       for the service names web, api, shop) and steer its backends
set -euo pipefail
cd "$(dirname "$0")/.."

TRAFFIC=
if [[ "${1:-}" == --traffic=* ]]; then
  TRAFFIC=${1#--traffic=}
  shift
  if [[ "$TRAFFIC" != dns && "$TRAFFIC" != haproxy ]]; then
    echo "run.sh: --traffic is dns or haproxy, got '$TRAFFIC'" >&2
    exit 2
  fi
fi

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
child_pids=()
traffic_flags=()
server_pid=

source deploy/lib/stop-process.sh
source deploy/lib/local-admin-token.sh

stop_everything() {
  # A second signal (Ctrl-C twice, or a supervisor's TERM after ours) must not cut this short.
  trap '' INT TERM HUP
  # The server first: it stops its embedded PostgreSQL, and its in-flight calls still reach the
  # agents.
  [[ -n "$server_pid" ]] && stop_within "$server_pid" 60
  for pid in "${child_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${child_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Instances outlive their agents by design; in this local setup they go with the rest.
  for pidfile in "$STATE_DIR"/agents/*/instances/*/instance.pid; do
    [[ -f "$pidfile" ]] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap stop_everything EXIT
# A signal ends the script (and so runs stop_everything) instead of killing bash alone, which
# would leave the server and its PostgreSQL running.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Agents renew their primaries' write leases with the server: where it listens (--listen, else its
# default), reached on loopback when it listens on every address.
control_plane=127.0.0.1:50051
for arg in "$@"; do
  [[ "$arg" == --listen=* ]] && control_plane=${arg#--listen=}
done
control_plane=${control_plane/#0.0.0.0:/127.0.0.1:}
control_plane=${control_plane/#\[::\]:/[::1]:}

# Transport security: a local CA, one certificate per process, and an admin token.
server_security=()
agent_security=(--insecure)
hint="$BUILD_DIR/src/shadowctl --insecure locations list"
if [[ " $* " != *" --insecure "* ]]; then
  TLS_DIR=$STATE_DIR/tls
  ./deploy/local-ca.sh "$TLS_DIR" --agent fra-1 --agent iad-1 --agent sin-1
  server_security=("--tls_cert=$TLS_DIR/server.pem" "--tls_key=$TLS_DIR/server.key"
    "--tls_ca=$TLS_DIR/ca.pem")
  if [[ " $* " != *" --tokens_file="* ]]; then
    make_local_admin_token "$STATE_DIR" local-admin
    server_security+=("--tokens_file=$STATE_DIR/tokens.yaml")
  fi
  hint="$BUILD_DIR/src/shadowctl --ca=$TLS_DIR/ca.pem --token_file=$STATE_DIR/admin.token locations list"
fi

for agent in "${AGENTS[@]}"; do
  read -r name port metrics network <<<"$agent"
  agent_tls=("${agent_security[@]}")
  if [[ -n "${TLS_DIR:-}" ]]; then
    agent_tls=("--tls_cert=$TLS_DIR/agent-$name.pem" "--tls_key=$TLS_DIR/agent-$name.key"
      "--tls_ca=$TLS_DIR/ca.pem")
  fi
  "$BUILD_DIR/src/shadowplane-agent" --location="$name" --listen="127.0.0.1:$port" "${agent_tls[@]}" \
    --metrics_listen="127.0.0.1:$metrics" --data_root="$STATE_DIR/agents/$name" \
    --instance_network="$network" --control_plane="$control_plane" \
    --trusted_proxies=127.0.0.1,::1 --seed_root="$PWD/deploy/local" \
    >>"$STATE_DIR/agent-$name.log" 2>&1 &
  child_pids+=($!)
done
echo "agents: fra-1 127.0.0.1:50061, iad-1 127.0.0.1:50062, sin-1 127.0.0.1:50063 (logs in $STATE_DIR)" >&2
echo "try:    $hint" >&2

if [[ "$TRAFFIC" == dns ]]; then
  mkdir -p "$STATE_DIR/knot/run" "$STATE_DIR/knot/db" "$STATE_DIR/knot/zones"
  [[ -f "$STATE_DIR/knot/tsig.secret" ]] || head -c 32 /dev/urandom | base64 >"$STATE_DIR/knot/tsig.secret"
  chmod 600 "$STATE_DIR/knot/tsig.secret"
  [[ -f "$STATE_DIR/knot/zones/shadowplane.local.zone" ]] ||
    cp deploy/local/shadowplane.local.zone "$STATE_DIR/knot/zones/"
  user_line=
  if [[ $(id -u) -eq 0 ]]; then
    # knotd drops every capability: as root it runs as knot, which must own its directories.
    user_line="  user: knot:knot"
    chown -R knot:knot "$STATE_DIR/knot/run" "$STATE_DIR/knot/db" "$STATE_DIR/knot/zones"
  fi
  sed -e "s|@STATE@|$STATE_DIR|g" -e "s|@SECRET@|$(cat "$STATE_DIR/knot/tsig.secret")|" \
    -e "s|^@USER@$|$user_line|" deploy/local/knot.conf >"$STATE_DIR/knot/knot.conf"
  /usr/sbin/knotd -c "$STATE_DIR/knot/knot.conf" >>"$STATE_DIR/knot.log" 2>&1 &
  child_pids+=($!)
  traffic_flags=(--traffic_provider=rfc2136 --dns_server=127.0.0.1:5353
    --dns_zone=shadowplane.local. --dns_tsig_key_name=shadowplane
    "--dns_tsig_secret_file=$STATE_DIR/knot/tsig.secret")
  echo "dns:    Knot on 127.0.0.1:5353, zone shadowplane.local.; try: kdig @127.0.0.1 -p 5353 web.shadowplane.local. A" >&2
elif [[ "$TRAFFIC" == haproxy ]]; then
  mkdir -p "$STATE_DIR/haproxy"
  touch "$STATE_DIR/haproxy/servers.state"
  sed -e "s|@STATE@|$STATE_DIR|g" deploy/local/haproxy.cfg >"$STATE_DIR/haproxy/haproxy.cfg"
  /usr/sbin/haproxy -db -f "$STATE_DIR/haproxy/haproxy.cfg" >>"$STATE_DIR/haproxy.log" 2>&1 &
  child_pids+=($!)
  traffic_flags=(--traffic_provider=haproxy "--haproxy_socket=$STATE_DIR/haproxy/admin.sock"
    "--haproxy_state_file=$STATE_DIR/haproxy/servers.state")
  echo "lb:     HAProxy frontends web 127.0.0.1:8081, api :8082, shop :8083; reserve with --name=web" >&2
fi

# In the background, so that a signal to this script is handled at once (bash runs traps only
# between commands, and `wait` is such a point).
"$BUILD_DIR/src/shadowplane" --locations_file=deploy/local/locations.yaml "${server_security[@]}" \
  "${traffic_flags[@]}" "$@" &
server_pid=$!
status=0
wait "$server_pid" || status=$?
server_pid=
exit "$status"
