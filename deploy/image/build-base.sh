#!/usr/bin/env bash
# Builds the image's base from Debian's packages (no container registry needed) and imports it into
# podman as BASE_IMAGE: Debian bookworm with python3.11, security updates applied, no apt, no docs.
# Skipped when podman already holds BASE_IMAGE (remove it with `podman rmi` to rebuild).
set -euo pipefail
BASE_IMAGE=${BASE_IMAGE:-localhost/mfa-debian-python:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

if podman image exists "$BASE_IMAGE"; then
  echo "base image $BASE_IMAGE is present" >&2
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "building the base needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building $BASE_IMAGE with mmdebstrap from $MIRROR (a few minutes)" >&2
# essential: Essential:yes packages and what --include names, without apt; passwd for the service's user,
# python3.11-venv so that the build stage can install uv with pip, libstdc++6 for greenlet.
mmdebstrap --variant=essential --mode=root --format=tar \
  --include=passwd,python3.11,python3.11-venv,ca-certificates,libstdc++6 \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='rm -rf "$1"/var/cache/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
  bookworm "$work/rootfs.tar" \
  "deb $MIRROR bookworm main" \
  "deb $MIRROR bookworm-updates main" \
  "deb $SECURITY_MIRROR bookworm-security main"
podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/usr/bin/python3.11"]' \
  --message "Debian bookworm + python3.11 from $MIRROR (mmdebstrap)" \
  "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
podman image ls "$BASE_IMAGE" >&2
