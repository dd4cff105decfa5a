#!/usr/bin/env bash
# Back up the Samverkan database as a pg_dump custom-format archive (compressed, restorable table by table).
#
#   scripts/backup.sh [OUTPUT_FILE]
#
# DATABASE_URL names the database (postgres://user@host:port/name; a password comes from ~/.pgpass or
# PGPASSWORD, never from the command line). Without OUTPUT_FILE the archive goes to
# ${BACKUP_DIR:-/var/backups/samverkan}/samverkan-YYYYmmddTHHMMSSZ.dump. Prints the file name; exits non-zero on
# any error. See docs/operations.md, "Säkerhetskopiering".
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
out="${1:-${BACKUP_DIR:-/var/backups/samverkan}/samverkan-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$out")"
umask 077  # the archive holds personal data: readable by the backup user only
tmp="${out}.partial"
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$tmp" --dbname="$DATABASE_URL"
# A backup that cannot be listed is no backup: check the archive's table of contents before keeping it.
pg_restore --list "$tmp" >/dev/null
mv "$tmp" "$out"
echo "$out"
