"""Human names for this app's audit action codes and event data (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "ops.backup_written": _("Backup written"),
        "ops.restored": _("Installation restored from a backup"),
    },
    fields={
        "file": _("file"),
        "size": _("size in bytes"),
        "sha256": _("SHA-256"),
        "engine": _("database engine"),
        "tables": _("tables"),
        "rows": _("rows"),
        "files": _("media files"),
        "checkpoint": _("checkpoint sizes"),
        "created_at": _("backup made at"),
        "gongkai_version": _("gongkai version"),
        "ok": _("checks passed"),
        "problems": _("problems found"),
    },
)
