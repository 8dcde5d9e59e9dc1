from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from harbour.lib.crypto import EncryptedTextField, rotate


def encrypted_columns() -> list[tuple[str, str, str, str]]:
    """(label, table, primary key column, column) of every encrypted field of every model."""
    found: list[tuple[str, str, str, str]] = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append(
                    (
                        f"{model._meta.label}.{field.name}",
                        model._meta.db_table,
                        str(model._meta.pk.column),
                        str(field.column),
                    )
                )
    return found


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field (phone numbers, reminder numbers, the DHIS2 "
        "password) with the newest field key. Run after putting a new key first in "
        "HARBOUR_FIELD_KEYS; then the old key can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            for label, table, pk, column in encrypted_columns():
                done = 0
                # Raw tokens: the field would decrypt them, and we only re-wrap them.
                cursor.execute(
                    f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                    f"WHERE {quote(column)} <> ''"
                )
                for key, token in cursor.fetchall():
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                        f"WHERE {quote(pk)} = %s",
                        [rotate(token), key],
                    )
                    done += 1
                self.stdout.write(f"{label}: re-encrypted {done} value(s) with the newest key.")
