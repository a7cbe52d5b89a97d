#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the test suite and print its URL.
# Installs Debian's package when the server binaries are missing. wal_recycle=off: WAL segments that
# held a sealed round are removed, not renamed for reuse (docs/anonymity.md). autovacuum=off: an
# autovacuum worker's ANALYZE at a random moment would postpone a scrub that a test checks at once
# (the product waits for it and tries again the next minute: storage/db.py).
set -euo pipefail
port="${PULSE_PG_PORT:-55432}"
# Something else may hold the port (another cluster left running): take the next free one.
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
data=$(mktemp -d /tmp/pulse-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$data"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pgbin/initdb" -D "$data/db" -A trust -U postgres >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$data/db" -l "$data/log" -w \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c wal_recycle=off -c autovacuum=off" start >&2
echo "$data" > /tmp/pulse-pg-current
echo "postgresql://postgres@127.0.0.1:$port/postgres"
