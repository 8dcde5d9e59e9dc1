"""Unique identifier codes (UICs) built from things a person can always give again.

A scheme is an ordered list of components. The default follows common practice in
harm reduction programmes: first two letters of the mother's first name, first two
letters of the father's first name, sex at birth, two-digit birth year, and birth
order (or a digit the person chooses). A programme can configure its own scheme.

Nothing here stores anything: a UIC only exists in memory while it is pseudonymised.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any


class UICError(ValueError):
    def __init__(self, component: str, message: str) -> None:
        super().__init__(f"{component}: {message}")
        self.component = component
        self.message = message


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    kind: str  # "letters", "digits" or "choice"
    length: int = 1
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""

    def normalise(self, value: str) -> str:
        text = unicodedata.normalize("NFKD", str(value or "").strip())
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
        text = "".join(text.split())
        if self.kind == "letters":
            text = text.replace("-", "").replace("'", "")
            if not text.isalpha():
                raise UICError(self.key, "use letters only.")
            if len(text) < self.length:
                raise UICError(self.key, f"give the first {self.length} letters.")
            return text[: self.length]
        if self.kind == "digits":
            if not text.isdigit() or len(text) != self.length:
                raise UICError(self.key, f"give exactly {self.length} digit(s).")
            return text
        if self.kind == "choice":
            allowed = {code for code, _ in self.choices}
            if text not in allowed:
                raise UICError(self.key, "choose one of the options.")
            return text
        raise UICError(self.key, f"unknown component kind {self.kind!r}.")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "length": self.length,
        }
        if self.choices:
            data["choices"] = [list(c) for c in self.choices]
        if self.help:
            data["help"] = self.help
        return data


@dataclass(frozen=True)
class Scheme:
    components: tuple[Component, ...] = field(default_factory=tuple)

    def build(self, values: dict[str, str]) -> str:
        """Return the normalised UIC, or raise UICError naming the first bad component."""
        return "".join(self.parts(values))

    def parts(self, values: dict[str, str]) -> list[str]:
        return [c.normalise(values.get(c.key, "")) for c in self.components]

    def split(self, uic: str) -> list[str]:
        """Cut a UIC given as one string (e.g. from an import) into its components."""
        text = "".join(unicodedata.normalize("NFKD", uic or "").split()).upper()
        text = "".join(ch for ch in text if not unicodedata.combining(ch) and ch != "-")
        expected = sum(c.length for c in self.components)
        if len(text) != expected:
            raise UICError("uic", f"must have {expected} characters in this programme's scheme.")
        pieces, start = [], 0
        for component in self.components:
            piece = text[start : start + component.length]
            pieces.append(component.normalise(piece))
            start += component.length
        return pieces

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.components]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> Scheme:
        components = []
        for item in data:
            components.append(
                Component(
                    key=item["key"],
                    label=item["label"],
                    kind=item["kind"],
                    length=int(item.get("length", 1)),
                    choices=tuple(tuple(c) for c in item.get("choices", [])),  # type: ignore[misc]
                    help=item.get("help", ""),
                )
            )
        if not components:
            raise ValueError("A UIC scheme needs at least one component.")
        return cls(tuple(components))


DEFAULT_SCHEME = Scheme(
    (
        Component(
            "mother",
            "Mother's first name: first two letters",
            "letters",
            2,
            help="If unknown, use the first two letters of the name the person uses for her.",
        ),
        Component(
            "father",
            "Father's first name: first two letters",
            "letters",
            2,
            help="If unknown, the person may choose two letters and keep them.",
        ),
        Component(
            "sex",
            "Sex at birth",
            "choice",
            1,
            choices=(("F", "Female"), ("M", "Male"), ("X", "Intersex or not given")),
        ),
        Component("year", "Year of birth: last two digits", "digits", 2),
        Component(
            "order",
            "Birth order, or a digit the person chooses",
            "digits",
            1,
            help="1 for a first child, 2 for a second… or any digit the person will remember.",
        ),
    )
)


def default_scheme_json() -> list[dict[str, Any]]:
    return DEFAULT_SCHEME.to_json()
