"""``harbour import-drugchecking DIR --site CODE``: import drug checking results exported
by the UNC Opioid Data Lab (docs/drug-checking.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.drugchecking.importer import (
    LAB_FILE,
    SAMPLES_FILE,
    SHOWN_SKIPPED_IDS,
    Result,
    SourceError,
    import_drugchecking,
)
from harbour.sites.models import Site

DEFAULT_ACTOR = "import"


class Command(BaseCommand):
    help = (
        f"Import drug checking samples and laboratory results ({SAMPLES_FILE} and "
        f"{LAB_FILE} in DIR) as samples taken at a site: all or nothing, idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, metavar="DIR", help="folder holding both files")
        parser.add_argument(
            "--site",
            required=True,
            metavar="CODE",
            help="code of the Harbour site where the samples were taken",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help=f"the person importing, as named in the audit log (default: {DEFAULT_ACTOR!r})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )
        parser.add_argument(
            "--history",
            action="store_true",
            help="past results: keep the rules' evidence, but close the alerts they raise "
            "as not sent",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        site = _site(options["site"])
        actor: Any = DEFAULT_ACTOR
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {options['user']!r}.") from None
        try:
            result = import_drugchecking(
                options["path"], site, actor, dry_run=options["dry_run"], history=options["history"]
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        for problem in result.errors:
            self.stderr.write(str(problem))
        if result.errors:
            n = len(result.errors)
            raise CommandError(
                f"{n} error{'' if n == 1 else 's'} in the files; nothing was written."
            )
        if options["format"] == "json":
            self.stdout.write(json.dumps({**result.as_dict(), "applied": result.applied}, indent=2))
            return
        self.stdout.write(summary(result, site))
        if result.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif result.applied:
            self.stdout.write(self.style.SUCCESS("Imported."))


def _site(code: str) -> Site:
    site = Site.objects.filter(code__iexact=code.strip()).first()
    if site is None:
        known = ", ".join(Site.objects.filter(active=True).values_list("code", flat=True)[:20])
        raise CommandError(f"No site with code {code!r}. Site codes: {known or '(none yet)'}.")
    if site.is_region:
        raise CommandError(
            f"{site.code} is a region; give the code of the site where the samples were taken."
        )
    return site


def summary(result: Result, site: Site) -> str:
    """The figures an operator checks after an import, one per line."""
    lines = [
        f"Samples at {site.code}: {result.samples_new} new, {result.samples_changed} changed, "
        f"{result.samples_unchanged} unchanged.",
        f"  {result.undated} without a collection date (kept undated), "
        f"{result.no_county} without a county, "
        f"{result.awaiting} awaiting a result (no lab rows).",
        f"Laboratory analyses: {result.analyses_new} new, {result.analyses_changed} changed "
        f"({result.findings} substances found; {result.nothing_detected} with nothing detected).",
    ]
    if result.new_substances:
        lines.append(
            f"New substances, not yet classified ({len(result.new_substances)}): "
            + ", ".join(result.new_substances)
            + ". Classify them in the substance dictionary."
        )
    else:
        lines.append("New substances: none; every name the lab used is in the dictionary.")
    if result.expected_not_understood:
        lines.append(
            "Expected substances not understood (kept in the person's words): "
            + ", ".join(result.expected_not_understood)
            + "."
        )
    if result.skipped_rows:
        shown = result.skipped_ids[:SHOWN_SKIPPED_IDS]
        more = len(result.skipped_ids) - len(shown)
        lines.append(
            f"Skipped {result.skipped_rows} lab rows of {len(result.skipped_ids)} samples "
            f"that are not in {SAMPLES_FILE}: {', '.join(shown)}"
            + (f" and {more} more." if more else ".")
        )
    alerts = sum(result.alerts.values())
    if alerts:
        by_rule = ", ".join(f"{rule} {n}" for rule, n in result.alerts.items())
        if result.history:
            lines.append(f"Alerts raised from history, closed as not sent: {alerts} ({by_rule}).")
        else:
            lines.append(f"Alerts raised, awaiting review: {alerts} ({by_rule}).")
    else:
        lines.append("Alerts raised: none.")
    return "\n".join(lines)
