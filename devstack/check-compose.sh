#!/usr/bin/env bash
# Validate docker-compose.yml for both stacks with Debian's docker-compose (which checks
# the file against the Compose Specification's schema). No Docker engine is needed.
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
env=$(mktemp)
trap 'rm -f "$env"' EXIT
sed -e 's/^ELASTIC_PASSWORD=$/ELASTIC_PASSWORD=check-only/' \
    -e 's/^KIBANA_PASSWORD=$/KIBANA_PASSWORD=check-only/' \
    -e 's/^KIBANA_ENCRYPTION_KEY=$/KIBANA_ENCRYPTION_KEY=check-only-check-only-check-only-00/' \
    "$root/.env.example" >"$env"
cd "$root"
for profile in elastic opensearch; do
  services=$(COMPOSE_PROFILES=$profile docker-compose --env-file "$env" --profile "$profile" config --services | tr '\n' ' ')
  COMPOSE_PROFILES=$profile docker-compose --env-file "$env" --profile "$profile" config -q
  echo "check-compose: $profile profile valid: $services"
done
