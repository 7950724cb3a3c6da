#!/usr/bin/env bash
# The services the tests need, installed when missing and started when stopped (idempotent: run it as
# often as you like). Each service is one function; add another the same way and call it at the bottom.
#
#   tesseract:  Debian's tesseract-ocr with the eng and rus packs (OCR in tests/test_images.py)
#   postgresql: a throwaway cluster on 127.0.0.1:$CLAIM_CONTEXT_PG_PORT (default 55432) with trust auth,
#               data in $CLAIM_CONTEXT_PG_DIR (default /tmp/claim-context-pg), and the test database
#               claim_context_test. The tests read CLAIM_CONTEXT_TEST_PG (default: the URL printed here).
set -euo pipefail

PG_DIR="${CLAIM_CONTEXT_PG_DIR:-/tmp/claim-context-pg}"
PG_PORT="${CLAIM_CONTEXT_PG_PORT:-55432}"
PG_DB="claim_context_test"

apt_install() {  # apt_install PACKAGE...: Debian packages, as root, with the package lists refreshed once
    if [ "$(id -u)" != 0 ]; then
        echo "services.sh: need root to install $* (or install it yourself)" >&2
        return 1
    fi
    if [ -z "${_APT_UPDATED:-}" ]; then
        apt-get update -qq
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

as_db_user() {  # initdb and postgres refuse to run as root: run them as the `postgres` OS user then
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgresql() {
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        apt_install postgresql
        bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$PG_DIR"
    fi
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        as_db_user "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync -E UTF8 >"$PG_DIR/initdb.log"
    fi
    if ! as_db_user "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        # fsync off: a throwaway cluster for tests and benchmarks; nothing in it needs to survive a power cut
        as_db_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
            -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" >/dev/null
    fi
    if ! as_db_user "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" postgres | grep -q 1; then
        as_db_user "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB"
    fi
    echo "postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
}

install_tesseract() {  # OCR for the image tests: Tesseract with its English and Russian packs, and a font
    if ! dpkg -s tesseract-ocr-eng tesseract-ocr-rus fonts-dejavu-core >/dev/null 2>&1; then
        apt_install tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus fonts-dejavu-core
    fi
}

start_postgresql
install_tesseract
