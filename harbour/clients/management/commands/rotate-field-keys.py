from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from harbour.clients.models import Client
from harbour.lib.crypto import rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored phone number with the newest field key. Run after "
        "putting a new key first in HARBOUR_FIELD_KEYS; then the old key can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        table = Client._meta.db_table
        done = 0
        with transaction.atomic(), connection.cursor() as cursor:
            # Raw tokens: the field would decrypt them, and we only re-wrap them.
            cursor.execute(f"SELECT id, phone FROM {table} WHERE phone <> ''")  # noqa: S608
            for pk, token in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {table} SET phone = %s WHERE id = %s",  # noqa: S608
                    [rotate(token), pk],
                )
                done += 1
        self.stdout.write(f"Re-encrypted {done} phone number(s) with the newest key.")
