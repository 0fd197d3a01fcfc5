"""What each entry kind requires: facility kind, route kind, counterparty. Pure data."""
from __future__ import annotations

from dataclasses import dataclass

from wasteex.catalog.models import RouteKind
from wasteex.enterprises.models import FacilityKind
from wasteex.ledger.models import EntryKind


@dataclass(frozen=True)
class KindRule:
    facility: FacilityKind | None = None  # a facility of this kind is required
    route: RouteKind | None = None        # a route of this kind is required
    counterparty: bool = False             # receiver / sender name and credit code required
    shipment: bool = False                 # carrier, plate and contract number required (附表7)
    stream: bool = True                    # the entry belongs to one of the enterprise's streams
    prior_storage_allowed: bool = False    # may be flagged as drawn from prior years' storage
    platform_only: bool = False            # written only by transfer slip signatures, never by hand


RULES: dict[EntryKind, KindRule] = {
    EntryKind.GENERATION: KindRule(facility=FacilityKind.GENERATION),
    EntryKind.STORAGE_IN: KindRule(facility=FacilityKind.STORAGE),
    EntryKind.STORAGE_OUT: KindRule(facility=FacilityKind.STORAGE, prior_storage_allowed=True),
    EntryKind.SELF_UTILISATION: KindRule(facility=FacilityKind.SELF_UTILISATION, route=RouteKind.UTILISATION,
                                         prior_storage_allowed=True),
    EntryKind.SELF_DISPOSAL: KindRule(facility=FacilityKind.SELF_DISPOSAL, route=RouteKind.DISPOSAL,
                                      prior_storage_allowed=True),
    EntryKind.ENTRUSTED_UTILISATION: KindRule(route=RouteKind.UTILISATION, counterparty=True, shipment=True,
                                              prior_storage_allowed=True),
    EntryKind.ENTRUSTED_DISPOSAL: KindRule(route=RouteKind.DISPOSAL, counterparty=True, shipment=True,
                                           prior_storage_allowed=True),
    EntryKind.DUMPED: KindRule(),
    EntryKind.RECEIVED: KindRule(counterparty=True, stream=False),
    EntryKind.RECEIVED_UTILISED: KindRule(route=RouteKind.UTILISATION, stream=False),
    EntryKind.RECEIVED_DISPOSED: KindRule(route=RouteKind.DISPOSAL, stream=False),
    EntryKind.RETURNED: KindRule(counterparty=True, platform_only=True),
}
RECORDABLE = tuple(kind for kind, rule in RULES.items() if not rule.platform_only)
