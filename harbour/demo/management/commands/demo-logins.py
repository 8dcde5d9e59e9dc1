"""``harbour demo-logins``: who can sign in to the demo, and how."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from harbour.accounts.models import TWO_FACTOR_ROLES, Role
from harbour.demo import services

URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = "List the demo's user names, passwords, roles and sites."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("There are no demo sign-ins with HARBOUR_ENV=production.")
        users = services.demo_users()
        if not users:
            self.stdout.write("No demo users here. Create them with: .venv/bin/harbour seed --demo")
            return
        rows = [("user name", "password", "role", "site(s)", "two-factor")]
        for user in users:
            memberships = list(user.memberships.all())
            roles = sorted({m.role for m in memberships})
            sites = sorted(m.site.code if m.site else "whole programme" for m in memberships)
            shown = services.demo_password(user.username)
            if not user.check_password(shown):
                shown = "(changed since seeding)"
            rows.append(
                (
                    user.username,
                    shown,
                    ", ".join(Role(r).label for r in roles),
                    ", ".join(sites),
                    "yes" if set(roles) & TWO_FACTOR_ROLES else "no",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write(f"Harbour demo: {URL}\n")
        for number, row in enumerate(rows):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  " + line.rstrip())
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        self.stdout.write(
            "\nTwo-factor: after the password, get the current code with\n"
            "  .venv/bin/harbour demo-otp <username>"
        )
