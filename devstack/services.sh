#!/usr/bin/env bash
# Local services for development and the tests: Redis and a single-node OpenSearch,
# both on 127.0.0.1, with their data in the project's state folder.
#
#   devstack/services.sh up | down | status
#
# Ports are the project's own (not 6379/9200), so a Redis or search engine you already
# run is left alone; if a port is taken by something else, `up` refuses and says what.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
state=${MEDIAMON_STATE_DIR:-$root/.state}
redis_port=${MEDIAMON_REDIS_PORT:-6390}
search_port=${MEDIAMON_SEARCH_PORT:-9250}
transport_port=${MEDIAMON_SEARCH_TRANSPORT_PORT:-9350}
heap=${MEDIAMON_SEARCH_HEAP:-1g}
search_timeout=${MEDIAMON_SEARCH_START_TIMEOUT:-180}
java_home=${MEDIAMON_JAVA_HOME:-}

redis_dir=$state/redis
os_dir=$state/opensearch
mkdir -p "$redis_dir" "$os_dir"

log() { printf 'services: %s\n' "$*"; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_busy() {
  # true when something accepts connections on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "$1 is missing; install it (Debian: apt-get install $2) or run as root"
  fi
  log "installing $2 with apt"
  if [ ! -f "$state/.apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    touch "$state/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $2 >/dev/null
}

# ---------------------------------------------------------------- Redis
redis_pid=$redis_dir/redis.pid

redis_up() {
  command -v redis-server >/dev/null || apt_install redis-server redis-server
  if alive "$redis_pid"; then
    log "redis already running (pid $(cat "$redis_pid"), port $redis_port)"
    return
  fi
  port_busy "$redis_port" && die "port $redis_port is in use by another program; \
set MEDIAMON_REDIS_PORT (and MEDIAMON_REDIS_URL) to a free port"
  # AOF on, fsync every second; noeviction so a full Redis refuses writes instead of
  # silently dropping queued tasks or dedup state.
  redis-server --bind 127.0.0.1 --port "$redis_port" --protected-mode yes \
    --dir "$redis_dir" --appendonly yes --appendfsync everysec \
    --maxmemory "${MEDIAMON_REDIS_MAXMEMORY:-1gb}" --maxmemory-policy noeviction \
    --save "" --daemonize yes --pidfile "$redis_pid" --logfile "$redis_dir/redis.log"
  for _ in $(seq 1 50); do
    if redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
      log "redis up on 127.0.0.1:$redis_port (data in $redis_dir, AOF on, noeviction)"
      return
    fi
    sleep 0.1
  done
  tail -n 20 "$redis_dir/redis.log" >&2 || true
  die "redis did not answer PING on port $redis_port within 5 s"
}

redis_down() {
  if alive "$redis_pid"; then
    local pid; pid=$(cat "$redis_pid")
    redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    log "redis stopped"
  else
    log "redis not running"
  fi
  rm -f "$redis_pid"
}

# ---------------------------------------------------------------- OpenSearch
os_pid=$os_dir/opensearch.pid
os_log=$os_dir/opensearch.out
os_cp=$os_dir/classpath.txt
os_pom=$here/opensearch/pom.xml

java_bin() {
  if [ -n "$java_home" ]; then echo "$java_home/bin/java"; return; fi
  command -v java >/dev/null || apt_install java openjdk-17-jre-headless
  command -v java
}

os_classpath() {
  command -v mvn >/dev/null || apt_install mvn maven
  local stamp; stamp=$(sha256sum "$os_pom" | cut -c1-16)
  if [ -s "$os_cp" ] && [ "$(cat "$os_cp.stamp" 2>/dev/null)" = "$stamp" ]; then
    return
  fi
  log "resolving OpenSearch from Maven Central (first run downloads about 60 MB)"
  mvn -B -q -f "$os_pom" dependency:build-classpath -Dmdep.outputFile="$os_cp" >/dev/null \
    || die "Maven could not resolve $os_pom (is Maven Central reachable?)"
  echo "$stamp" >"$os_cp.stamp"
}

os_health() {
  curl -fsS --max-time 3 \
    "http://127.0.0.1:$search_port/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

os_up() {
  command -v curl >/dev/null || apt_install curl curl
  if alive "$os_pid"; then
    log "opensearch already running (pid $(cat "$os_pid"), port $search_port)"
    return
  fi
  port_busy "$search_port" && die "port $search_port is in use by another program; \
set MEDIAMON_SEARCH_PORT (and MEDIAMON_SEARCH_URLS) to a free port"
  port_busy "$transport_port" && die "transport port $transport_port is in use; \
set MEDIAMON_SEARCH_TRANSPORT_PORT to a free port"
  os_classpath
  local java; java=$(java_bin)
  mkdir -p "$os_dir/config" "$os_dir/data" "$os_dir/logs"
  cp "$here/opensearch/opensearch.yml" "$os_dir/config/opensearch.yml"
  printf 'transport.port: %s\n' "$transport_port" >>"$os_dir/config/opensearch.yml"
  # setsid: the JVM gets its own session, so `down` can stop it and nothing it
  # starts outlives it.
  setsid "$java" -Xms512m "-Xmx$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dfile.encoding=UTF-8 -Dlog4j2.formatMsgNoLookups=true \
    -cp "$(cat "$os_cp")" org.codelibs.opensearch.runner.OpenSearchRunner \
    -basePath "$os_dir" -confPath "$os_dir/config" -dataPath "$os_dir/data" \
    -logsPath "$os_dir/logs" -numOfNode 1 -clusterName mediamon \
    -baseHttpPort "$((search_port - 1))" </dev/null >"$os_log" 2>&1 &
  echo $! >"$os_pid"
  log "opensearch starting (pid $(cat "$os_pid"), heap $heap); waiting for health"
  local waited=0
  while [ "$waited" -lt "$search_timeout" ]; do
    if ! alive "$os_pid"; then
      tail -n 40 "$os_log" >&2 || true
      rm -f "$os_pid"
      die "opensearch exited during start-up (log above: $os_log)"
    fi
    if os_health | grep -qE '"status":"(yellow|green)"'; then
      log "opensearch up on http://127.0.0.1:$search_port (data in $os_dir/data)"
      return
    fi
    sleep 1
    waited=$((waited + 1))
  done
  tail -n 40 "$os_log" >&2 || true
  os_down >/dev/null
  die "opensearch was not healthy (yellow or green) within ${search_timeout}s; log: $os_log"
}

os_down() {
  if alive "$os_pid"; then
    local pid; pid=$(cat "$os_pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      log "opensearch did not stop in 30 s: killed"
    fi
    log "opensearch stopped"
  else
    log "opensearch not running"
  fi
  rm -f "$os_pid"
}

status() {
  local rc=0
  if alive "$redis_pid"; then
    log "redis      running  pid $(cat "$redis_pid")  127.0.0.1:$redis_port  $(redis-cli -p "$redis_port" ping 2>/dev/null)"
  else
    log "redis      stopped"; rc=3
  fi
  if alive "$os_pid"; then
    local health; health=$(os_health | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    log "opensearch running  pid $(cat "$os_pid")  127.0.0.1:$search_port  health=${health:-unknown}"
  else
    log "opensearch stopped"; rc=3
  fi
  "$here/workers.sh" status || true
  return $rc
}

case "${1:-}" in
  up) redis_up; os_up ;;
  down)
    "$here/workers.sh" down || true
    if alive "$state/run/demo-server.pid"; then
      kill "$(cat "$state/run/demo-server.pid")" 2>/dev/null || true
      log "demo feed server stopped"
    fi
    rm -f "$state/run/demo-server.pid"
    os_down; redis_down ;;
  status) status ;;
  redis-up) redis_up ;;
  redis-down) redis_down ;;
  search-up) os_up ;;
  search-down) os_down ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
