from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.casework.services import send_reminders


class Command(BaseCommand):
    help = (
        "Send a text reminder for each appointment in the next HOURS hours (24 by default) "
        "to people who agreed to reminders and gave a number, once per appointment, through "
        "the gateway named by HARBOUR_SMS_BACKEND. The text gives the date and time only. "
        "Prints how many were sent. Meant to run regularly, e.g. every hour from cron "
        "(`0 * * * * harbour send-reminders`) or a systemd timer (OnCalendar=hourly); "
        "running it again never sends a reminder twice. See docs/casework.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=24,
            help="Remind of appointments starting within this many hours (default 24).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours: int = options["hours"]
        if hours < 1:
            raise CommandError("--hours must be at least 1.")
        sent = send_reminders(hours_ahead=hours)
        self.stdout.write(f"{sent} reminder{'' if sent == 1 else 's'} sent.")
