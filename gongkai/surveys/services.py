"""State changes of satisfaction surveys: create, edit, questions, open, answer, close/seal.

Answers go through the sealed ballot box (gongkai.core.ballotbox, :data:`BOX`): the
respondent's transaction writes "has answered" and one sealed box per answer, nothing
readable; the seal opens the boxes, writes the answers in a random order and empties the box
table so that no version of a box survives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core import holding
from gongkai.core.ballotbox import BallotBox, padded_length
from gongkai.core.errors import ServiceError
from gongkai.core.text import clean_text
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can
from gongkai.surveys import permissions as survey_policy
from gongkai.surveys.models import (
    MAX_INTRO,
    MAX_QUESTION,
    MAX_QUESTIONS,
    MAX_TEXT_ANSWER,
    MAX_TITLE,
    RATING_VALUES,
    Answer,
    BoxedAnswer,
    Participation,
    Phase,
    Question,
    QuestionKind,
    Survey,
    SurveyStatus,
    SurveyUnit,
)
from gongkai.surveys.selectors import pool_units, units_of

BOX = BallotBox(
    purpose="surveys.pending",
    participation=Participation,
    held=BoxedAnswer,
    final=Answer,
    owner="survey",
)

_ID_DIGITS = 20  # a bigint with its sign
# The padded length of a box, by kind of question: the longest rating, or the longest text
# (each character at most 6 bytes of JSON: a \uXXXX escape), so no answer shows in it.
BOX_LENGTHS = {
    kind: padded_length(
        len('{"q":,"r":"","t":"","u":}')
        + 2 * _ID_DIGITS
        + (max(map(len, RATING_VALUES)) if kind == QuestionKind.RATING else 6 * MAX_TEXT_ANSWER)
    )
    for kind in QuestionKind.values
}


def answer_box(question: Question, unit_id: int, rating: str, text: str) -> tuple[Any, int]:
    """(content, padded length) of the box of one answer (see :data:`BOX`)."""
    return {"q": question.pk, "u": unit_id, "r": rating, "t": text}, BOX_LENGTHS[question.kind]


def answer_of(content: Any) -> tuple[int, int, str, str]:
    """(question id, unit id, rating, text) of an opened box."""
    return content["q"], content["u"], content["r"], content["t"]


def opened_answer(survey_id: int, box: bytes) -> tuple[int, int, str, str]:
    """(question id, unit id, rating, text) of a box. Raises secretbox.BoxError."""
    return answer_of(BOX.open_box(survey_id, box))


def already_answered() -> str:
    return _("You have already answered this survey. Each employee answers once.")


def _require_manager(actor: User | None, survey_unit: OrgUnit) -> None:
    if actor is not None and not can(actor, Action.SURVEY_MANAGE, survey_unit):
        raise ServiceError(_("You may not manage surveys for this unit."))


def _clean_fields(
    *, title: str, intro: str, unit: OrgUnit | None, starts_on: date | None, ends_on: date | None
) -> tuple[str, str, OrgUnit, date, date]:
    title = clean_text(
        title,
        field="title",
        limit=MAX_TITLE,
        empty=_("Give the survey a title."),
        too_long=_("The title is too long (at most %(n)s characters).") % {"n": MAX_TITLE},
    )
    intro = clean_text(
        intro,
        field="intro",
        required=False,
        limit=MAX_INTRO,
        too_long=_("The introduction is too long (at most %(n)s characters).") % {"n": MAX_INTRO},
    )
    if unit is None or not unit.is_active:
        raise ServiceError(_("Choose the unit the survey is addressed to."), field="unit")
    if starts_on is None:
        raise ServiceError(_("Give the first day of the survey."), field="starts_on")
    if ends_on is None:
        raise ServiceError(_("Give the last day of the survey."), field="ends_on")
    if ends_on < starts_on:
        raise ServiceError(_("The survey cannot end before it starts."), field="ends_on")
    return title, intro, unit, starts_on, ends_on


@transaction.atomic
def survey_create(
    *,
    actor: User | None,
    title: str,
    intro: str = "",
    unit: OrgUnit | None,
    starts_on: date | None,
    ends_on: date | None,
    results_published: bool = False,
) -> Survey:
    """A draft survey (no questions yet). ``results_published``: the addressed employees may
    read the results once it is closed."""
    title, intro, unit, starts_on, ends_on = _clean_fields(
        title=title, intro=intro, unit=unit, starts_on=starts_on, ends_on=ends_on
    )
    _require_manager(actor, unit)
    survey = Survey.objects.create(
        title=title,
        intro=intro,
        unit=unit,
        starts_on=starts_on,
        ends_on=ends_on,
        results_published=bool(results_published),
        created_by=actor if actor is not None and actor.pk else None,
    )
    record_event(
        actor=actor,
        action="survey.created",
        target=survey,
        unit=unit,
        after={
            "title": title,
            "unit": unit.code,
            "starts_on": str(starts_on),
            "ends_on": str(ends_on),
            "results_published": bool(results_published),
        },
    )
    return survey


def _lock(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().select_related("unit").get(pk=survey.pk)


def is_editable(survey: Survey, today: date | None = None) -> bool:
    """A draft, or an opened survey that has not started (nobody can have answered)."""
    return survey.phase(today) in (Phase.DRAFT, Phase.SCHEDULED)


def _require_editable(survey: Survey) -> None:
    if not is_editable(survey) or Participation.objects.filter(survey=survey).exists():
        raise ServiceError(
            _("This survey can no longer be changed: it has started or has answers.")
        )


@transaction.atomic
def survey_update(
    *,
    actor: User | None,
    survey: Survey,
    title: str,
    intro: str = "",
    unit: OrgUnit | None,
    starts_on: date | None,
    ends_on: date | None,
    results_published: bool | None = None,
) -> Survey:
    """``results_published`` None: left as it is."""
    survey = _lock(survey)
    _require_manager(actor, survey.unit)
    _require_editable(survey)
    title, intro, unit, starts_on, ends_on = _clean_fields(
        title=title, intro=intro, unit=unit, starts_on=starts_on, ends_on=ends_on
    )
    _require_manager(actor, unit)
    if survey.status == SurveyStatus.OPEN and ends_on < timezone.localdate():
        raise ServiceError(_("The last day has already passed."), field="ends_on")
    if results_published is None:
        results_published = survey.results_published
    before = {
        "title": survey.title,
        "unit": survey.unit.code,
        "starts_on": str(survey.starts_on),
        "ends_on": str(survey.ends_on),
        "results_published": survey.results_published,
    }
    unit_changed = unit.pk != survey.unit_id
    survey.title, survey.intro, survey.unit = title, intro, unit
    survey.starts_on, survey.ends_on = starts_on, ends_on
    survey.results_published = bool(results_published)
    survey.save()
    if unit_changed and survey.status == SurveyStatus.OPEN:
        snapshot_roster(survey)
    after = {
        "title": title,
        "unit": unit.code,
        "starts_on": str(starts_on),
        "ends_on": str(ends_on),
        "results_published": bool(results_published),
    }
    record_event(
        actor=actor,
        action="survey.updated",
        target=survey,
        unit=unit,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return survey


@transaction.atomic
def question_add(*, actor: User | None, survey: Survey, kind: str, text: str) -> Question:
    survey = _lock(survey)
    _require_manager(actor, survey.unit)
    _require_editable(survey)
    if kind not in QuestionKind.values:
        raise ServiceError(_("Choose the kind of question."), field="kind")
    text = clean_text(
        text,
        field="text",
        limit=MAX_QUESTION,
        empty=_("Write the question."),
        too_long=_("The question is too long (at most %(n)s characters).") % {"n": MAX_QUESTION},
    )
    if survey.questions.count() >= MAX_QUESTIONS:
        raise ServiceError(
            _("A survey has at most %(n)s questions.") % {"n": MAX_QUESTIONS}, field="text"
        )
    last = survey.questions.aggregate(m=Max("order"))["m"] or 0
    question = Question.objects.create(survey=survey, order=last + 1, kind=kind, text=text)
    record_event(
        actor=actor,
        action="survey.question_added",
        target=survey,
        unit=survey.unit,
        after={"question": text, "kind": kind},
    )
    return question


@transaction.atomic
def question_remove(*, actor: User | None, survey: Survey, question: Question) -> None:
    survey = _lock(survey)
    _require_manager(actor, survey.unit)
    _require_editable(survey)
    if question.survey_id != survey.pk:
        raise ServiceError(_("That question is not part of this survey."))
    text = question.text
    question.delete()
    record_event(
        actor=actor,
        action="survey.question_removed",
        target=survey,
        unit=survey.unit,
        before={"question": text},
    )


@transaction.atomic
def question_move(*, actor: User | None, survey: Survey, question: Question, up: bool) -> None:
    """Swap the question with its neighbour above (``up``) or below."""
    survey = _lock(survey)
    _require_manager(actor, survey.unit)
    _require_editable(survey)
    questions = list(survey.questions.order_by("order"))
    index = next((i for i, q in enumerate(questions) if q.pk == question.pk), None)
    if index is None:
        raise ServiceError(_("That question is not part of this survey."))
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(questions):
        return
    a, b = questions[index], questions[other_index]
    a_order, b_order = a.order, b.order
    # through a free slot, so the unique (survey, order) constraint holds at every step
    temp = max(q.order for q in questions) + 1
    Question.objects.filter(pk=a.pk).update(order=temp)
    Question.objects.filter(pk=b.pk).update(order=a_order)
    Question.objects.filter(pk=a.pk).update(order=b_order)
    record_event(
        actor=actor,
        action="survey.question_moved",
        target=survey,
        unit=survey.unit,
        after={"question": a.text, "direction": "up" if up else "down"},
    )


def snapshot_roster(survey: Survey) -> None:
    """Record how many active employees each unit of the subtree has now (direct members)."""
    SurveyUnit.objects.filter(survey=survey).delete()
    counts = {
        row["unit_id"]: row["n"]
        for row in User.objects.filter(is_active=True, unit__path__startswith=survey.unit.path)
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    units = OrgUnit.objects.filter(path__startswith=survey.unit.path, is_active=True)
    SurveyUnit.objects.bulk_create(
        [SurveyUnit(survey=survey, unit=u, eligible=counts.get(u.pk, 0)) for u in units]
    )


@transaction.atomic
def survey_open(*, actor: User | None, survey: Survey) -> Survey:
    """Publish a draft to the addressed employees; snapshot the roster for response rates."""
    given = survey
    survey = _lock(survey)
    _require_manager(actor, survey.unit)
    if survey.status != SurveyStatus.DRAFT:
        raise ServiceError(_("Only a draft survey can be opened."))
    if not survey.questions.exists():
        raise ServiceError(_("Add at least one question before opening the survey."))
    if survey.ends_on < timezone.localdate():
        raise ServiceError(_("The last day has already passed."), field="ends_on")
    survey.status = SurveyStatus.OPEN
    survey.save(update_fields=["status", "updated_at"])
    given.status = survey.status
    snapshot_roster(survey)
    record_event(actor=actor, action="survey.opened", target=survey, unit=survey.unit)
    return survey


def _validate_answers(
    questions: list[Question], answers: Mapping[str, str]
) -> list[tuple[Question, str, str]]:
    """(question, rating, text) for each question; raises ServiceError on bad input."""
    cleaned: list[tuple[Question, str, str]] = []
    for question in questions:
        field = f"q{question.pk}"
        raw = answers.get(field, "")
        value = (raw if isinstance(raw, str) else "").strip()
        if question.kind == QuestionKind.RATING:
            if not value:
                raise ServiceError(_("Answer every rating question."), field=field)
            if value not in RATING_VALUES:
                raise ServiceError(_("Choose one of the answers offered."), field=field)
            cleaned.append((question, value, ""))
        else:
            value = value.replace("\x00", "")
            if len(value) > MAX_TEXT_ANSWER:
                raise ServiceError(
                    _("The answer is too long (at most %(n)s characters).")
                    % {"n": MAX_TEXT_ANSWER},
                    field=field,
                )
            cleaned.append((question, "", value))
    return cleaned


@transaction.atomic
def survey_answer(*, actor: User, survey: Survey, answers: Mapping[str, str]) -> None:
    """Record one employee's answers: a Participation (who; UNIQUE per survey) and the
    answers sealed in the ballot box (what; no user, no time, nothing readable). ``answers``
    maps ``q<question id>`` to a Satisfaction value (rating questions, required) or text
    (optional)."""
    if connection.vendor == "postgresql":
        # A share lock: answers run side by side, but never across the seal (FOR UPDATE).
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM surveys_survey WHERE id = %s FOR SHARE", [survey.pk])
    survey = Survey.objects.select_related("unit").get(pk=survey.pk)
    if not survey_policy.is_addressed(actor, survey):
        raise ServiceError(_("This survey is not addressed to you."))
    phase = survey.phase()
    if phase == Phase.SCHEDULED:
        raise ServiceError(
            _("This survey opens on %(day)s.") % {"day": survey.starts_on.isoformat()}
        )
    if phase != Phase.RUNNING:
        raise ServiceError(_("This survey is closed: answers are no longer accepted."))
    questions = list(survey.questions.order_by("order"))
    cleaned = _validate_answers(questions, answers)
    unit_id = actor.unit_id
    if unit_id is None:  # cannot happen: addressed employees have a unit
        raise ServiceError(_("This survey is not addressed to you."))
    # "Has answered" (the UNIQUE constraint refuses a second, raced or not) and the answers'
    # boxes: the only rows of this transaction, none readable.
    if not BOX.participate(survey.pk, actor.pk, unit=unit_id):
        raise ServiceError(already_answered())
    BOX.hold(survey.pk, [answer_box(q, unit_id, rating, text) for q, rating, text in cleaned])
    # No audit event per answer: the participation row is the record of who answered, and an
    # event (with its exact time) would be one more trace written beside the ballot box.


# --- Sealing ended surveys (the periodic task gongkai.surveys.tasks.seal_ended) ------------

# The sealing task runs every this many minutes, on the clock (:00, :10, …): a survey is
# sealed within that long after the end of its last day. No page seals: a GET changes nothing.
SEAL_EVERY_MINUTES = 10


class SealingFailed(Exception):
    """Surveys whose last day has passed could not be sealed (each failure is logged by
    gongkai.core.holding, without content); the next run tries again."""


def next_sealing_run(now: datetime | None = None) -> datetime:
    """When the sealing task is next expected to run: the next multiple of
    :data:`SEAL_EVERY_MINUTES` after ``now`` (UTC-aligned, as the task's crontab is)."""
    now = now or timezone.now()
    step = SEAL_EVERY_MINUTES * 60
    return datetime.fromtimestamp((math.floor(now.timestamp() / step) + 1) * step, tz=UTC)


def ended_survey_ids(today: date | None = None) -> list[int]:
    """The opened surveys whose last day has passed (:attr:`Phase.ENDED`), not sealed yet."""
    today = today or timezone.localdate()
    ended = Survey.objects.filter(status=SurveyStatus.OPEN, ends_on__lt=today).order_by("pk")
    return list(ended.values_list("pk", flat=True))


@transaction.atomic
def seal_if_ended(*, survey_id: int, today: date | None = None) -> bool:
    """Seal the survey if its last day has passed and it is not sealed yet, as nobody (the
    audit event has no actor). True when this call sealed it; False when there was nothing
    to do (not ended, already sealed: running it again changes nothing). Raises
    holding.HoldingError when sealing fails (nothing changes then)."""
    survey = _lock(Survey(pk=survey_id))
    if survey.phase(today) != Phase.ENDED:
        return False
    survey_seal(actor=None, survey=survey)
    return True


@dataclass
class EndedSealing:
    sealed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def seal_ended_surveys(*, today: date | None = None) -> EndedSealing:
    """Seal every survey whose last day has passed, each in a transaction of its own (one that
    fails does not hold back the others). Idempotent: a second run finds nothing to seal."""
    outcome = EndedSealing()
    for survey_id in ended_survey_ids(today):
        try:
            if seal_if_ended(survey_id=survey_id, today=today):
                outcome.sealed.append(survey_id)
        except holding.HoldingError:  # logged by the holding mechanism, by its class only
            outcome.failed.append(survey_id)
    return outcome


@transaction.atomic
def survey_close(
    *, actor: User | None, survey: Survey, results_published: bool | None = None
) -> Survey:
    """The union office closes an opened survey (early, or after its end) and seals it;
    ``results_published`` (None: as the survey says) decides whether the addressed employees
    may read the results."""
    given = survey
    survey = _lock(survey)
    _require_manager(actor, survey.unit)
    if survey.status == SurveyStatus.DRAFT:
        raise ServiceError(_("A draft survey cannot be closed; it was never opened."))
    if survey.status == SurveyStatus.CLOSED:
        raise ServiceError(_("This survey is already closed."))
    if results_published is not None and bool(results_published) != survey.results_published:
        survey.results_published = bool(results_published)
        survey.save(update_fields=["results_published", "updated_at"])
        given.results_published = survey.results_published
    return survey_seal(actor=actor, survey=given)


def sealed_units(survey: Survey) -> dict[int, int]:
    """respondent's unit id → the unit id stored with the sealed answer: units with fewer
    than MIN_RESPONDENTS respondents are pooled (see selectors.pool_units), so that no unit
    value in the final table narrows an answer down to fewer people than that."""

    direct = dict(
        Participation.objects.filter(survey=survey)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
        .order_by()
    )
    pools = pool_units(units_of(survey), direct, survey.unit)
    return {member: bucket for bucket, members in pools.items() for member in members}


@transaction.atomic
def survey_seal(*, actor: User | None, survey: Survey) -> Survey:
    """Open the ballot box and move it into the final table in a random order, in one
    transaction, and empty the box (gongkai.core.ballotbox: verified and retried; raises
    holding.HoldingError when it still fails, and nothing changes). Idempotent: a sealed survey
    is returned unchanged. The instance passed in is updated too."""
    given = survey
    survey = _lock(survey)
    if survey.status != SurveyStatus.OPEN:
        return survey
    bucket_of = sealed_units(survey)
    moved = BOX.held_rows(survey.pk).count()  # answers wait for the lock on the survey

    def build(content: Any) -> list[Answer]:
        question_id, unit_id, rating, text = answer_of(content)
        unit = bucket_of.get(unit_id, survey.unit_id)
        return [
            Answer(survey=survey, question_id=question_id, unit_id=unit, rating=rating, text=text)
        ]

    BOX.seal(survey.pk, build, what=f"Sealing the answers of survey {survey.pk}")
    survey.status = SurveyStatus.CLOSED
    survey.closed_on = timezone.localdate()
    survey.save(update_fields=["status", "closed_on", "updated_at"])
    given.status, given.closed_on = survey.status, survey.closed_on
    record_event(
        actor=actor,
        action="survey.closed",
        target=survey,
        unit=survey.unit,
        after={"answers": moved, "results_published": survey.results_published},
    )
    return survey
