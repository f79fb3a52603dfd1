"""The three-step satisfaction scale every part asks employees on (满意 / 基本满意 / 不满意):
disclosure ratings, suggestions and motions answered, surveys, the assessment's first measure."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
