"""`manage.py seed_demo` builds the demo company that `make run` serves."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from gongkai.accounts.models import User
from gongkai.disclosure.models import Disclosure, Rating
from gongkai.ledger.verification import ledger_verify
from gongkai.org.models import OrgUnit, Role, UnitKind
from tests.conftest import ensure_catalog

LOGINS = ["union", "leader", "supervisor", "discipline", "depthead", "teamlead", "rep", "employee"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seeded once for the module (it takes a while) outside the per-test transactions, and
    flushed afterwards so the other tests start from the migrated state again."""
    with django_db_blocker.unblock():
        ensure_catalog()
        call_command("seed_demo")
        yield
        call_command("flush", "--noinput")
        ensure_catalog()


@pytest.mark.django_db
def test_the_demo_company_is_modelled_on_the_article(demo):
    company = OrgUnit.objects.get(code="rd")
    assert "1015MW" in company.description
    departments = OrgUnit.objects.filter(parent=company, kind=UnitKind.DEPARTMENT)
    assert {"运行部", "锅炉分场", "汽机分场", "工会"} <= set(
        departments.values_list("name", flat=True)
    )
    assert departments.count() >= 12
    for dept in departments:
        assert 3 <= dept.children.count() <= 6
    employees = User.objects.filter(is_active=True).count()
    reps = User.objects.filter(role_assignments__role=Role.REPRESENTATIVE).distinct().count()
    assert 350 <= employees <= 450
    assert 0.08 <= reps / employees <= 0.12


@pytest.mark.django_db
def test_the_demo_year_is_lived_in_and_its_ledger_verifies(demo):
    published = Disclosure.objects.filter(published_revision__isnull=False)
    assert published.count() > 300
    assert published.filter(scope="public").exists()
    assert published.filter(is_nil=True).exists()
    assert Disclosure.objects.filter(status="withdrawn").count() == 1
    assert Disclosure.objects.filter(revisions__number=2).exists()
    assert Rating.objects.exists()
    assert ledger_verify() == []


@pytest.mark.django_db
@pytest.mark.parametrize("login", LOGINS)
def test_every_demo_login_works_and_sees_its_home(demo, login):
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": login, "password": "gongkai-demo"}
    )
    assert response.status_code == 302, login
    home = client.get("/")
    assert home.status_code == 200
    user = User.objects.get(employee_no=login)
    assert user.name in home.content.decode()
    board = client.get(reverse("boards:board", args=[user.unit.code]))
    assert board.status_code == 200


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_data(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")  # and succeeds quietly with the flag
