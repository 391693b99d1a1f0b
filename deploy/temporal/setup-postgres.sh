#!/bin/sh
# One-shot (temporalio/admin-tools): create Temporal's two databases on PostgreSQL and bring
# their schemas to the version this admin-tools image ships. Safe to run again: existing
# databases and schemas are kept, and update-schema only applies what is missing.
set -eu
tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
    -u "$POSTGRES_USER" "$@"
}
until nc -z -w 5 "$POSTGRES_SEEDS" "${DB_PORT:-5432}"; do sleep 1; done
for db in temporal temporal_visibility; do
  if tool --db "$db" create; then
    tool --db "$db" setup-schema -v 0.0
  fi
done
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility update-schema \
  -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schemas are up to date"
