"""``harbour dhis2-export --period P [--format json|adx] [--output FILE]`` (docs/dhis2.md).

Writes the period's values as DHIS2 takes them, to import by hand: a ``dataValueSets``
JSON object, or an ADX message. What was left out goes to standard error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from harbour.dhis2 import services
from harbour.dhis2.management.common import report_left_out
from harbour.dhis2.payload import PayloadError, build
from harbour.lib.periods import FORMS

DEFAULT_ACTOR = "dhis2-export"


class Command(BaseCommand):
    help = (
        "Write a period's mapped figures as DHIS2 dataValueSets JSON or ADX XML, for every "
        "org unit that reports (the programme and each site with a DHIS2 id)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, metavar="P", help=f"a DHIS2 period: {FORMS}")
        parser.add_argument("--format", choices=("json", "adx"), default="json")
        parser.add_argument(
            "--output", type=Path, metavar="FILE", help="write here (default: standard output)"
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help=f"the person exporting, as named in the audit log (default: {DEFAULT_ACTOR!r})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = DEFAULT_ACTOR
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {options['user']!r}.") from None
        try:
            payload = build(options["period"])
        except PayloadError as exc:
            raise CommandError(f"--period: {exc}") from None
        if options["format"] == "adx" and not payload.data_set:
            raise CommandError(
                "ADX needs the data set id: set it under DHIS2 server settings (/dhis2/server/)."
            )
        report_left_out(self.stderr, payload)
        if options["format"] == "adx":
            content = payload.adx(timezone.now())
        else:
            content = (json.dumps(payload.data_value_sets(), indent=2) + "\n").encode("utf-8")
        services.record_export(actor, payload, options["format"])
        if options["output"]:
            try:
                options["output"].write_bytes(content)
            except OSError as exc:
                raise CommandError(
                    f"--output: cannot write {options['output']}: {exc.strerror}."
                ) from None
            self.stderr.write(
                f"Wrote {payload.count()} value{'s' if payload.count() != 1 else ''} for "
                f"{payload.period.code} to {options['output']}."
            )
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
