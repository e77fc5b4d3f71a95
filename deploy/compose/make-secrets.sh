#!/usr/bin/env bash
# Creates the compose stack's secrets once (random; kept out of git): the database password, the
# OpenBao dev server's root token and the key of erased users' pseudonyms.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p secrets
umask 077
for name in postgres-password vault-root-token pseudonym-key; do
  [ -s "secrets/$name" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "secrets/$name"
done
# The containers' users (postgres, the service's 10001) read them through compose's secret mounts.
chmod 0444 secrets/*
echo "secrets in $(pwd)/secrets" >&2
