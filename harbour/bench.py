"""`make bench`: figures for the paths people wait on, printed, never asserted.

First a quick part, on a throwaway SQLite database (or DATABASE_URL if set): seeds a
programme, then times registering new clients and finding returning ones by their
UIC, and dispensing at a site with BENCH_OST_CLIENTS people on OST.

Then the national part (``harbour.bench_national``; BENCH_NATIONAL=0 skips it): the
indicators, the hand-written floor, import and dispensing on a national programme,
seeded once and reused (docs/scale.md).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc


def main() -> None:
    """The quick part in a child process, then the national part from this one.

    This process stays small: on Linux a child started by a process inherits that
    process's peak resident memory (``ru_maxrss`` survives exec), so the national
    part's children, which measure their own, must not come from the quick part's
    process.
    """
    subprocess.run([sys.executable, "-m", "harbour.bench", "quick"], check=True)
    if os.environ.get("BENCH_NATIONAL", "1") != "0":
        from harbour import bench_national

        bench_national.main()


def quick() -> None:
    clients = int(os.environ.get("BENCH_CLIENTS", "20000"))
    workdir = tempfile.mkdtemp(prefix="harbour-bench-")
    os.environ.setdefault("HARBOUR_VAR_DIR", workdir)
    os.environ.setdefault("HARBOUR_ENV", "development")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from harbour.clients import services
    from harbour.clients.models import Client
    from harbour.sites.models import Site

    call_command("migrate", verbosity=0)
    print(f"Harbour bench on {connection.vendor}, {clients} clients", flush=True)
    started = time.perf_counter()
    call_command("seed", sites=10, clients=clients, days=30, seed=1, verbosity=0)
    print(f"seed: {time.perf_counter() - started:.1f} s", flush=True)

    rng = random.Random(7)  # noqa: S311 - made-up benchmark data, not a secret
    site = Site.objects.exclude(kind="region").first()
    assert site is not None
    letters = "ABCDEFGHIJKLMNOPRSTUVYZ"

    def new_parts() -> list[str]:
        return [
            rng.choice(letters) + rng.choice(letters),
            rng.choice(letters) + rng.choice(letters),
            rng.choice("FM"),
            f"{rng.randint(60, 99):02d}",
            str(rng.randint(0, 9)),
        ]

    register_ms, find_ms, registered = [], [], []
    tracemalloc.start()
    for _ in range(300):
        parts = new_parts()
        t = time.perf_counter()
        try:
            client, _ = services.register(None, site, parts, gender="male", injects="yes")
        except services.AlreadyRegistered:
            continue
        register_ms.append((time.perf_counter() - t) * 1000)
        registered.append((parts, client.pk))
    for parts, pk in registered:
        t = time.perf_counter()
        found = services.find(parts)
        find_ms.append((time.perf_counter() - t) * 1000)
        assert found.client is not None and found.client.pk == pk
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    def line(name: str, values: list[float]) -> str:
        values = sorted(values)
        p95 = values[int(len(values) * 0.95) - 1]
        return (
            f"{name}: median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, n={len(values)}"
        )

    print(f"clients in database: {Client.objects.count()}")
    print(line("register a client (UIC to record, audited)", register_ms))
    print(line("find a returning client by UIC (with near-duplicate check)", find_ms))
    print(f"peak Python memory during the timed part: {peak / 1e6:.1f} MB")
    sys.stdout.flush()
    bench_dispensing(int(os.environ.get("BENCH_OST_CLIENTS", "500")))


def bench_dispensing(people: int) -> None:
    """A nurse's action: press Give (POST), then the board with everyone reloads (GET)."""
    import datetime as dt
    from decimal import Decimal

    from django.test import Client as Browser
    from django.utils import timezone

    from harbour.accounts.models import Membership, Role, User
    from harbour.clients.models import Client
    from harbour.ost import services as ost
    from harbour.ost.models import Episode
    from harbour.sites.models import Site, SiteKind

    site = Site.objects.create(code="BENCH-OST", name="Bench OST clinic", kind=SiteKind.FIXED)
    nurse = User.objects.create_user("bench-nurse", password=None)
    doctor = User.objects.create_user("bench-doctor", password=None)
    Membership.objects.create(user=nurse, role=Role.STAFF, site=site)
    Membership.objects.create(user=doctor, role=Role.CLINICIAN, site=site)
    start = timezone.localdate() - dt.timedelta(days=200)
    # The seeded programme has people on OST already: enrol others.
    ongoing = Episode.objects.filter(end_date__isnull=True).values("client_id")
    clients = list(Client.objects.filter(merged_into__isnull=True).exclude(pk__in=ongoing)[:people])
    t = time.perf_counter()
    for i, client in enumerate(clients):
        ost.enrol(
            doctor,
            client,
            site,
            medication="methadone" if i % 4 else "buprenorphine",
            start_date=start,
            consent_on=start,
            dose_mg=Decimal("70") if i % 4 else Decimal("12"),
            phase="maintenance",
        )
    print(f"enrolled {len(clients)} people on OST at one site in {time.perf_counter() - t:.1f} s")
    browser = Browser(HTTP_HOST="localhost")
    browser.force_login(nurse)
    t = time.perf_counter()
    browser.get("/ost/")  # closes past days once, as the first nurse of the day does
    print(f"first board of the day (closes past days): {(time.perf_counter() - t) * 1000:.0f} ms")
    post_ms, board_ms = [], []
    for episode in Episode.objects.filter(site=site)[:200]:
        t = time.perf_counter()
        response = browser.post(f"/ost/episodes/{episode.pk}/dispense/", {"taken": "observed"})
        post_ms.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 302, response.status_code
        t = time.perf_counter()
        board = browser.get("/ost/")
        board_ms.append((time.perf_counter() - t) * 1000)
        assert board.status_code == 200

    def line(name: str, values: list[float]) -> str:
        values = sorted(values)
        p95 = values[int(len(values) * 0.95) - 1]
        return (
            f"{name}: median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, n={len(values)}"
        )

    print(line(f"dispense one dose (POST), {len(clients)} on OST", post_ms))
    print(line(f"reload the dispensing board ({len(clients)} rows)", board_ms))
    total = [a + b for a, b in zip(post_ms, board_ms, strict=True)]
    print(line("one dispensing action (press Give + board back)", total))


if __name__ == "__main__":
    if sys.argv[1:] == ["quick"]:
        quick()
    else:
        main()
