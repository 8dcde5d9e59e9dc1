"""A travel letter stating the person's OST medication and dose, as a PDF."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from harbour.ost.models import Episode, Prescription
from harbour.ost.services import mg


def travel_letter(
    episode: Episode,
    prescription: Prescription,
    *,
    issued_by: str,
    valid_until: dt.date,
    programme: str,
) -> bytes:
    """The letter names the client code only: the person shows it with their own ID."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        title="Treatment letter",
        author=programme,
    )
    rows = [
        ["Client code", episode.client.code],
        ["Medication", episode.get_medication_display()],
        ["Daily dose", f"{mg(prescription.dose_mg)} mg"],
        ["On treatment since", episode.start_date.strftime("%d %B %Y")],
        ["Valid until", valid_until.strftime("%d %B %Y")],
    ]
    story = [
        Paragraph(programme, styles["Title"]),
        Paragraph(
            "Letter for a person in opioid agonist therapy who is travelling", styles["Heading2"]
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            "The holder of this letter receives opioid agonist therapy from our programme. "
            "It is a medical treatment prescribed by a clinician. Please allow the person to "
            "carry their medication and help them continue treatment without interruption: "
            "stopping suddenly is dangerous.",
            styles["BodyText"],
        ),
        Spacer(1, 6 * mm),
        Table(rows, colWidths=[55 * mm, 100 * mm]),
        Spacer(1, 10 * mm),
        Paragraph(f"Issued on {timezone.localdate():%d %B %Y} by {issued_by}.", styles["BodyText"]),
        Paragraph(
            "A service that wishes to confirm this letter may contact the programme.",
            styles["BodyText"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
