#!/bin/sh
# Creates ./secrets/ for compose.yaml with fresh keys (roomguard keys generate, from the image itself:
# run `docker compose build` first). Existing files are kept. Fill in oidc_client_secret with the secret
# your identity provider issued.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
# Plain `docker run`: `compose run` would want the secret files this script is about to create.
keys=$(docker run --rm --network none roomguard:local keys generate)
section() { printf '%s\n' "$keys" | awk -v want="$1" '/^# /{on=index($0, want)>0; next} on && NF'; }
[ -s secrets/encryption_key ] || section 'secrets.encryptionKey' > secrets/encryption_key
[ -s secrets/assertion_key.pem ] || section 'secrets.assertionKey' > secrets/assertion_key.pem
[ -s secrets/audit_signing_key.pem ] || section 'secrets.auditSigningKey' > secrets/audit_signing_key.pem
[ -s secrets/redis_password ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > secrets/redis_password
[ -e secrets/oidc_client_secret ] || : > secrets/oidc_client_secret
# Compose mounts each file itself into the containers (user 10001, Redis 999), so they must be readable
# there; secrets/ itself stays 0700 (umask above), which keeps other users of this host out.
chmod 0644 secrets/*
echo "secrets/ ready; now put your IdP's client secret into secrets/oidc_client_secret"
