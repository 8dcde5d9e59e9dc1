"""What every per-file importer shares: the run's context and the importer contract.

An import runs in two passes over every file, in dependency order:

1. ``check`` validates every row and compares it with the database, recording
   errors (the bundle is refused) and conflicts (the row is skipped). It writes
   nothing, so a refused bundle leaves no trace.
2. ``apply`` writes what ``check`` planned. It only runs when no file had an error.

Both passes run inside one transaction (see harbour.exchange.services).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from harbour.audit.services import Entry
from harbour.clients.uic import Scheme
from harbour.exchange.bundle import Problem, Row, Table
from harbour.exchange.values import Invalid

T = TypeVar("T")


@dataclass
class Counts:
    created: int = 0
    unchanged: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "unchanged": self.unchanged, "conflicts": self.conflicts}


@dataclass
class SiteRef:
    """A site an importer may point at: in the database, or created by this bundle."""

    code: str
    kind: str
    id: int | None  # None until the sites importer has created it


@dataclass
class Context:
    actor: Any  # a User, or the name written in the audit log
    today: dt.date
    scheme: Scheme
    errors: list[Problem] = field(default_factory=list)
    conflicts: list[Problem] = field(default_factory=list)
    audit: list[Entry] = field(default_factory=list)
    # Filled by the sites importer: every site by code, from the database and the bundle.
    sites: dict[str, SiteRef] = field(default_factory=dict)

    @property
    def actor_user(self) -> Any:
        return self.actor if getattr(self.actor, "is_authenticated", False) else None

    def error(self, file: str, line: int, column: str, message: str) -> None:
        self.errors.append(Problem(file, line, column, message))

    def conflict(self, file: str, line: int, column: str, message: str) -> None:
        self.conflicts.append(Problem(file, line, column, f"conflict: {message}"))

    def cell(self, table: Table, row: Row, column: str, parse: Callable[[str], T]) -> T | None:
        """Parse one cell; on failure record ``file:line: column: message`` and return None."""
        try:
            return parse(row[column])
        except Invalid as exc:
            self.error(table.name, row.line, column, str(exc))
            return None


class Importer(ABC):
    """One exchange file. Subclasses live in their own module, one per file."""

    file_name: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()
    # sites.csv and clients.csv must be in every bundle; the other files are optional.
    mandatory: ClassVar[bool] = False

    def __init__(self) -> None:
        self.counts = Counts()

    @abstractmethod
    def check(self, table: Table, ctx: Context) -> None:
        """Validate every row and plan the writes; record errors and conflicts in ctx."""

    @abstractmethod
    def apply(self, ctx: Context) -> None:
        """Write what check planned. Only called when the whole bundle is valid."""
