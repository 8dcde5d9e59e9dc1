import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.audit.services import record
from harbour.clients.models import Client
from harbour.clients.uic import Scheme
from harbour.sites.models import Organisation

KINDS = {"letters", "digits", "choice"}


class Command(BaseCommand):
    help = (
        "Show the programme's UIC scheme, or set it from a JSON file (a list of "
        "components: key, label, kind letters/digits/choice, length, choices, help). "
        "The scheme can only change while no client is registered: codes made under "
        "one scheme cannot be found under another."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--set", metavar="FILE", help="JSON file with the new scheme")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.get()
        if not options["set"]:
            self.stdout.write(json.dumps(org.uic_scheme, indent=2, ensure_ascii=False))
            return
        try:
            data = json.loads(Path(options["set"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{options['set']}: {exc}") from None
        errors = validate(data)
        if errors:
            raise CommandError("\n".join(errors))
        if Client.objects.exists():
            raise CommandError(
                "Clients are already registered under the current scheme; changing it would "
                "make every one of them impossible to find by their UIC."
            )
        Scheme.from_json(data)
        org.uic_scheme = data
        org.save(update_fields=["uic_scheme"])
        record("uic-scheme", "organisation.uic_scheme", org, detail={"components": len(data)})
        self.stdout.write(f"UIC scheme set: {len(data)} components.")


def validate(data: Any) -> list[str]:
    if not isinstance(data, list) or not data:
        return ["The scheme must be a non-empty JSON list of components."]
    errors, keys = [], set()
    for i, item in enumerate(data, start=1):
        where = f"component {i}"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be an object.")
            continue
        for field in ("key", "label", "kind"):
            if not isinstance(item.get(field), str) or not item.get(field):
                errors.append(f"{where}: {field}: required text.")
        if item.get("kind") not in KINDS:
            errors.append(f"{where}: kind: one of {', '.join(sorted(KINDS))}.")
        length = item.get("length", 1)
        if not isinstance(length, int) or not 1 <= length <= 4:
            errors.append(f"{where}: length: a whole number from 1 to 4.")
        if item.get("kind") == "choice":
            choices = item.get("choices")
            if not isinstance(choices, list) or not choices:
                errors.append(f"{where}: choices: a list of [code, label] pairs.")
            elif any(
                not isinstance(c, list) or len(c) != 2 or len(str(c[0])) != length for c in choices
            ):
                errors.append(f"{where}: choices: each code must be {length} character(s).")
        if item.get("key") in keys:
            errors.append(f"{where}: key: {item.get('key')!r} is used twice.")
        keys.add(item.get("key"))
    return errors
