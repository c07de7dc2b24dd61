#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the study storage tests.
#
#   url=$(test/tools/pg_server.sh start DIR)   # prints postgresql://postgres@127.0.0.1:PORT/mlc
#   MLC_TEST_POSTGRES_URL=$url build/test/unit/runtime-tests --gtest_filter='*postgres*'
#   test/tools/pg_server.sh stop DIR            # stops it and removes DIR
#
# The server keeps everything in DIR (which must be new or empty), listens on
# 127.0.0.1 at a free port and on a unix socket in DIR, trusts every local
# connection and has a database `mlc`. Durability is off: it is for tests.
# PostgreSQL refuses to run as root, so under root the server runs as the
# `postgres` user, who must be able to reach DIR (/tmp/... is fine).
# PG_BIN overrides where initdb and pg_ctl are found.
set -euo pipefail

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
marker=.mlc-pg-server  # stop removes only a directory start made

die() {
  echo "pg_server.sh: $*" >&2
  exit 1
}

usage() { die "usage: pg_server.sh start|stop DIR"; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

check_binaries() {
  local b
  for b in initdb pg_ctl createdb; do
    [ -x "$bin/$b" ] ||
      die "no $bin/$b: the PostgreSQL 15 server is not installed (scripts/bootstrap installs the postgresql package)"
  done
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the user 'postgres' (the postgresql package creates it)"
    command -v runuser >/dev/null || die "running as root needs runuser (util-linux)"
  fi
}

# A port nothing on 127.0.0.1 answers on; the server's bind is the real test.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port on 127.0.0.1"
}

configure() {
  local port=$1
  # A unix socket path is at most 107 bytes; a deep DIR gets TCP only.
  local sockets="$dir"
  [ $((${#dir} + 20)) -le 107 ] || sockets=""
  as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
# pg_server.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockets'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start() {
  check_binaries
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then die "$dir exists and is not empty"; fi
  mkdir -p "$dir"
  touch "$dir/$marker"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      rm -rf "$dir"
      die "the postgres user cannot write $dir (a parent directory is closed to it): choose a directory under /tmp"
    fi
  fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    fail "initdb failed" "$dir/initdb.log"
  local port started=""
  for _ in 1 2 3 4 5; do
    port=$(free_port) || fail "no free port on 127.0.0.1" /dev/null
    configure "$port" || fail "could not write $dir/data/postgresql.conf" /dev/null
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      started=1
      break
    fi
    grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null || break
  done
  [ -n "$started" ] || fail "the server did not start" "$dir/server.log"
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres mlc >/dev/null 2>&1 ||
    fail "could not create the database mlc" "$dir/server.log"
  echo "pg_server.sh: PostgreSQL up in $dir (log $dir/server.log)" >&2
  echo "postgresql://postgres@127.0.0.1:$port/mlc"
}

# Shows why, then leaves nothing behind.
fail() {
  echo "pg_server.sh: $1; the end of $2:" >&2
  tail -n 20 "$2" >&2 2>/dev/null || true
  cleanup
  exit 1
}

cleanup() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

stop() {
  [ -d "$dir" ] || die "$dir does not exist"
  [ -f "$dir/$marker" ] || die "$dir was not made by pg_server.sh start: not removing it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    [ -x "$bin/pg_ctl" ] || die "no $bin/pg_ctl to stop the server in $dir"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ||
      die "the server in $dir did not stop (see $dir/server.log)"
  fi
  rm -rf "$dir"
}

[ $# -eq 2 ] || usage
dir=$(realpath -m -- "$2")
cd /  # the postgres user may not be able to enter the caller's directory
case $1 in
start) start ;;
stop) stop ;;
*) usage ;;
esac
