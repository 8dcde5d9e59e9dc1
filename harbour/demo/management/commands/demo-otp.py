"""``harbour demo-otp USERNAME``: the current one-time code of a demo user's device.

The code goes alone to standard output, so scripts and browser tests can use it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.accounts.models import User
from harbour.demo import services


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo user (demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("One-time codes are never printed with HARBOUR_ENV=production.")
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not services.is_demo_user(user):
            raise CommandError(
                f"{options['username']!r} is not a demo user: only demo accounts' codes "
                "can be printed."
            )
        device = services.demo_device(user)
        if device is None:
            raise CommandError(f"{user.username} has no demo authenticator (no two-factor role).")
        code = services.current_code(device)
        if code.used:
            # A code is accepted once only: wait for the next one rather than print a dud.
            self.stderr.write(
                f"This code was just used; waiting {code.seconds_left} s for the next."
            )
            sys.stderr.flush()
            time.sleep(code.seconds_left)
            code = services.current_code(device)
        self.stdout.write(code.token)
        self.stderr.write(f"Valid for about {code.seconds_left} more seconds.")
