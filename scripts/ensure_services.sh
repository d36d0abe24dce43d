#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer before `make test`.
#
# Servers come from TEST_DATABASE_URL and TEST_REDIS_URL (defaults 127.0.0.1:5432 and :6379).
# On the default local address, a server that is installed but stopped is started; a server that
# is not installed stops the run with a message saying what to install. A server elsewhere is only
# checked, never started.
set -euo pipefail

TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cross_enforcement}
TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
WAIT_SECONDS=30

say() { echo "ensure_services: $*"; }
die() { echo "ensure_services: $*" >&2; exit 1; }

# host_port URL DEFAULT_PORT -> prints "host port"
host_port() {
    local url=$1 default_port=$2 rest host port
    rest=${url#*://}
    rest=${rest%%/*}
    rest=${rest%%\?*}
    rest=${rest##*@}
    if [[ $rest == \[* ]]; then          # [::1]:5432
        host=${rest#\[}
        host=${host%%\]*}
        port=${rest##*\]}
        port=${port#:}
    else
        host=${rest%%:*}
        port=${rest#"$host"}
        port=${port#:}
    fi
    echo "${host:-127.0.0.1} ${port:-$default_port}"
}

is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

wait_for() { # name check-function
    local name=$1 check=$2 i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if "$check"; then
            say "$name is up"
            return 0
        fi
        sleep 1
    done
    die "$name did not answer within ${WAIT_SECONDS}s"
}

# --- PostgreSQL ---------------------------------------------------------------------------------
read -r PG_HOST PG_PORT < <(host_port "$TEST_DATABASE_URL" 5432)

command -v pg_isready >/dev/null 2>&1 \
    || die "PostgreSQL is missing (pg_isready not found). Install it: apt-get install postgresql redis-server"

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }

if pg_up; then
    say "PostgreSQL answers at $PG_HOST:$PG_PORT"
elif is_local "$PG_HOST" && [[ $PG_PORT == 5432 ]]; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ -z "$(ls /etc/postgresql 2>/dev/null)" ]]; then
        die "PostgreSQL is not installed (no pg_ctlcluster or no cluster in /etc/postgresql). Install it: apt-get install postgresql redis-server"
    fi
    say "starting PostgreSQL $(ls /etc/postgresql) main"
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start \
        || die "could not start PostgreSQL (run as root or as the postgres user)"
    wait_for PostgreSQL pg_up
else
    die "PostgreSQL does not answer at $PG_HOST:$PG_PORT (from TEST_DATABASE_URL); it is not local, so it is not started here"
fi

# --- Redis --------------------------------------------------------------------------------------
read -r REDIS_HOST REDIS_PORT < <(host_port "$TEST_REDIS_URL" 6379)

command -v redis-cli >/dev/null 2>&1 \
    || die "Redis is missing (redis-cli not found). Install it: apt-get install postgresql redis-server"

redis_up() { [[ "$(redis-cli -u "$TEST_REDIS_URL" ping 2>/dev/null)" == PONG ]]; }

if redis_up; then
    say "Redis answers at $REDIS_HOST:$REDIS_PORT"
elif is_local "$REDIS_HOST" && [[ $REDIS_PORT == 6379 ]]; then
    command -v redis-server >/dev/null 2>&1 \
        || die "Redis is not installed (redis-server not found). Install it: apt-get install postgresql redis-server"
    say "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log \
        || die "could not start redis-server (see /var/log/redis/ci.log)"
    wait_for Redis redis_up
else
    die "Redis does not answer at $REDIS_HOST:$REDIS_PORT (from TEST_REDIS_URL); it is not local, so it is not started here"
fi
