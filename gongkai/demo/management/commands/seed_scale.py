"""``manage.py seed_scale [--companies 20] [--employees 100000] [--seed N] [--if-empty]``:
a group company at scale (gongkai.demo.scale), for benchmarks and load tests. Fills an empty
database only, like seed_demo."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from gongkai.demo.scale import GROUP_UNION, ScaleSpec, group_exists, seed_group


class Command(BaseCommand):
    help = (
        "Load a group company (集团) of --companies companies and --employees employees with "
        "a year of disclosures, suggestions, a congress and a year-end evaluation per "
        "company (deterministic). Refuses to touch a database that has data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=20)
        parser.add_argument("--employees", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=ScaleSpec.seed)
        parser.add_argument(
            "--through-publish",
            action="store_true",
            help="Publish every disclosure through services.publish one by one (about three "
            "times slower) instead of the same writes in batches.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already holds units.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["companies"] < 1 or options["employees"] < 40 * options["companies"]:
            raise CommandError("Give at least one company and 40 employees per company.")
        if group_exists():
            if options["if_empty"]:
                self.stdout.write("The database already holds data; the group was not loaded.")
                return
            raise CommandError(
                "The database already holds data; seed_scale only fills an empty one."
            )
        spec = ScaleSpec(
            companies=options["companies"],
            employees=options["employees"],
            seed=options["seed"],
            through_publish=options["through_publish"],
            today=timezone.localdate(),
        )
        verbose = options["verbosity"] >= 1
        totals = seed_group(spec, log=self.stdout.write if verbose else lambda _m: None)
        self.stdout.write(
            self.style.SUCCESS(
                "Group loaded in {seconds:.0f} s: {companies:.0f} companies, {employees:.0f} "
                "employees, {published:.0f} disclosures published ({late:.0f} late, "
                "{attested:.0f} attested), {suggestions:.0f} suggestions, {motions:.0f} "
                "motions, {ballots:.0f} evaluation ballots.".format(**totals)
            )
        )
        self.stdout.write(
            f"Sign in as {GROUP_UNION} (the group union's chair; password of the demo) to see "
            "the whole group."
        )
