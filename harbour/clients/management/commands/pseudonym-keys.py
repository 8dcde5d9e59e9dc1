from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count

from harbour.clients import pseudonym
from harbour.clients.models import Client


class Command(BaseCommand):
    help = (
        "Show how many clients are pseudonymised under each key. After a rotation, "
        "clients move to the new key as they come back and give their UIC."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ring = [k.id for k in pseudonym.ring()]
        counts = dict(
            Client.objects.values("key_id").annotate(n=Count("id")).values_list("key_id", "n")
        )
        self.stdout.write(f"Key ring (newest first): {', '.join(ring)}")
        for key_id in sorted(set(ring) | set(counts)):
            state = "current" if key_id == ring[0] else ("old" if key_id in ring else "MISSING")
            self.stdout.write(f"  {key_id:<12} {counts.get(key_id, 0):>8} client(s)  {state}")
        missing = {k: n for k, n in counts.items() if k not in ring}
        if missing:
            self.stderr.write(
                "Clients under a key no longer in the ring can only be found by their "
                "client code until they are registered again."
            )
