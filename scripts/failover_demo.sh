#!/usr/bin/env bash
# A failover under write traffic, with pg_auto_failover on loopback, and what the app does.
#
# 1. A pg_auto_failover monitor and two PostgreSQL nodes (primary and synchronous standby),
#    each in a temporary directory, on 127.0.0.1:$MONITOR_PORT, $NODE1_PORT and $NODE2_PORT,
#    run as the postgres OS user; the monitor's timeouts tuned down (MONITOR_SETTINGS below).
# 2. Synchronous replication checked on the primary (synchronous_standby_names set, the
#    standby's sync_state "sync" or "quorum"): only then does an acknowledged commit survive
#    the primary's loss.
# 3. The app migrated and served by gunicorn with
#    DATABASE_URL=postgres://postgres@127.0.0.1:$NODE1_PORT,127.0.0.1:$NODE2_PORT/...
#    ?target_session_attrs=read-write, and scripts/failover_demo.py: a writer at a steady rate
#    recording each answer, the primary's postmaster killed with SIGKILL mid-traffic (or, with
#    FAILOVER_KILL=node, its pg_autoctl and postgres at once, as when its machine dies), the
#    time until writes are acknowledged
#    again, and every acknowledged write looked up on the new primary.
# Everything is torn down at the end, whatever happens: the app, the nodes and the monitor
# stopped, their directories deleted.
#
# Needs root (the PostgreSQL tools run as the postgres OS user); installs Debian's
# pg_auto_failover (postgresql-N-auto-failover, pg-auto-failover-cli) when it is missing.
# Usage: scripts/failover_demo.sh   (or make failover-demo)
#        FAILOVER_KILL=node scripts/failover_demo.sh   (kill node1's pg_autoctl and postgres)
set -euo pipefail
cd "$(dirname "$0")/.."

MONITOR_PORT=${MONITOR_PORT:-5461}
NODE1_PORT=${NODE1_PORT:-5462}
NODE2_PORT=${NODE2_PORT:-5463}
APP_PORT=${APP_PORT:-8461}
DEMO_DB=journal_failover_demo
PY=.venv/bin/python
# The monitor's failure detection and promotion, in milliseconds (pg_auto_failover's defaults:
# 5000, 5000, 2, 2000, 20000, 30000): a health check every second that gives up after one
# second and one retry half a second later; a node whose keeper has not reported for 3 s and
# that fails its health check is unhealthy; the standby is promoted 3 s after the old primary
# was told to demote, even if it never answers (it is dead; were it only cut off, synchronous
# replication keeps it from acknowledging any commit the standby has not got).
MONITOR_SETTINGS="
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 3000"

say() { printf '\n== %s\n' "$*"; }
psql_at() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "$2" -Atc "$3"; }

[ "$(id -u)" = 0 ] || { echo "run as root (the PostgreSQL tools run as the postgres user)" >&2; exit 1; }
# Debian's pg_auto_failover for the machine's PostgreSQL, installed if missing (as .ci/run
# installs what the suite needs).
if ! command -v pg_autoctl >/dev/null; then
  major=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  say "installing pg_auto_failover (postgresql-$major-auto-failover, pg-auto-failover-cli)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "postgresql-$major-auto-failover" pg-auto-failover-cli >/dev/null
fi
for port in "$MONITOR_PORT" "$NODE1_PORT" "$NODE2_PORT" "$APP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is taken: set MONITOR_PORT, NODE1_PORT, NODE2_PORT or APP_PORT" >&2; exit 1
  fi
done
BIN=$(dirname "$(readlink -f "$(command -v pg_autoctl)")")
[ -x "$BIN/pg_ctl" ] || BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

WORK=$(mktemp -d /tmp/journal-failover-demo.XXXXXX)
chown postgres: "$WORK"
chmod 700 "$WORK"
# pg_autoctl keeps its configuration, state and pid files under these: all in $WORK.
AUTOCTL_ENV=(env HOME="$WORK" XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/share"
  XDG_RUNTIME_DIR="$WORK/run" PATH="$BIN:/usr/bin:/bin")
autoctl() { runuser -u postgres -- "${AUTOCTL_ENV[@]}" pg_autoctl "$@"; }
# A pg_autoctl service in a process group of its own (its pid is the group's id), logging to
# $WORK/NAME.log; the group's id goes to $WORK/NAME.pgid.
start_service() {
  local name=$1; shift
  setsid runuser -u postgres -- "${AUTOCTL_ENV[@]}" pg_autoctl "$@" \
    >"$WORK/$name.log" 2>&1 </dev/null &
  echo $! >"$WORK/$name.pgid"
  disown $!  # killed on purpose: no "Killed" line from the shell
}
stop_group() {
  local file=$1 pgid
  [ -f "$file" ] || return 0
  pgid=$(cat "$file")
  # SIGINT: pg_autoctl and postgres both stop fast; SIGKILL for what is left after 10 s.
  kill -INT -- "-$pgid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 -- "-$pgid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}
# Postgres settings for a small demo (pg_autoctl sizes shared_buffers for a dedicated
# machine), and loopback only; postgresql.auto.conf is read last, and a base backup copies it.
small_postgres() {
  runuser -u postgres -- tee -a "$1/postgresql.auto.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
shared_buffers = '64MB'
effective_cache_size = '512MB'
maintenance_work_mem = '64MB'
wal_keep_size = '256MB'
EOF
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "timed out after $seconds s waiting for $what" >&2
  return 1
}

cleanup() {
  status=$?
  say "tearing down"
  stop_group "$WORK/app.pgid"
  if [ "$status" != 0 ]; then
    for name in app monitor node1 node2; do
      [ -f "$WORK/$name.log" ] && { echo "--- $name log:"; tail -n 15 "$WORK/$name.log"; }
    done
  fi
  stop_group "$WORK/node1.pgid"
  stop_group "$WORK/node2.pgid"
  stop_group "$WORK/monitor.pgid"
  rm -rf "$WORK"
  echo "removed: the app, both nodes and the monitor, and $WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "monitor on 127.0.0.1:$MONITOR_PORT"
autoctl create monitor --pgdata "$WORK/monitor" --pgport "$MONITOR_PORT" \
  --hostname 127.0.0.1 --auth trust --no-ssl >"$WORK/monitor-create.log" 2>&1
small_postgres "$WORK/monitor"
runuser -u postgres -- tee -a "$WORK/monitor/postgresql.auto.conf" >/dev/null <<<"$MONITOR_SETTINGS"
start_service monitor run --pgdata "$WORK/monitor"
wait_for 30 "the monitor" pg_isready -q -h 127.0.0.1 -p "$MONITOR_PORT" -d pg_auto_failover
MONITOR_URI=$(autoctl show uri --pgdata "$WORK/monitor" --formation monitor)
psql_at "$MONITOR_PORT" pg_auto_failover "SELECT name || ' = ' || setting FROM pg_settings
  WHERE name LIKE 'pgautofailover.%' AND name ~ 'health|unhealthy|demote' ORDER BY name"

say "node1 (first primary) on 127.0.0.1:$NODE1_PORT, node2 (standby) on 127.0.0.1:$NODE2_PORT"
autoctl create postgres --pgdata "$WORK/node1" --pgport "$NODE1_PORT" --hostname 127.0.0.1 \
  --listen 127.0.0.1 --name node1 --dbname "$DEMO_DB" --auth trust --no-ssl \
  --monitor "$MONITOR_URI" >"$WORK/node1-create.log" 2>&1
small_postgres "$WORK/node1"
start_service node1 run --pgdata "$WORK/node1"
wait_for 60 "node1 to be primary" psql_at "$NODE1_PORT" "$DEMO_DB" "SELECT 1"
start_service node2 create postgres --pgdata "$WORK/node2" --pgport "$NODE2_PORT" \
  --hostname 127.0.0.1 --listen 127.0.0.1 --name node2 --dbname "$DEMO_DB" --auth trust \
  --no-ssl --monitor "$MONITOR_URI" --run
sync_standby() {
  [ -n "$(psql_at "$NODE1_PORT" postgres "SHOW synchronous_standby_names")" ] &&
    [ "$(psql_at "$NODE1_PORT" postgres "SELECT count(*) FROM pg_stat_replication
      WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')")" = 1 ]
}
wait_for 120 "node2 to stream synchronously from node1" sync_standby
autoctl show state --pgdata "$WORK/monitor"
echo "node1: synchronous_standby_names = $(psql_at "$NODE1_PORT" postgres \
  "SHOW synchronous_standby_names"), synchronous_commit = $(psql_at "$NODE1_PORT" postgres \
  "SHOW synchronous_commit")"
psql_at "$NODE1_PORT" postgres "SELECT 'node1 streams to ' || application_name || ': ' || state
  || ', sync_state ' || sync_state FROM pg_stat_replication"

DATABASE_URL="postgres://postgres@127.0.0.1:$NODE1_PORT,127.0.0.1:$NODE2_PORT/$DEMO_DB?target_session_attrs=read-write"
say "the app: DATABASE_URL=$DATABASE_URL"
export DATABASE_URL DEBUG=0 LOG_LEVEL=WARNING ALLOWED_HOSTS=127.0.0.1 \
  SECRET_KEY="failover-demo-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  CACHE_DIR="$WORK/cache" PROMETHEUS_MULTIPROC_DIR="$WORK/metrics" \
  THROTTLE_WRITE_RATE=100000/min GUNICORN_WORKERS=4 DB_POOL_MAX=2 DB_POOL_TIMEOUT_SECONDS=3
mkdir -p "$CACHE_DIR" "$PROMETHEUS_MULTIPROC_DIR"
$PY manage.py migrate --no-input --verbosity 0
ACCESS_TOKEN=$($PY manage.py issue_tokens --provider demo --subject failover-demo |
  $PY -c "import json, sys; print(json.load(sys.stdin)['access'])")
setsid .venv/bin/gunicorn -c config/gunicorn.conf.py --bind "127.0.0.1:$APP_PORT" config.wsgi \
  >"$WORK/app.log" 2>&1 </dev/null &
echo $! >"$WORK/app.pgid"
wait_for 30 "the app" $PY -c "import urllib.request
urllib.request.urlopen('http://127.0.0.1:$APP_PORT/readyz', timeout=2)"
echo "gunicorn: 4 workers, DB_POOL_MAX=2, DB_POOL_TIMEOUT_SECONDS=3, on 127.0.0.1:$APP_PORT"

# FAILOVER_KILL=postmaster (the default): node1's postmaster; its pg_autoctl starts postgres
# again, the monitor has it demoted and it rejoins as the standby. FAILOVER_KILL=node: node1's
# process group, its pg_autoctl and its postgres (postmaster and backends), as when its machine
# dies: nothing answers for it, so the monitor waits out primary_demote_timeout.
case ${FAILOVER_KILL:-postmaster} in
  node)
    KILL_PGID=$(cat "$WORK/node1.pgid")
    [ "$(ps -o pgid= -p "$(head -n 1 "$WORK/node1/postmaster.pid")" | tr -d ' ')" = "$KILL_PGID" ] ||
      { echo "node1's postgres is not in its process group $KILL_PGID" >&2; exit 1; }
    KILL_TARGET="-$KILL_PGID"; KILLED="node1 (pg_autoctl and postgres)" ;;
  postmaster)
    KILL_TARGET=$(head -n 1 "$WORK/node1/postmaster.pid"); KILLED="node1's postmaster" ;;
  *) echo "FAILOVER_KILL must be node or postmaster" >&2; exit 1 ;;
esac
say "writes at a steady rate; $KILLED killed with SIGKILL mid-traffic"
APP_URL="http://127.0.0.1:$APP_PORT" ACCESS_TOKEN="$ACCESS_TOKEN" KILL_TARGET="$KILL_TARGET" \
  $PY scripts/failover_demo.py

say "the monitor's view afterwards"
autoctl show state --pgdata "$WORK/monitor"
autoctl show events --pgdata "$WORK/monitor" --count 16
