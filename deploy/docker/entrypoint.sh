#!/bin/sh
# gongkai's container entrypoint (deploy/Dockerfile). One image, several roles:
#   web                  the app server: gunicorn with deploy/gunicorn.conf.py
#   worker               the task worker: Huey's consumer (manage.py run_huey)
#   migrate [--publish-static DIR]
#                        one-shot, before web and worker start: creates the ledger's signing
#                        key and the witness key when missing (in LEDGER_*_KEY_FILE), checks
#                        the configuration (check --deploy), migrates the database, and with
#                        --publish-static copies the image's static files to DIR for nginx
#   manage ARGS...       any manage.py command, e.g. `manage createsuperuser`, `manage backup DIR`
#   healthcheck          exits 0 when this container's app server answers /healthz
set -eu

usage() {
    echo "usage: entrypoint.sh web | worker | migrate [--publish-static DIR] | manage ARGS... | healthcheck" >&2
}

role="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi
case "$role" in
    web | worker | migrate | manage | healthcheck) ;;
    *)
        usage
        exit 64
        ;;
esac
cd /app

case "$role" in
    web)
        exec gunicorn --config /app/deploy/gunicorn.conf.py "$@"
        ;;
    worker)
        exec python manage.py run_huey "$@"
        ;;
    migrate)
        static_dir=""
        if [ "${1:-}" = "--publish-static" ]; then
            static_dir="${2:?--publish-static needs a directory}"
            shift 2
        fi
        python manage.py ledger_key create --if-missing
        python manage.py witness_key create --if-missing
        python manage.py check --deploy
        python manage.py migrate --noinput
        if [ -n "$static_dir" ]; then
            # Old hashed files stay: pages still open in a browser may ask for them.
            cp -R /app/staticfiles/. "$static_dir"/
        fi
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    healthcheck)
        exec python /app/deploy/docker/healthcheck.py
        ;;
esac
