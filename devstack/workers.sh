#!/usr/bin/env bash
# A Celery worker and beat for the local stack, in the background, with pid files and
# logs in the state folder.   devstack/workers.sh up | down | status
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
state=${MEDIAMON_STATE_DIR:-$root/.state}
venv=${MEDIAMON_VENV:-$root/.venv}
run=$state/run
logs=$state/logs
mkdir -p "$run" "$logs"

log() { printf 'workers: %s\n' "$*"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {  # name, command...
  local name=$1; shift
  if alive "$run/$name.pid"; then
    log "$name already running (pid $(cat "$run/$name.pid"))"
    return
  fi
  setsid "$@" </dev/null >>"$logs/$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
  log "$name started (pid $!), log: $logs/$name.log"
}

stop() {  # name
  local name=$1 pidfile=$run/$1.pid
  if alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    # TERM is Celery's warm shutdown: running tasks finish, unacked ones go back.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || true; }
    log "$name stopped"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  up)
    start worker "$venv/bin/mediamon" worker
    start beat "$venv/bin/mediamon" beat
    ;;
  down) stop beat; stop worker ;;
  status)
    for n in worker beat; do
      if alive "$run/$n.pid"; then log "$n running pid $(cat "$run/$n.pid")"; else log "$n stopped"; fi
    done
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
