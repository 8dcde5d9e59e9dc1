"""`make bench`: figures for the paths people wait on, printed, never asserted.

Runs on a throwaway SQLite database (or DATABASE_URL if set): seeds a programme,
then times registering new clients and finding returning ones by their UIC.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc


def main() -> None:
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


if __name__ == "__main__":
    main()
