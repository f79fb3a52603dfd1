"""The database side of the scale test, run with the test's settings:

- ``info``: what the simulated users can do (the open vote and its electors who have not
  voted, the open survey and who it asks, boards) and the counts before the load;
- ``roster N PREFIX``: a roster check of N new employees (run by the workers), then its
  import; prints the import job's id (the worker fault kills the worker running it);
- ``job ID PREFIX N``: the import job's state, its attempts, the employees it made (each
  once?) and audit events that came out twice;
- ``verify ACKS.json``: every write a client saw succeed exists exactly once.

Each prints one JSON object on stdout.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections import Counter
from typing import Any

import django


def info() -> dict[str, Any]:
    from gongkai.accounts.models import User
    from gongkai.ballots.models import Elector, Poll, PollKind, PollStatus
    from gongkai.ballots.models import Participation as Voted
    from gongkai.org.models import OrgUnit
    from gongkai.surveys import permissions
    from gongkai.surveys.models import Participation as Answered
    from gongkai.surveys.models import Survey, SurveyStatus
    from gongkai.voice.models import Suggestion

    poll = Poll.objects.filter(status=PollStatus.OPEN, kind=PollKind.RESOLUTION).first()
    voters: list[str] = []
    if poll is not None:
        done = set(Voted.objects.filter(poll=poll).values_list("user_id", flat=True))
        voters = sorted(
            e.user.employee_no
            for e in Elector.objects.filter(poll=poll).select_related("user")
            if e.user_id not in done and e.user.is_active
        )
    survey = Survey.objects.filter(status=SurveyStatus.OPEN).order_by("-pk").first()
    answerers: list[str] = []
    if survey is not None:
        done = set(Answered.objects.filter(survey=survey).values_list("user_id", flat=True))
        for user in User.objects.filter(is_active=True).exclude(pk__in=done).order_by("pk"):
            if len(answerers) >= 400:
                break
            if permissions.is_addressed(user, survey):
                answerers.append(user.employee_no)
    boards = list(
        OrgUnit.objects.filter(is_active=True).order_by("path").values_list("code", flat=True)[:40]
    )
    return {
        "poll": poll.pk if poll else None,
        "poll_items": list(poll.items.values_list("pk", flat=True)) if poll else [],
        "voters": voters,
        "survey": survey.pk if survey else None,
        "answerers": answerers,
        "boards": boards,
        "suggestions": Suggestion.objects.count(),
        "employees": sorted(
            User.objects.filter(is_active=True, employee_no__regex=r"^1[0-9]{5}$").values_list(
                "employee_no", flat=True
            )
        ),
    }


def roster(count: int, prefix: str) -> dict[str, Any]:
    from gongkai.accounts.models import User
    from gongkai.core.models import Job, JobStatus
    from gongkai.org import jobs as roster_jobs
    from gongkai.org.models import OrgUnit, UnitKind

    owner = User.objects.get(employee_no="union")
    company = OrgUnit.objects.filter(kind=UnitKind.COMPANY).order_by("path").first()
    assert company is not None  # noqa: S101
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工号", "姓名", "部门", "班组", "岗位", "是否职工代表"])
    for i in range(count):
        writer.writerow([f"{prefix}{i:06d}", f"测试{i}", f"扩容测试部{i % 20}", "", "员工", "否"])
    check = roster_jobs.start_check(
        owner=owner, company=company, data=out.getvalue().encode(), filename=f"{prefix}.csv"
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        check.refresh_from_db()
        if check.status in (JobStatus.DONE, JobStatus.FAILED):
            break
        time.sleep(0.3)
    if check.status != JobStatus.DONE:
        return {"error": f"check {check.pk} is {check.status}: {check.error}"}
    job = roster_jobs.start_import(owner=owner, check=check)
    return {
        "check": str(check.pk),
        "import": str(job.pk),
        "status": Job.objects.get(pk=job.pk).status,
    }


def job(job_id: str, prefix: str, count: int) -> dict[str, Any]:
    from gongkai.accounts.models import User
    from gongkai.audit.models import AuditEvent
    from gongkai.core.models import Job

    found = Job.objects.get(pk=job_id)
    numbers = list(
        User.objects.filter(employee_no__startswith=prefix).values_list("employee_no", flat=True)
    )
    events = AuditEvent.objects.filter(at__gte=found.created_at)
    pairs = Counter(events.values_list("action", "target_type", "target_id"))
    doubled = {f"{a} {t} {i}": n for (a, t, i), n in pairs.items() if n > 1}
    return {
        "status": found.status,
        "attempts": found.attempts,
        "error": found.error,
        "employees": len(numbers),
        "employees_distinct": len(set(numbers)),
        "expected": count,
        "audit_events": events.count(),
        "audit_doubled": doubled,
    }


def verify(path: str) -> dict[str, Any]:
    from gongkai.accounts.models import User
    from gongkai.ballots.models import Participation as Voted
    from gongkai.ballots.models import PendingBallot, Poll
    from gongkai.surveys.models import BoxedAnswer, Survey
    from gongkai.surveys.models import Participation as Answered
    from gongkai.voice.models import Suggestion

    with open(path, encoding="utf-8") as handle:
        acks = json.load(handle)
    result: dict[str, Any] = {}
    tokens = acks["suggestions"]
    titles = Counter(
        t
        for t in Suggestion.objects.filter(title__startswith=acks["prefix"]).values_list(
            "title", flat=True
        )
    )
    result["suggestions_acked"] = len(tokens)
    result["suggestions_lost"] = sorted(t for t in tokens if titles[t] == 0)
    result["suggestions_doubled"] = sorted(t for t, n in titles.items() if n > 1)
    result["suggestions_unacked_in_db"] = sorted(set(titles) - set(tokens))
    if acks.get("poll"):
        poll = Poll.objects.get(pk=acks["poll"])
        voted = set(Voted.objects.filter(poll=poll).values_list("user__employee_no", flat=True))
        result["votes_acked"] = len(acks["votes"])
        result["votes_lost"] = sorted(set(acks["votes"]) - voted)
        # One sealed ballot per participation: none lost, none counted twice.
        result["ballots_vs_voters"] = [
            PendingBallot.objects.filter(poll=poll).count(),
            Voted.objects.filter(poll=poll).count(),
        ]
    if acks.get("survey"):
        survey = Survey.objects.get(pk=acks["survey"])
        answered = set(
            Answered.objects.filter(survey=survey).values_list("user__employee_no", flat=True)
        )
        result["answers_acked"] = len(acks["answers"])
        result["answers_lost"] = sorted(set(acks["answers"]) - answered)
        # One sealed box per answered question: boxes = answerers × questions.
        result["boxes_vs_answerers_x_questions"] = [
            BoxedAnswer.objects.filter(survey=survey).count(),
            Answered.objects.filter(survey=survey).count() * survey.questions.count(),
        ]
    result["users"] = User.objects.count()
    return result


def main() -> None:
    django.setup()
    command, *args = sys.argv[1:]
    if command == "info":
        out = info()
    elif command == "roster":
        out = roster(int(args[0]), args[1])
    elif command == "job":
        out = job(args[0], args[1], int(args[2]))
    elif command == "verify":
        out = verify(args[0])
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
