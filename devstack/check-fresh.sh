#!/usr/bin/env bash
# The fresh-install check (`make check-fresh`, run by CI): mediamon as a user gets it.
#
# 1. Copies the files git tracks (as they are in the work tree) to a temporary folder
#    outside the repository, so nothing untracked, built or cached here can help.
# 2. Builds both wheels there (native core and mediamon) and installs them into a new
#    virtualenv with PIP_NO_CACHE_DIR=1, against constraints.txt: every package comes
#    from the registry by name.
# 3. From an empty folder, with no MEDIAMON_* settings but the engine's URL:
#    - processes a fixture (and the seed article, when ../shared is there) and compares
#      the document with the one the checkout's own virtualenv gives;
#    - `mediamon search init` against the local engine (`make services`) under a
#      throwaway index prefix, removed afterwards;
#    - `mediamon dashboards check`: the bundled saved objects load and resolve.
# Needs python3, cargo (the native core) and the local OpenSearch.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
search_url=${MEDIAMON_SEARCH_URLS:-http://127.0.0.1:${MEDIAMON_SEARCH_PORT:-9250}}
work=$(mktemp -d "${TMPDIR:-/tmp}/mediamon-fresh.XXXXXX")
prefix="fresh-$$-"
started=$(date +%s)
say() { echo "check-fresh: $*"; }
cleanup() {
  if [ -x "$work/venv/bin/python" ]; then
    (cd "$work/empty" && env -i PATH="$PATH" HOME="$work/home" MEDIAMON_SEARCH_URLS="$search_url" \
      MEDIAMON_INDEX_PREFIX="$prefix" "$work/venv/bin/python" -c '
from workers.search import client, templates
from workers.settings import Settings
templates.drop(client.connect(Settings()))' >/dev/null 2>&1) || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH="$HOME/.cargo/bin:$PATH"

say "copying the tracked files to $work/src"
mkdir -p "$work/src" "$work/empty" "$work/home" "$work/wheels"
git -C "$root" ls-files -z --cached \
  | tar -C "$root" --null --no-recursion -T - -cf - | tar -xf - -C "$work/src"

say "building the wheels (no pip cache)"
"$python" -m venv "$work/build"
MATURIN_PEP517_ARGS=--locked "$work/build/bin/pip" wheel -q --no-deps -w "$work/wheels" \
  "$work/src/native" "$work/src" 2>&1 | grep -v -i "warning\|^\s*$\|!!\|\*\*\*\*" || true
ls "$work/wheels"
# listed once, then searched: grep -q on a pipe may close it before the lister is done
listing=$("$python" -m zipfile -l "$work"/wheels/mediamon-[0-9]*.whl)
for member in workers/bundled/config/entities.yaml workers/bundled/config/feeds.yaml \
              workers/bundled/dashboards/kibana/mediamon.ndjson \
              workers/bundled/dashboards/opensearch-dashboards/mediamon.ndjson \
              workers/search/templates/articles.json; do
  grep -q " *$member " <<<"$listing" || { say "the wheel lacks $member"; exit 1; }
done

say "installing the wheels into a new virtualenv"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q -c "$root/constraints.txt" "$work"/wheels/*.whl

# From the empty folder, with a clean environment: no .env, no MEDIAMON_* from make.
run() {
  (cd "$work/empty" && env -i PATH="$work/venv/bin:/usr/bin:/bin" HOME="$work/home" LANG=C.UTF-8 \
    MEDIAMON_SEARCH_URLS="$search_url" MEDIAMON_INDEX_PREFIX="$prefix" "$@")
}
compare() {  # the installed document must be the checkout's, but for the processing time
  local input=$1 name
  name=$(basename "$(dirname "$input")")-$(basename "$input")
  run mediamon process --compact "$input" >"$work/$name.installed.json"
  (cd "$root" && "$root/.venv/bin/mediamon" process --compact "$input") >"$work/$name.checkout.json"
  "$python" - "$work/$name.installed.json" "$work/$name.checkout.json" <<'PY'
import json, sys
installed, checkout = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:])
for doc in (installed, checkout):
    for key in ("processed_at", "fetched_at"):
        doc.pop(key, None)
if installed != checkout:
    diff = sorted(k for k in installed.keys() | checkout.keys() if installed.get(k) != checkout.get(k))
    sys.exit(f"check-fresh: installed and checkout documents differ in {diff}")
ids = sorted(e["id"] for e in installed.get("entities", []))
print(f"check-fresh: {sys.argv[1].rsplit('/', 1)[-1]}: same document, entities {ids}")
PY
}
compare "$root/tests/data/zh-hant-summit/input.txt"
seed="$root/../shared/seed/cna-xi-putin-2022-09-14.txt"
if [ -f "$seed" ]; then compare "$seed"; else say "no ../shared/seed beside the checkout: seed skipped"; fi

say "search init against $search_url (prefix $prefix)"
run mediamon search init
say "dashboards: the bundled saved objects, read as the apps would"
run mediamon dashboards check
say "passed in $(($(date +%s) - started)) s"
