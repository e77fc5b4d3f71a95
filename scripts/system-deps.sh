#!/usr/bin/env bash
# The independent tools the tests compare against: oathtool (TOTP) and zbarimg (QR decoding);
# promtool (Debian prometheus) checks and tests the alerting rules and dashboard queries. The image
# tests build and run it with podman, runc, mmdebstrap (the Debian base); haproxy checks the
# compose stack's load balancer configuration; the browser the page's tests drive is Debian's
# Chromium (Playwright is pointed at it, never downloads one).
# HAProxy is also the soak's load balancer (tests/soak).
set -euo pipefail
missing=()
command -v oathtool >/dev/null || missing+=(oathtool)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v promtool >/dev/null || missing+=(prometheus)
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v haproxy >/dev/null || missing+=(haproxy)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "the tests need: apt-get install ${missing[*]}" >&2
  exit 1
fi
