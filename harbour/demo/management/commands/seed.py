"""``harbour seed``: a made-up programme for the demo, for tests and for benchmarks."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from harbour.demo import services


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
        "The same --seed gives the same programme."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="The demo programme, with one sign-in per role (see demo-logins). "
            "Does nothing if the demo is already there.",
        )
        parser.add_argument("--sites", type=_positive, default=services.DEMO_SITES)
        parser.add_argument("--clients", type=_positive, default=services.DEMO_CLIENTS)
        parser.add_argument(
            "--days", type=_positive, default=services.DEMO_DAYS, help="Days of contact history."
        )
        parser.add_argument("--seed", type=int, default=services.DEMO_SEED)
        parser.add_argument(
            "--end-date",
            type=dt.date.fromisoformat,
            default=None,
            help="Last day of the history, YYYY-MM-DD (default: today). Fix it to get "
            "the same dates on another day.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Seeding writes made-up clients: it never runs with HARBOUR_ENV=production."
            )
        if options["demo"] and services.demo_present():
            self.stdout.write("The demo programme is already here: nothing to do.")
            return
        try:
            result = services.seed(
                seed=options["seed"],
                sites=options["sites"],
                clients=options["clients"],
                days=options["days"],
                demo=options["demo"],
                end=options["end_date"],
            )
        except (services.SeedError, ValueError) as error:
            raise CommandError(str(error)) from None
        s = result.summary()
        users = f", {len(result.users)} demo users" if result.users else ""
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
        self.stdout.write(
            f"Seeded {s['regions']} regions, {s['sites']} sites, {s['clients']} clients "
            f"({s['near_duplicates']} near-duplicates), {s['contacts']} contacts "
            f"({s['anonymous_contacts']} anonymous) with {s['distributions']} distributions "
            f"({s['secondary_distributions']} for others), {s['consumption_sessions']} "
            f"consumption sessions, {s['overdoses']} overdoses, {s['stock_movements']} "
            f"stock movements, {s['ost_episodes']} OST episodes "
            f"({s['ost_episodes_ongoing']} ongoing, {s['ost_episodes_ended']} ended) with "
            f"{s['ost_doses']} doses, {s['tests']} tests, {s['treatments']} treatments and "
            f"{s['viral_loads']} viral loads{casework} over {s['days']} days{users}, "
            f"seed {s['seed']}, "
            f"in {result.elapsed:.1f} s."
        )
