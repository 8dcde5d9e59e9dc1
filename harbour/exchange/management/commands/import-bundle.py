"""``harbour import-bundle PATH``: import an exchange bundle (docs/exchange-import.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.exchange.bundle import BundleError
from harbour.exchange.services import Result, import_bundle

DEFAULT_ACTOR = "import"


class Command(BaseCommand):
    help = (
        "Import an exchange bundle (a folder or .zip of CSV files): all or nothing, "
        "idempotent, conflicts reported and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="bundle folder or .zip file")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help=f"the person importing, as named in the audit log (default: {DEFAULT_ACTOR!r})",
        )
        parser.add_argument(
            "--fail-on-conflict",
            action="store_true",
            help="write nothing and exit non-zero if any row conflicts with Harbour's records",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = DEFAULT_ACTOR
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {options['user']!r}.") from None
        try:
            result = import_bundle(
                options["path"],
                actor,
                fail_on_conflict=options["fail_on_conflict"],
                dry_run=options["dry_run"],
            )
        except BundleError as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        else:
            self._write_text(result, dry_run=options["dry_run"])
        for problem in result.errors:
            self.stderr.write(str(problem))
        if result.errors:
            raise CommandError(
                f"{_plural(len(result.errors), 'error')} in the bundle; nothing was written."
            )
        if options["fail_on_conflict"] and result.conflicts:
            raise CommandError(
                f"{_plural(len(result.conflicts), 'conflict')} and --fail-on-conflict; "
                "nothing was written."
            )

    def _write_text(self, result: Result, *, dry_run: bool) -> None:
        if result.errors:
            return  # no counts: nothing was, or would be, imported
        for name, counts in result.files.items():
            self.stdout.write(
                f"{name}: {counts.created} created, {counts.unchanged} unchanged, "
                f"{counts.conflicts} conflicting"
            )
        if result.conflicts:
            # Conflicts go to stderr with the errors: both are for a person to act on.
            self.stderr.write("Conflicting rows, not applied:")
            for problem in result.conflicts:
                self.stderr.write(str(problem))
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif result.applied:
            self.stdout.write(self.style.SUCCESS("Imported."))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
