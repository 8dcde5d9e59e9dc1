"""Stock at each site: deliveries, transfers, adjustments, counts, and how long it lasts."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from harbour.sites.models import Site
from harbour.stock import services as stock
from harbour.stock.models import Balance, Movement
from harbour.visits import services as visits
from harbour.visits.models import CatalogueItem, Contact
from tests.factory import Cast, login, make_cast


def item(code: str) -> CatalogueItem:
    return CatalogueItem.objects.get(code=code)


def on_hand(site: Site, code: str) -> int:
    balance = Balance.objects.filter(site=site, item__code=code).first()
    return balance.on_hand if balance else 0


def ledger(site: Site, code: str) -> int:
    total = Movement.objects.filter(site=site, item__code=code).aggregate(t=Sum("delta"))["t"]
    return total or 0


def hand_out(site: Site, code: str, quantity: int, days_ago: int = 0) -> None:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    visits.record_contact(None, site, date=day, lines=[visits.Line(item(code), quantity)])


def line_for(site: Site, code: str) -> stock.StockLine:
    return next(line for line in stock.levels(site) if line.item.code == code)


def test_a_delivery_adds_to_the_sites_stock_and_the_ledger(cast: Cast) -> None:
    http = login(cast["staff"])
    needles = item("needle_syringe")
    response = http.post(
        "/stock/",
        {"action": "delivery", "item": needles.pk, "quantity": "3000", "reason": "Order 118"},
        follow=True,
    )
    assert "Stock of Needles and syringes updated" in response.content.decode()
    assert on_hand(cast.north, "needle_syringe") == 3000
    delivery = Movement.objects.get()
    assert (delivery.kind, delivery.delta, delivery.reason) == ("delivery", 3000, "Order 118")
    assert delivery.created_by == cast["staff"]
    assert on_hand(cast.south, "needle_syringe") == 0


def test_a_transfer_moves_stock_to_another_site_with_a_movement_at_each_end(cast: Cast) -> None:
    stock.deliver(None, cast.north, item("naloxone_kit"), 50)
    response = login(cast["site_manager"]).post(
        "/stock/",
        {
            "action": "transfer",
            "item": item("naloxone_kit").pk,
            "quantity": "20",
            "target": cast.south.pk,
            "reason": "South ran short",
        },
    )
    assert response.status_code == 302
    assert on_hand(cast.north, "naloxone_kit") == 30
    assert on_hand(cast.south, "naloxone_kit") == 20
    out = Movement.objects.get(kind=Movement.Kind.TRANSFER_OUT)
    into = Movement.objects.get(kind=Movement.Kind.TRANSFER_IN)
    assert (out.site, out.other_site, out.delta) == (cast.north, cast.south, -20)
    assert (into.site, into.other_site, into.delta) == (cast.south, cast.north, 20)


def test_an_adjustment_needs_a_reason(cast: Cast) -> None:
    stock.deliver(None, cast.north, item("condom"), 500)
    http = login(cast["staff"])
    form = {"action": "adjustment", "item": item("condom").pk, "quantity": "-40"}
    refused = http.post("/stock/", form)
    assert refused.status_code == 422
    assert 'id="id_reason_error"' in refused.content.decode()
    assert "Say why the stock is adjusted" in refused.content.decode()
    assert on_hand(cast.north, "condom") == 500
    http.post("/stock/", {**form, "reason": "Box damaged by water"})
    assert on_hand(cast.north, "condom") == 460
    adjustment = Movement.objects.get(kind=Movement.Kind.ADJUSTMENT)
    assert adjustment.delta == -40 and adjustment.reason == "Box damaged by water"


def test_the_adjustment_service_also_refuses_a_missing_reason(cast: Cast) -> None:
    with pytest.raises(stock.StockError) as refused:
        stock.adjust(None, cast.north, item("condom"), -5, "   ")
    assert refused.value.field == "reason"
    assert not Movement.objects.exists()


def test_a_stock_count_books_the_difference_and_sets_the_balance_to_what_was_counted(
    cast: Cast,
) -> None:
    stock.deliver(None, cast.north, item("swab"), 1000)
    hand_out(cast.north, "swab", 100)
    http = login(cast["staff"])
    http.post("/stock/", {"action": "count", "item": item("swab").pk, "quantity": "880"})
    assert on_hand(cast.north, "swab") == 880
    first = Movement.objects.get(kind=Movement.Kind.COUNT)
    assert (first.counted, first.delta) == (880, -20)
    http.post("/stock/", {"action": "count", "item": item("swab").pk, "quantity": "900"})
    assert on_hand(cast.north, "swab") == 900
    assert Movement.objects.filter(kind="count").order_by("id").last().delta == 20
    assert ledger(cast.north, "swab") == 900
    page = http.get("/stock/").content.decode()
    assert "counted 900" in page


def test_a_count_of_an_item_never_stocked_before_sets_its_balance(cast: Cast) -> None:
    stock.count(None, cast.north, item("cooker"), 75)
    assert on_hand(cast.north, "cooker") == 75
    assert Movement.objects.get().delta == 75


def test_the_rate_is_what_was_handed_out_over_the_last_30_days(cast: Cast) -> None:
    stock.deliver(None, cast.north, item("needle_syringe"), 5000)
    hand_out(cast.north, "needle_syringe", 900, days_ago=45)  # too long ago for the rate
    hand_out(cast.north, "needle_syringe", 1000, days_ago=30)  # just outside the 30 days
    hand_out(cast.north, "needle_syringe", 400, days_ago=29)
    hand_out(cast.north, "needle_syringe", 200, days_ago=3)
    hand_out(cast.north, "needle_syringe", 300)
    hand_out(cast.south, "needle_syringe", 3000)  # another site's pace is not ours
    line = line_for(cast.north, "needle_syringe")
    assert line.on_hand == 2200
    assert line.per_day == pytest.approx(30.0)  # 900 over 30 days
    assert line.days_left == pytest.approx(2200 / 30)
    assert not line.warning


def test_a_site_is_warned_before_it_runs_out(cast: Cast) -> None:
    stock.deliver(None, cast.north, item("naloxone_kit"), 100)
    hand_out(cast.north, "naloxone_kit", 60, days_ago=5)
    line = line_for(cast.north, "naloxone_kit")
    assert line.per_day == pytest.approx(2.0) and line.days_left == pytest.approx(20.0)
    assert not line.warning  # 20 days left, warned under 14
    Balance.objects.filter(site=cast.north, item__code="naloxone_kit").update(warn_days=30)
    assert line_for(cast.north, "naloxone_kit").warning
    Balance.objects.filter(site=cast.north, item__code="naloxone_kit").update(warn_days=14)
    hand_out(cast.north, "naloxone_kit", 15)  # 25 left at 2.5 a day: 10 days
    warned = line_for(cast.north, "naloxone_kit")
    assert warned.days_left == pytest.approx(10.0) and warned.warning
    page = login(cast["staff"]).get("/stock/").content.decode()
    assert "Running out: order more" in page


def test_an_item_out_of_stock_is_flagged_even_when_nobody_asked_for_it_lately(cast: Cast) -> None:
    stock.deliver(None, cast.north, item("condom"), 10)
    stock.adjust(None, cast.north, item("condom"), -10, "expired")
    stock.deliver(None, cast.north, item("lubricant"), 10)
    empty = line_for(cast.north, "condom")
    assert empty.on_hand == 0 and empty.days_left is None and empty.warning
    idle = line_for(cast.north, "lubricant")
    assert idle.per_day == 0 and idle.days_left is None and not idle.warning
    never = line_for(cast.north, "cooker")  # never stocked here: not a shortage
    assert not never.stocked and not never.warning
    page = login(cast["staff"]).get("/stock/").content.decode()
    assert "Out of stock" in page and "Not stocked here" in page


def test_handing_out_more_than_the_ledger_holds_is_not_refused_and_shows_as_out_of_stock(
    cast: Cast,
) -> None:
    # The ledger can lag behind the shelf (a delivery not yet entered): a person is never
    # sent away because of it.
    stock.deliver(None, cast.north, item("filter"), 5)
    hand_out(cast.north, "filter", 8)
    assert on_hand(cast.north, "filter") == -3
    assert line_for(cast.north, "filter").warning


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"action": "delivery", "quantity": "-5"}, "quantity"),
        ({"action": "delivery", "quantity": "0"}, "quantity"),
        ({"action": "delivery", "quantity": "lots"}, "quantity"),
        ({"action": "delivery", "quantity": "99999999"}, "quantity"),
        ({"action": "delivery", "quantity": ""}, "quantity"),
        ({"action": "transfer", "quantity": "10"}, "target"),
        ({"action": "transfer", "quantity": "-10", "target": "south"}, "quantity"),
        ({"action": "transfer", "quantity": "10", "target": "north"}, "target"),
        ({"action": "transfer", "quantity": "10", "target": "region"}, "target"),
        ({"action": "adjustment", "quantity": "0", "reason": "found"}, "quantity"),
        ({"action": "count", "quantity": "-1"}, "quantity"),
        ({"action": "steal", "quantity": "10"}, "action"),
        ({"action": "delivery", "quantity": "10", "item": "999999"}, "item"),
        ({"action": "delivery", "quantity": "10", "item": ""}, "item"),
    ],
)
def test_bad_input_on_the_stock_form_names_the_field_and_changes_nothing(
    cast: Cast, form: dict[str, str], field: str
) -> None:
    stock.deliver(None, cast.north, item("condom"), 100)
    sites = {"north": cast.north.pk, "south": cast.south.pk, "region": cast.region.pk}
    data = {"item": str(item("condom").pk), **form}
    if "target" in data:
        data["target"] = str(sites[data["target"]])
    response = login(cast["staff"]).post("/stock/", data)
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Movement.objects.count() == 1
    assert on_hand(cast.north, "condom") == 100
    assert on_hand(cast.south, "condom") == 0


def test_front_line_roles_see_the_stock_but_only_stock_keepers_record_movements(
    cast: Cast,
) -> None:
    stock.deliver(None, cast.north, item("condom"), 100)
    outreach = login(cast["outreach"])
    page = outreach.get("/stock/")
    assert page.status_code == 200 and "Record a stock movement" not in page.content.decode()
    refused = outreach.post(
        "/stock/", {"action": "delivery", "item": item("condom").pk, "quantity": "10"}
    )
    assert refused.status_code == 403
    assert on_hand(cast.north, "condom") == 100
    assert "Record a stock movement" in login(cast["staff"]).get("/stock/").content.decode()


def test_each_site_sees_its_own_stock(cast: Cast) -> None:
    stock.deliver(None, cast.north, item("condom"), 1234)
    stock.deliver(None, cast.south, item("condom"), 4321)
    page = login(cast.sam).get("/stock/").content.decode()
    assert "South Drop-in" in page and "4321" in page and "1234" not in page


# -- parallel writers ----------------------------------------------------------------


def in_parallel(jobs: list[Callable[[], None]]) -> list[BaseException]:
    """Run the jobs at the same moment, each thread on its own database connection."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def catalogue(*codes: str) -> list[CatalogueItem]:
    # A transactional test may follow another one whose flush emptied the catalogue.
    return [
        CatalogueItem.objects.get_or_create(code=code, defaults={"name": code})[0] for code in codes
    ]


THREADS = 8
CONTACTS_PER_THREAD = 25


@pytest.mark.django_db(transaction=True)
def test_parallel_contacts_never_lose_a_unit_of_stock() -> None:
    cast = make_cast()
    needles, swabs = catalogue("needle_syringe", "swab")
    stock.deliver(None, cast.north, needles, 20_000)
    stock.deliver(None, cast.north, swabs, 20_000)

    def counter(worker: int) -> Callable[[], None]:
        def work() -> None:
            for n in range(CONTACTS_PER_THREAD):
                lines = [
                    visits.Line(needles, 10 + worker),
                    visits.Line(needles, 3, secondary=True),
                    visits.Line(swabs, 1 + n % 4),
                ]
                if worker % 2:  # some phones send their lines in another order
                    lines.reverse()
                visits.record_contact(cast["staff"], cast.north, lines=lines)

        return work

    assert in_parallel([counter(w) for w in range(THREADS)]) == []
    assert Contact.objects.count() == THREADS * CONTACTS_PER_THREAD
    needles_out = sum((10 + w + 3) * CONTACTS_PER_THREAD for w in range(THREADS))
    swabs_out = THREADS * sum(1 + n % 4 for n in range(CONTACTS_PER_THREAD))
    assert on_hand(cast.north, "needle_syringe") == 20_000 - needles_out
    assert on_hand(cast.north, "swab") == 20_000 - swabs_out
    assert ledger(cast.north, "needle_syringe") == on_hand(cast.north, "needle_syringe")
    assert ledger(cast.north, "swab") == on_hand(cast.north, "swab")


@pytest.mark.django_db(transaction=True)
def test_a_stock_count_during_parallel_contacts_keeps_the_balance_and_the_ledger_in_step() -> None:
    cast = make_cast()
    (needles,) = catalogue("needle_syringe")
    stock.deliver(None, cast.north, needles, 10_000)
    counted = [9_000, 8_500, 8_000, 7_500, 7_000]

    def hand_out_one_at_a_time() -> None:
        for _ in range(CONTACTS_PER_THREAD):
            visits.record_contact(None, cast.north, lines=[visits.Line(needles, 1)])

    def count_the_shelf() -> None:
        for number in counted:
            stock.count(cast["staff"], cast.north, needles, number)

    jobs = [hand_out_one_at_a_time for _ in range(THREADS - 1)]
    assert in_parallel([*jobs, count_the_shelf]) == []
    counts = list(Movement.objects.filter(kind=Movement.Kind.COUNT).order_by("id"))
    assert [c.counted for c in counts] == counted
    handed = (THREADS - 1) * CONTACTS_PER_THREAD
    assert Movement.objects.filter(kind=Movement.Kind.DISTRIBUTION).count() == handed
    # The last count set the balance; only what was handed out after it comes off.
    final = on_hand(cast.north, "needle_syringe")
    assert counted[-1] - handed <= final <= counted[-1]
    assert final == ledger(cast.north, "needle_syringe")
    stock.count(None, cast.north, needles, 6_000)
    assert on_hand(cast.north, "needle_syringe") == 6_000 == ledger(cast.north, "needle_syringe")


@pytest.mark.django_db(transaction=True)
def test_transfers_both_ways_at_the_same_moment_arrive_complete() -> None:
    cast = make_cast()
    (kits,) = catalogue("naloxone_kit")
    stock.deliver(None, cast.north, kits, 1_000)
    stock.deliver(None, cast.south, kits, 1_000)

    def send(source: Site, target: Site, quantity: int) -> Callable[[], None]:
        def work() -> None:
            for _ in range(10):
                stock.transfer(None, source, target, kits, quantity)

        return work

    jobs = [send(cast.north, cast.south, 3), send(cast.south, cast.north, 2)] * 3
    assert in_parallel(jobs) == []
    assert on_hand(cast.north, "naloxone_kit") == 1_000 - 90 + 60
    assert on_hand(cast.south, "naloxone_kit") == 1_000 + 90 - 60
    assert Movement.objects.filter(kind=Movement.Kind.TRANSFER_OUT).count() == 60
    for site in (cast.north, cast.south):
        assert ledger(site, "naloxone_kit") == on_hand(site, "naloxone_kit")
