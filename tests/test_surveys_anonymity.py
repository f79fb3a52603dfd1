"""Survey answers cannot be joined to their authors once the survey is sealed: not by a
column, not by id order, not by SQLite's rowid order, not by PostgreSQL's xmin; and the
one-answer rule holds under concurrent submissions (the database's UNIQUE constraint)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import translation

from gongkai.core.errors import ServiceError
from gongkai.surveys import services
from gongkai.surveys.models import Answer, BoxedAnswer, Participation, Survey
from tests.conftest import Org
from tests.test_surveys import answers_for, fixed_day, make_survey, staff  # noqa: F401

# Service messages are asserted in English (pages choose their language per request).
pytestmark = pytest.mark.usefixtures("english")

N = 40


def column_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return list(cursor.fetchall())


def answered(o: Org) -> tuple[Survey, list[int]]:
    """N employees answer one after another (each in its own transaction); answer i's text
    is "answer-i". Returns the survey and the user ids in answering order."""
    survey = make_survey(o, opened=False)
    users = staff(o.boiler_team, N, "A")
    services.survey_open(actor=o["union"], survey=survey)
    survey.refresh_from_db()
    for i, user in enumerate(users):
        services.survey_answer(
            actor=user, survey=survey, answers=answers_for(survey, text=f"answer-{i:02d}")
        )
    return survey, [u.pk for u in users]


def order_of(texts: list[str]) -> list[int]:
    return [int(t.split("-")[1]) for t in texts]


def looks_like_answering_order(sequence: list[int]) -> bool:
    """Identical or reversed order, or far more answers in their author's position than a
    random order gives (one expected; eight or more has a chance below 1e-5)."""
    fixed = sum(1 for position, i in enumerate(sequence) if position == i)
    return sequence in (list(range(N)), list(range(N))[::-1]) or fixed >= 8


@pytest.mark.django_db(transaction=True)
def test_sealed_answers_cannot_be_linked_to_their_authors(org: Org):
    survey, author_ids = answered(org)
    text_q = survey.questions.get(kind="text")
    participation_order = list(
        Participation.objects.filter(survey=survey).order_by("id").values_list("user_id", flat=True)
    )
    assert participation_order == author_ids  # the participations are in answering order

    # Before sealing, the box rows are still in answering order (SQLite rowid; PostgreSQL
    # xmin: each respondent's box rows carry the transaction of their participation) — but
    # they hold nothing readable: only the survey, a random key and a sealed box.
    assert column_names("surveys_boxedanswer") == {"id", "survey_id", "box"}
    order = "rowid" if connection.vendor == "sqlite" else "xmin::text::bigint"
    query = f"SELECT box FROM surveys_boxedanswer ORDER BY {order}"  # noqa: S608
    boxes = [bytes(b) for (b,) in sql(query)]
    assert len(boxes) == 3 * N
    assert not any(b"answer-" in box for box in boxes)
    assert len({len(box) for box in boxes}) == 2  # one length per kind of question
    # The trap is real only for whoever also holds SECRET_KEY, until the seal.
    opened = [services.opened_answer(survey.pk, box) for box in boxes]
    assert order_of([t for q, _u, _r, t in opened if q == text_q.pk]) == list(range(N))

    services.survey_close(actor=org["union"], survey=survey)

    # The box is empty; the final table has no column naming a person or a time.
    assert BoxedAnswer.objects.count() == 0
    assert sql("SELECT count(*) FROM surveys_boxedanswer") == [(0,)]
    assert column_names("surveys_answer") == {
        "id",
        "survey_id",
        "question_id",
        "unit_id",
        "rating",
        "text",
    }
    assert not {f.name for f in Answer._meta.get_fields()} & {"user", "created_at", "participation"}
    # every stored unit holds at least five respondents (here: all in one team)
    assert set(Answer.objects.values_list("unit_id", flat=True)) == {org.boiler_team.pk}

    # By id: the sealed order is not the answering order.
    by_id = list(
        Answer.objects.filter(question=text_q).order_by("id").values_list("text", flat=True)
    )
    assert sorted(order_of(by_id)) == list(range(N))
    assert not looks_like_answering_order(order_of(by_id))

    if connection.vendor == "sqlite":
        # By rowid (the physical order SQLite keeps even without an id column).
        rows = sql(
            "SELECT text FROM surveys_answer WHERE question_id = %s ORDER BY rowid", [text_q.pk]
        )
        assert not looks_like_answering_order(order_of([t for (t,) in rows]))
    else:
        # By xmin: every sealed answer carries the one xmin of the sealing transaction, which
        # is no participation's; and by physical order (ctid).
        answer_xmins = {x for (x,) in sql("SELECT xmin::text FROM surveys_answer")}
        part_xmins = {x for (x,) in sql("SELECT xmin::text FROM surveys_participation")}
        assert len(answer_xmins) == 1 and not answer_xmins & part_xmins
        rows = sql(
            "SELECT text FROM surveys_answer WHERE question_id = %s ORDER BY ctid", [text_q.pk]
        )
        assert not looks_like_answering_order(order_of([t for (t,) in rows]))

    # By any column: each rating value / unit pairs with many participations, none singly.
    for column in ("unit_id", "rating"):
        groups = Answer.objects.values_list(column, flat=True)
        assert all(list(groups).count(v) >= 5 for v in set(groups))


@pytest.mark.django_db(transaction=True)
def test_concurrent_second_answers_fail_cleanly(org: Org):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("threads need a database file")
    survey = make_survey(org)
    user = org["employee"]
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        translation.activate("en")  # the language is per thread
        try:
            barrier.wait()
            services.survey_answer(
                actor=user, survey=survey, answers=answers_for(survey, text=f"t{i}")
            )
            result = "ok"
        except ServiceError as error:
            result = "already" if "already answered" in error.message else error.message
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already"] * 5 + ["ok"]
    assert Participation.objects.filter(survey=survey).count() == 1
    assert BoxedAnswer.objects.filter(survey=survey).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_unique_constraint_alone_refuses_a_duplicate(org: Org, monkeypatch):
    """Even if the application's check were skipped, the database refuses a second row."""
    survey = make_survey(org)
    services.survey_answer(actor=org["employee"], survey=survey, answers=answers_for(survey))
    real_filter = Participation.objects.filter

    class NoCheck:
        def exists(self) -> bool:
            return False

    def filter_without_check(*args, **kwargs):
        if "user" in kwargs:
            return NoCheck()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Participation.objects, "filter", filter_without_check)
    with pytest.raises(ServiceError, match="already answered"):
        services.survey_answer(actor=org["employee"], survey=survey, answers=answers_for(survey))
    monkeypatch.undo()
    assert Participation.objects.filter(survey=survey).count() == 1
    assert BoxedAnswer.objects.filter(survey=survey).count() == 3
