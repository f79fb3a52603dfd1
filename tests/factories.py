"""factory_boy factories; units go through the org service so paths are always right."""

from __future__ import annotations

import factory

from gongkai.accounts.models import User
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.services import unit_create

PASSWORD = "gongkai-demo"


def make_unit(
    name: str,
    kind: str = UnitKind.DEPARTMENT,
    parent: OrgUnit | None = None,
    code: str | None = None,
) -> OrgUnit:
    code = code or f"u{OrgUnit.objects.count() + 1}-{abs(hash(name)) % 10_000}"
    return unit_create(actor=None, code=code, name=name, kind=kind, parent=parent)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("employee_no",)
        skip_postgeneration_save = True

    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Sequence(lambda n: f"职工{n}")
    password = factory.django.Password(PASSWORD)
