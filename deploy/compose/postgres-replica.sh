#!/bin/bash
# The replica: cloned from the primary on first start (pg_basebackup, streaming), then a hot standby.
set -euo pipefail
export PGDATA=/var/lib/postgresql/data
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -U replicator; do sleep 1; done
  pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream -c fast
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on
