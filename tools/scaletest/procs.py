"""The components of the test: each a process group of its own, stopped at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def as_postgres() -> list[str]:
    """initdb refuses root: run the cluster as the postgres user then."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class Proc:
    """One command in its own session (process group): kill -9 takes all of it."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path, cwd: Path):
        self.name, self.cmd, self.env, self.log, self.cwd = name, cmd, env, log, cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        handle.write(f"\n=== start {time.strftime('%H:%M:%S')} {' '.join(self.cmd)}\n".encode())
        handle.flush()
        self.popen = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=self.cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        handle.close()

    @property
    def pid(self) -> int:
        return self.popen.pid if self.popen else 0

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def pids(self) -> list[int]:
        """Every process of the group (the master and its workers)."""
        if not self.popen:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) == self.popen.pid:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
        return sorted(found)

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill9(self) -> None:
        self.signal_group(signal.SIGKILL)
        if self.popen:
            self.popen.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self.signal_group(signal.SIGKILL)  # whatever is left of the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


class Postgres:
    """A cluster of our own on a free port (the machine's shared one is never touched)."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "pg"
        self.sock = tmp / "pgsock"
        self.log = tmp / "postgres.log"
        self.port = free_port()

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*as_postgres(), *args], check=check, capture_output=True, timeout=120
        )

    def init(self) -> None:
        for path in (self.dir, self.sock):
            path.mkdir()
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.log, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def ctl(self, action: str, *extra: str, check: bool = True) -> None:
        options = (
            f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 "
            "-c max_connections=100 -c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", action, *extra, check=check,
        )  # fmt: skip

    def start(self) -> None:
        self.ctl("start")

    def restart(self) -> None:
        self.ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.dir / "postmaster.pid").exists():
            self.ctl("stop", "-m", "fast", check=False)

    def psql(self, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-At",
             "-d", "gongkai", "-c", sql],
            check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return out.stdout.strip()

    def createdb(self) -> None:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
             "postgres", "-c", "CREATE DATABASE gongkai"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def url(self, application: str = "") -> str:
        base = f"postgres://postgres@127.0.0.1:{self.port}/gongkai"
        return f"{base}?application_name={application}" if application else base


NGINX_CONF = """\
worker_processes 2;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    upstream gongkai_app {{
        server 127.0.0.1:{app1} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{app2} max_fails=1 fail_timeout=5s;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1 localhost;
{locations}
    }}
}}
"""

OWN_LOCATIONS = """\
        client_max_body_size 101m;
        location / {
            proxy_pass http://gongkai_app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Request-ID $request_id;
            # Retried on the other server only when nothing was sent yet (connect refused)
            # or the answer was a 502: nginx never retries a POST (non_idempotent is off).
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 90s;
        }
"""


def nginx_conf(tmp: Path, port: int, app_ports: tuple[int, int], shipped: Path | None) -> str:
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / f"nginx-{sub}").mkdir(exist_ok=True)
    locations = f"        include {shipped};\n" if shipped is not None else OWN_LOCATIONS
    user = "user root root;" if os.geteuid() == 0 else ""
    return NGINX_CONF.format(
        tmp=tmp, port=port, app1=app_ports[0], app2=app_ports[1], locations=locations, user=user
    )
