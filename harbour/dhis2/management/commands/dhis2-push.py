"""``harbour dhis2-push --period P [--dry-run]``: send a period's values to DHIS2.

Prints DHIS2's import summary and its conflicts. Exits with an error when DHIS2 could
not be reached, refused the values, or took them with conflicts, so a scheduled run
is noticed. Every run, dry or not, is written in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.dhis2 import services
from harbour.dhis2.management.common import report_left_out
from harbour.dhis2.payload import PayloadError
from harbour.lib.periods import FORMS

DEFAULT_ACTOR = "dhis2-push"


class Command(BaseCommand):
    help = (
        "Send a period's mapped figures to the configured DHIS2 server "
        "(/api/dataValueSets), or check them with --dry-run; prints DHIS2's import summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, metavar="P", help=f"a DHIS2 period: {FORMS}")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="ask DHIS2 to check every value and save none",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help=f"the person sending, as named in the audit log (default: {DEFAULT_ACTOR!r})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = DEFAULT_ACTOR
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {options['user']!r}.") from None
        dry_run = options["dry_run"]
        try:
            outcome = services.push_period(actor, options["period"], dry_run=dry_run)
        except PayloadError as exc:
            raise CommandError(f"--period: {exc}") from None
        if outcome.payload is not None:
            report_left_out(self.stderr, outcome.payload)
        what = "Dry run" if dry_run else "Push"
        if outcome.summary is None:
            raise CommandError(f"{what} of {outcome.period} failed: {outcome.error}")
        s = outcome.summary
        self.stdout.write(
            f"{what} of {outcome.period}: DHIS2 answered {s.status}: {s.imported} imported, "
            f"{s.updated} updated, {s.ignored} ignored, {s.deleted} deleted "
            f"(of {outcome.payload.count() if outcome.payload else 0} sent)."
        )
        page = outcome.for_page()["summary"]
        for conflict in page["conflicts"]:
            about = f" [{conflict['about']}]" if conflict["about"] else ""
            self.stdout.write(f"Conflict: {conflict['object']}: {conflict['value']}{about}")
        if page["more_conflicts"]:
            self.stdout.write(f"And {page['more_conflicts']} more conflicts.")
        if not outcome.succeeded:
            raise CommandError(
                f"DHIS2 did not take every value ({s.status}, {len(s.conflicts)} "
                f"conflict{'s' if len(s.conflicts) != 1 else ''})."
            )
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS("DHIS2 would take every value; nothing was saved.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("DHIS2 took every value."))
