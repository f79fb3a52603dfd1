"""`manage.py seed_scale` builds a group company (集团) of companies with a year of activity;
scaled down here (2 companies, 400 employees), it must show what a user of the group sees:
the group's board listing its companies, the group's compliance dashboard covering every
company with something missing, a ledger that verifies, published evaluation results,
suggestions in several states; and it never loads twice."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.ballots.models import Participation, Poll, PollKind, PollStatus, SealedBallot
from gongkai.congress.models import Motion
from gongkai.demo.scale import GROUP_CODE, GROUP_UNION, ScaleSpec
from gongkai.disclosure.compliance import compliance_tree
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.search.models import SearchDocument
from gongkai.voice.models import Suggestion
from tests.conftest import ensure_catalog, page

COMPANIES, EMPLOYEES = 2, 400


@pytest.fixture(scope="module")
def group(django_db_setup, django_db_blocker):
    """Seeded once, outside the per-test transactions; flushed afterwards so the other tests
    start from the migrated state."""
    with django_db_blocker.unblock():
        ensure_catalog()
        out = StringIO()
        call_command(
            "seed_scale", "--companies", str(COMPANIES), "--employees", str(EMPLOYEES), stdout=out
        )
        yield out.getvalue()
        call_command("flush", "--noinput")
        ensure_catalog()


def companies() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(parent__code=GROUP_CODE, kind=UnitKind.COMPANY))


@pytest.mark.django_db
def test_the_group_holds_its_companies_with_departments_teams_and_roles(group):
    assert "Group loaded" in group
    found = companies()
    assert len(found) == COMPANIES
    for company in found:
        departments = company.children.filter(kind=UnitKind.DEPARTMENT)
        assert departments.count() >= 3
        assert all(d.children.filter(kind=UnitKind.TEAM).count() >= 2 for d in departments)
        roles = set(RoleAssignment.objects.filter(unit=company).values_list("role", flat=True))
        assert {Role.UNION_OFFICE, Role.LEADERSHIP, Role.UNIT_HEAD, Role.REPRESENTATIVE} <= roles
    employees = User.objects.filter(unit__path__startswith="/", is_active=True).count()
    assert 0.9 * EMPLOYEES <= employees <= 1.1 * EMPLOYEES


@pytest.mark.django_db
def test_the_group_board_lists_its_companies(group):
    html = page(GROUP_UNION, f"/boards/{GROUP_CODE}/")
    for company in companies():
        assert company.name in html
    # An employee of a team reads the team's board with the year on it.
    team = OrgUnit.objects.filter(kind=UnitKind.TEAM).order_by("path").first()
    employee = User.objects.filter(unit=team).order_by("employee_no").last()
    item = Disclosure.objects.filter(unit=team, status=DisclosureStatus.PUBLISHED).first()
    assert team is not None and employee is not None and item is not None
    assert item.title in page(employee.employee_no, f"/boards/{team.code}/")


@pytest.mark.django_db
def test_the_group_compliance_dashboard_shows_every_company_with_gaps(group):
    html = page(GROUP_UNION, f"/supervision/compliance/?unit={GROUP_CODE}")
    for company in companies():
        assert company.name in html
    today = timezone.localdate()
    spec = ScaleSpec(today=today)
    root = OrgUnit.objects.get(code=GROUP_CODE)
    tree = compliance_tree(root, spec.start, today, today=today)
    for company in companies():
        subtree = tree[company.pk].subtree
        assert subtree.total > 100
        # Mostly on time, but not everything: the dashboard has something to show.
        assert subtree.rate is not None and 60 <= subtree.rate < 100


@pytest.mark.django_db
def test_the_ledger_verifies_and_every_published_item_is_searchable(group):
    out = StringIO()
    call_command("verify_ledger", stdout=out)  # raises CommandError on any problem
    published = Disclosure.objects.filter(published_revision__isnull=False).exclude(
        status=DisclosureStatus.WITHDRAWN
    )
    assert published.count() > 500
    assert SearchDocument.objects.count() == published.count()
    assert published.filter(is_nil=True).exists()  # a few "nothing to report"
    item = published.filter(is_nil=False, unit__kind=UnitKind.TEAM).first()
    assert item is not None  # its timeline: drafted, submitted, approved, published
    steps = set(item.steps.values_list("kind", flat=True))
    assert {"create", "submit", "approve", "publish"} <= steps


@pytest.mark.django_db
def test_each_company_published_its_year_end_evaluation(group):
    for company in companies():
        poll = Poll.objects.get(company=company, kind=PollKind.EVALUATION)
        assert poll.status == PollStatus.PUBLISHED
        assert poll.disclosure is not None and poll.disclosure.status == "published"
        # The company's head and its department heads (10-20 in a full-size company).
        assert 4 <= poll.items.count() <= company.children.count() + 1
        # Every ballot cast was sealed and counted.
        assert poll.result is not None
        cast = Participation.objects.filter(poll=poll).count()
        assert SealedBallot.objects.filter(poll=poll).count() == cast > 5
        union = RoleAssignment.objects.get(unit=company, role=Role.UNION_OFFICE).user
        html = page(union.employee_no, f"/congress/votes/{poll.pk}/results/")
        assert poll.title in html
        assert Motion.objects.filter(session__term__company=company).exists()


@pytest.mark.django_db
def test_suggestions_are_in_several_states_and_some_rated(group):
    states = set(Suggestion.objects.values_list("status", flat=True))
    assert len(states) >= 5
    assert Suggestion.objects.filter(rating__isnull=False).exists()
    assert all(s.steps.exists() for s in Suggestion.objects.all()[:50])


@pytest.mark.django_db
def test_it_never_loads_twice(group):
    before = OrgUnit.objects.count()
    with pytest.raises(CommandError, match="already holds data"):
        call_command("seed_scale", "--companies", "1", "--employees", "100")
    out = StringIO()
    call_command("seed_scale", "--companies", "1", "--employees", "100", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    assert OrgUnit.objects.count() == before
