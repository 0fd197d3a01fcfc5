"""Recording ledger entries: validation, permission, the chain and the monthly totals.

Entries are never updated or deleted. A correction appends a reversing entry
(the negated quantity) and, optionally, the corrected one, both pointing at the
original. Every function flushes; the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_enterprise_reader, require_enterprise_writer
from wasteex.audit.service import record
from wasteex.catalog.models import Route, RouteKind, WasteCategory
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise, Facility, Site
from wasteex.enterprises.uscc import UsccError, validate_uscc
from wasteex.errors import Conflict, NotFound, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import base_of
from wasteex.ledger import chain_store, queries
from wasteex.ledger.kinds import RULES
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry, MonthlyTotal
from wasteex.ledger.rates import MAX_KG, tonnes_to_kg
from wasteex.plates import is_valid_plate, normalise_plate
from wasteex.streams.models import WasteStream

EARLIEST_PERIOD = date(2000, 1, 1)
MAX_ENTRY_KG = 10**10  # 10 Mt in one entry is absurd for any Ordos plant


@dataclass
class EntryInput:
    """One entry as a person or a file states it, before checking."""

    kind: str
    period_date: date | None
    tonnes: str | Decimal | int | None
    handler: str
    stream_id: int | None = None
    sw_code: str | None = None
    facility_code: str | None = None
    route_key: str | None = None
    from_prior_storage: bool = False
    counterparty_name: str | None = None
    counterparty_credit_code: str | None = None
    carrier_name: str | None = None
    plate_number: str | None = None
    contract_number: str | None = None
    product: str | None = None
    reference: str | None = None
    extra: dict = field(default_factory=dict)


def _fail(field_name: str, message: str):
    raise ValidationFailed.on(field_name, message)


def _kind(raw: str, source: EntrySource) -> EntryKind:
    try:
        kind = EntryKind(raw)
    except ValueError:
        _fail("kind", _("Unknown entry kind."))
    if kind not in RULES or (RULES[kind].platform_only and source is not EntrySource.TRANSFER):
        _fail("kind", _("Only transfer slip signatures record this kind of entry."))
    return kind


def _quantity(raw) -> int:
    if raw is None or raw == "":
        _fail("tonnes", _("Enter the quantity in tonnes."))
    try:
        kg = tonnes_to_kg(raw)
    except (ValueError, TypeError):
        _fail("tonnes", _("Enter a positive number of tonnes with at most 3 decimals."))
    if kg <= 0:
        _fail("tonnes", _("The quantity must be greater than zero."))
    if kg > MAX_ENTRY_KG or kg > MAX_KG:
        _fail("tonnes", _("This quantity is not plausible for one entry (over 10 million tonnes)."))
    return kg


def _period(raw: date | None) -> date:
    if raw is None:
        _fail("period_date", _("Enter the date."))
    if raw > date.today():
        _fail("period_date", _("The date cannot be in the future."))
    if raw < EARLIEST_PERIOD:
        _fail("period_date", _("The date is too far in the past."))
    return raw


def _stream(enterprise_id: int, stream_id: int | None) -> WasteStream:
    stream = db.session.get(WasteStream, stream_id) if stream_id else None
    if stream is None or stream.enterprise_id != enterprise_id:
        _fail("stream_id", _("Choose one of this enterprise's waste streams."))
    return stream


def _category(sw_code: str | None) -> WasteCategory:
    category = db.session.scalar(select(WasteCategory).where(WasteCategory.sw_code == (sw_code or "").upper()))
    if category is None or not category.active:
        _fail("sw_code", _("Unknown waste code."))
    return category


def _facility(enterprise_id: int, code: str | None, kind) -> Facility:
    facility = db.session.scalar(
        select(Facility).join(Site).where(Site.enterprise_id == enterprise_id, Facility.code == (code or "").strip()))
    if facility is None:
        _fail("facility_code", _("No facility of this enterprise has this code."))
    if facility.kind is not kind:
        _fail("facility_code", _("This facility is of another kind than the entry needs."))
    if not facility.active:
        _fail("facility_code", _("This facility is retired."))
    return facility


def _route(key: str | None, kind, sw_code: str) -> Route:
    route = db.session.scalar(select(Route).where(Route.key == (key or "").strip()))
    if route is None or not route.active:
        _fail("route_key", _("Choose a utilisation or disposal route."))
    if route.kind is not kind:
        if kind is RouteKind.UTILISATION:
            _fail("route_key", _("This entry needs a utilisation route, not a disposal route."))
        _fail("route_key", _("This entry needs a disposal route, not a utilisation route."))
    if not route.fits(sw_code):
        _fail("route_key", _("This route does not fit waste %(code)s.", code=sw_code))
    return route


def _required_text(name: str, value: str | None, max_len: int) -> str:
    value = (value or "").strip()
    if not value:
        _fail(name, _("This field is required."))
    if len(value) > max_len:
        _fail(name, _("At most %(n)s characters.", n=max_len))
    return value


def _credit_code(value: str | None) -> str:
    try:
        return validate_uscc(value or "")
    except UsccError:
        _fail("counterparty_credit_code", _("Enter the counterparty's valid unified social credit code."))


def _reference_taken(enterprise_id: int, reference: str) -> bool:
    return db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.enterprise_id == enterprise_id, LedgerEntry.reference == reference)) is not None


def build_entry(enterprise: Enterprise, inp: EntryInput, actor: User | None, source: EntrySource) -> LedgerEntry:
    """Check one input against the rules of its kind and make the (unsaved) entry."""
    kind = _kind(inp.kind, source)
    rule = RULES[kind]
    entry = LedgerEntry(enterprise_id=enterprise.id, kind=kind, source=source,
                        period_date=_period(inp.period_date), quantity_kg=_quantity(inp.tonnes),
                        handler=_required_text("handler", inp.handler, 120),
                        recorded_by_id=actor.id if actor else None, recorded_at=utcnow())
    if rule.stream:
        stream = _stream(enterprise.id, inp.stream_id)
        entry.stream_id, entry.sw_code = stream.id, stream.category.sw_code
    else:
        entry.sw_code = _category(inp.sw_code).sw_code
    if rule.facility is not None:
        entry.facility_id = _facility(enterprise.id, inp.facility_code, rule.facility).id
    if rule.route is not None:
        entry.route_id = _route(inp.route_key, rule.route, entry.sw_code).id
    if inp.from_prior_storage and not rule.prior_storage_allowed:
        _fail("from_prior_storage", _("Only utilisation, disposal and storage withdrawals can come from prior years' storage."))
    entry.from_prior_storage = bool(inp.from_prior_storage)
    _fill_counterparty(entry, inp, rule)
    if inp.product:
        entry.product = inp.product.strip()[:255]
    if inp.reference:
        entry.reference = _required_text("reference", inp.reference, 64)
    return entry


def _fill_counterparty(entry: LedgerEntry, inp: EntryInput, rule) -> None:
    if rule.counterparty:
        entry.counterparty_name = _required_text("counterparty_name", inp.counterparty_name, 255)
        entry.counterparty_credit_code = _credit_code(inp.counterparty_credit_code)
    if rule.shipment:
        entry.carrier_name = _required_text("carrier_name", inp.carrier_name, 255)
        plate = normalise_plate(inp.plate_number or "")
        if not is_valid_plate(plate):
            _fail("plate_number", _("Enter a Chinese plate number such as 蒙K12345 or 蒙K12345D."))
        entry.plate_number = plate
        entry.contract_number = _required_text("contract_number", inp.contract_number, 64)


def _enterprise_for_write(actor: User | None, enterprise_id: int) -> Enterprise:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("No such enterprise."))
    if actor is not None:
        require_enterprise_writer(actor, enterprise_id)
    return enterprise


def record_entry(actor: User | None, enterprise_id: int, inp: EntryInput,
                 source: EntrySource = EntrySource.FORM) -> LedgerEntry:
    """Validate and append one entry; ``actor`` None means the platform itself (transfers)."""
    enterprise = _enterprise_for_write(actor, enterprise_id)
    entry = build_entry(enterprise, inp, actor, source)
    if entry.reference and _reference_taken(enterprise_id, entry.reference):
        raise Conflict(_("An entry with reference %(ref)s already exists.", ref=entry.reference),
                       {"reference": [_("Already recorded.")]})
    return commit_to_chain(actor, entry)


def commit_to_chain(actor: User | None, entry: LedgerEntry, *, in_transit: bool = False) -> LedgerEntry:
    """Append to the enterprise's chain and its monthly totals; ``in_transit`` counts an entrusted
    shipment as on its way until the receiver's operation signature settles it (settle_transit)."""
    chain_store.append(entry)
    _add_to_totals(entry, EntryKind.IN_TRANSIT if in_transit else entry.kind, entry.quantity_kg)
    record(actor, "ledger.entry_recorded", entry, enterprise_id=entry.enterprise_id, seq=entry.seq,
           kind=entry.kind, kg=entry.quantity_kg)
    return entry


def correct_entry(actor: User, entry_id: int, reason: str, replacement: EntryInput | None = None) -> list[LedgerEntry]:
    """Reverse an entry and optionally record its corrected version; both point at the original."""
    original = db.session.get(LedgerEntry, entry_id)
    if original is None or not (actor.reads_everything or actor.role_in(original.enterprise_id)):
        raise NotFound(_("No such ledger entry."))
    enterprise = _enterprise_for_write(actor, original.enterprise_id)
    reason = _required_text("reason", reason, 2000)
    if original.source is EntrySource.TRANSFER:
        raise Conflict(_("This entry was written by a transfer slip signature: correct it with a revision request on the slip."))
    if queries.is_reversal(original):
        raise Conflict(_("A reversing entry cannot itself be corrected."))
    if queries.corrected_ids([original.id]):
        raise Conflict(_("This entry has already been corrected."))
    new = build_entry(enterprise, replacement, actor, EntrySource.CORRECTION) if replacement else None
    reversal = reversal_of(original, actor, reason)
    written = [commit_to_chain(actor, reversal)]
    if new is not None:
        new.corrects_id, new.reason = original.id, reason
        written.append(commit_to_chain(actor, new))
    return written


def is_correctable(entry: LedgerEntry) -> bool:
    """The rule correct_entry enforces: not a reversal itself, not reversed already."""
    return (entry.source is not EntrySource.TRANSFER and not queries.is_reversal(entry)
            and not queries.corrected_ids([entry.id]))


def reversal_of(original: LedgerEntry, actor: User, reason: str) -> LedgerEntry:
    """The entry that cancels ``original`` (negative quantity, same fields), pointing at it."""
    copied = {name: getattr(original, name) for name in (
        "enterprise_id", "kind", "stream_id", "sw_code", "period_date", "from_prior_storage", "facility_id",
        "route_id", "handler", "counterparty_name", "counterparty_credit_code", "carrier_name", "plate_number",
        "contract_number", "product")}
    return LedgerEntry(**copied, quantity_kg=-original.quantity_kg, source=EntrySource.CORRECTION,
                       corrects_id=original.id, reason=reason, recorded_by_id=actor.id, recorded_at=utcnow())


def _place_of(entry: LedgerEntry):
    """(base, division) for the totals: the stream's site, else the enterprise's banner."""
    if entry.stream_id:
        site = db.session.get(WasteStream, entry.stream_id).site
        return site.base, site.division_code
    division = db.session.get(Enterprise, entry.enterprise_id).division_code
    return base_of(division), division


def _add_to_totals(entry: LedgerEntry, kind: EntryKind, kg: int) -> None:
    """Keep the monthly totals in the append's transaction (the chain lock serialises them)."""
    key = dict(enterprise_id=entry.enterprise_id, stream_key=entry.stream_id or 0, sw_code=entry.sw_code,
               year=entry.period_date.year, month=entry.period_date.month, kind=kind,
               from_prior_storage=entry.from_prior_storage)
    table = MonthlyTotal.__table__
    where = [table.c[name] == value for name, value in key.items()]
    changed = db.session.execute(update(table).where(*where)
                                 .values(quantity_kg=table.c.quantity_kg + kg)).rowcount
    if changed == 0:
        base, division = _place_of(entry)
        db.session.execute(insert(table).values(**key, base=base, division_code=division, quantity_kg=kg))


def settle_transit(shipment: LedgerEntry, kg: int, kind: EntryKind | None) -> None:
    """Move ``kg`` of an entrusted shipment out of the in-transit totals: into ``kind`` (the
    entrusted utilisation or disposal the receiver signed), or nowhere when ``kind`` is None
    (refused tonnes, which a RETURNED entry puts back into storage). The chain entry itself
    never changes; only what the flow summary and the rate count does."""
    _add_to_totals(shipment, EntryKind.IN_TRANSIT, -kg)
    if kind is not None:
        _add_to_totals(shipment, kind, kg)


def entries_of(actor: User, enterprise_id: int):
    require_enterprise_reader(actor, enterprise_id)
    return select(LedgerEntry).where(LedgerEntry.enterprise_id == enterprise_id)


def get_entry(actor: User, entry_id: int) -> LedgerEntry:
    entry = db.session.get(LedgerEntry, entry_id)
    if entry is None or not (actor.reads_everything or actor.role_in(entry.enterprise_id)):
        raise NotFound(_("No such ledger entry."))
    return entry
