"""Serve the site and run the task worker beside it: one command for `make run`.

Starts gunicorn (the web server) and Huey's consumer (``manage.py run_huey``: the worker
that sends notices, runs imports and documents, and the periodic tasks) as two child
processes. Ctrl-C or SIGTERM stops both; when either one stops on its own, the other is
stopped too and the command exits with its status, so a supervisor sees the failure.
Production runs the two as separate services instead (README, "Production").
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

STOP_GRACE = 10.0  # seconds a child gets to finish before it is killed


class Command(BaseCommand):
    help = "Serve the site with gunicorn and run the task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        bin_dir = Path(sys.executable).parent
        web = [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
        ]
        if options["access_log"]:
            web += ["--access-logfile", "-", "--access-logformat", '%(t)s "%(r)s" %(s)s %(b)s']
        worker = [sys.executable, "manage.py", "run_huey"]
        names = ["gunicorn", "run_huey"]
        children = [subprocess.Popen(web), subprocess.Popen(worker)]  # noqa: S603 - our own argv
        stopping = False

        def stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        status = 0
        while not stopping:
            for name, child in zip(names, children, strict=True):
                code = child.poll()
                if code is not None:
                    self.stderr.write(f"{name} stopped with status {code}; stopping.")
                    status = code or 1
                    stopping = True
            time.sleep(0.5)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        if status:
            raise SystemExit(status)
