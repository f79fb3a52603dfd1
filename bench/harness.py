"""What the page-level benchmarks share: Django runs in a child process
(``python -m bench.<module> measure``, printing its figures as JSON on the last line) with the
bench-only settings (``bench.board_site``) on a fresh database, once on SQLite and once on
PostgreSQL when a server is reachable, so a benchmark never touches the developer's database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def environment(database_url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.board_site",
        DATABASE_URL=database_url,
        GONGKAI_VAR_DIR=str(workdir),
        SECRET_KEY="bench-only-" + "x" * 50,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        STATIC_ROOT=str(workdir / "static"),
    )
    env.pop("REDIS_URL", None)
    return env


def measure_in_child(module: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "measure"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"measure failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pg_fresh(url: str) -> bool:
    """Drop and create the PostgreSQL database ``url`` names, empty; False (saying why) when
    no server is reachable."""
    server, name = url.rsplit("/", 1)
    try:
        import psycopg

        with psycopg.connect(f"{server}/postgres", connect_timeout=3, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as exc:  # any failure means: no PostgreSQL here
        print(f"  PostgreSQL skipped: {exc}", file=sys.stderr, flush=True)
        return False


def pg_create(database: str) -> bool:
    """A fresh, empty database on the local PostgreSQL server; False when unreachable."""
    return pg_fresh(f"{PG_SERVER}/{database}")


def pg_drop(database: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {database}")


def on_each_database(module: str, pg_database: str) -> dict[str, dict[str, object]]:
    """The child's figures per database: "SQLite", and "PostgreSQL" when reachable."""
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix=f"{module}-") as tmp:
        work = Path(tmp)
        sqlite = environment(f"sqlite:///{work / 'bench.sqlite3'}", work)
        results["SQLite"] = measure_in_child(module, sqlite)
        if pg_create(pg_database):
            try:
                postgres = environment(f"{PG_SERVER}/{pg_database}", work / "pg")
                results["PostgreSQL"] = measure_in_child(module, postgres)
            finally:
                pg_drop(pg_database)
    return results
