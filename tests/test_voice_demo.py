"""The voice part of the demo: suggestions in every state, deterministic, with work waiting
for the demo logins."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from gongkai.accounts.models import User
from gongkai.demo import voice as demo
from gongkai.demo.org import seed_org
from gongkai.voice.models import Suggestion, SuggestionStatus
from gongkai.voice.selectors import work_queue
from gongkai.voice.services import available_steps

S = SuggestionStatus


def test_demo_suggestions_cover_every_state(db):
    seed_org(employees_per_team=3)
    counts = demo.seed()
    assert counts["suggestions"] == len(demo.SCENARIOS)
    states = set(Suggestion.objects.values_list("status", flat=True))
    assert states == set(S.values)
    assert any(s.overdue for s in Suggestion.objects.filter(status=S.ASSIGNED))
    assert any(s.answered_late for s in Suggestion.objects.filter(status=S.CLOSED))
    assert Suggestion.objects.filter(name_hidden=True).count() >= 2
    employee = User.objects.get(employee_no="employee")
    answered = Suggestion.objects.filter(author=employee, status=S.ANSWERED)
    assert answered and "rate" in available_steps(employee, answered[0])
    depthead = User.objects.get(employee_no="depthead")
    queue = work_queue(depthead)
    assert queue.to_handle and queue.to_answer
    assert work_queue(User.objects.get(employee_no="union")).to_review
    # the pages render for the demo logins
    client = Client()
    client.force_login(depthead)
    for s in Suggestion.objects.all():
        assert client.get(reverse("voice:detail", args=[s.pk])).status_code == 200
    assert client.get(reverse("boards:board", args=["rd-boiler"])).status_code == 200


def test_demo_shows_a_dissatisfied_rating_with_its_reason_to_the_union_office(db):
    seed_org(employees_per_team=3)
    demo.seed()
    reopened = Suggestion.objects.get(status=S.REOPENED)
    assert reopened.rating_reason
    client = Client()
    client.force_login(User.objects.get(employee_no="union"))
    assert reopened.rating_reason in client.get(reverse("voice:queue")).content.decode()
    page = client.get(reverse("voice:detail", args=[reopened.pk])).content.decode()
    assert reopened.rating_reason in page
