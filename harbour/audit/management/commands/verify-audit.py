from typing import Any

from django.core.management.base import BaseCommand, CommandError

from harbour.audit.models import AuditEvent
from harbour.audit.services import verify_chain


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain and report any entry changed or removed."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify_chain()
        count = AuditEvent.objects.count()
        if problems:
            for p in problems:
                self.stderr.write(f"entry {p.event_id}: {p.message}")
            raise CommandError(f"The audit log was tampered with: {len(problems)} problem(s).")
        self.stdout.write(f"All {count} audit entries are intact.")
