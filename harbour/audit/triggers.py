"""Database triggers that refuse UPDATE and DELETE on audit entries.

The model already refuses them; triggers also stop raw SQL and other programs.
Someone with full control of the database can still drop a trigger, which is why
entries are also hash-chained (see harbour.audit.models).
"""

from __future__ import annotations

from typing import Any

CREATE = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;""",
        """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS audit_no_change ON audit_auditevent;",
        """CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
           FOR EACH ROW EXECUTE FUNCTION audit_append_only();""",
        "DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;",
        """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
           FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();""",
    ],
}
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_no_update;",
        "DROP TRIGGER IF EXISTS audit_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_no_change ON audit_auditevent;",
        "DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;",
    ],
}


def _run(connection: Any, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor, []):
            cursor.execute(sql)


def create(connection: Any) -> None:
    _run(connection, CREATE)


def drop(connection: Any) -> None:
    _run(connection, DROP)
