from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class TimeStampedModel(models.Model):
    """Creation and last-change times, for the models that change."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def user_link(
    verbose_name: StrOrPromise, *, null: bool = False, related_name: str = "+"
) -> models.ForeignKey[Any, Any]:
    """The user who did something (PROTECT: people are deactivated, never deleted); ``null``
    (and blank) for a step not done yet, or done by the system."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name=related_name,
    )


def choices_constraint(
    field: str, choices: type[models.Choices], name: str
) -> models.CheckConstraint:
    """The database's check that ``field`` holds one of the values of ``choices``."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (non-working day)")
    WORKDAY = "workday", _("Adjusted working day (调休)")


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a public holiday (not worked) or an adjusted
    working day (a Saturday or Sunday that is worked, 调休). One row per date."""

    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["day"]
        constraints = [choices_constraint("kind", DayKind, "core_calendarday_kind_valid")]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.get_kind_display()}"
