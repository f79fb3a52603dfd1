"""The orchestration: start everything, load, four faults, check, report, stop."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.scaletest import figures
from tools.scaletest.load import PASSWORD, Load, post_forms
from tools.scaletest.procs import Postgres, Proc, free_port, nginx_conf, wait_port

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
SHIPPED_PROXY = ROOT / "deploy" / "nginx" / "gongkai-proxy.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
SETTINGS = "config.settings.production"


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Stack:
    """Every component of the run; :meth:`stop` stops whatever was started."""

    def __init__(self, tmp: Path, users: int, stale: int, seed_dump: Path | None) -> None:
        self.tmp = tmp
        self.seed_dump = seed_dump
        self.seed_restored = False
        self.users = users
        self.pg = Postgres(tmp)
        self.redis_port = free_port()
        self.nginx_port = free_port()
        self.app_ports = (free_port(), free_port())
        self.smtp_port = free_port()
        self.origin = f"https://127.0.0.1:{self.nginx_port}"
        self.env = self._env(stale)
        self.apps: list[Proc] = []
        self.workers: list[Proc] = []
        self.redis: Proc | None = None
        self.nginx: Proc | None = None
        self.smtp: Any = None
        self.mails = 0
        self.shipped_proxy = SHIPPED_PROXY.exists()

    def _env(self, stale: int) -> dict[str, str]:
        origin = "scale.test/ledger"
        key = subprocess.run(
            [PY, "-m", "gongkai.core.tlog.notes", origin],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout.strip()  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))}
        env.update(
            DJANGO_SETTINGS_MODULE=SETTINGS,
            SECRET_KEY=secrets.token_urlsafe(48)[:64],
            DATABASE_URL=self.pg.url(),
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CSRF_TRUSTED_ORIGINS=self.origin,
            SECURE_SSL_REDIRECT="false",
            SITE_URL=self.origin,
            LEDGER_ORIGIN=origin,
            LEDGER_SIGNING_KEY=key,
            LEDGER_WITNESS_KEY_FILE=str(self.tmp / "witness.key"),
            STATIC_ROOT=str(self.tmp / "static"),
            MEDIA_ROOT=str(self.tmp / "media"),
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.smtp_port),
            CLIENT_ADDRESS_META="HTTP_X_REAL_IP",
            REPORTING_CLIENT_ADDRESS_META="HTTP_X_REAL_IP",
            HUEY_WORKERS="2",
            JOBS_STALE_AFTER_SECONDS=str(stale),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
        )
        return env

    # --- Parts ----------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 600) -> str:
        out = subprocess.run(
            [PY, "manage.py", *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        with open(self.tmp / "manage.log", "a", encoding="utf-8") as handle:
            handle.write(f"\n=== manage.py {' '.join(args)}\n{out.stdout}\n{out.stderr}\n")
        if out.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
        return out.stdout

    def probe(self, *args: str, timeout: float = 300) -> dict[str, Any]:
        out = subprocess.run(
            [PY, "-m", "tools.scaletest.probe", *args], env=self.env, cwd=ROOT,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if out.returncode:
            raise RuntimeError(f"probe {args[0]} failed:\n{out.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    def start_redis(self) -> None:
        if self.redis is None:
            self.redis = Proc(
                "redis",
                ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                 "--dir", str(self.tmp)],
                self.env, self.tmp / "redis.log", ROOT,
            )  # fmt: skip
        self.redis.start()
        if not wait_port(self.redis_port):
            raise RuntimeError("redis did not start")

    def start_smtp(self) -> None:
        from aiosmtpd.controller import Controller

        stack = self

        class Sink:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                stack.mails += len(envelope.rcpt_tos)
                return "250 OK"

        self.smtp = Controller(Sink(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    def app(self, number: int) -> Proc:
        env = dict(self.env)
        env["DATABASE_URL"] = self.pg.url(f"app{number}")
        port = self.app_ports[number - 1]
        env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2",
                   GUNICORN_ACCESS_LOG="1")  # fmt: skip
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn")]
        if GUNICORN_CONF.exists():
            cmd += ["-c", str(GUNICORN_CONF)]
        else:
            cmd += ["--bind", f"127.0.0.1:{port}", "--workers", "2"]
        cmd += ["config.wsgi:application"]
        return Proc(f"app{number}", cmd, env, self.tmp / f"app{number}.log", ROOT)

    def worker(self, number: int) -> Proc:
        env = dict(self.env)
        env["DATABASE_URL"] = self.pg.url(f"worker{number}")
        return Proc(
            f"worker{number}", [PY, "manage.py", "run_huey"], env,
            self.tmp / f"worker{number}.log", ROOT,
        )  # fmt: skip

    def start(self) -> None:
        log(f"temporary directory {self.tmp}")
        self.pg.init()
        self.pg.start()
        self.pg.createdb()
        log(f"PostgreSQL on {self.pg.port}")
        self.start_redis()
        log(f"Redis on {self.redis_port} (append-only file: the queue survives a restart)")
        self.start_smtp()
        t = time.monotonic()
        if self.seed_dump and self.seed_dump.exists():
            subprocess.run(
                ["pg_restore", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres",
                 "-d", "gongkai", "--no-owner", str(self.seed_dump)],
                check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            self.manage("migrate", "--noinput")
            self.seed_restored = True
            log(f"restored the seeded demo from {self.seed_dump}")
        else:
            self.manage("migrate", "--noinput")
            self.manage("seed_demo")
            if self.seed_dump:
                subprocess.run(
                    ["pg_dump", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres",
                     "-Fc", "-f", str(self.seed_dump), "gongkai"],
                    check=True, capture_output=True, timeout=600,
                )  # fmt: skip
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        log(f"migrated, demo seeded, static collected in {time.monotonic() - t:.0f} s")
        self.apps = [self.app(1), self.app(2)]
        self.workers = [self.worker(1), self.worker(2)]
        for proc in [*self.apps, *self.workers]:
            proc.start()
        for port in self.app_ports:
            if not wait_port(port, 60):
                raise RuntimeError(f"app server on {port} did not start")
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            nginx_conf(self.tmp, self.nginx_port, self.app_ports,
                       SHIPPED_PROXY if self.shipped_proxy else None)
        )  # fmt: skip
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        test = subprocess.run([nginx, "-t", "-p", str(self.tmp), "-c", str(conf)],
                              capture_output=True, text=True)  # fmt: skip
        if test.returncode:
            raise RuntimeError(f"nginx -t failed: {test.stderr}")
        command = [nginx, "-p", str(self.tmp), "-c", str(conf), "-g", "daemon off;"]
        self.nginx = Proc("nginx", command, self.env, self.tmp / "nginx.log", ROOT)
        self.nginx.start()
        if not wait_port(self.nginx_port):
            raise RuntimeError("nginx did not start")
        log(f"nginx on {self.nginx_port} → app servers {self.app_ports}, 2 Huey workers")

    def stop(self) -> None:
        for proc in [self.nginx, *self.apps, *self.workers, self.redis]:
            if proc is not None:
                try:
                    proc.stop()
                except Exception as exc:
                    log(f"stopping {proc.name}: {exc}")
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                self.smtp.stop()
        self.pg.stop()

    def access_lines(self, number: int) -> int:
        path = self.tmp / f"app{number}.log"
        if not path.exists():
            return 0
        text = path.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if '" ' in line and "HTTP/" in line)

    def log_count(self, needle: str) -> int:
        total = 0
        for path in self.tmp.glob("*.log"):
            total += path.read_text(errors="replace").count(needle)
        return total


# --- The faults ------------------------------------------------------------------------------


def kill_app(stack: Stack, load: Load, steady: float) -> figures.Fault:
    start = load.now()
    load.stop.wait(steady)
    app = stack.apps[0]
    pids = app.pids()
    t_kill = load.now()
    app.kill9()
    log(f"fault 1: kill -9 app server 1 (pids {pids})")
    load.stop.wait(10)
    before = stack.access_lines(1)
    t_restart = load.now()
    app.start()
    wait_port(stack.app_ports[0], 60)
    t_up = load.now()
    rejoined = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if stack.access_lines(1) > before + 3:
            rejoined = round(load.now() - t_up, 1)
            break
        time.sleep(0.25)
    log(f"fault 1: app server 1 restarted, serving again {rejoined} s after it listened")
    load.stop.wait(steady)
    return figures.Fault(
        "1. kill -9 one app server (master and workers)",
        (start, load.now()),
        windows=[(t_kill - 0.5, t_kill + 3.0), (t_restart, t_up + 3.0)],
        notes={
            "killed_pids": pids,
            "killed_at": round(t_kill, 2),
            "restarted_at": round(t_restart, 2),
            "listening_after_seconds": round(t_up - t_restart, 1),
            "rejoined_after_seconds": rejoined,
        },
    )


def job_state(stack: Stack, job_id: str) -> tuple[str, int, int, int]:
    row = stack.pg.psql(f"SELECT status, attempts, done, total FROM core_job WHERE id = '{job_id}'")
    status, attempts, done, total = row.split("|")
    return status, int(attempts), int(done), int(total)


def kill_worker(stack: Stack, load: Load, steady: float, rows: int, stale: int) -> figures.Fault:
    start = load.now()
    load.stop.wait(steady)
    prefix = "9" + secrets.token_hex(2).upper()
    started = stack.probe("roster", str(rows), prefix)
    notes: dict[str, Any] = {"task": f"roster import of {rows} new employees (one transaction)"}
    if "error" in started:
        raise RuntimeError(started["error"])
    job_id = started["import"]
    killed: Proc | None = None
    t_kill = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, attempts, done, total = job_state(stack, job_id)
        if status == "done":
            break
        if status == "running" and total and done * 2 == total:
            time.sleep(0.5)  # into the writing transaction
            holder = stack.pg.psql(
                "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE "
                "'worker%' AND state IN ('active', 'idle in transaction') "
                "AND xact_start IS NOT NULL ORDER BY xact_start LIMIT 1"
            )
            killed = next((w for w in stack.workers if w.name == holder), None)
            if killed is not None:
                t_kill = load.now()
                notes["killed"] = f"{killed.name} (pids {killed.pids()})"
                killed.kill9()
                break
        time.sleep(0.05)
    if killed is None or t_kill is None:
        notes["not_killed"] = "the job finished (or never started writing) before the kill"
        return figures.Fault("2. kill -9 a task worker mid-task", (start, load.now()), notes=notes)
    status, attempts, done, total = job_state(stack, job_id)
    made = int(
        stack.pg.psql(f"SELECT count(*) FROM accounts_user WHERE employee_no LIKE '{prefix}%'")
    )
    notes["after_kill"] = f"job {status}, attempt {attempts}, employees written {made}"
    log(f"fault 2: killed {killed.name} while it wrote the import ({notes['after_kill']})")
    killed.start()
    # The job's heartbeat must grow older than the stale time; then the sweep takes it up.
    load.stop.wait(stale + 1)
    t_sweep = load.now()
    sweep = subprocess.run(
        [PY, "-c", "import django; django.setup(); from gongkai.core.tasks import sweep_jobs; "
         "sweep_jobs()"], env=stack.env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if sweep.returncode:
        notes["sweep_error"] = sweep.stderr[-500:]
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        status, attempts, done, total = job_state(stack, job_id)
        if status in ("done", "failed"):
            break
        time.sleep(0.5)
    t_done = load.now()
    result = stack.probe("job", job_id, prefix, str(rows))
    notes.update(
        sweep_enqueued_at=round(t_sweep, 2),
        done_after_kill_seconds=round(t_done - t_kill, 1),
        job_status=result["status"],
        job_attempts=result["attempts"],
        employees_made=f"{result['employees']} of {rows} ({result['employees_distinct']} distinct)",
        audit_events_doubled=len(result["audit_doubled"]),
        stale_after_seconds=stale,
    )
    fault = figures.Fault("2. kill -9 a task worker mid-task", (start, 0.0), notes=notes)
    if result["status"] != "done" or result["employees"] != rows:
        fault.lost = rows - result["employees"] if result["status"] == "done" else rows
    fault.doubled = len(result["audit_doubled"]) + (
        result["employees"] - result["employees_distinct"]
    )
    log(
        f"fault 2: job {result['status']} after attempt {result['attempts']}, "
        f"{result['employees']} employees, {len(result['audit_doubled'])} doubled audit events"
    )
    load.stop.wait(steady / 2)
    fault.phase = (start, load.now())
    return fault


def anonymous(load: Load, label: str) -> dict[str, int]:
    """An anonymous visitor: the report page and a report, the login page and a login."""
    s = load.session()
    statuses: dict[str, int] = {}
    r = load.call(s, "anonymous", "report_form", "GET", "/report/")
    statuses["report_form"] = r.status_code if r is not None else 0
    if r is not None and r.status_code == 200:
        forms = [f for f in post_forms(r.text) if "setlang" not in f["action"]]
        forms.sort(key=lambda f: -len(f["fields"]))
        fields = dict(forms[0]["fields"]) if forms else {}
        for key in list(fields):
            if not fields[key] and key != "csrfmiddlewaretoken":
                fields[key] = f"扩容测试匿名举报 {label}：食堂卫生问题，请核查。"
        r = load.call(s, "anonymous", "report", "POST", "/report/", fields)
        statuses["report"] = r.status_code if r is not None else 0
    r = load.call(s, "anonymous", "login_form", "GET", "/accounts/login/")
    statuses["login_form"] = r.status_code if r is not None else 0
    if r is not None and r.status_code == 200:
        forms = [f for f in post_forms(r.text) if "password" in f["fields"]]
        fields = dict(forms[0]["fields"]) if forms else {}
        fields.update(username="employee", password=PASSWORD)
        r = load.call(s, "anonymous", "login", "POST", "/accounts/login/", fields)
        statuses["login"] = r.status_code if r is not None else 0
    return statuses


def stop_redis(stack: Stack, load: Load, steady: float) -> figures.Fault:
    start = load.now()
    load.stop.wait(steady)
    reports_before = int(stack.pg.psql("SELECT count(*) FROM reporting_report"))
    kept_before = stack.log_count("kept, to be sent")
    assert stack.redis is not None  # noqa: S101
    t_stop = load.now()
    stack.redis.stop()
    log("fault 3: Redis stopped for 10 s")
    load.stop.wait(3)
    during = anonymous(load, "during")
    load.stop.wait(max(0.0, 10 - (load.now() - t_stop)))
    stack.start_redis()
    t_up = load.now()
    log(f"fault 3: Redis back after {t_up - t_stop:.1f} s; anonymous pages during: {during}")
    load.stop.wait(5)
    after = anonymous(load, "after")
    load.stop.wait(steady)
    reports_after = int(stack.pg.psql("SELECT count(*) FROM reporting_report"))
    workers_alive = [w.name for w in stack.workers if w.alive()]
    return figures.Fault(
        "3. Redis stopped for 10 s",
        (start, load.now()),
        windows=[(t_stop, t_up + 3.0)],
        notes={
            "redis_down_seconds": round(t_up - t_stop, 1),
            "anonymous_during": during,
            "anonymous_after": after,
            "reports_written_during_outage": reports_after
            - reports_before
            - (1 if after.get("report") == 302 else 0),
            "enqueues_kept_while_down": stack.log_count("kept, to be sent") - kept_before,
            "kept_enqueues_sent_after": stack.log_count("kept enqueues were sent"),
            "workers_alive_after": workers_alive,
        },
    )


def restart_postgres(stack: Stack, load: Load, steady: float) -> figures.Fault:
    start = load.now()
    load.stop.wait(steady)
    t0 = load.now()
    stack.pg.restart()
    t1 = load.now()
    log(f"fault 4: PostgreSQL restarted (-m fast) in {t1 - t0:.1f} s")
    load.stop.wait(steady)
    return figures.Fault(
        "4. PostgreSQL restarted (pg_ctl restart -m fast)",
        (start, load.now()),
        windows=[(t0, t1 + 3.0)],
        notes={
            "restart_seconds": round(t1 - t0, 1),
            "workers_alive_after": [w.name for w in stack.workers if w.alive()],
            "app_servers_alive_after": [a.name for a in stack.apps if a.alive()],
        },
    )


# --- The run ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scaletest", description=__doc__)
    parser.add_argument("--users", type=int, default=12, help="simulated users (12)")
    parser.add_argument("--steady", type=float, default=15, help="steady seconds around faults")
    parser.add_argument("--rows", type=int, default=6000, help="rows of the killed import")
    parser.add_argument("--stale", type=int, default=10, help="seconds a job's worker is dead")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument(
        "--seed-dump",
        type=Path,
        help="a pg_dump of the seeded demo: restored when it exists, written after seeding "
        "when not (for repeated runs; the demo's dates are those of the day it was made)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    t_begin = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="gk-scale-"))
    tmp.chmod(0o755)
    stack = Stack(tmp, args.users, args.stale, args.seed_dump)

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    load: Load | None = None
    try:
        stack.start()
        info = stack.probe("info")
        prefix = "SCALE" + secrets.token_hex(3).upper()
        load = Load(f"http://127.0.0.1:{stack.nginx_port}", stack.origin, info, args.users, prefix)
        load.start()
        log(f"load: {args.users} users (voters {len(info['voters'])}, survey "
            f"{len(info['answerers'])} to ask)")  # fmt: skip
        faults = [
            kill_app(stack, load, args.steady),
            kill_worker(stack, load, args.steady, args.rows, args.stale),
            stop_redis(stack, load, args.steady),
            restart_postgres(stack, load, args.steady),
        ]
        load.finish()
        log(f"load stopped: {len(load.records)} requests")
        # The queue drains (notices sent), then one more job proves the workers still work.
        canary = stack.probe("roster", "5", "8" + secrets.token_hex(2).upper())
        acks_path = tmp / "acks.json"
        acks_path.write_text(json.dumps(asdict(load.acks)))
        verify = stack.probe("verify", str(acks_path))
        verify["canary_job_after_faults"] = canary.get("error", "a roster check ran to its end")
        verify["canary_ok"] = "error" not in canary
        verify["emails_received_by_sink"] = stack.mails
        return report(args, stack, load, faults, verify, started, t_begin)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        if load is not None:
            load.stop.set()
        stack.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, stack: Stack, load: Load, faults: list[figures.Fault],
           verify: dict[str, Any], started: datetime, t_begin: float) -> int:  # fmt: skip
    records: list[Any] = load.records
    # Acknowledged writes missing or doubled, attributed to the fault whose phase they fell in.
    lost = set(verify.get("suggestions_lost", []))
    for fault in faults:
        a, b = fault.phase
        fault.lost += sum(1 for t in lost if a <= load.acks.suggestion_times.get(t, -1) < b)
    failures: list[str] = []
    unplaced = figures.unplaced_errors(faults, records)
    if unplaced:
        kinds = sorted({figures.describe(r) for r in unplaced})
        failures.append(f"{len(unplaced)} errors outside the fault windows ({', '.join(kinds)})")
    for key in ("suggestions_lost", "suggestions_doubled", "votes_lost", "answers_lost"):
        if verify.get(key):
            failures.append(f"{key}: {len(verify[key])}")
    for key in ("ballots_vs_voters", "boxes_vs_answerers_x_questions"):
        pair = verify.get(key)
        if pair and pair[0] != pair[1]:
            failures.append(f"{key}: {pair}")
    for fault in faults:
        if fault.lost or fault.doubled:
            failures.append(f"{fault.name}: lost {fault.lost}, doubled {fault.doubled}")
        if "not_killed" in fault.notes:
            failures.append(f"{fault.name}: {fault.notes['not_killed']}")
    if not verify.get("canary_ok"):
        failures.append("the workers did not run a job after the faults")
    summary: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - t_begin),
        "setup": (
            "nginx → 2 gunicorn app servers × 2 workers, PostgreSQL 15 (own cluster), Redis "
            "(own, append-only), 2 Huey workers × 2 threads, SMTP sink; nginx locations: "
            + ("deploy/nginx/gongkai-proxy.conf" if stack.shipped_proxy else "the test's own")
        ),
        "passed": not failures,
        "failures": failures,
        "load": {
            "users": args.users,
            "requests": len(records),
            "seconds": round(load.now(), 1),
            "acked": {
                "suggestions": len(load.acks.suggestions),
                "votes": len(load.acks.votes),
                "survey answers": len(load.acks.answers),
            },
        },
        "faults": [figures.fault_figures(f, records) for f in faults],
        "verify": verify,
        "unplaced_errors": [vars(r) for r in unplaced][:50],
        "notes": [
            "Errors: no answer or status ≥ 500; a 503 with Retry-After from a limit that "
            "could not be checked is a fail-closed refusal, counted apart.",
            f"Fault 2 waits for the job to be taken up as dead: the workers run with "
            f"JOBS_STALE_AFTER_SECONDS={args.stale} (600 in production) and the test enqueues "
            "the sweep instead of waiting for its 5-minute schedule.",
            *(
                [f"The seeded demo was restored from {args.seed_dump} (not seeded in this run)."]
                if args.seed_dump and stack.seed_restored
                else []
            ),
        ],
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale-test.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    (out / "scale-test.md").write_text(figures.markdown(summary))
    log(f"{'PASS' if not failures else 'FAIL: ' + '; '.join(failures)}")
    log(f"results in {out / 'scale-test.md'}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
