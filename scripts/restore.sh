#!/usr/bin/env bash
# Restore a pg_dump custom-format archive into a NEW, empty database (never over a live one).
#
#   scripts/restore.sh ARCHIVE TARGET_DATABASE_URL
#
# Creates the target database when it does not exist and refuses to restore into one that already has tables.
# Runs pg_restore with --exit-on-error in a single transaction, so a failed restore leaves nothing half-done.
# Afterwards: `DATABASE_URL=TARGET manage.py migrate --check` and the smoke checks in docs/operations.md,
# "Återställning".
set -euo pipefail

archive="${1:?usage: restore.sh ARCHIVE TARGET_DATABASE_URL}"
target="${2:?usage: restore.sh ARCHIVE TARGET_DATABASE_URL}"
test -r "$archive" || { echo "cannot read $archive" >&2; exit 1; }

name="${target##*/}"
name="${name%%\?*}"
server="${target%/*}/postgres"
if ! psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '${name//\'/}'" | grep -q 1; then
  psql "$server" -qc "CREATE DATABASE \"${name//\"/}\"" >/dev/null
fi
tables="$(psql "$target" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
if [ "$tables" != "0" ]; then
  echo "refusing to restore: the target database already has $tables tables" >&2
  exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$target" "$archive"
echo "restored into ${name}"
