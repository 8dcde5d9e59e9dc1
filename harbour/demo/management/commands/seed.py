"""``harbour seed``: a made-up programme for the demo, for tests and for benchmarks."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.demo import services
from harbour.demo.generate import SCALES


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


class Command(BaseCommand):
    help = (
        "Fill an empty database with a made-up programme: sites, clients (pseudonymised "
        "like real ones), their contacts with what was handed out, overdoses, stock, and "
        "OST episodes with their prescriptions and daily doses, tests, treatments and "
        "viral loads; with --demo, the case manager's partners, caseload, referrals and "
        "appointments. "
        "The same --seed gives the same programme. --scale national: 50 sites, 100,000 "
        "clients and two years of history (about 10 million contacts; see docs/scale.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="The demo programme, with one sign-in per role (see demo-logins). "
            "Does nothing if the demo is already there.",
        )
        parser.add_argument(
            "--scale",
            choices=sorted(SCALES),
            help="A named size: its sites, clients, days and per-client rates "
            "(--sites, --clients and --days still override them).",
        )
        parser.add_argument(
            "--sites", type=_positive, help=f"Service sites (default: {services.DEMO_SITES})."
        )
        parser.add_argument(
            "--clients", type=_positive, help=f"Clients (default: {services.DEMO_CLIENTS})."
        )
        parser.add_argument(
            "--days",
            type=_positive,
            help=f"Days of contact history (default: {services.DEMO_DAYS}).",
        )
        parser.add_argument("--seed", type=int, default=services.DEMO_SEED)
        parser.add_argument(
            "--end-date",
            type=dt.date.fromisoformat,
            default=None,
            help="Last day of the history, YYYY-MM-DD (default: today). Fix it to get "
            "the same dates on another day.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Draw the programme and print what would be written; write nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Seeding writes made-up clients: it never runs with HARBOUR_ENV=production."
            )
        scale = SCALES.get(options["scale"] or "")
        sizes = {
            "sites": scale.sites if scale else services.DEMO_SITES,
            "clients": scale.clients if scale else services.DEMO_CLIENTS,
            "days": scale.days if scale else services.DEMO_DAYS,
        }
        for name in sizes:
            if options[name] is not None:
                sizes[name] = options[name]
        rates = scale.rates if scale else None
        if options["dry_run"]:
            try:
                programme = services.plan(
                    seed=options["seed"], end=options["end_date"], rates=rates, **sizes
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(describe(services.plan_summary(programme), "Would seed"))
            return
        if options["demo"] and services.demo_present():
            self.stdout.write("The demo programme is already here: nothing to do.")
            return
        try:
            result = services.seed(
                seed=options["seed"],
                sites=sizes["sites"],
                clients=sizes["clients"],
                days=sizes["days"],
                demo=options["demo"],
                end=options["end_date"],
                rates=rates,
            )
        except (services.SeedError, ValueError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(describe(result.summary(), "Seeded", result.elapsed))


def describe(s: dict[str, Any], verb: str, elapsed: float | None = None) -> str:
    """One sentence of what was (or would be) written, from a seed summary."""
    users = f", {len(s['users'])} demo users" if s["users"] else ""
    casework = (
        f"; {s['partner_services']} partner services, a caseload of {s['caseload']} "
        f"with {s['referrals']} referrals and {s['appointments']} appointments"
        if s["caseload"]
        else ""
    )
    if s["drug_checking_samples"]:
        casework += (
            f"; {s['drug_checking_samples']} drug checking samples raising "
            f"{s['drug_alerts']} drug alerts"
        )
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    return (
        f"{verb} {s['regions']} regions, {s['sites']} sites, {s['clients']} clients "
        f"({s['near_duplicates']} near-duplicates), {s['contacts']} contacts "
        f"({s['anonymous_contacts']} anonymous) with {s['distributions']} distributions "
        f"({s['secondary_distributions']} for others), {s['consumption_sessions']} "
        f"consumption sessions, {s['overdoses']} overdoses, {s['stock_movements']} "
        f"stock movements, {s['ost_episodes']} OST episodes "
        f"({s['ost_episodes_ongoing']} ongoing, {s['ost_episodes_ended']} ended) with "
        f"{s['ost_doses']} doses, {s['tests']} tests, {s['treatments']} treatments and "
        f"{s['viral_loads']} viral loads{casework} over {s['days']} days{users}, "
        f"seed {s['seed']}{took}."
    )
