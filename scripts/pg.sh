# Start/stop a throwaway PostgreSQL server on loopback for the test suite. Source after lib.sh.
# PostgreSQL refuses to run as root, so the server runs as the `postgres` user on a temporary data dir.
pg_bin_dir() {
  # A directory holding the server tools together (initdb, pg_ctl, createdb): Debian's first, then PATH.
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV) "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/createdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

pg_start() {
  local bin
  if ! bin=$(pg_bin_dir); then apt_install postgresql; bin=$(pg_bin_dir); fi
  PG_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PG_DIR=$(mktemp -d /tmp/portal-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || as_root useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$PG_DIR"; run=(runuser -u postgres --); export PG_RUN_AS=postgres
  fi
  PG_RUN=("${run[@]}")
  PG_BIN="$bin"
  say "Starting PostgreSQL ($bin) on 127.0.0.1:$PG_PORT"
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U portal --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  "${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U portal portal
  export PG_BIN PG_DIR PG_PORT
  export DATABASE_URL="postgres://portal@127.0.0.1:$PG_PORT/portal"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
