#!/bin/bash
# A private PostgreSQL cluster in one folder: unix socket only, no TCP, no
# system service. Used by run.sh, test.sh and the integration tests.
#
#   scripts/pg.sh start DIR     initdb (first time) + start; prints the app
#                               connection string on stdout
#   scripts/pg.sh url DIR ROLE  connection string for ROLE: app | owner | admin
#   scripts/pg.sh stop DIR      fast shutdown
#   scripts/pg.sh destroy DIR   stop, then remove DIR
#
# Roles (see docs/records.md): consilium_owner owns the database and runs the
# migrations; consilium_app is what consiliumd uses day to day (it cannot
# alter or delete audit rows); postgres is the cluster superuser.
# CS_PG_FAST=1 turns off fsync: for throwaway test clusters only.
set -euo pipefail

BIN=${CS_PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=5432 # only names the socket file: the socket lives in DIR
DBNAME=consilium

usage() { echo "usage: $0 start|stop|destroy DIR | url DIR app|owner|admin" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")
data=$dir/data

# initdb and postgres refuse to run as root: drop to the system user that
# scripts/deps.sh creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id consilium >/dev/null 2>&1 || { echo "pg.sh: user 'consilium' missing (run scripts/deps.sh)" >&2; exit 1; }
    runuser -u consilium -- "$@"
  else
    "$@"
  fi
}

url() { # role
  local user
  case $1 in
    app) user=consilium_app ;;
    owner) user=consilium_owner ;;
    admin) user=postgres ;;
    *) usage ;;
  esac
  echo "host=$dir port=$PORT dbname=$DBNAME user=$user"
}

psql_admin() {
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$PORT" -U postgres -d postgres "$@"
}

start() {
  mkdir -p "$dir"
  chmod 700 "$dir"
  touch "$dir/.pg.sh" # lets destroy tell our folders from anything else
  if [ "$(id -u)" = 0 ]; then
    chown -R consilium: "$dir"
    as_pg test -x "$dir" \
      || { echo "pg.sh: user 'consilium' cannot reach $dir (a parent folder is private?)" >&2; exit 1; }
  fi
  local fresh=0
  if [ ! -f "$data/PG_VERSION" ]; then
    # trust auth is safe here only because the socket directory is private.
    as_pg "$BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    fresh=1
  fi
  local opts="-c listen_addresses='' -k $dir -p $PORT"
  if [ "${CS_PG_FAST:-0}" = 1 ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  if ! as_pg "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$BIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -o "$opts" -w -t 60 start >/dev/null \
      || { tail -20 "$dir/postgres.log" >&2; exit 1; }
  fi
  if [ "$fresh" = 1 ]; then
    psql_admin <<SQL
CREATE ROLE consilium_owner LOGIN;
CREATE ROLE consilium_app LOGIN;
CREATE DATABASE $DBNAME OWNER consilium_owner;
REVOKE ALL ON DATABASE $DBNAME FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $DBNAME TO consilium_app;
SQL
  fi
  url app
}

stop() {
  [ -f "$data/PG_VERSION" ] || return 0
  if as_pg "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  fi
}

case $cmd in
  start) start ;;
  stop) stop ;;
  destroy)
    stop
    # Refuse to delete anything that does not look like one of our clusters.
    if [ -d "$dir" ]; then
      [ -f "$dir/.pg.sh" ] || [ -z "$(ls -A "$dir")" ] \
        || { echo "pg.sh: $dir is not a pg.sh cluster, not removing" >&2; exit 1; }
      rm -rf "$dir"
    fi
    ;;
  url) [ $# -eq 3 ] || usage; url "$3" ;;
  *) usage ;;
esac
