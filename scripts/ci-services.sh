#!/usr/bin/env bash
# Install and start what the service tests need: Debian's chromium (browser test)
# and a PostgreSQL cluster on 127.0.0.1 with a test database.
#
# Usage (as root):  eval "$(bash scripts/ci-services.sh)"
# Prints one line on stdout, `export INFERPLAN_TEST_POSTGRES_URL=...`; progress goes
# to stderr. Safe to run again: installs only what is missing, starts the cluster
# only when it is down, and creates the role and database only when absent.
set -euo pipefail

DB_NAME="${INFERPLAN_TEST_DB:-inferplan_test}"
DB_USER="${INFERPLAN_TEST_DB_USER:-inferplan}"
DB_PASS="${INFERPLAN_TEST_DB_PASSWORD:-inferplan-test}"

log() { printf '%s\n' "ci-services: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (apt-get, pg_ctlcluster)"
    exit 1
fi

missing=()
for pkg in chromium postgresql; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# The newest installed major version and its first cluster (created by the package;
# created here if someone removed it).
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
cluster="$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v {print $2; exit}')"
if [ -z "$cluster" ]; then
    cluster=main
    log "creating cluster $version/$cluster"
    pg_createcluster "$version" "$cluster" >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $3}')"
status="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $4}')"
if [ "$status" != "online" ]; then
    log "starting cluster $version/$cluster on 127.0.0.1:$port"
    pg_ctlcluster "$version" "$cluster" start -o "-c listen_addresses=127.0.0.1" >&2
fi

# Wait (bounded) until the server accepts connections.
for _ in $(seq 1 60); do
    if runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p "$port"; then
        break
    fi
    sleep 0.5
done
runuser -u postgres -- pg_isready -h 127.0.0.1 -p "$port" >&2

psql_admin() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]; then
    log "creating role $DB_USER"
    psql_admin -c "CREATE ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASS'" >&2
else
    psql_admin -c "ALTER ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASS'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
    log "creating database $DB_NAME"
    psql_admin -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\"" >&2
fi

url="postgresql://$DB_USER:$DB_PASS@127.0.0.1:$port/$DB_NAME"
log "PostgreSQL ready at 127.0.0.1:$port, database $DB_NAME"
printf 'export INFERPLAN_TEST_POSTGRES_URL=%q\n' "$url"
