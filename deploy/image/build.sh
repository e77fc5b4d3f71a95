#!/usr/bin/env bash
# Builds the service's image with podman on a base made from Debian's packages (build-base.sh), with
# no container registry: IMAGE (default localhost/mfa-service:latest, also tagged with the version).
# podman 4.3 on hosts with hybrid cgroups needs runc (crun fails there) and explicit ulimits.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE_IMAGE=${BASE_IMAGE:-localhost/mfa-debian-python:bookworm}
IMAGE=${IMAGE:-localhost/mfa-service:latest}
SOURCE=${SOURCE:-https://github.com/example-bank/mfa-service}
# The build steps trust what this machine trusts (a TLS-inspecting egress proxy's CA, for one); the
# bundle is mounted while RUN steps run, never stored in a layer.
HOST_CA_BUNDLE=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
PODMAN=(podman --runtime "${PODMAN_RUNTIME:-runc}")

BASE_IMAGE=$BASE_IMAGE deploy/image/build-base.sh
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- domain application adapters entrypoints pyproject.toml uv.lock 2>/dev/null)" ]; then
  revision="$revision-dirty"
fi
previous=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
"${PODMAN[@]}" build \
  --format docker \
  --network host \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  --volume "$HOST_CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro" \
  --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --build-arg VERSION="$version" \
  --build-arg REVISION="$revision" \
  --build-arg SOURCE="$SOURCE" \
  --tag "$IMAGE" --tag "${IMAGE%:*}:$version" \
  --file Dockerfile .
# The image this build replaced, if nothing else names it any more: each rebuild would leave one.
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
# The build stage's image is only a cache; each rebuild would leave one (uv's cache mount keeps the
# downloads, so the next build's dependency step stays quick).
podman image prune --force --filter label=org.example.mfa-service.stage=build >/dev/null 2>&1 || true
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "built $IMAGE (version $version, revision $revision): $((size / 1000 / 1000)) MB" >&2
