#!/usr/bin/env bash
# Re-vendors the browser assets the project ships, from the npm registry at pinned versions, checking
# each tarball against the integrity (SHA-512) the registry published for it. The files are committed;
# nothing fetches them at build, test or run time. Usage: scripts/vendor-from-npm.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# package@version  integrity  destination  files…
vendor() {
  local spec=$1 integrity=$2 destination=$3
  shift 3
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  local tarball
  tarball=$(ls "$work"/*.tgz)
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "$spec: integrity $actual, expected $integrity" >&2
    exit 1
  fi
  tar xzf "$tarball" -C "$work"
  mkdir -p "$destination"
  for file in "$@"; do
    cp "$work/package/$file" "$destination/"
  done
  printf '%s\n%s\n' "$spec" "$integrity" >"$destination/VERSION"
  rm -rf "$work"
}

vendor swagger-ui-dist@5.35.0 \
  sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ== \
  entrypoints/http/static/api-viewer \
  swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE

vendor axe-core@4.14.1 \
  sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ== \
  tests/browser/vendor/axe-core \
  axe.min.js LICENSE
