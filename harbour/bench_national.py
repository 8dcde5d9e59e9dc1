"""`make bench`, national part: issue 7's figures on a national programme.

``harbour seed --scale national`` (50 sites, 100,000 clients, 730 days ending
2025-12-31, seed 1) is built once and kept; every later run reuses it. It lives in
``var/bench-national/`` (SQLite) or, when DATABASE_URL names a PostgreSQL server, in
the database ``harbour_bench_national`` on that server (keys in
``var/bench-national-postgresql/``); BENCH_NATIONAL_DIR and BENCH_NATIONAL_URL choose
others. A database is reused when the seed's audit entry matches (scale, seed, end
date, sizes); an empty one is seeded; anything else is refused.

Printed, never asserted (docs/scale.md reads them):

- the seeding itself, when it happens: time and rows per second;
- ``compute("2025", None)`` and ``compute("2025", "DAR-01")``: time of a first and a
  second run, each indicator's time, peak Python memory (tracemalloc) and the
  process's peak resident memory (``ru_maxrss``), each scope in a process of its own;
- the floor: one hand-written SQL query computing PRV.8 and PRV.10 for the same year
  and scope, checked against ``compute()``, and the ratio of the two;
- import: a bundle exported from a slice of a national programme (the national
  rates, BENCH_IMPORT_CLIENTS clients at 4 sites) imported into an empty database,
  in contact rows and all rows per second;
- OST dispensing at the national programme's busiest dispensing site, on its last
  day (the bench process's clock is set to that morning), rolled back afterwards:
  press Give (POST), then the board with everyone reloads (GET).

Each measurement runs in a child process (``python -m harbour.bench_national worker
…``), so that one's memory or caches never count in another's figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SEED = 1
END = "2025-12-31"
PERIOD = "2025"  # the national programme's last complete year
SITE = "DAR-01"  # the main site: a fixed site with OST
PG_NATIONAL_DB = "harbour_bench_national"
RESULT = "BENCH-RESULT "


# --- where the national programme lives -----------------------------------------


def _pg_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def national_env() -> dict[str, str]:
    """The environment of every child process that works on the national programme."""
    env = dict(os.environ)
    env.setdefault("HARBOUR_ENV", "development")
    env["DJANGO_SETTINGS_MODULE"] = "harbour.settings"
    base = os.environ.get("DATABASE_URL", "")
    if _is_postgres(base) or _is_postgres(os.environ.get("BENCH_NATIONAL_URL", "")):
        url = os.environ.get("BENCH_NATIONAL_URL") or _pg_url(base, PG_NATIONAL_DB)
        var = Path(os.environ.get("BENCH_NATIONAL_DIR", ROOT / "var/bench-national-postgresql"))
        env["DATABASE_URL"] = url
        _create_pg_database(url)
    else:
        var = Path(os.environ.get("BENCH_NATIONAL_DIR", ROOT / "var/bench-national"))
        env.pop("DATABASE_URL", None)  # the SQLite file in the var dir
    var.mkdir(parents=True, exist_ok=True)
    env["HARBOUR_VAR_DIR"] = str(var)
    return env


def _create_pg_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_pg_url(url, "postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def _drop_pg_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_pg_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def child(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run ``worker *args`` in a child process; its result, or exit on failure."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "harbour.bench_national", "worker", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT) :])
            return result
    sys.stderr.write(done.stdout + done.stderr)
    raise SystemExit(f"bench worker {' '.join(args)} failed")


def harbour(env: dict[str, str], *args: str, quiet: bool = False) -> float:
    """Run a harbour command (its output hidden if ``quiet``); its wall time in seconds."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "harbour.cli", *args]
    subprocess.run(  # noqa: S603 - our own command
        command, env=env, cwd=ROOT, check=True, capture_output=quiet
    )
    return time.perf_counter() - started


# --- the parent: what make bench prints --------------------------------------------


def main() -> None:
    env = national_env()
    where = env.get("DATABASE_URL") or f"{env['HARBOUR_VAR_DIR']}/harbour.sqlite3"
    print(f"\nNational programme ({where})", flush=True)
    harbour(env, "migrate", "--no-input", "--verbosity", "0")
    ensure_seeded(env)
    compute_figures = {}
    for scope in (None, SITE):
        label = "whole programme" if scope is None else f"site {scope}"
        result = child(env, "compute", PERIOD, scope or "-")
        floor = child(env, "floor", PERIOD, scope or "-")
        compute_figures[label] = result
        _print_compute(label, result, floor)
    bench_import(env)
    result = child(env, "dispense")
    _print_dispensing(result)


def ensure_seeded(env: dict[str, str]) -> None:
    status = child(env, "status")
    wanted = {"rates": "national", "seed": SEED, "end": END, "sites": 50, "clients": 100_000}
    found = status["seeded"]
    if found is not None and all(found.get(k) == v for k, v in wanted.items()):
        print(
            f"reusing the national programme seeded on {status['at']}: "
            f"{found['contacts']:,} contacts, {found['distributions']:,} distributions, "
            f"{found['ost_doses']:,} OST doses",
            flush=True,
        )
        return
    if not status["empty"]:
        raise SystemExit(
            "That database holds something other than the national programme (seed "
            f"{SEED}, ending {END}): point BENCH_NATIONAL_DIR or BENCH_NATIONAL_URL at an "
            "empty one, or remove it."
        )
    print("seeding the national programme (once; later runs reuse it)…", flush=True)
    seconds = harbour(env, "seed", "--scale", "national", "--seed", str(SEED), "--end-date", END)
    # The largest child so far is the seeding one (kB on Linux).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    status = child(env, "status")
    rows = status["rows"]
    print(
        f"seed --scale national: {seconds:.0f} s for {rows:,} rows "
        f"({rows / seconds:,.0f} rows/s; {status['seeded']['contacts']:,} contacts), "
        f"peak memory {peak:,.0f} MB",
        flush=True,
    )


def _print_compute(label: str, result: dict[str, Any], floor: dict[str, Any]) -> None:
    print(
        f"compute({PERIOD!r}, {label}): first {result['first']:.2f} s, "
        f"again {result['second']:.2f} s; peak Python memory "
        f"{result['tracemalloc_mb']:.1f} MB, process peak (ru_maxrss) "
        f"{result['maxrss_mb']:.0f} MB"
    )
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in result["parts"].items())
    print(f"  by indicator (s): {parts}")
    same = floor["values"] == result["values"]
    print(
        f"  floor, one hand-written SQL query for PRV.8 and PRV.10: first "
        f"{floor['first']:.2f} s, again {floor['second']:.2f} s, process peak "
        f"{floor['maxrss_mb']:.0f} MB; same numbers as compute(): {'yes' if same else 'NO'} "
        f"{floor['values']}"
    )
    # The floor's part of compute(): the N/S pass and the active PWID clients (asked
    # together with HTS.PWID's tested, which makes it an overestimate).
    covered = result["parts"]["N/S pass"] + result["parts"]["PRV.8-9 rest, HTS.PWID"]
    print(
        f"  compute()'s PRV.8-10 queries / floor: {covered / floor['second']:.1f}x; "
        f"the whole compute() / floor: {result['second'] / floor['second']:.1f}x",
        flush=True,
    )
    if not same:
        raise SystemExit("The hand-written query and compute() disagree.")


def bench_import(env: dict[str, str]) -> None:
    """Export a slice of a national programme and import it into an empty database."""
    clients = os.environ.get("BENCH_IMPORT_CLIENTS", "500")
    work = Path(tempfile.mkdtemp(prefix="harbour-bench-import-"))
    try:
        source = {**env, "HARBOUR_VAR_DIR": str(work / "source")}
        source.pop("DATABASE_URL", None)  # the slice is written and exported on SQLite
        harbour(source, "migrate", "--no-input", "--verbosity", "0")
        harbour(
            source,
            *("seed", "--scale", "national", "--sites", "4", "--clients", clients),
            *("--seed", str(SEED), "--end-date", END),
            quiet=True,
        )
        bundle = work / "bundle"
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "harbour.cli", "export-bundle", str(bundle)],
            env=source,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        target = {**env, "HARBOUR_VAR_DIR": str(work / "target")}
        database = ""
        if _is_postgres(env.get("DATABASE_URL", "")):
            database = _pg_url(env["DATABASE_URL"], f"harbour_bench_import_{os.getpid()}")
            _create_pg_database(database)
            target["DATABASE_URL"] = database
        try:
            harbour(target, "migrate", "--no-input", "--verbosity", "0")
            result = child(target, "import", str(bundle))
        finally:
            if database:
                _drop_pg_database(database)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"import-bundle of a slice ({clients} clients at 4 sites, national rates, "
        f"{result['contacts']:,} contacts, {result['rows']:,} rows) into an empty "
        f"database: {result['seconds']:.1f} s, {result['contacts'] / result['seconds']:,.0f} "
        f"contact rows/s, {result['rows'] / result['seconds']:,.0f} rows/s in all",
        flush=True,
    )


def _line(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    return f"{name}: median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, n={len(values)}"


def _print_dispensing(result: dict[str, Any]) -> None:
    print(
        f"OST at {result['site']} on {result['day']} ({result['expected']} people expected, "
        f"{result['doses']:,} doses in the database): first board of the day "
        f"{result['first_board_ms']:.0f} ms"
    )
    print("  " + _line("dispense one dose (POST)", result["post_ms"]))
    print("  " + _line(f"reload the board ({result['expected']} rows)", result["board_ms"]))
    print("  " + _line("one dispensing action (press Give + board back)", result["action_ms"]))
    sys.stdout.flush()


# --- the children ------------------------------------------------------------------


def worker(task: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
    import django

    django.setup()
    tasks: dict[str, Callable[..., dict[str, Any]]] = {
        "status": _status,
        "compute": _compute,
        "floor": _floor,
        "import": _import,
        "dispense": _dispense,
    }
    result = tasks[task](*args)
    print(RESULT + json.dumps(result), flush=True)


def _maxrss_mb() -> float:
    """The process's peak resident memory (kB on Linux), ``ru_maxrss``."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status() -> dict[str, Any]:
    from harbour.audit.models import AuditEvent
    from harbour.demo.services import holds_programme

    event = AuditEvent.objects.filter(action="demo.seed").order_by("-pk").first()
    detail = event.detail if event is not None else {}
    # Seeds before the count was recorded: the main tables' rows.
    main_tables = (
        *("clients", "contacts", "distributions", "stock_movements", "ost_doses"),
        *("ost_prescriptions", "tests", "treatments", "viral_loads", "overdoses"),
    )
    rows = detail.get("rows_written") or sum(detail.get(k, 0) for k in main_tables)
    return {
        "seeded": event.detail if event is not None else None,
        "at": event.at.isoformat(timespec="minutes") if event is not None else None,
        "empty": not holds_programme(),
        "rows": rows,
    }


def _scope(site: str) -> str | None:
    return None if site == "-" else site


def _values(report: dict[str, Any]) -> dict[str, int]:
    i = report["indicators"]
    return {
        "PRV.8 numerator": i["PRV.8"]["numerator"],
        "PRV.8 denominator": i["PRV.8"]["denominator"],
        "PRV.10 numerator": i["PRV.10"]["numerator"],
        "PRV.10 denominator": i["PRV.10"]["denominator"],
    }


def _compute(period: str, site: str) -> dict[str, Any]:
    from harbour.lib.periods import parse_period
    from harbour.ost import indicators as ost
    from harbour.reports import indicators
    from harbour.testing import cascades

    scope = _scope(site)
    started = time.perf_counter()
    report = indicators.compute(period, scope)
    first = time.perf_counter() - started
    started = time.perf_counter()
    indicators.compute(period, scope)
    second = time.perf_counter() - started
    tracemalloc.start()
    indicators.compute(period, scope)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Each indicator alone, to see where the time goes: the N/S pass serves PRV.8's
    # and PRV.9's numerators and PRV.10, so it is timed on its own and given to them.
    found = parse_period(period)
    s, e = found.start, found.end
    ids = ost.sites_below(scope) if scope else None
    passed: list[Any] = []
    parts_of = {
        "N/S pass": lambda: passed.append(
            indicators.needle_syringe_pass(s, e, ids, months=found.months)
        ),
        "PRV.8-9 rest, HTS.PWID": lambda: indicators.pwid_indicators(
            s, e, ids, months=found.months, passed=passed[0]
        ),
        "PRV.10 rest, NALOXONE": lambda: indicators.handed_out(s, e, ids, passed=passed[0]),
        "OVERDOSE": lambda: indicators.overdose_counts(s, e, ids),
        "PRV.11": lambda: ost.prv11(s, e, ids),
        "PRV.12": lambda: ost.prv12(s, e, ids),
        "PRV.13": lambda: ost.prv13(s, e, ids),
        "PRV.14": lambda: ost.prv14(s, e, ids),
        "HIV.cascade": lambda: cascades.hiv_cascade(e, ids),
        "HCV.cascade": lambda: cascades.hcv_cascade(e, ids),
    }
    parts = {}
    for name, run in parts_of.items():
        started = time.perf_counter()
        run()
        parts[name] = time.perf_counter() - started
    return {
        "first": first,
        "second": second,
        "tracemalloc_mb": peak / 1e6,
        "maxrss_mb": _maxrss_mb(),
        "parts": parts,
        "values": _values(report),
    }


def floor_sql(site_ids: list[int] | None) -> tuple[str, dict[str, Any]]:
    """PRV.8 and PRV.10 for [S, E] in one query, written by hand: the SQL, and the
    parameters it takes besides ``s`` and ``e`` (S and E) and ``item`` (the N/S
    catalogue item's id, looked up before, as compute() does: PostgreSQL plans the
    join with that item's statistics only when it knows the id).

    The definitions (shared/spec/indicators.md): PRV.8 is PWID clients who received
    N/S (quantity > 0) in a contact in the period over active PWID clients (a
    non-anonymous contact, a dose not missed, a test or a treatment start in the
    period, at the sites); PRV.10 is the N/S handed out in the period, anonymous and
    secondary distribution included, over the distinct clients who received N/S.
    A contact with N/S is itself a record, so PRV.8's numerator needs no check
    against the active clients.

    The fastest shape found on both databases (docs/scale.md): the period's N/S lines
    read once and summed per client (anonymous contacts are the group without one);
    the active PWID clients asked one by one with EXISTS through the (client, date)
    indexes for the whole programme, and as a UNION of the sites' records for a site.
    """
    if site_ids is None:
        return FLOOR.replace("{at}", "").replace("{c_at}", "").replace("{active}", _ASKED), {}
    params = {f"site{n}": site_id for n, site_id in enumerate(site_ids)}
    at = f" AND site_id IN ({', '.join(f'%({name})s' for name in params)})"
    # Only the sites' placeholders are put in: every value is a parameter.
    sql = FLOOR.replace("{active}", _UNION).replace("{c_at}", at.replace("site_id", "c.site_id"))
    return sql.replace("{at}", at), params


FLOOR = """
WITH per_client AS MATERIALIZED (
    SELECT c.client_id AS client_id, SUM(d.quantity) AS quantity
    FROM visits_distribution d
    JOIN visits_contact c ON c.id = d.contact_id
    WHERE d.item_id = %(item)s AND d.quantity > 0
      AND c.date BETWEEN %(s)s AND %(e)s{c_at}
    GROUP BY c.client_id
)
SELECT
    (SELECT COUNT(*) FROM per_client x JOIN clients_client k ON k.id = x.client_id
     WHERE k.injects = 'yes'),
    {active},
    (SELECT COALESCE(SUM(quantity), 0) FROM per_client),
    (SELECT COUNT(client_id) FROM per_client)
"""
_ASKED = """(SELECT COUNT(*) FROM clients_client k WHERE k.injects = 'yes' AND (
        EXISTS (SELECT 1 FROM visits_contact c
                WHERE c.client_id = k.id AND c.date BETWEEN %(s)s AND %(e)s)
        OR EXISTS (SELECT 1 FROM ost_dose o
                   WHERE o.client_id = k.id AND o.date BETWEEN %(s)s AND %(e)s
                     AND o.taken <> 'missed')
        OR EXISTS (SELECT 1 FROM testing_test t
                   WHERE t.client_id = k.id AND t.date BETWEEN %(s)s AND %(e)s)
        OR EXISTS (SELECT 1 FROM testing_treatment r
                   WHERE r.client_id = k.id AND r.start_date BETWEEN %(s)s AND %(e)s)))"""
_UNION = """(SELECT COUNT(*) FROM clients_client k WHERE k.injects = 'yes' AND k.id IN (
        SELECT client_id FROM visits_contact
        WHERE date BETWEEN %(s)s AND %(e)s AND client_id IS NOT NULL{at}
        UNION SELECT client_id FROM ost_dose
        WHERE date BETWEEN %(s)s AND %(e)s AND taken <> 'missed'{at}
        UNION SELECT client_id FROM testing_test WHERE date BETWEEN %(s)s AND %(e)s{at}
        UNION SELECT client_id FROM testing_treatment
        WHERE start_date BETWEEN %(s)s AND %(e)s{at}))"""


def _floor(period: str, site: str) -> dict[str, Any]:
    from django.db import connection

    from harbour.lib.periods import parse_period
    from harbour.ost import indicators as ost
    from harbour.visits.models import CatalogueItem

    found = parse_period(period)
    scope = _scope(site)
    ids = sorted(ost.sites_below(scope)) if scope else None
    sql, site_params = floor_sql(ids)
    item = CatalogueItem.objects.get(code="needle_syringe").pk
    params = {"s": found.start, "e": found.end, "item": item, **site_params}
    timings = []
    row: Any = None
    for _ in range(2):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        timings.append(time.perf_counter() - started)
    return {
        "first": timings[0],
        "second": timings[1],
        "maxrss_mb": _maxrss_mb(),
        "values": {
            "PRV.8 numerator": row[0],
            "PRV.8 denominator": row[1],
            "PRV.10 numerator": int(row[2]),
            "PRV.10 denominator": row[3],
        },
    }


def _import(path: str) -> dict[str, Any]:
    from harbour.exchange.services import import_bundle

    started = time.perf_counter()
    result = import_bundle(Path(path), "bench")
    seconds = time.perf_counter() - started
    if not result.applied:
        raise SystemExit(f"the import was not applied: {result.as_dict()}")
    return {
        "seconds": seconds,
        "contacts": result.files["contacts.csv"].created,
        "rows": sum(counts.created for counts in result.files.values()),
    }


def _dispense() -> dict[str, Any]:
    """At the busiest dispensing site, on the programme's last day, rolled back."""
    from unittest import mock

    from django.db import transaction
    from django.db.models import Count, Q
    from django.test import Client as Browser
    from django.utils import timezone

    from harbour.accounts.models import Membership, Role, User
    from harbour.ost import board
    from harbour.ost.models import Dose, Episode
    from harbour.sites.models import Site

    day = dt.date.fromisoformat(END)
    real_now = timezone.now
    morning = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 30)))
    offset = morning - real_now()

    def now() -> dt.datetime:
        return real_now() + offset  # the clock runs, from that morning

    site = (
        Site.objects.annotate(
            running=Count("ost_episodes", filter=Q(ost_episodes__end_date__isnull=True))
        )
        .order_by("-running", "code")
        .first()
    )
    assert site is not None
    post_ms, board_ms = [], []
    doses = Dose.objects.count()
    with mock.patch("django.utils.timezone.now", now), transaction.atomic():
        nurse = User.objects.create_user("bench-national-nurse", password=None)
        Membership.objects.create(user=nurse, role=Role.STAFF, site=site)
        browser = Browser(HTTP_HOST="localhost")
        browser.force_login(nurse)
        started = time.perf_counter()
        response = browser.get("/ost/")
        first_board = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        rows = board.build(site, day)
        due = [row.episode.pk for row in rows if row.status == "due"][:200]
        for pk in due:
            started = time.perf_counter()
            response = browser.post(f"/ost/episodes/{pk}/dispense/", {"taken": "observed"})
            post_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, response.status_code
            started = time.perf_counter()
            response = browser.get("/ost/")
            board_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        transaction.set_rollback(True)
    return {
        "site": site.code,
        "day": day.isoformat(),
        "expected": len(rows),
        "running": Episode.objects.filter(site=site, end_date__isnull=True).count(),
        "doses": doses,
        "first_board_ms": first_board,
        "post_ms": post_ms,
        "board_ms": board_ms,
        "action_ms": [a + b for a, b in zip(post_ms, board_ms, strict=True)],
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(*sys.argv[2:])
    else:
        main()
