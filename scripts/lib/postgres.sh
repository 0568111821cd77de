# Finds a PostgreSQL for scripts/serve and scripts/test, or starts a private throwaway one.
# Sourced, not run. After `helhed_postgres`, PG_ADMIN_URL names a server where we may create
# roles and databases, and PG_STARTED says whether we started it (then it is stopped on exit).

PG_ADMIN_URL=""
PG_STARTED=""
PG_PRIVATE_DIR="${PG_PRIVATE_DIR:-$(pwd)/.pg}"

pg_bin() {
  local tool="$1" found
  if command -v "$tool" >/dev/null 2>&1; then command -v "$tool"; return 0; fi
  found=$(ls -d /usr/lib/postgresql/*/bin/"$tool" 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] && echo "$found"
}

pg_can_connect() {
  local psql; psql=$(pg_bin psql) || return 1
  [ -n "$psql" ] || return 1
  PGCONNECT_TIMEOUT=3 "$psql" "$1" -qtAc 'SELECT 1' >/dev/null 2>&1
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_stop_private() {
  if [ -n "$PG_STARTED" ]; then
    local pg_ctl; pg_ctl=$(pg_bin pg_ctl)
    pg_as_owner "$pg_ctl" -D "$PG_PRIVATE_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_PRIVATE_DIR/data"
    PG_STARTED=""
  fi
}

# initdb refuses to run as root: run the private cluster as the postgres user then.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start_private() {
  local initdb pg_ctl port
  initdb=$(pg_bin initdb); pg_ctl=$(pg_bin pg_ctl)
  if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
    echo "helhed: no PostgreSQL found: set DATABASE_URL, or install one with 'sudo apt-get install -y postgresql'" >&2
    return 1
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "helhed: running as root without a 'postgres' user to own a private cluster: install the 'postgresql' package, or set DATABASE_URL" >&2
    return 1
  fi
  port=$(pg_free_port)
  mkdir -p "$PG_PRIVATE_DIR"
  rm -rf "$PG_PRIVATE_DIR/data"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_PRIVATE_DIR"
  pg_as_owner "$initdb" -D "$PG_PRIVATE_DIR/data" -U postgres --auth=trust --no-sync >/dev/null
  pg_as_owner "$pg_ctl" -D "$PG_PRIVATE_DIR/data" -l "$PG_PRIVATE_DIR/postgres.log" -w \
    -o "-p $port -k $PG_PRIVATE_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_EXTRA_OPTS:-}" start >/dev/null
  PG_STARTED=1
  PG_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "helhed: started a private PostgreSQL on 127.0.0.1:$port (data in $PG_PRIVATE_DIR, removed on exit)" >&2
}

# $1: an admin URL to prefer (may be empty). HELHED_PG=private skips the server at :5432.
helhed_postgres() {
  local preferred="$1"
  if [ -n "$preferred" ]; then
    PG_ADMIN_URL="$preferred"
  elif [ "${HELHED_PG:-}" != private ] && pg_can_connect "postgres://postgres@127.0.0.1:5432/postgres"; then
    PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    pg_start_private || return 1
  fi
}
