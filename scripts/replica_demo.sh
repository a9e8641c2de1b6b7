#!/usr/bin/env bash
# A real PostgreSQL streaming replica on loopback, and the app routing its queries to it.
#
# 1. On the local server (127.0.0.1:5432): a demo database, migrated, and a replication role
#    allowed in from 127.0.0.1 (one pg_hba.conf line, tagged, and a config reload).
# 2. pg_basebackup of that server into a temporary directory, started as a hot standby on
#    127.0.0.1:$REPLICA_PORT (streaming from the primary).
# 3. scripts/replica_demo.py: the app with DATABASE_URL=primary and
#    DATABASE_REPLICA_URLS=standby serves a few requests and prints where each query went.
# Everything is torn down at the end, whatever happens: the standby stopped and deleted, the
# pg_hba.conf line removed, the role and the demo database dropped.
#
# Needs root (it runs the PostgreSQL tools as the postgres OS user) and the local server.
# Usage: scripts/replica_demo.sh   (or make replica-demo)
set -euo pipefail
cd "$(dirname "$0")/.."

PRIMARY_HOST=127.0.0.1
PRIMARY_PORT=${PRIMARY_PORT:-5432}
REPLICA_PORT=${REPLICA_PORT:-5439}
DEMO_DB=journal_replica_demo
REPL_ROLE=journal_replica_demo
HBA_TAG="# journal replica demo (scripts/replica_demo.sh), removed when it ends"
PY=.venv/bin/python

as_postgres() { runuser -u postgres -- "$@"; }
psql_primary() { psql -X -q -v ON_ERROR_STOP=1 -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres "$@"; }
say() { printf '\n== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "run as root (the PostgreSQL tools run as the postgres user)" >&2; exit 1; }
# The machine's PostgreSQL, started if it is down (as .ci/run does).
if ! pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" && [ "$PRIMARY_PORT" = 5432 ]; then
  say "starting the local PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" && break; sleep 1; done
fi
pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" || {
  echo "no PostgreSQL on $PRIMARY_HOST:$PRIMARY_PORT" >&2; exit 1; }
if pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT"; then
  echo "port $REPLICA_PORT is taken: set REPLICA_PORT" >&2; exit 1
fi

BIN=$(dirname "$(readlink -f "$(command -v pg_basebackup)")")
[ -x "$BIN/pg_ctl" ] || BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
HBA_FILE=$(psql_primary -Atc "SHOW hba_file")
WORK=$(mktemp -d /tmp/journal-replica-demo.XXXXXX)
chown postgres: "$WORK"
chmod 700 "$WORK"
STANDBY="$WORK/standby"

cleanup() {
  status=$?
  say "tearing down"
  if [ "$status" != 0 ] && [ -f "$WORK/standby.log" ]; then
    echo "standby log:"; tail -n 20 "$WORK/standby.log"
  fi
  if [ -f "$STANDBY/postmaster.pid" ]; then
    as_postgres "$BIN/pg_ctl" -D "$STANDBY" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  if grep -qF "$HBA_TAG" "$HBA_FILE"; then
    # Rewritten in place (same file, owner and mode), without the tagged line.
    grep -vF "$HBA_TAG" "$HBA_FILE" >"$WORK.hba" || true
    cat "$WORK.hba" >"$HBA_FILE"
    rm -f "$WORK.hba"
    psql_primary -Atc "SELECT pg_reload_conf()" >/dev/null || true
  fi
  psql_primary -c "DROP DATABASE IF EXISTS $DEMO_DB WITH (FORCE)" || true
  psql_primary -c "DROP ROLE IF EXISTS $REPL_ROLE" || true
  echo "removed: standby in $WORK, pg_hba.conf line, role $REPL_ROLE, database $DEMO_DB"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "primary: database $DEMO_DB on $PRIMARY_HOST:$PRIMARY_PORT, migrated"
psql_primary -c "DROP DATABASE IF EXISTS $DEMO_DB WITH (FORCE)"
psql_primary -c "CREATE DATABASE $DEMO_DB"
PRIMARY_URL="postgres://postgres@$PRIMARY_HOST:$PRIMARY_PORT/$DEMO_DB"
REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA_PORT/$DEMO_DB"
DEBUG=1 DATABASE_URL="$PRIMARY_URL" $PY manage.py migrate --verbosity 0

say "primary: replication role $REPL_ROLE, allowed from 127.0.0.1 ($HBA_FILE)"
psql_primary -c "DROP ROLE IF EXISTS $REPL_ROLE"
psql_primary -c "CREATE ROLE $REPL_ROLE WITH LOGIN REPLICATION"
printf 'host replication %s 127.0.0.1/32 trust %s\n' "$REPL_ROLE" "$HBA_TAG" >>"$HBA_FILE"
psql_primary -Atc "SELECT pg_reload_conf()" >/dev/null

say "standby: pg_basebackup into $STANDBY (the whole cluster: $(psql_primary -Atc \
  "SELECT pg_size_pretty(sum(pg_database_size(datname))) FROM pg_database"))"
started=$(date +%s)
as_postgres "$BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPL_ROLE" \
  -D "$STANDBY" -X stream --checkpoint=fast -R
echo "copied in $(($(date +%s) - started)) s"
# The base backup holds the data directory only (Debian keeps the configuration in /etc).
# A hot standby needs these at least as high as on the primary: take the primary's.
primary_limits=$(psql_primary -Atc "SELECT string_agg(name || ' = ' || setting, E'\n')
  FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes',
  'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')")
as_postgres tee "$STANDBY/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $REPLICA_PORT
unix_socket_directories = '$WORK'
hot_standby = on
shared_buffers = 64MB
logging_collector = off
$primary_limits
EOF
as_postgres tee "$STANDBY/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
as_postgres touch "$STANDBY/pg_ident.conf"
as_postgres "$BIN/pg_ctl" -D "$STANDBY" -l "$WORK/standby.log" -w start >/dev/null
psql -X -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d "$DEMO_DB" -Atc \
  "SELECT 'standby up on port ' || inet_server_port() || ', in recovery: ' || pg_is_in_recovery()"
psql_primary -Atc "SELECT 'primary streams to: ' || string_agg(application_name || ' (' \
  || state || ')', ', ') FROM pg_stat_replication"

say "the app: DATABASE_URL=$PRIMARY_URL DATABASE_REPLICA_URLS=$REPLICA_URL"
DEBUG=0 SECRET_KEY="replica-demo-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  ALLOWED_HOSTS=testserver LOG_LEVEL=WARNING \
  DATABASE_URL="$PRIMARY_URL" DATABASE_REPLICA_URLS="$REPLICA_URL" \
  REPLICA_STOP_COMMAND="runuser -u postgres -- $BIN/pg_ctl -D $STANDBY -m fast -w stop" \
  $PY scripts/replica_demo.py
