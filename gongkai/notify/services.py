"""In-app notifications, and e-mail after commit when an address and a mail server exist."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from gongkai.accounts.models import User
from gongkai.notify.models import Notification


def notify(*, users: Iterable[User], message: str, url: str = "") -> list[Notification]:
    people = {u.pk: u for u in users if u.is_active}
    notes = Notification.objects.bulk_create(
        [Notification(user=u, message=message[:300], url=url) for u in people.values()]
    )
    mails = [
        (message[:120], f"{message}\n\n{settings.SITE_URL}{url}", None, [u.email])
        for u in people.values()
        if u.email
    ]
    if mails and settings.EMAIL_NOTIFICATIONS:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    return notes
