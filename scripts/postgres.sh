#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's packages, on 127.0.0.1 and a free port.
#
#   eval "$(bash scripts/postgres.sh start)"   # starts it; prints `export` lines for:
#       SOUNDTRACK_TEST_DATABASE_URL   postgresql+psycopg://soundtrack:<random>@127.0.0.1:<port>/soundtrack
#       SOUNDTRACK_TEST_PGDIR          its temporary directory (data, socket, log)
#   bash scripts/postgres.sh stop "$SOUNDTRACK_TEST_PGDIR"   # stops it and deletes the directory
#
# Installs the `postgresql` package when no server binaries are found (sudo when not root). initdb
# refuses to run as root, so as root the server runs as the `postgres` user the package creates.
set -euo pipefail

find_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; fi
}

as_owner() {  # run a command as the user who owns the server's files
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bindir
  bindir=$(find_bindir)
  if [ -z "$bindir" ]; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian package: postgresql" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
    bindir=$(find_bindir)
    [ -n "$bindir" ] || { echo "error: no PostgreSQL server binaries after installing postgresql" >&2; exit 1; }
  fi
  local dir port password
  dir=$(mktemp -d "${TMPDIR:-/tmp}/soundtrack-pg.XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "error: running as root needs the 'postgres' user" >&2; exit 1; }
    chown postgres: "$dir"
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  as_owner sh -c "umask 077 && printf '%s\n' '$password' > '$dir/pwfile'"
  as_owner "$bindir/initdb" -D "$dir/data" -U soundtrack --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # fsync off: a test server's data may be lost in a crash, and tests run faster without it
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  as_owner env PGPASSWORD="$password" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U soundtrack soundtrack >&2
  echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
  echo "export SOUNDTRACK_TEST_DATABASE_URL='postgresql+psycopg://soundtrack:$password@127.0.0.1:$port/soundtrack'"
  echo "export SOUNDTRACK_TEST_PGDIR='$dir'"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  local bindir
  bindir=$(find_bindir)
  if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bindir" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
