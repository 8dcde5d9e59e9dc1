"""``harbour export-bundle PATH``: write the programme as a bundle (docs/exchange-export.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.exchange.export import ExportError, export_bundle

DEFAULT_ACTOR = "export"


class Command(BaseCommand):
    help = (
        "Write every record of the programme as an exchange bundle (a folder, or a .zip "
        "when PATH ends in .zip), pseudonymised: client codes, never UICs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="folder (created if missing) or .zip file")
        parser.add_argument(
            "--force",
            action="store_true",
            help="write into a folder that is not empty, or replace an existing .zip",
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
            result = export_bundle(options["path"], actor, force=options["force"])
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        for name, rows in result.files.items():
            self.stdout.write(f"{name}: {rows} {'row' if rows == 1 else 'rows'}")
        for name, rows in result.left_out.items():
            # Only tests.csv has such rows: the format has no blank result.
            self.stderr.write(
                f"{name}: {rows} awaited laboratory {'test' if rows == 1 else 'tests'} "
                "left out: the format has no blank result."
            )
        if result.foreign:
            self.stderr.write(
                "The folder also holds "
                + ", ".join(result.foreign)
                + ": import-bundle refuses files the format does not define; "
                "move them out before importing this folder."
            )
        self.stdout.write(self.style.SUCCESS(f"Exported to {result.path}."))
