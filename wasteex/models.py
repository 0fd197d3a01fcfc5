"""Every model module, imported once so the metadata (and Alembic) sees all tables."""
from wasteex.accounts.models import ApiToken, Membership, User  # noqa: F401
from wasteex.audit.models import AuditEvent  # noqa: F401
from wasteex.enterprises.models import Enterprise, Facility, Site  # noqa: F401
from wasteex.catalog.models import QualityAttribute, Route, WasteCategory  # noqa: F401
from wasteex.ledger.models import LedgerChain, LedgerEntry, MonthlyTotal  # noqa: F401
from wasteex.streams.models import LabReport, QualityValue, WasteStream  # noqa: F401
from wasteex.market.models import Demand, DemandCode, DemandLimit, Offer, OfferQuality  # noqa: F401
from wasteex.matching.models import MatchRun  # noqa: F401
from wasteex.agreements.models import Agreement, Proposal  # noqa: F401
from wasteex.transfers.models import SlipRevision, SlipTag, TransferLeg, TransferSignature, TransferSlip  # noqa: F401
from wasteex.regulator.models import (Anomaly, AnomalyEvent, PlanningRun, PlanningScenario, QuotaSectorKeyword,  # noqa: F401
                                     QuotaThreshold, UtilisationCapacity)
from wasteex.notifications.models import Delivery, Notification, Webhook  # noqa: F401
