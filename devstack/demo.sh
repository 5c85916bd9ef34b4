#!/usr/bin/env bash
# The whole stack on sample feeds served from this machine: no internet needed.
#
# Serves tests/data/feeds (RSS, Atom, JSON Feed, Big5 and GB2312) and the project's own
# sample articles on 127.0.0.1, registers them, starts a worker and beat with the demo
# settings (its own Redis database and index prefix, so `make run` data is untouched),
# waits for the articles to be indexed and searches them. It leaves the demo running;
# `make stop` ends it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
state=${MEDIAMON_STATE_DIR:-$root/.state}
venv=${MEDIAMON_VENV:-$root/.venv}
port=${MEDIAMON_DEMO_PORT:-8765}
mm="$venv/bin/mediamon"
mkdir -p "$state/demo" "$state/run" "$state/logs"

export MEDIAMON_REDIS_URL="redis://127.0.0.1:${MEDIAMON_REDIS_PORT:-6390}/1"
export MEDIAMON_INDEX_PREFIX=demo-
export MEDIAMON_ALLOW_PRIVATE_ADDRESSES=127.0.0.1/32
export MEDIAMON_HOST_MIN_INTERVAL=0
export MEDIAMON_POLL_DEFAULT_INTERVAL=120
export MEDIAMON_FEEDS_FILE="$state/demo/feeds.yaml"

pidfile=$state/run/demo-server.pid
if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && {
    echo "demo: port $port is taken; set MEDIAMON_DEMO_PORT" >&2; exit 1; }
  cd "$root"
  setsid "$venv/bin/python" -m tests.feedserver "$port" </dev/null >"$state/logs/demo-server.log" 2>&1 &
  echo $! >"$pidfile"
  cd - >/dev/null
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
fi
base="http://127.0.0.1:$port"
echo "demo: sample feeds served at $base/feeds/"

cat >"$MEDIAMON_FEEDS_FILE" <<YAML
feeds:
  - {id: demo-cna, name: 示例社 國際 (RSS 2.0), url: $base/feeds/rss-zh-hant.xml, source: cna, lang: zh-Hant, region: TW}
  - {id: demo-atom, name: 示例网 国际 (Atom), url: $base/feeds/atom-zh-hans.xml, lang: zh-Hans, region: CN}
  - {id: demo-json, name: Sample Wire (JSON Feed), url: $base/feeds/jsonfeed-en.json, lang: en, region: GB}
  - {id: demo-big5, name: 示例 Big5, url: $base/feeds/rss-big5.xml, lang: zh-Hant, region: TW}
  - {id: demo-gb2312, name: 示例 GB2312, url: $base/feeds/rss-gb2312.xml, lang: zh-Hans, region: CN}
  - {id: demo-broken, name: A broken feed, url: $base/status/500}
YAML

"$mm" search init >/dev/null
"$mm" feeds sync --file "$MEDIAMON_FEEDS_FILE"
"$here/workers.sh" down >/dev/null
"$here/workers.sh" up

echo "demo: waiting for the articles to be indexed…"
for _ in $(seq 1 60); do
  count=$(curl -fsS "http://127.0.0.1:${MEDIAMON_SEARCH_PORT:-9250}/demo-articles/_count" 2>/dev/null \
    | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
  [ "${count:-0}" -ge 7 ] && break
  sleep 1
done
echo "demo: ${count:-0} articles indexed"
echo
"$mm" feeds status --all
echo
"$mm" search 習近平 -n 3
echo
"$mm" search Kharkiv -n 2
cat <<MSG

The demo keeps polling (worker and beat logs in $state/logs). Try, with the same settings:
  MEDIAMON_REDIS_URL=$MEDIAMON_REDIS_URL MEDIAMON_INDEX_PREFIX=demo- $mm search 普京
Stop everything with: make stop
MSG
