#!/usr/bin/env bash
# The independent tools the tests compare against: oathtool (TOTP) and zbarimg (QR decoding);
# HAProxy, the soak's load balancer (tests/soak).
set -euo pipefail
missing=()
command -v oathtool >/dev/null || missing+=(oathtool)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)  # the soak's load balancer
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "the tests need: apt-get install ${missing[*]}" >&2
  exit 1
fi
