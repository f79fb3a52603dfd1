"""A "dissatisfied" rating of a suggestion's handling says why (required); the union office
reads the reason when it reviews (the suggestion's page and the review list). The author's
label reads 提出人, not 起."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.voice import services
from gongkai.voice.models import StepKind, Suggestion, SuggestionStatus, SuggestionStep

pytestmark = pytest.mark.usefixtures("english")

S = SuggestionStatus
REASON = "排风扇噪声太大，夜班无法休息"


def answered(org, title="锅炉房通风不足"):
    s = services.suggestion_submit(
        actor=org["employee"], unit=org.boiler, category="other", title=title, body="温度过高"
    )
    s = services.suggestion_accept(actor=org["depthead"], suggestion=s)
    s = services.suggestion_assign(
        actor=org["depthead"],
        suggestion=s,
        responsible_unit=org.boiler_team,
        due_on=timezone.localdate() + dt.timedelta(days=10),
    )
    return services.suggestion_answer(
        actor=org["teamlead"], suggestion=s, answer="已加装排风扇", action_taken="采购安装"
    )


def rate_url(s) -> str:
    return reverse("voice:act", args=[s.pk, "rate"])


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize("reason", ["", "   "])
def test_dissatisfied_without_a_reason_is_refused_and_nothing_changes(org, reason):
    s = answered(org)
    with pytest.raises(ServiceError, match="why") as refused:
        services.suggestion_rate(
            actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason=reason
        )
    assert refused.value.field == "reason"
    current = Suggestion.objects.get(pk=s.pk)
    assert current.status == S.ANSWERED and current.rating is None
    assert not SuggestionStep.objects.filter(suggestion=s, kind=StepKind.RATE).exists()


def test_dissatisfied_with_a_reason_reopens_it_and_keeps_the_reason(org):
    s = answered(org)
    s = services.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason=REASON
    )
    current = Suggestion.objects.get(pk=s.pk)
    assert current.status == S.REOPENED and current.rating_reason == REASON
    step = SuggestionStep.objects.get(suggestion=s, kind=StepKind.RATE)
    assert step.text == REASON and step.rating == Satisfaction.DISSATISFIED
    assert AuditEvent.objects.filter(action="suggestion.rated").exists()


def test_a_satisfied_rating_needs_no_reason(org):
    s = answered(org)
    s = services.suggestion_rate(actor=org["employee"], suggestion=s, rating=Satisfaction.BASIC)
    assert Suggestion.objects.get(pk=s.pk).status == S.CLOSED


def test_the_rating_form_asks_why_and_refuses_dissatisfied_without_it(org, client):
    s = answered(org)
    in_english(client).force_login(org["employee"])
    page = client.get(reverse("voice:detail", args=[s.pk])).content.decode()
    assert 'name="rate-reason"' in page
    refused = client.post(rate_url(s), {"rate-rating": Satisfaction.DISSATISFIED})
    assert refused.status_code == 400
    assert "why" in refused.content.decode()
    assert Suggestion.objects.get(pk=s.pk).status == S.ANSWERED
    ok = client.post(rate_url(s), {"rate-rating": Satisfaction.DISSATISFIED, "rate-reason": REASON})
    assert ok.status_code == 302
    assert Suggestion.objects.get(pk=s.pk).status == S.REOPENED


def test_the_union_office_reads_the_reason_on_the_page_and_in_the_review_list(org, client):
    s = answered(org)
    services.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason=REASON
    )
    client.force_login(org["union"])
    page = client.get(reverse("voice:detail", args=[s.pk])).content.decode()
    assert REASON in page
    queue = client.get(reverse("voice:queue"))
    assert queue.status_code == 200
    assert REASON in queue.content.decode()
    assert [x.pk for x in queue.context["work"].to_review] == [s.pk]
    # the author reads their own reason too
    client.force_login(org["employee"])
    assert REASON in client.get(reverse("voice:detail", args=[s.pk])).content.decode()


@pytest.mark.parametrize("who", ["rep", "teamlead", "depthead"])
def test_others_who_see_the_suggestion_do_not_read_the_reason(org, client, who):
    s = answered(org)
    services.suggestion_rate(
        actor=org["employee"], suggestion=s, rating=Satisfaction.DISSATISFIED, reason=REASON
    )
    client.force_login(org[who])
    page = client.get(reverse("voice:detail", args=[s.pk]))
    assert page.status_code == 200
    assert REASON not in page.content.decode()


def test_the_author_is_labelled_as_the_person_who_made_the_suggestion(org, client):
    s = answered(org)
    in_english(client).force_login(org["union"])
    html = client.get(reverse("voice:detail", args=[s.pk])).content.decode()
    assert "<dt>Suggested by</dt>" in html
    assert "<dt>From</dt>" not in html
