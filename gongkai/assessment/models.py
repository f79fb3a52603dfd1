"""Assessment (评价考核): weighting schemes, versioned like the catalog rules, and the published
rankings, immutable snapshots of the computed lines."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.org.models import OrgUnit

# The criteria of a score, in display order. The four satisfaction sources together are the
# first standard (以职工满意为第一标准): their weights add up to the largest share.
SATISFACTION_CRITERIA = (
    "satisfaction_board",
    "satisfaction_suggestions",
    "satisfaction_survey",
    "satisfaction_evaluation",
)
OTHER_CRITERIA = ("disclosure_on_time", "inspection", "handling")
CRITERIA = SATISFACTION_CRITERIA + OTHER_CRITERIA

CRITERION_LABELS = {
    "satisfaction_board": _("Satisfaction: board ratings"),
    "satisfaction_suggestions": _("Satisfaction: answers to suggestions"),
    "satisfaction_survey": _("Satisfaction: surveys"),
    "satisfaction_evaluation": _("Satisfaction: year-end evaluation"),
    "disclosure_on_time": _("Disclosure on time"),
    "inspection": _("Inspection findings and rectification"),
    "handling": _("Suggestions and motions answered on time"),
}

DEFAULT_WEIGHTS = {
    "satisfaction_board": 15,
    "satisfaction_suggestions": 10,
    "satisfaction_survey": 10,
    "satisfaction_evaluation": 10,
    "disclosure_on_time": 20,
    "inspection": 15,
    "handling": 20,
}


def weight_field(criterion: str) -> models.PositiveSmallIntegerField[Any, Any]:
    return models.PositiveSmallIntegerField(
        CRITERION_LABELS[criterion], default=DEFAULT_WEIGHTS[criterion]
    )


def sum_of(criteria: Any) -> Any:
    """F(a) + F(b) + … for a database constraint."""
    total: Any = None
    for criterion in criteria:
        total = models.F(criterion) if total is None else total + models.F(criterion)
    return total


class Scheme(models.Model):
    """The weights a company's departments are assessed by, from ``effective_from`` on. A
    change adds a scheme; a period is scored by the scheme in force at its start, so a
    published score can always be recomputed. Rows are never updated."""

    company = models.ForeignKey(
        OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    effective_from = models.DateField(_("effective from"))
    satisfaction_board = weight_field("satisfaction_board")
    satisfaction_suggestions = weight_field("satisfaction_suggestions")
    satisfaction_survey = weight_field("satisfaction_survey")
    satisfaction_evaluation = weight_field("satisfaction_evaluation")
    disclosure_on_time = weight_field("disclosure_on_time")
    inspection = weight_field("inspection")
    handling = weight_field("handling")
    reason = models.CharField(_("reason for the change"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["company", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "effective_from"], name="assessment_scheme_once_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    satisfaction_board=models.Value(100)
                    - sum_of(c for c in CRITERIA if c != "satisfaction_board")
                ),
                name="assessment_scheme_weights_add_up_to_100",
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{c}__lt": sum_of(SATISFACTION_CRITERIA)}),
                    name=f"assessment_scheme_satisfaction_above_{c}",
                )
                for c in OTHER_CRITERIA
            ],
        ]

    def __str__(self) -> str:
        return f"{self.company} @ {self.effective_from}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("assessment schemes are never changed; add a new one")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError("assessment schemes are never deleted")

    @property
    def weights(self) -> dict[str, int]:
        return {c: int(getattr(self, c)) for c in CRITERIA}


class Ranking(models.Model):
    """A period's published ranking: the computed lines of every department, frozen. Never
    changed (the model refuses, and a database trigger too); what it published is also a
    disclosure of catalog entry "assessment-ranking" on the company's board."""

    company = models.ForeignKey(
        OrgUnit, verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("period"), max_length=10)
    scheme = models.ForeignKey(
        Scheme, verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="rankings"
    )
    computed_on = models.DateField(_("computed on"))
    rows = models.JSONField(_("scores"))
    disclosure = models.ForeignKey(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("published ranking")
        verbose_name_plural = _("published rankings")
        ordering = ["company", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "period"], name="assessment_ranking_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company} {self.period}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("a published ranking is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError("a published ranking is never deleted")
