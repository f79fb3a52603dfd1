"""The append-only audit log: who did what, when, before → after."""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import action_label
from gongkai.core.models import user_link


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def delete(self) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One change of consequence. Rows are only ever inserted (a database trigger refuses
    UPDATE on both engines, and the model refuses save-over and delete)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = user_link(_("actor"), null=True)
    # A snapshot of who acted, kept even if the person's name changes later.
    actor_label = models.CharField(_("actor"), max_length=120, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    # The materialised path of the unit the change belongs to: scopes who may read it.
    scope_path = models.CharField(_("scope"), max_length=255, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    @property
    def action_label(self) -> str:
        return action_label(self.action)


class AuditLeaf(models.Model):
    """Which audit event is which leaf of the audit log (gongkai.audit.transparency):
    written in the transaction that appends the leaf, so an event is sequenced exactly once
    (``event_id`` is unique). Not a foreign key: the record outlives an event deleted behind
    the application's back, which verification then names. Never changed (a trigger
    refuses)."""

    event_id = models.BigIntegerField(_("audit event"), unique=True)
    index = models.PositiveBigIntegerField(_("leaf index"), unique=True)
    # When the sequencer took the event: the event had committed by then.
    sequenced_at = models.DateTimeField(_("sequenced at"))

    class Meta:
        verbose_name = _("audit log leaf")
        verbose_name_plural = _("audit log leaves")

    def __str__(self) -> str:
        return f"#{self.event_id} → {self.index}"
