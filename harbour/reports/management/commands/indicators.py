"""``harbour indicators --period P [--site CODE] --format json``: the programme's indicators.

Prints the JSON object of shared/spec/indicators.md ("Output") computed by
harbour.reports.indicators.compute.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.lib.periods import FORMS
from harbour.reports.indicators import PeriodError, SiteError, compute


class Command(BaseCommand):
    help = (
        "Compute the indicators (PRV.8–PRV.14, HTS.PWID, naloxone, overdoses and the "
        "HIV and hepatitis C cascades) for one period, for the programme or one site."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, metavar="P", help=f"a DHIS2 period: {FORMS}")
        parser.add_argument(
            "--site",
            metavar="CODE",
            help="count this site and every site below it (default: the whole programme)",
        )
        parser.add_argument("--format", choices=("json",), default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = compute(options["period"], options["site"])
        except PeriodError as exc:
            raise CommandError(f"--period: {exc}") from None
        except SiteError as exc:
            raise CommandError(f"--site: {exc}") from None
        self.stdout.write(json.dumps(result, indent=2))
