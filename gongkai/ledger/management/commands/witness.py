"""``manage.py witness …``: the witnesses of the publication log from the command line, for
installation scripts and operators (the union office has the same on /ledger/witnesses/):

- ``witness status``: the logs this installation witnesses and the witnesses of its own log;
- ``witness add-log ORIGIN VERIFIER_KEY --name NAME``: witness another installation's log;
- ``witness add URL VERIFIER_KEY --name NAME``: send our checkpoints to a witness;
- ``witness send``: sign a checkpoint of the log now and send it to every active witness that
  has not cosigned it (what the queue does every few minutes); exit status 1 on a refusal.

Changes are written to the audit log as the system's. See gongkai.ledger.witness."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongkai.core.errors import ServiceError
from gongkai.core.tlog.signing import NoSigningKey
from gongkai.ledger import transparency, witness
from gongkai.ledger.models import Witness, WitnessedLog


class Command(BaseCommand):
    help = "Show, configure and run the witnesses of the publication log."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("status", help="the witnessed logs and our witnesses")
        add_log = actions.add_parser("add-log", help="witness another installation's log")
        add_log.add_argument("origin")
        add_log.add_argument("verifier_key")
        add_log.add_argument("--name", required=True)
        add = actions.add_parser("add", help="send our checkpoints to a witness")
        add.add_argument("url")
        add.add_argument("verifier_key")
        add.add_argument("--name", required=True)
        actions.add_parser("send", help="sign a checkpoint and send it to the witnesses now")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "status":
                self.status()
            elif action == "add-log":
                log = witness.witnessed_log_create(
                    actor=None,
                    origin=options["origin"],
                    name=options["name"],
                    verifier_key=options["verifier_key"],
                )
                self.stdout.write(f"witnessing {log.origin} ({log.name})")
            elif action == "add":
                added = witness.witness_create(
                    actor=None,
                    name=options["name"],
                    url=options["url"],
                    verifier_key=options["verifier_key"],
                )
                self.stdout.write(f"witness added: {added.name} ({added.key_name})")
            else:
                self.send()
        except ServiceError as error:
            raise CommandError(error.message) from None

    def status(self) -> None:
        for log in WitnessedLog.objects.all():
            state = "active" if log.active else "inactive"
            line = f"log {log.origin} ({log.name}, {state}): cosigned size {log.size}"
            if log.cosigned_at:
                line += f" root {bytes(log.root).hex()}"
            if log.refused_at:
                line += f"; refused {log.refused_at.isoformat()}: {log.refusal}"
            self.stdout.write(line)
        for row in Witness.objects.all():
            state = "active" if row.active else "inactive"
            self.stdout.write(
                f"witness {row.key_name} ({row.name}, {state}) at {row.url}: cosigned size "
                f"{row.cosigned_size}; last result {row.last_result or '-'} {row.last_error}"
            )

    def send(self) -> None:
        try:
            checkpoint = transparency.checkpoint()
        except NoSigningKey as missing:
            raise CommandError(str(missing)) from None
        try:
            cosigned = witness.send_to_witnesses()
        except witness.WitnessRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"checkpoint of size {checkpoint.size}: {cosigned} new cosignature(s)")
