"""Reads of satisfaction surveys: lists, response rates, results, and the score per unit
that the assessment uses.

Scale and score: rating questions use the 3-point Satisfaction scale of the whole platform
(satisfied / basically satisfied / dissatisfied). A question's (or a unit's) satisfaction
score in [0, 100] is the mean of 100 for satisfied, 60 for basically satisfied and 0 for
dissatisfied over all its ratings: score = (100·S + 60·B) / (S + B + D).

Small units: figures of answers are never shown for fewer than MIN_RESPONDENTS respondents.
On the results page a unit below the threshold is pooled into its parent's row (deepest
first); if the top row is still too small, the smallest other rows are pooled into it. Every
row then holds at least MIN_RESPONDENTS respondents, and no row can be worked out by
subtracting the others from the total.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db.models import Count, QuerySet

from gongkai.core.satisfaction import Satisfaction
from gongkai.org.models import OrgUnit
from gongkai.surveys import permissions as survey_policy
from gongkai.surveys.models import (
    Answer,
    Participation,
    Phase,
    Question,
    QuestionKind,
    Survey,
    SurveyStatus,
    SurveyUnit,
)

MIN_RESPONDENTS = 5
SCORES: dict[str, int] = {
    Satisfaction.SATISFIED: 100,
    Satisfaction.BASIC: 60,
    Satisfaction.DISSATISFIED: 0,
}
TEXTS_SHOWN = 200  # per question on the page; the .xlsx has them all


def score_of(counts: dict[str, int]) -> float | None:
    total = sum(counts.get(v, 0) for v in SCORES)
    if not total:
        return None
    return sum(SCORES[v] * counts.get(v, 0) for v in SCORES) / total


# --- lists ---------------------------------------------------------------------------------


def visible_surveys(user: Any) -> QuerySet[Survey]:
    return (
        Survey.objects.filter(survey_policy.visible_surveys_q(user))
        .select_related("unit")
        .order_by("-starts_on", "-id")
    )


def answered_ids(user: Any, survey_ids: list[int]) -> set[int]:
    return set(
        Participation.objects.filter(user=user, survey_id__in=survey_ids).values_list(
            "survey_id", flat=True
        )
    )


def has_answered(user: Any, survey: Survey) -> bool:
    return Participation.objects.filter(survey=survey, user=user).exists()


# --- response rates --------------------------------------------------------------------------


@dataclass
class UnitRate:
    unit: OrgUnit
    eligible: int  # active employees of the unit and below when the survey was opened
    respondents: int  # of the unit and below

    @property
    def rate(self) -> float | None:
        return 100 * self.respondents / self.eligible if self.eligible else None

    @property
    def indent(self) -> int:
        return self.unit.depth


def units_of(survey: Survey) -> list[OrgUnit]:
    """The units of the survey's subtree in tree order (each unit's children by their
    ``order``, then name), one query."""
    units = list(OrgUnit.objects.filter(path__startswith=survey.unit.path))
    by_id = {u.pk: u for u in units}

    def key(unit: OrgUnit) -> tuple[tuple[int, str], ...]:
        return tuple((by_id[pk].order, by_id[pk].name) for pk in unit.path_ids if pk in by_id)

    return sorted(units, key=key)


def _rollup(units: list[OrgUnit], direct: dict[int, int]) -> dict[int, int]:
    """Sum per unit over its subtree, from per-unit direct figures."""
    by_id = {u.pk: u for u in units}
    total: dict[int, int] = defaultdict(int)
    for unit_id, n in direct.items():
        unit = by_id.get(unit_id)
        if unit is None:
            continue
        for ancestor in unit.path_ids:
            if ancestor in by_id:
                total[ancestor] += n
    return total


def respondents_by_unit(survey: Survey) -> dict[int, int]:
    """Participations per unit (the unit each was counted for), one query."""
    return dict(
        Participation.objects.filter(survey=survey)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
        .order_by()
    )


def response_rates(
    survey: Survey, units: list[OrgUnit] | None = None, answered: dict[int, int] | None = None
) -> list[UnitRate]:
    """Per unit of the subtree (tree order): eligible from the roster snapshot taken when the
    survey was opened (raised to the unit's respondents if more answered, e.g. people who
    joined later), respondents from the participations; both include the units below."""
    units = units if units is not None else units_of(survey)
    eligible = dict(SurveyUnit.objects.filter(survey=survey).values_list("unit_id", "eligible"))
    answered = dict(answered if answered is not None else respondents_by_unit(survey))
    # an employee who joined after the opening and answered counts as eligible too
    for unit_id, n in answered.items():
        eligible[unit_id] = max(eligible.get(unit_id, 0), n)
    eligible_up = _rollup(units, eligible)
    answered_up = _rollup(units, answered)
    return [
        UnitRate(unit=u, eligible=eligible_up.get(u.pk, 0), respondents=answered_up.get(u.pk, 0))
        for u in units
        if u.pk in eligible or u.pk in answered_up
    ]


# --- results -------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float | None:
        return score_of(self.counts)

    @property
    def distribution(self) -> list[tuple[str, str, int, float]]:
        """(value, label, count, percent) in scale order."""
        total = self.total
        return [
            (value, str(label), self.counts.get(value, 0),
             100 * self.counts.get(value, 0) / total if total else 0.0)
            for value, label in Satisfaction.choices
        ]  # fmt: skip

    @property
    def content_pct(self) -> float | None:
        """Satisfied or basically satisfied (满意率)."""
        total = self.total
        if not total:
            return None
        return 100 * (self.counts.get("satisfied", 0) + self.counts.get("basic", 0)) / total


@dataclass
class Bucket:
    """A row of the results: a unit with the smaller units pooled into it."""

    unit: OrgUnit
    pooled: list[OrgUnit]  # units whose answers are counted here besides the unit's own
    respondents: int
    questions: list[QuestionResult] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        merged: dict[str, int] = defaultdict(int)
        for q in self.questions:
            for value, n in q.counts.items():
                merged[value] += n
        return score_of(merged)


@dataclass
class SurveyResults:
    survey: Survey
    rates: list[UnitRate]
    respondents: int
    eligible: int
    overall: Bucket | None  # None when fewer than MIN_RESPONDENTS answered
    buckets: list[Bucket]
    texts: list[tuple[Question, list[str], int]]  # (question, shown answers, how many)
    branches: list[Bucket] = field(default_factory=list)  # the units right below the root
    min_respondents: int = MIN_RESPONDENTS

    @property
    def rate(self) -> float | None:
        return 100 * self.respondents / self.eligible if self.eligible else None

    @property
    def withheld(self) -> bool:
        return self.overall is None


def pool_units(
    units: list[OrgUnit], respondents: dict[int, int], root: OrgUnit
) -> dict[int, list[int]]:
    """bucket unit id → the unit ids counted in it, every bucket ≥ MIN_RESPONDENTS (or a
    single bucket for the root when the whole survey has fewer)."""
    by_id = {u.pk: u for u in units}
    count = {u.pk: respondents.get(u.pk, 0) for u in units}
    members: dict[int, list[int]] = {u.pk: [u.pk] for u in units}
    for unit in sorted(units, key=lambda u: (-u.depth, u.path)):
        if unit.pk == root.pk or unit.parent_id not in by_id:
            continue
        if 0 < count[unit.pk] < MIN_RESPONDENTS:
            parent = int(unit.parent_id)  # in by_id, so not None
            count[parent] += count[unit.pk]
            members[parent] += members[unit.pk]
            count[unit.pk] = 0
            members[unit.pk] = []
    if 0 < count[root.pk] < MIN_RESPONDENTS:
        others = sorted(
            (pk for pk in count if pk != root.pk and count[pk] >= MIN_RESPONDENTS),
            key=lambda pk: (count[pk], by_id[pk].path),
        )
        for pk in others:
            if count[root.pk] >= MIN_RESPONDENTS:
                break
            count[root.pk] += count[pk]
            members[root.pk] += members[pk]
            count[pk] = 0
            members[pk] = []
    return {pk: m for pk, m in members.items() if count[pk] > 0}


def rating_counts(survey: Survey) -> dict[int, dict[int, dict[str, int]]]:
    """unit id → question id → rating → answers, one query."""
    counts: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for unit_id, question_id, rating, n in (
        Answer.objects.filter(survey=survey)
        .exclude(rating="")
        .values("unit_id", "question_id", "rating")
        .annotate(n=Count("id"))
        .values_list("unit_id", "question_id", "rating", "n")
        .order_by()
    ):
        counts[unit_id][question_id][rating] = n
    return counts


@dataclass
class Pooling:
    """What the rows of the results are made of: the survey's units, the respondents and
    the ratings of each unit, and the rating questions."""

    by_id: dict[int, OrgUnit]
    direct: dict[int, int]  # respondents per unit (the unit each was counted for)
    counts: dict[int, dict[int, dict[str, int]]]  # as rating_counts
    questions: list[Question]  # the rating questions, in order

    def question_result(self, question: Question, member_ids: list[int]) -> QuestionResult:
        merged: dict[str, int] = defaultdict(int)
        for member in member_ids:
            for value, n in self.counts.get(member, {}).get(question.pk, {}).items():
                merged[value] += n
        return QuestionResult(question=question, counts=dict(merged))

    def bucket(self, unit: OrgUnit, member_ids: list[int]) -> Bucket:
        """A row for ``unit`` counting the answers of ``member_ids``."""
        return Bucket(
            unit=unit,
            pooled=[self.by_id[m] for m in member_ids if m != unit.pk and self.direct.get(m)],
            respondents=sum(self.direct.get(m, 0) for m in member_ids),
            questions=[self.question_result(q, member_ids) for q in self.questions],
        )

    def unpooled(self, unit: OrgUnit, member_ids: list[int]) -> Bucket:
        """A row that sums rows shown elsewhere: it names no pooled units."""
        bucket = self.bucket(unit, member_ids)
        bucket.pooled = []
        return bucket


def branch_rows(
    pooling: Pooling, units: list[OrgUnit], pools: dict[int, list[int]], root_id: int
) -> list[Bucket]:
    """The units right below the root, each summing the rows inside it (no new information:
    every row it adds up is shown too)."""
    branches = []
    for child in units:
        if child.parent_id != root_id:
            continue
        inside = [pk for pk in pools if pooling.by_id[pk].path.startswith(child.path)]
        members = [m for pk in inside for m in pools[pk]]
        if inside:
            branches.append(pooling.unpooled(child, members))
    return branches


def text_answers(
    survey: Survey, questions: list[Question], texts_shown: int
) -> list[tuple[Question, list[str], int]]:
    """Per free-text question: the first ``texts_shown`` answers and how many there are."""
    texts = []
    for q in questions:
        if q.kind != QuestionKind.TEXT:
            continue
        answers = Answer.objects.filter(survey=survey, question=q).exclude(text="").order_by("id")
        texts.append(
            (q, list(answers.values_list("text", flat=True)[:texts_shown]), answers.count())
        )
    return texts


def survey_results(survey: Survey, *, texts_shown: int = TEXTS_SHOWN) -> SurveyResults:
    """The results of a closed survey (only response rates for an open one)."""
    units = units_of(survey)
    direct = respondents_by_unit(survey)
    rates = response_rates(survey, units, direct)
    top = next((r for r in rates if r.unit.pk == survey.unit_id), None)
    rates_only = SurveyResults(
        survey=survey,
        rates=rates,
        respondents=top.respondents if top else 0,
        eligible=top.eligible if top else 0,
        overall=None,
        buckets=[],
        texts=[],
    )
    if survey.status != SurveyStatus.CLOSED or rates_only.respondents < MIN_RESPONDENTS:
        return rates_only
    questions = list(survey.questions.order_by("order"))
    pooling = Pooling(
        by_id={u.pk: u for u in units},
        direct=direct,
        counts=rating_counts(survey),
        questions=[q for q in questions if q.kind == QuestionKind.RATING],
    )
    pools = pool_units(units, direct, survey.unit)
    position = {u.pk: i for i, u in enumerate(units)}
    return replace(
        rates_only,
        overall=pooling.unpooled(survey.unit, list(pooling.by_id)),
        buckets=[
            pooling.bucket(pooling.by_id[pk], pools[pk])
            for pk in sorted(pools, key=position.__getitem__)
        ],
        branches=branch_rows(pooling, units, pools, survey.unit_id),
        texts=text_answers(survey, questions, texts_shown),
    )


def all_texts(survey: Survey, question: Question) -> list[str]:
    """Every free-text answer to ``question`` in the sealed (random) order."""
    return list(
        Answer.objects.filter(survey=survey, question=question)
        .exclude(text="")
        .order_by("id")
        .values_list("text", flat=True)
    )


# --- the contract with the assessment ------------------------------------------------------


@dataclass(frozen=True)
class UnitSatisfaction:
    unit_id: int
    score: float  # in [0, 100]: (100·satisfied + 60·basic + 0·dissatisfied) / ratings
    respondents: int  # answers counted (a person who answered two surveys counts twice)
    ratings: int


def satisfaction_by_unit(
    survey_or_year: Survey | int, *, within: OrgUnit | None = None
) -> dict[int, UnitSatisfaction]:
    """Per unit (id) a satisfaction score in [0, 100] over all rating answers given in the
    unit and the units below it, for one closed survey or for every survey closed with its
    last day in the given year. Units with fewer than MIN_RESPONDENTS respondents are left
    out. ``within`` limits the result to a subtree. Answers of units below the threshold
    were pooled into a unit above when the survey was sealed and count there."""
    if isinstance(survey_or_year, Survey):
        surveys = [survey_or_year] if survey_or_year.status == SurveyStatus.CLOSED else []
    else:
        surveys = list(
            Survey.objects.filter(
                status=SurveyStatus.CLOSED, ends_on__year=survey_or_year
            ).select_related("unit")
        )
    if not surveys:
        return {}
    ids = [s.pk for s in surveys]
    # respondents per stored (pooled) unit, as the sealed answers carry it
    respondents: dict[int, int] = defaultdict(int)
    direct_by_survey: dict[int, dict[int, int]] = defaultdict(dict)
    for survey_id, unit_id, n in (
        Participation.objects.filter(survey_id__in=ids)
        .values("survey_id", "unit_id")
        .annotate(n=Count("id"))
        .values_list("survey_id", "unit_id", "n")
        .order_by()
    ):
        direct_by_survey[survey_id][unit_id] = n
    for survey in surveys:
        direct = direct_by_survey.get(survey.pk, {})
        for bucket, members in pool_units(units_of(survey), direct, survey.unit).items():
            respondents[bucket] += sum(direct.get(m, 0) for m in members)
    ratings: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, rating, n in (
        Answer.objects.filter(survey_id__in=ids)
        .exclude(rating="")
        .values("unit_id", "rating")
        .annotate(n=Count("id"))
        .values_list("unit_id", "rating", "n")
        .order_by()
    ):
        ratings[unit_id][rating] += n
    unit_ids = set(respondents) | set(ratings)
    paths = dict(OrgUnit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
    up_respondents: dict[int, int] = defaultdict(int)
    up_ratings: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id in unit_ids:
        ancestors = [int(p) for p in paths.get(unit_id, "").strip("/").split("/") if p]
        for ancestor in ancestors:
            up_respondents[ancestor] += respondents.get(unit_id, 0)
            for value, n in ratings.get(unit_id, {}).items():
                up_ratings[ancestor][value] += n
    allowed: set[int] | None = None
    if within is not None:
        allowed = set(
            OrgUnit.objects.filter(path__startswith=within.path).values_list("pk", flat=True)
        )
    result: dict[int, UnitSatisfaction] = {}
    for unit_id, n in up_respondents.items():
        if n < MIN_RESPONDENTS or (allowed is not None and unit_id not in allowed):
            continue
        score = score_of(up_ratings.get(unit_id, {}))
        if score is None:
            continue
        result[unit_id] = UnitSatisfaction(
            unit_id=unit_id,
            score=round(score, 2),
            respondents=n,
            ratings=sum(up_ratings[unit_id].values()),
        )
    return result


def survey_year(survey: Survey) -> int:
    return survey.ends_on.year


def is_past(survey: Survey, today: date | None = None) -> bool:

    return survey.phase(today) in (Phase.ENDED, Phase.CLOSED)
