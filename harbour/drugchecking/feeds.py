"""Sent and withdrawn drug alerts as feeds partners poll: Atom 1.0 and JSON Feed 1.1.

A feed carries what the public card shows and nothing more: the alert's words, its
substance and region, its dates and revision. Never a sample, a site or a person.
Each alert keeps one entry for its whole life (id ``urn:uuid:<alert id>``), so a
partner's reader updates it in place when it is revised or withdrawn.
"""

from __future__ import annotations

from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks

from harbour.accounts.access import public
from harbour.drugchecking.models import Alert, AlertStatus
from harbour.sites.models import Organisation

# Partners poll; five minutes is fresh enough for a warning and spares the server.
CACHE_CONTROL = "public, max-age=300"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def feed_alerts() -> QuerySet[Alert]:
    return (
        Alert.objects.filter(status__in=(AlertStatus.PUBLISHED, AlertStatus.WITHDRAWN))
        .select_related("substance")
        .order_by("-updated_at")
    )


def entry_id(alert: Alert) -> str:
    return f"urn:uuid:{alert.pk}"


def entry_title(alert: Alert) -> str:
    if alert.status == AlertStatus.WITHDRAWN:
        return f"Withdrawn: {alert.title}"
    return alert.title


def withdrawn_notice(alert: Alert) -> str:
    if alert.status != AlertStatus.WITHDRAWN or alert.closed_at is None:
        return ""
    day = alert.closed_at
    return f"This alert was withdrawn on {day.day} {day:%B %Y} because: {alert.closed_reason}"


def entry_text(alert: Alert) -> str:
    """The entry's content as plain text: the withdrawal first, when there is one."""
    notice = withdrawn_notice(alert)
    parts = [notice, ""] if notice else []
    parts.append(alert.message)
    if alert.region:
        parts += ["", f"Region: {alert.region}"]
    return "\n".join(parts)


def programme() -> str:
    return Organisation.get().name


class AlertAtomFeed(Atom1Feed):
    """Atom with a plain-text ``content`` beside the HTML ``summary``: feed readers show
    one or the other, and the words must survive both."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "text"})


class AlertsAtom(Feed):  # type: ignore[type-arg]
    feed_type = AlertAtomFeed

    def title(self) -> str:
        return f"{programme()}: drug alerts"

    def subtitle(self) -> str:
        return "Warnings from drug checking: what was found, where (by region), and what to do."

    def link(self) -> str:
        return reverse("public:board")

    def feed_url(self) -> str:
        return reverse("public:alerts_atom")

    def feed_guid(self) -> str:
        return "urn:harbour:drug-alerts"

    def author_name(self) -> str:
        return programme()

    def items(self) -> QuerySet[Alert]:
        return feed_alerts()

    def item_title(self, item: Alert) -> str:
        return entry_title(item)

    def item_description(self, item: Alert) -> str:
        return linebreaks(escape(entry_text(item)))

    def item_link(self, item: Alert) -> str:
        return reverse("public:alert", args=[item.pk])

    def item_guid(self, item: Alert) -> str:
        return entry_id(item)

    item_guid_is_permalink = False

    def item_pubdate(self, item: Alert) -> Any:
        return item.published_at

    def item_updateddate(self, item: Alert) -> Any:
        return item.updated_at

    def item_categories(self, item: Alert) -> list[str]:
        return [item.substance.label, item.get_status_display().lower()]

    def item_extra_kwargs(self, item: Alert) -> dict[str, Any]:
        return {"content": entry_text(item)}


_atom = AlertsAtom()


@public
def alerts_atom(request: HttpRequest) -> HttpResponse:
    # The feed object is a view of its own; wrapping it in a function declared public is
    # what lets the access middleware, which refuses undeclared views, let partners in.
    response = _atom(request)
    response["Cache-Control"] = CACHE_CONTROL
    return response


@public
def alerts_json(request: HttpRequest) -> HttpResponse:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with Harbour's own facts in an
    ``_harbour`` extension object, as the format provides for."""
    absolute = request.build_absolute_uri
    items = []
    for alert in feed_alerts():
        item: dict[str, Any] = {
            "id": entry_id(alert),
            "url": absolute(reverse("public:alert", args=[alert.pk])),
            "title": entry_title(alert),
            "content_text": entry_text(alert),
            "date_published": alert.published_at.isoformat() if alert.published_at else None,
            "date_modified": alert.updated_at.isoformat(),
            "tags": [alert.substance.label],
            "_harbour": {
                "status": "withdrawn" if alert.status == AlertStatus.WITHDRAWN else "sent",
                "substance": alert.substance.label,
                "substance_class": alert.substance.drug_class,
                "region": alert.region,
                "revision": alert.revision,
                "rule": alert.rule,
                "withdrawn_at": alert.closed_at.isoformat()
                if alert.status == AlertStatus.WITHDRAWN and alert.closed_at
                else None,
                "withdrawn_because": alert.closed_reason
                if alert.status == AlertStatus.WITHDRAWN
                else None,
            },
        }
        if item["date_published"] is None:
            del item["date_published"]
        items.append(item)
    name = programme()
    feed = {
        "version": JSON_FEED_VERSION,
        "title": f"{name}: drug alerts",
        "home_page_url": absolute(reverse("public:board")),
        "feed_url": absolute(reverse("public:alerts_json")),
        "description": "Warnings from drug checking: what was found, where (by region), "
        "and what to do.",
        "language": "en",
        "authors": [{"name": name}],
        "items": items,
    }
    response = JsonResponse(
        feed, content_type="application/feed+json", json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = CACHE_CONTROL
    return response
