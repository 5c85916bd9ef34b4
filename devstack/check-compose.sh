#!/usr/bin/env bash
# Validate docker-compose.yml for both stacks with Debian's docker-compose (which checks
# the file against the Compose Specification's schema and interpolates it as `up` would).
# No Docker engine is needed. The opensearch profile is checked with an env file that has
# no Elastic passwords at all: it must not need them. tests/unit/test_compose.py checks
# the start order's meaning (which waits, on what).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
if ! command -v docker-compose >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  else
    echo "check-compose: docker-compose is missing (apt-get install docker-compose)" >&2; exit 1
  fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's/^ELASTIC_PASSWORD=$/ELASTIC_PASSWORD=check-only/' \
    -e 's/^KIBANA_PASSWORD=$/KIBANA_PASSWORD=check-only/' \
    -e 's/^KIBANA_ENCRYPTION_KEY=$/KIBANA_ENCRYPTION_KEY=check-only-check-only-check-only-00/' \
    "$root/.env.example" >"$work/elastic.env"
grep -v '^ELASTIC_PASSWORD=\|^KIBANA_PASSWORD=\|^KIBANA_ENCRYPTION_KEY=' "$root/.env.example" \
  | sed 's/^COMPOSE_PROFILES=.*/COMPOSE_PROFILES=opensearch/' >"$work/opensearch.env"
cd "$root"
for profile in elastic opensearch; do
  args=(--env-file "$work/$profile.env" --profile "$profile")
  services=$(COMPOSE_PROFILES=$profile docker-compose "${args[@]}" config --services 2>"$work/err" | tr '\n' ' ')
  COMPOSE_PROFILES=$profile docker-compose "${args[@]}" config -q 2>>"$work/err" || {
    cat "$work/err" >&2; echo "check-compose: $profile profile invalid" >&2; exit 1; }
  if grep -qi "variable is not set\|required variable" "$work/err"; then
    cat "$work/err" >&2; echo "check-compose: $profile profile wants unset variables" >&2; exit 1
  fi
  echo "check-compose: $profile profile valid: $services"
done
