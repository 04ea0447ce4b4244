# Sourced by deploy/run.sh and deploy/demo.sh: stop_within PID SECONDS sends SIGTERM, waits up to
# SECONDS for the process to end, then kills it.
stop_within() {
  local pid=$1 seconds=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "process $pid did not stop within ${seconds}s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
