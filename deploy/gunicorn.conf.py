"""gunicorn settings for gongkai's app servers (``gunicorn -c deploy/gunicorn.conf.py``).

Used by the systemd unit (deploy/systemd/gongkai-web@.service) and the container image
(deploy/docker/entrypoint.sh web). Every value can be changed from the environment, so the
same file serves one small host and a row of app servers behind nginx:

    GUNICORN_BIND                  address:port to listen on; default GUNICORN_HOST:GUNICORN_PORT
    GUNICORN_HOST, GUNICORN_PORT   default 127.0.0.1 and 8000 (the unit sets the port from
                                   its instance name: gongkai-web@8001 listens on 8001)
    GUNICORN_WORKERS               worker processes; default one per CPU, so the two app
                                   servers of one host give about 2 × cores
    GUNICORN_TIMEOUT               seconds a request may take before its worker is killed (60)
    GUNICORN_FORWARDED_ALLOW_IPS   the proxy's addresses (default loopback); never "*"
    GUNICORN_ACCESS_LOG            1: log each request to stderr, without client addresses

Why these choices:

- The app servers speak only to nginx, which buffers uploads and slow clients, so plain
  synchronous workers suffice. Each worker holds one database connection: keep
  workers × app servers × hosts (plus the task workers' threads) below PostgreSQL's
  max_connections.
- ``forwarded_allow_ips`` is the proxy only: gunicorn believes X-Forwarded-Proto (https)
  from these addresses alone. The client's address reaches the app in X-Real-IP, which
  nginx overwrites on every request (settings CLIENT_ADDRESS_META and
  REPORTING_CLIENT_ADDRESS_META name it); so the app servers must be reachable from the
  proxy only (loopback, or a firewalled private network), never from clients directly.
- gongkai never writes client addresses to its logs (an access log with addresses beside
  /report/ could link an anonymous report to someone), so the access log is off unless
  asked for, and then in the app's own format: time, request line, status, size, duration
  and the X-Request-ID nginx sets, no address.
- ``max_requests`` with jitter recycles workers one at a time, so a slow leak never grows
  and the workers never restart all at once.
"""

from __future__ import annotations

import os

WILDCARD = "*"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "config.wsgi:application"
proc_name = "gongkai-web"

bind = [
    os.environ.get("GUNICORN_BIND")
    or f"{os.environ.get('GUNICORN_HOST', '127.0.0.1')}:{_int('GUNICORN_PORT', 8000)}"
]
workers = _int("GUNICORN_WORKERS", os.cpu_count() or 1)
worker_class = "sync"

# A request that takes longer than this is stopped and its worker replaced (nginx's
# proxy_read_timeout is longer, so the client sees gunicorn's answer, not nginx's).
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM or a reload, a worker finishes the request it is serving for up to this long
# (systemd's TimeoutStopSec and compose's stop_grace_period are longer).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5

max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
if WILDCARD in {item.strip() for item in forwarded_allow_ips.split(",")}:
    # Anyone could then claim https; refuse to start rather than trust every client.
    raise SystemExit(
        "GUNICORN_FORWARDED_ALLOW_IPS must list the proxy's addresses, not '*' "
        "(README, Running it in production)."
    )

# The workers' heartbeat files: in memory, so a slow or full disk never gets a healthy
# worker killed. Falls back to gunicorn's default where /dev/shm is not writable.
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108

# gunicorn's runtime control socket (gunicornc, 25.1+) is off: systemd or compose manage the
# app servers by signals, and its default path ($HOME/.gunicorn/gunicorn.ctl) would be shared
# by the app servers of one host.
control_socket_disable = True

accesslog: str | None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
if os.environ.get("GUNICORN_ACCESS_LOG", "").strip().lower() in {"1", "true", "yes", "on"}:
    accesslog = "-"
    access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}i)s'
else:
    accesslog = None
