"""The registry of per-file importers, in dependency order.

To support another exchange file, write ``importers/<file>.py`` with an
``Importer`` subclass and add it below, after the files it refers to (contacts
refer to sites and clients, distributions to contacts, and so on). Files of the
format that are not listed here are refused as "not supported yet".

An importer whose rows may refer to rows of an earlier file that are not written
yet (a contact of a client the same bundle registers) defines
``see_earlier(importers)``; harbour.exchange.services calls it before ``check``
with the importers of the files before it.
"""

from __future__ import annotations

from harbour.exchange.importers.base import Importer
from harbour.exchange.importers.clients import ClientsImporter
from harbour.exchange.importers.contacts import ContactsImporter
from harbour.exchange.importers.distributions import DistributionsImporter
from harbour.exchange.importers.ost_doses import OstDosesImporter
from harbour.exchange.importers.ost_episodes import OstEpisodesImporter
from harbour.exchange.importers.overdoses import OverdosesImporter
from harbour.exchange.importers.population_estimates import PopulationEstimatesImporter
from harbour.exchange.importers.sites import SitesImporter
from harbour.exchange.importers.tests import TestsImporter
from harbour.exchange.importers.treatments import TreatmentsImporter
from harbour.exchange.importers.viral_loads import ViralLoadsImporter

IMPORTERS: tuple[type[Importer], ...] = (
    SitesImporter,
    ClientsImporter,
    ContactsImporter,
    DistributionsImporter,
    OverdosesImporter,
    OstEpisodesImporter,
    OstDosesImporter,
    TestsImporter,
    TreatmentsImporter,
    ViralLoadsImporter,
    PopulationEstimatesImporter,
)
