"""A company-wide notice: one item published on the board of a company of 10,000 employees who
all asked for news by e-mail, with a WeCom and a DingTalk robot on the company.

Run once on the embedded default (SQLite, Huey's SQLite storage in the working folder) and
once on PostgreSQL with Redis (Huey's Redis storage; the database ``gk_fanoutbench`` is
created and dropped, the Redis database of ``REDIS_URL`` (``NOTIFY_BENCH_REDIS_URL``, by
default ``redis://127.0.0.1:6379/9``) is emptied before and after). A child process per
database (``python -m bench.bench_notify measure``, ``config.settings.local`` with the
environment of ``bench.harness``) migrates a fresh database, starts the loopback receivers in
a process of their own (``bench.notify_sink``: an aiosmtpd SMTP server and the robots' HTTP
receiver, each counting what it accepted) and builds, through the services:

- company A: 10 departments, 10,000 active employees with e-mail addresses, each with a
  notice preference "by e-mail, at once, new items on my boards" (bulk-inserted: setup, not
  measured); a WeCom robot and a DingTalk robot with a signing secret on the company
  (``robot_create``), both pointing to the loopback receiver;
- company B: the same 10,000 employees, but nobody asked for news and no robots;
- on each, approved company items (drafted, submitted, approved by the head, endorsed by the
  leadership through the workflow services), each waiting for its publish step.

1. **The publishing request**, Huey worker not started: the author's POST of the publish step
   (``/disclosures/<pk>/step/publish/``, Django's test client: middleware, policy, workflow,
   revision, ledger, search index, audit, and the notice enqueued on commit) on company A and
   on company B, alternated, after one warm-up each. Nothing may be sent in the request: the
   Delivery rows written while it runs are counted (0 expected). The queued tasks are
   dropped afterwards.
2. **The fan-out**: a real worker, ``manage.py run_huey`` as a subprocess with the same
   environment plus ``EMAIL_HOST``/``EMAIL_PORT`` of the receiver (the settings' consumer:
   ``HUEY_WORKERS`` threads); one warm-up notice goes through it. Each run
   publishes one item of company A by the same request and times from just before the
   request until the SMTP server has accepted 10,000 messages and the receiver both robot
   posts (the receivers note the monotonic time of the last one). After each run the bench
   waits until every Delivery row of the notice is "sent" and the queue is empty. The
   baseline, after each run: the same 10,000 messages sent by one plain ``smtplib`` loop
   over one connection to the same server, from the timing process (what the machine and
   the receiver allow).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email.header import Header
from email.utils import formatdate
from pathlib import Path
from typing import Any, cast

from bench import Measurement
from bench.harness import (
    PG_SERVER,
    ROOT,
    child_json,
    child_main,
    environment,
    free_port,
    pg_drop,
    pg_fresh,
    redis_flush,
    redis_reachable,
)

EMPLOYEES = 10_000
DEPARTMENTS = 10
ROBOTS = 2
FANOUT_RUNS = 3
PUBLISH_RUNS = 15
TARGET_SECONDS = 60.0
WAIT_SECONDS = 240.0  # a run that has not delivered everything by then has failed
PG_DATABASE = "gk_fanoutbench"
REDIS_URL = os.environ.get("NOTIFY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
DINGTALK_SECRET = "SECbench0123456789abcdef0123456789abcdef0123456789abcdef"  # noqa: S105 - a test value
SENDER = "gongkai@localhost"
SUBJECT = "新公开：示范热电有限责任公司锅炉检修外委项目招标结果公示"
BODY = (
    "新公开事项。\r\n\r\nhttp://127.0.0.1:8000/disclosures/1/\r\n\r\n-- \r\n选择接收通知的方式\r\n"
)


# --- The parent ----------------------------------------------------------------------------------


def child_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return environment(
        database_url,
        workdir,
        settings="config.settings.local",
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        SITE_URL="http://127.0.0.1:8000",
        DEFAULT_FROM_EMAIL=SENDER,
        **extra,
    )


def run() -> list[Measurement]:
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-notify-"))
    results: list[tuple[str, dict[str, Any]]] = []
    try:
        env = child_env(f"sqlite:///{workdir / 'notify.sqlite3'}", workdir)
        label = "SQLite, Huey's SQLite storage"
        results.append((label, child_json("bench_notify", env, "measure", progress=True)))
        pg_url = f"{PG_SERVER}/{PG_DATABASE}"
        if redis_reachable(REDIS_URL) and pg_fresh(pg_url):
            redis_flush(REDIS_URL)
            try:
                env = child_env(pg_url, workdir / "pg", REDIS_URL=REDIS_URL)
                label = "PostgreSQL, Huey's Redis storage"
                results.append((label, child_json("bench_notify", env, "measure", progress=True)))
            finally:
                pg_drop(pg_url)
                redis_flush(REDIS_URL)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measurements = []
    for label, result in results:
        measurements += measurements_of(label, result)
    return measurements


def ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f} ms" for v in values)


def secs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f} s" for v in values)


def measurements_of(label: str, r: dict[str, Any]) -> list[Measurement]:
    per_second = EMPLOYEES / statistics.median(r["fanout"])
    fanout = Measurement(
        title=f"A company-wide notice to {EMPLOYEES:,} employees, {label}",
        what=(
            f"The author publishes a company item (POST of the publish step) on a company of "
            f"{EMPLOYEES:,} employees who all asked for new items by e-mail, with a WeCom and a "
            "DingTalk robot (signed) on the company; timed from just before the request until "
            f"a loopback SMTP server (aiosmtpd, its own process) has accepted all {EMPLOYEES:,} "
            "e-mails and a loopback receiver answering as the platforms do both robot posts. "
            "The fan-out and the sending run in a real Huey worker (`manage.py run_huey`, "
            f"{r['huey_workers']} worker threads) after the publication commits: Delivery rows, "
            f"then e-mails in batches of {r['email_batch']} over one SMTP connection per task."
        ),
        samples=r["fanout"],
        baseline=(
            f"the same {EMPLOYEES:,} messages by one plain smtplib loop (a message formatted "
            "per address, sendmail), one connection, to the same server"
        ),
        baseline_samples=r["smtplib"],
        target_seconds=TARGET_SECONDS,
        notes={
            "throughput (median run)": f"{per_second:.0f} e-mails/s",
            "publish → fan-out rows written, each run (the worker's pickup and the fan-out)": (
                secs(r["rows_written"])
            ),
            "the publishing request itself, each run": ms(r["request_during_fanout"]),
            "accepted per run: e-mails / distinct recipients / robot posts / refused": (
                ", ".join(r["accepted"])
            ),
            "Delivery rows per run (status)": ", ".join(r["statuses"]),
            "worker": (
                f"{r['huey_class']}, {r['huey_workers']} threads; Huey's SQLite storage is "
                "polled, the worker waiting up to 10 s between polls after a long idle "
                "(consumer max_delay), so a notice after a quiet spell may start up to 10 s "
                "later than here; Redis storage blocks on the queue and starts at once"
                if r["huey_class"] == "SqliteHuey"
                else f"{r['huey_class']}, {r['huey_workers']} threads"
            ),
            "data": f"{EMPLOYEES:,} subscribers in {DEPARTMENTS} departments, {ROBOTS} robots",
        },
    )
    request = Measurement(
        title=f"The publishing request with channels vs without, {label}",
        what=(
            "The author's POST of the publish step of an approved company item (test client: "
            "middleware, policy, workflow step, revision, ledger, search index, audit, the "
            "notice enqueued on commit), on the company with the two robots and "
            f"{EMPLOYEES:,} subscribers; the worker not running, so nothing competes with "
            "the request. The fan-out must happen in the worker after commit, so the two "
            "should be equal within noise."
        ),
        samples=r["publish_channels"],
        baseline=(
            f"the same request on a company of {EMPLOYEES:,} employees with no robots and "
            "no subscribers"
        ),
        baseline_samples=r["publish_none"],
        notes={
            "Delivery rows written during the requests (both companies)": str(
                r["deliveries_in_request"]
            ),
            "tasks queued per request, channels / none": (
                f"{r['queued_channels']} / {r['queued_none']}"
            ),
            "order": f"alternated, one warm-up each, {PUBLISH_RUNS} timed runs each",
        },
    )
    return [fanout, request]


def plain_smtp_loop(port: int, addresses: list[str]) -> None:
    """The baseline: one message per address, built by formatting (as Django's backend hands
    smtplib finished bytes), sent by ``smtplib`` over one connection."""
    subject = Header(SUBJECT, "utf-8").encode()
    body = BODY.encode()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for number, address in enumerate(addresses):
            head = (
                f"From: {SENDER}\r\nTo: {address}\r\nSubject: {subject}\r\n"
                f"Date: {formatdate(localtime=True)}\r\nMessage-ID: <{number}.bench@localhost>\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n"
            )
            smtp.sendmail(SENDER, [address], head.encode() + body)


# --- The child (Django set up) -------------------------------------------------------------------


STARTED = time.monotonic()


def progress(message: str) -> None:
    elapsed = time.monotonic() - STARTED
    where = "SQLite" if os.environ.get("DATABASE_URL", "").startswith("sqlite") else "PostgreSQL"
    print(f"  [{where} {elapsed:5.0f} s] {message}", file=sys.stderr, flush=True)


class Sink:
    """The receivers' process and how to ask it."""

    def __init__(self, smtp_port: int, http_port: int) -> None:
        self.smtp_port, self.http_port = smtp_port, http_port

    def call(self, method: str, path: str) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            conn.request(method, path)
            return dict(json.loads(conn.getresponse().read()))
        finally:
            conn.close()

    def stats(self) -> dict[str, Any]:
        return self.call("GET", "/stats")

    def reset(self) -> None:
        self.call("POST", "/reset")


@contextlib.contextmanager
def process(argv: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``argv`` in its own process group, its output in ``log``; stopped at the end."""
    with log.open("wb") as out:
        child = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)  # Huey: finish the running tasks, then stop
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait(timeout=10)


def tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""


@contextlib.contextmanager
def sink(workdir: Path, smtp_port: int, http_port: int) -> Iterator[Sink]:
    log = workdir / "sink.log"
    argv = [sys.executable, "-m", "bench.notify_sink", str(smtp_port), str(http_port),
            DINGTALK_SECRET]  # fmt: skip
    with process(argv, log, dict(os.environ)) as child:
        receiver = Sink(smtp_port, http_port)
        deadline = time.monotonic() + 20
        while True:
            try:
                receiver.stats()
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as probe:
                    probe.noop()
                break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the receivers did not start:\n{tail(log)}") from None
                time.sleep(0.1)
        yield receiver


def prepare_company(code: str, name: str, *, channels: bool, drafts: int, robot_port: int) -> Any:
    """A company of ``EMPLOYEES`` employees with ``drafts`` approved items waiting to be
    published; with ``channels``, every employee asked for news by e-mail and the company has
    a WeCom and a DingTalk robot."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from gongkai.accounts.models import User
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
    from gongkai.notify.admin_services import robot_create
    from gongkai.notify.models import Preference
    from gongkai.org.models import Role, UnitKind
    from gongkai.org.services import role_grant, unit_create

    company = unit_create(actor=None, code=code, name=name, kind=UnitKind.COMPANY)
    departments = [
        unit_create(
            actor=None,
            code=f"{code}-{d}",
            name=f"部门{d}",
            kind=UnitKind.DEPARTMENT,
            parent=company,
        )
        for d in range(DEPARTMENTS)
    ]
    officials = {}
    for role in (Role.DEPT_OFFICER, Role.UNIT_HEAD, Role.LEADERSHIP, Role.UNION_OFFICE):
        # No e-mail address: the officials get no e-mail, so every message is a subscriber's.
        person = User.objects.create_user(
            employee_no=f"{code}-{role}", name=f"{role}", unit=company
        )
        role_grant(actor=None, user=person, role=role, unit=company)
        officials[role] = User.objects.get(pk=person.pk)
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                employee_no=f"{code}{i:05d}",
                name=f"职工{i}",
                unit=departments[i % DEPARTMENTS],
                email=f"e{i:05d}@{code}.example.com",
                password=unusable,
                is_active=True,
            )
            for i in range(EMPLOYEES)
        ],
        batch_size=1000,
    )
    if channels:
        Preference.objects.bulk_create(
            [Preference(user_id=u.pk, email=True, board_news=True) for u in users],
            batch_size=1000,
        )
        union = officials[Role.UNION_OFFICE]
        base = f"http://127.0.0.1:{robot_port}"
        robot_create(
            actor=union,
            unit=company,
            name="职工群",
            platform="wecom",
            address=f"{base}/cgi-bin/webhook/send?key=bench-{code}",
            relay=True,
        )
        robot_create(
            actor=union,
            unit=company,
            name="工会钉钉群",
            platform="dingtalk",
            address=f"{base}/robot/send?access_token=bench-{code}",
            secret=DINGTALK_SECRET,
            relay=True,
        )
    entry = CatalogEntry.objects.get(code="tendering")
    officer = officials[Role.DEPT_OFFICER]
    event = timezone.localdate() - timedelta(days=1)
    ready = []
    for k in range(drafts):
        item = disclosure_create(
            actor=officer,
            unit=company,
            entry=entry,
            title=f"{name}锅炉检修外委项目招标结果公示（第{k + 1}批）",
            procedure="<p>经公司招标领导小组审定，按《招标管理办法》公开招标。</p>",
            result="<p>中标单位：某某电力检修有限公司；中标金额：1,234,500.00 元。</p>",
            event_date=event,
        )
        for actor, step in (
            (officer, Transition.SUBMIT),
            (officials[Role.UNIT_HEAD], Transition.APPROVE),
            (officials[Role.LEADERSHIP], Transition.ENDORSE),
        ):
            item = disclosure_transition(actor=actor, disclosure=item, transition=step)
        ready.append(item.pk)
    return company, officer, ready


def publish(client: Any, pk: int) -> float:
    """The author's POST of the publish step of item ``pk`` → seconds."""
    from django.urls import reverse

    url = reverse("disclosure:step", args=[pk, "publish"])
    started = time.perf_counter()
    response = client.post(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, (response.status_code, response.content[:500])
    return elapsed


def time_requests(
    client_a: Any, drafts_a: list[int], client_b: Any, drafts_b: list[int]
) -> dict[str, Any]:
    """1. The publishing request on company A (channels) and B (none), alternated, with no
    worker running; the tasks it queued are dropped afterwards."""
    from gongkai.core.queue import HUEY
    from gongkai.notify.models import Delivery

    publish(client_a, drafts_a.pop())  # warm-up
    publish(client_b, drafts_b.pop())
    samples: dict[str, list[float]] = {"a": [], "b": []}
    queued: dict[str, list[int]] = {"a": [], "b": []}
    deliveries_before = Delivery.objects.count()
    for i in range(PUBLISH_RUNS):
        order = [("a", client_a, drafts_a), ("b", client_b, drafts_b)]
        for key, client, drafts in order if i % 2 == 0 else reversed(order):
            before = HUEY.pending_count()
            samples[key].append(publish(client, drafts.pop()))
            queued[key].append(HUEY.pending_count() - before)
    deliveries_in_request = Delivery.objects.count() - deliveries_before
    HUEY.flush()  # the fan-outs of these publications are not part of the bench
    return {
        "publish_channels": samples["a"],
        "publish_none": samples["b"],
        "deliveries_in_request": deliveries_in_request,
        "queued_channels": statistics.median(queued["a"]),
        "queued_none": statistics.median(queued["b"]),
    }


def time_fanouts(
    receiver: Sink, client_a: Any, drafts_a: list[int], workdir: Path
) -> dict[str, Any]:
    """2. A real worker; one warm-up notice; then each run: publish an item of company A,
    wait for every message, then for every delivery recorded and the queue empty; then the
    baseline."""
    from django.db.models import Count, Min

    from gongkai.accounts.models import User
    from gongkai.core.queue import HUEY
    from gongkai.notify.models import Delivery
    from gongkai.notify.services import notify
    from gongkai.org.models import OrgUnit

    out: dict[str, list[Any]] = {
        key: [] for key in ("fanout", "smtplib", "rows_written", "request_during_fanout",
                            "accepted", "statuses")
    }  # fmt: skip
    addresses = list(
        User.objects.filter(unit__path__startswith=OrgUnit.objects.get(code="fa").path)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    assert len(addresses) == EMPLOYEES
    env = dict(os.environ, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(receiver.smtp_port))
    log = workdir / "worker.log"
    with process([sys.executable, str(ROOT / "manage.py"), "run_huey"], log, env) as worker:

        def wait(done: Any, what: str) -> dict[str, Any]:
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                stats = receiver.stats()
                if done(stats):
                    return stats
                if worker.poll() is not None or time.monotonic() > deadline:
                    counts = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")))
                    raise RuntimeError(
                        f"{what}: not done; receivers {stats}; deliveries {counts}\n"
                        f"worker:\n{tail(log)}"
                    )
                time.sleep(0.05)

        def settled(rows: Any) -> None:
            """Every delivery of the notice recorded, and the queue empty."""
            deadline = time.monotonic() + WAIT_SECONDS
            while rows.exclude(status=Delivery.Status.SENT).exists() or HUEY.pending_count():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"not settled\nworker:\n{tail(log)}")
                time.sleep(0.1)

        progress("worker started; warm-up notice")
        receiver.reset()
        warm = User.objects.filter(unit__code="fb-0").order_by("pk").first()
        assert warm is not None
        notify(users=[warm], message="warm-up", url="")
        wait(lambda s: s["emails"] >= 1, "warm-up")
        for i in range(FANOUT_RUNS):
            receiver.reset()
            known = set(Delivery.objects.values_list("batch", flat=True).distinct())
            started_wall, started = time.time(), time.monotonic()
            out["request_during_fanout"].append(publish(client_a, drafts_a.pop()))
            stats = wait(
                lambda s: s["emails"] >= EMPLOYEES and sum(s["robots"].values()) >= ROBOTS,
                "fan-out",
            )
            out["fanout"].append(max(stats["last_email"], stats["last_robot"]) - started)
            batches = set(Delivery.objects.values_list("batch", flat=True).distinct()) - known
            rows = Delivery.objects.filter(batch__in=batches)
            first = rows.aggregate(at=Min("created_at"))["at"]
            out["rows_written"].append(first.timestamp() - started_wall)
            settled(rows)
            stats = receiver.stats()
            out["accepted"].append(
                f"{stats['emails']:,} / {stats['recipients']:,} / "
                f"{sum(stats['robots'].values())} / {stats['refused']}"
            )
            statuses = dict(rows.values_list("status").annotate(n=Count("pk")))
            out["statuses"].append(" ".join(f"{k} {n:,}" for k, n in sorted(statuses.items())))
            progress(f"fan-out run {i + 1}: {out['fanout'][-1]:.2f} s")
            receiver.reset()
            started = time.monotonic()
            plain_smtp_loop(receiver.smtp_port, addresses)
            stats = wait(lambda s: s["emails"] >= EMPLOYEES, "baseline")
            out["smtplib"].append(stats["last_email"] - started)
    return out


def measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from bench.harness import migrated
    from gongkai.core.queue import HUEY
    from gongkai.notify import outbox

    workdir = Path(os.environ["GONGKAI_VAR_DIR"])
    migrated()
    with sink(workdir, free_port(), free_port()) as receiver:
        progress("building the two companies")
        _a, officer_a, drafts_a = prepare_company(
            "fa", "示范热电有限责任公司", channels=True,
            drafts=PUBLISH_RUNS + 1 + FANOUT_RUNS, robot_port=receiver.http_port,
        )  # fmt: skip
        _b, officer_b, drafts_b = prepare_company(
            "fb", "对照热电有限责任公司", channels=False,
            drafts=PUBLISH_RUNS + 1, robot_port=receiver.http_port,
        )  # fmt: skip
        HUEY.flush()  # the preparation's own notices (to officials without e-mail addresses)
        client_a, client_b = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
        client_a.force_login(officer_a)
        client_b.force_login(officer_b)
        progress("timing the publishing request")
        result = time_requests(client_a, drafts_a, client_b, drafts_b)
        result |= time_fanouts(receiver, client_a, drafts_a, workdir)
    consumer = cast(dict[str, Any], settings.HUEY.get("consumer", {}))
    return result | {
        "huey_class": type(HUEY).__name__,
        "huey_workers": consumer.get("workers", 1),
        "email_batch": outbox.EMAIL_BATCH,
    }


if __name__ == "__main__":
    child_main("bench_notify", measure)
