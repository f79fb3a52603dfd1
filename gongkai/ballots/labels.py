"""Human names for this app's audit action codes (merged into gongkai.audit.actions)."""

from django.utils.functional import Promise

AUDIT_LABELS: dict[str, Promise] = {}
