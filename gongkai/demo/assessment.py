"""Demo data of this app, loaded by ``seed_demo`` after every other part (it reads their
records): the demo company's assessment scheme with the default weights, in force from
last year, the employees' board ratings of last year's items (the disclosure demo rates only
this year's), and the published rankings of last year's second half and of the whole
year."""

from __future__ import annotations

import random
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.assessment.models import DEFAULT_WEIGHTS, Ranking, Scheme
from gongkai.assessment.services import ranking_publish, scheme_create
from gongkai.core.periods import Period, PeriodKind
from gongkai.demo.calendar import demo_calendar
from gongkai.demo.disclosure import on_time_rates
from gongkai.disclosure.engagement import rating_submit
from gongkai.disclosure.models import Disclosure, DisclosureStatus, Rating
from gongkai.org.models import OrgUnit, UnitKind

COMPANY_CODE = "rd"
SUPERVISOR = "supervisor"


def seed() -> dict[str, int]:
    """Load the demo records; return counts for the command's summary line. Idempotent:
    what exists is left alone. No randomness: everything follows from the other parts'
    demo records."""
    company = OrgUnit.objects.filter(code=COMPANY_CODE).first()
    supervisor = User.objects.filter(employee_no=SUPERVISOR).first()
    if company is None or supervisor is None:
        return {}
    last_year = demo_calendar().last_year
    with transaction.atomic():
        if not Scheme.objects.filter(company=company).exists():
            scheme_create(
                actor=supervisor,
                company=company,
                weights=DEFAULT_WEIGHTS,
                effective_from=date(last_year, 1, 1),
                reason="首次设定考核权重(以职工满意为第一标准)",
            )
    ratings = seed_ratings(company, last_year)
    published = 0
    for period in (Period(last_year, PeriodKind.HALF, 2), Period(last_year, PeriodKind.YEAR, 1)):
        if Ranking.objects.filter(company=company, period=period.key).exists():
            continue
        ranking_publish(actor=supervisor, company=company, period=period.key)
        published += 1
    return {
        "assessment schemes": 1,
        "board ratings of last year": ratings,
        "published rankings": published,
    }


def seed_ratings(company: OrgUnit, year: int) -> int:
    """A few employees of each department rate up to six of its items published in the
    year's second half; each department has its own mood, which follows how punctually its
    boards were kept that year (employees rate a board that is late lower), so the ranking
    spreads out and can be defended."""

    if Ranking.objects.filter(company=company).exists():
        return 0  # seeded before: the rankings are published from these ratings
    rng = random.Random(2025_1231)  # noqa: S311 - demo data
    tz = timezone.get_current_timezone()
    since = datetime(year, 7, 1, tzinfo=tz)
    until = datetime(year + 1, 1, 1, tzinfo=tz)
    departments = OrgUnit.objects.filter(parent=company, kind=UnitKind.DEPARTMENT).order_by("path")
    rates = on_time_rates(list(departments), date(year, 1, 1), date(year, 12, 31))
    count = 0
    for dept in departments:
        items = list(
            Disclosure.objects.filter(
                unit__path__startswith=dept.path,
                status=DisclosureStatus.PUBLISHED,
                is_nil=False,
                first_published_at__gte=since,
                first_published_at__lt=until,
            ).order_by("first_published_at", "pk")[:6]
        )
        people = list(
            User.objects.filter(unit__path__startswith=dept.path, is_active=True)
            .select_related("unit")
            .order_by("pk")
        )
        if not items or not people:
            continue
        # About 82% satisfied on a board kept fully on time, fewer the later it is kept.
        satisfied = max(40, min(88, round(rates.get(dept.pk, 80) * 1.2) - 38 + rng.randint(-5, 5)))
        weights = [satisfied, (100 - satisfied) * 2 // 3, (100 - satisfied) // 3]
        for item in items:
            readers = [p for p in people if p.unit is not None and item.unit_id in p.unit.path_ids]
            # In January the disclosure demo's readers have already rated the newest items.
            rated = set(Rating.objects.filter(disclosure=item).values_list("user_id", flat=True))
            for person in rng.sample(readers, k=min(len(readers), rng.randint(3, 8))):
                if person.pk in rated:
                    continue
                value = rng.choices(["satisfied", "basic", "dissatisfied"], weights)[0]
                rating_submit(actor=person, disclosure=item, value=value)
                count += 1
    return count
