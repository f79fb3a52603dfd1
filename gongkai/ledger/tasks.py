"""The ledger's background work: the transparency log's checkpoints, and checking
everything every day.

:func:`publish_checkpoint` takes the new ledger entries into the publication log and signs a
checkpoint at its new size (gongkai.ledger.transparency); it is enqueued after each
publication commits and also runs every minute, so a failed or lost run is made good.

:func:`verify_daily` runs the same verification as ``manage.py verify_ledger``
(:func:`gongkai.ledger.verification.ledger_verify`: the whole chain recomputed from the
records, every stored file hashed again) once a day, at a quiet hour. It only reads; when
anything does not match it raises :class:`LedgerBroken` with a message naming the problems,
so the queue records the failure and the union office is told (gongkai.notify connects
Huey's failure signal). A periodic task is not retried: the next day's run checks again.

"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from gongkai.audit.verification import AuditProblem, verify_audit_log
from gongkai.core.queue import crontab, periodic, task
from gongkai.core.tlog.signing import NoSigningKey
from gongkai.ledger import transparency, witness
from gongkai.ledger.verification import Problem, ledger_verify

logger = logging.getLogger(__name__)

SHOWN = 5  # problems named in the failure's message; verify_ledger lists them all


class LedgerBroken(Exception):
    """The ledger no longer matches the records (the message names the problems)."""


def failure_message(problems: Sequence[Problem | AuditProblem]) -> str:
    """The message of a failed check: how many problems, the first :data:`SHOWN` of them, and
    where to read the rest."""
    lines = [
        _(
            "The daily check of the publication ledger failed: %(n)d problem(s) found, the "
            "ledger does not match the records."
        )
        % {"n": len(problems)}
    ]
    lines += [str(problem) for problem in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(
            _("… and %(n)d more: manage.py verify_ledger lists them all.")
            % {"n": len(problems) - SHOWN}
        )
    return "\n".join(lines)


def all_problems() -> list[Problem | AuditProblem]:
    """Every problem of the publication ledger, its log and the audit log."""
    return [*ledger_verify(), *verify_audit_log()]


def verify() -> None:
    """Verify the whole ledger and the audit log; raise :class:`LedgerBroken` when anything
    does not match."""
    problems = all_problems()
    if problems:
        with translation.override(settings.LANGUAGE_CODE):  # the site's language, as notices
            raise LedgerBroken(failure_message(problems))


@periodic(crontab(minute="30", hour="18"))  # 18:30 UTC: 02:30 in Shanghai
def verify_daily() -> None:
    """Every day: :func:`verify`."""
    verify()


def checkpoint() -> None:
    """Integrate the new entries and sign a checkpoint (nothing new: nothing to do). Without
    a signing key the entries are integrated and the error logged: ``manage.py check``
    reports the missing key (gongkai.ledger.checks), a failure a minute would only repeat it."""
    try:
        transparency.checkpoint()
    except NoSigningKey as missing:
        logger.error("%s", missing)


@task()
def publish_checkpoint() -> None:
    """After a publication: :func:`checkpoint`, then to the witnesses."""
    checkpoint()
    send_witnesses()


@task()
def send_witnesses() -> None:
    """After a new checkpoint: have the witnesses cosign it (gongkai.ledger.witness); a
    refusal raises, so the union office is told."""
    witness.send_to_witnesses()


@periodic(crontab(minute="*/5"))
def send_witnesses_every_five_minutes() -> None:
    """Every five minutes: the newest checkpoint to each active witness that has not
    cosigned it yet."""
    witness.send_to_witnesses()


@periodic(crontab(minute="*"))
def checkpoint_every_minute() -> None:
    """Every minute: :func:`checkpoint`, in case a run after a publication failed."""
    checkpoint()
