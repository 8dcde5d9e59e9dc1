"""The forms of the reports pages: targets, and the two lists of a capture–recapture."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from django import forms
from django.core import signing
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils import timezone

from harbour.clients.uic import Scheme
from harbour.reports.capture import EmptyList, ListError, People, read_list
from harbour.reports.targets import Default, Measure, shown
from harbour.sites.models import Site

MAX_UPLOAD = 2 * 1024 * 1024  # bytes: some 200,000 UICs
TOKEN_SALT = "harbour.reports.capture"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 24 * 60 * 60  # seconds: a result can be saved the same day
EARLIEST_YEAR = 1990


# --- targets ----------------------------------------------------------------------


class TargetForm(forms.Form):
    """The bands and target of one indicator, prefixed with its key on the page."""

    def __init__(self, measure: Measure, default: Default, *args: Any, **kwargs: Any) -> None:
        kwargs["prefix"] = measure.key
        super().__init__(*args, **kwargs)
        self.measure = measure
        unit = "%" if measure.percent else f" {measure.unit}"
        named = "%" if measure.percent else measure.unit
        top = Decimal(100) if measure.percent else None

        def number(label: str, value: Decimal | None, *, required: bool = True) -> Any:
            return forms.DecimalField(
                label=label,
                required=required,
                min_value=Decimal(0),
                max_value=top,
                max_digits=9,
                decimal_places=2,
                help_text=f"Default: {shown(value)}{unit}" if value is not None else "",
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            )

        self.fields["low"] = number(f"Low below ({named})", default.low)
        self.fields["high"] = number(f"High above ({named})", default.high)
        self.fields["target"] = number(f"Target ({named})", default.target, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("low"), data.get("high")
        if low is not None and high is not None and low > high:
            self.add_error("high", "Must be at least the low threshold: medium lies between them.")
        return data


# --- capture–recapture ------------------------------------------------------------


class ListInMemory(FileUploadHandler):
    """Keeps an uploaded list in memory: never in a temporary file, which would outlive us.

    Django writes an upload larger than 2.5 MB to a temporary file on disk; a list of
    UICs must never touch the disk, so this handler alone reads the capture page's
    uploads, and drops a file larger than MAX_UPLOAD (the form then says so).
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.too_big: set[str] = set()
        self.buffer = BytesIO()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > MAX_UPLOAD:
            self.too_big.add(str(self.field_name))
            self.buffer = BytesIO()
            raise SkipFile
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if str(self.field_name) in self.too_big:
            return None
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def _decode(data: bytes) -> str:
    # Spreadsheets save CSV as UTF-8 (often with a byte order mark) or in the
    # Windows code page; Latin-1 reads any byte, and a UIC is letters and digits.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class CaptureForm(forms.Form):
    list1 = forms.CharField(
        label="First list: paste its UICs",
        required=False,
        strip=False,
        help_text="For example, the people met in outreach in week 1. One UIC a line.",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
    )
    file1 = forms.FileField(
        label="… or choose a file for the first list",
        required=False,
        help_text="A text file with one UIC a line, or a CSV file with a column headed “uic”.",
    )
    list2 = forms.CharField(
        label="Second list: paste its UICs",
        required=False,
        strip=False,
        help_text="For example, the people at the NSP sites in week 3. One UIC a line.",
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
    )
    file2 = forms.FileField(
        label="… or choose a file for the second list",
        required=False,
        help_text="A text file with one UIC a line, or a CSV file with a column headed “uic”.",
    )

    NAMES = {"1": "The first list", "2": "The second list"}

    def __init__(
        self, scheme: Scheme, *args: Any, too_big: set[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        self.too_big = too_big or set()
        for n in ("1", "2"):
            self.fields[f"file{n}"].widget.attrs["accept"] = ".txt,.csv,text/plain,text/csv"
        self.people: dict[str, People] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n, name in self.NAMES.items():
            text_field, file_field = f"list{n}", f"file{n}"
            if file_field in self.too_big:
                self.add_error(
                    file_field,
                    f"{name}: the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB. "
                    "Split it, or paste the UICs.",
                )
                continue
            text = data.get(text_field) or ""
            upload = data.get(file_field)
            if upload and text.strip():
                self.add_error(text_field, f"{name}: paste the UICs or choose a file, not both.")
                continue
            field = text_field
            if upload:
                field = file_field
                text = _decode(upload.read())
            try:
                self.people[n] = read_list(text, self.scheme)
            except EmptyList:
                self.add_error(
                    field, f"{name} is empty: paste its UICs, one a line, or choose a file."
                )
            except ListError as exc:
                self.add_error(field, f"{name}: {exc}")
        return data


def sign_counts(n1: int, n2: int, m: int) -> str:
    """The counts of a result, signed, so the result can be saved without the lists."""
    return signing.dumps({"n1": n1, "n2": n2, "m": m}, salt=TOKEN_SALT, compress=True)


class SaveEstimateForm(forms.Form):
    """Keep a result as the population estimate of people who inject drugs."""

    site = forms.ChoiceField(label="Where")
    counts = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, sites: list[Site], everywhere: bool, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Next year too: an estimate is often entered before the year it serves.
        this_year = timezone.localdate().year
        self.fields["year"] = forms.IntegerField(
            label="Year",
            min_value=EARLIEST_YEAR,
            max_value=this_year + 1,
            initial=this_year,
        )
        self.order_fields(["year", "site", "counts"])
        choices: list[tuple[str, str]] = []
        if everywhere:
            choices.append(("", "The whole programme"))
        choices += [(str(site.pk), f"{site.name} ({site.code})") for site in sites]
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = choices
        site_field.required = not everywhere
        self.sites = {str(site.pk): site for site in sites}

    def clean_counts(self) -> tuple[int, int, int]:
        try:
            counts = signing.loads(
                self.cleaned_data["counts"], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE
            )
            return int(counts["n1"]), int(counts["n2"]), int(counts["m"])
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "This result is more than a day old: match the lists again to save it."
            ) from None
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise forms.ValidationError(
                "This result cannot be read: match the lists again to save it."
            ) from None

    def chosen_site(self) -> Site | None:
        return self.sites.get(self.cleaned_data.get("site") or "")
