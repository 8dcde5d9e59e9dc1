"""``harbour indicators --period P [--site CODE] --format json``: the programme's indicators.

Prints the JSON object of shared/spec/indicators.md ("Output") computed by
harbour.reports.indicators.compute. With ``--public``, the programme's figures as they
may leave the programme: small counts suppressed together with the community
dashboard's regions (harbour.reports.public_dashboard), so the two never disagree.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.lib.periods import FORMS
from harbour.reports.indicators import PeriodError, SiteError, compute
from harbour.reports.public_dashboard import check_k, min_cell, public_report


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
        parser.add_argument(
            "--public",
            action="store_true",
            help="the programme's figures as published: a count from 1 to k-1 is '<k', and "
            "'*' hides a figure that would give a small one away (as on the community dashboard)",
        )
        parser.add_argument(
            "--k",
            type=int,
            metavar="N",
            help=f"with --public: the smallest count shown as itself (default {min_cell()}, "
            "the setting HARBOUR_PUBLIC_MIN_CELL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["k"] is not None and not options["public"]:
            raise CommandError(
                "--k: k is the threshold of --public; add --public, or leave --k out."
            )
        if options["public"] and options["site"]:
            # A site's figures published on their own, beside the dashboard's regions, could
            # give away what the dashboard hides; nothing finer than a region is published.
            raise CommandError(
                "--site: --public gives the whole programme's figures; the regions' are on "
                "the community dashboard (/public/dashboard/), and no site's are published."
            )
        if options["k"] is not None:
            try:
                check_k(options["k"])
            except ValueError as exc:
                raise CommandError(f"--k: {exc}") from None
        try:
            if options["public"]:
                result = public_report(options["period"], options["k"])
            else:
                result = compute(options["period"], options["site"])
        except PeriodError as exc:
            raise CommandError(f"--period: {exc}") from None
        except SiteError as exc:
            raise CommandError(f"--site: {exc}") from None
        self.stdout.write(json.dumps(result, indent=2))
