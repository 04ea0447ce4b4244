# Sourced by deploy/test.sh. start_throwaway_postgres starts a private PostgreSQL 15 on a free
# loopback port in a temporary directory, exports SHADOWPLANE_TEST_DATABASE_URL, and arranges for
# the cluster to be stopped and removed when the shell exits, whatever the outcome.
# PostgreSQL refuses to run as root: as root it runs as the system user from install-deps.sh.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_SYSTEM_USER=${SHADOWPLANE_SYSTEM_USER:-shadowplane}

_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid "$PG_SYSTEM_USER" --regid "$PG_SYSTEM_USER" --init-groups -- "$@"
  else
    "$@"
  fi
}

stop_throwaway_postgres() {
  if [[ -n "${_PG_DIR:-}" && -d "$_PG_DIR" ]]; then
    _pg_as_owner "$PG_BIN/pg_ctl" stop -D "$_PG_DIR/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
    rm -rf "$_PG_DIR"
  fi
}

start_throwaway_postgres() {
  _PG_DIR=$(mktemp -d /tmp/shadowplane-testdb.XXXXXX)
  trap stop_throwaway_postgres EXIT
  chmod 0755 "$_PG_DIR"
  [[ $(id -u) -eq 0 ]] && chown "$PG_SYSTEM_USER:$PG_SYSTEM_USER" "$_PG_DIR"
  _pg_as_owner "$PG_BIN/initdb" -D "$_PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-instructions >"$_PG_DIR/initdb.log" 2>&1 || {
    cat "$_PG_DIR/initdb.log" >&2
    return 1
  }
  local attempt port
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    # Durability is pointless for a throwaway cluster; turning it off makes CREATE DATABASE cheap.
    if _pg_as_owner "$PG_BIN/pg_ctl" start -w -t 60 -D "$_PG_DIR/data" -l "$_PG_DIR/server.log" \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null 2>&1; then
      export SHADOWPLANE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
      echo "test PostgreSQL on 127.0.0.1:$port ($_PG_DIR)" >&2
      return 0
    fi
  done
  echo "could not start the test PostgreSQL; its log:" >&2
  cat "$_PG_DIR/server.log" >&2
  return 1
}
