"""Which adapter speaks which scheme. Adding a partner format = one module + one line here."""

from __future__ import annotations

from services.intake.partners.adapter import PartnerAdapter
from services.intake.partners.desipost import DesipostAdapter
from services.intake.partners.rapidroute import RapidRouteAdapter
from services.intake.partners.swiftship import SwiftshipAdapter

ADAPTERS: dict[str, PartnerAdapter] = {
    adapter.scheme: adapter
    for adapter in (SwiftshipAdapter(), RapidRouteAdapter(), DesipostAdapter())
}
