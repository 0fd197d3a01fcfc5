"""Ledger forms: one entry, a correction, an Excel import, export periods.

The kind select carries what each kind needs (facility kind, route kind) as
data attributes and every field group says for which kinds it is shown, so
app.js can hide what does not apply. The server checks everything again: the
rules live in ``ledger.kinds`` and ``ledger.service``.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from wasteex.catalog.models import RouteKind
from wasteex.ledger.kinds import RECORDABLE, RULES
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.ledger.service import EntryInput
from wasteex.streams.forms import category_choices, choice, route_choices

KIND_LABELS = {
    EntryKind.GENERATION.value: _l("Generation"),
    EntryKind.STORAGE_IN.value: _l("Storage in"),
    EntryKind.STORAGE_OUT.value: _l("Storage out"),
    EntryKind.SELF_UTILISATION.value: _l("Self-utilisation"),
    EntryKind.SELF_DISPOSAL.value: _l("Self-disposal"),
    EntryKind.ENTRUSTED_UTILISATION.value: _l("Entrusted utilisation (sent out)"),
    EntryKind.ENTRUSTED_DISPOSAL.value: _l("Entrusted disposal (sent out)"),
    EntryKind.DUMPED.value: _l("Dumped or discarded"),
    EntryKind.RECEIVED.value: _l("Received"),
    EntryKind.RECEIVED_UTILISED.value: _l("Received and utilised"),
    EntryKind.RECEIVED_DISPOSED.value: _l("Received and disposed"),
    EntryKind.RETURNED.value: _l("Returned (refused by the receiver)"),
}
SOURCE_LABELS = {
    EntrySource.FORM.value: _l("Form"),
    EntrySource.IMPORT.value: _l("Excel import"),
    EntrySource.API.value: _l("API"),
    EntrySource.TRANSFER.value: _l("Transfer"),
    EntrySource.CORRECTION.value: _l("Correction"),
}
FACILITY_KIND_LABELS = {
    "generation": _l("Generation facility"),
    "storage": _l("Storage facility"),
    "self_utilisation": _l("Self-utilisation facility"),
    "self_disposal": _l("Self-disposal facility"),
}


def kinds_where(test) -> str:
    """The kinds (space-separated values) whose rule passes ``test``: a field group's data-wx-kinds."""
    return " ".join(kind.value for kind, rule in RULES.items() if test(rule))


SHOWN_FOR = {
    "stream_id": kinds_where(lambda r: r.stream),
    "sw_code": kinds_where(lambda r: not r.stream),
    "facility_code": kinds_where(lambda r: r.facility is not None),
    "route_key": kinds_where(lambda r: r.route is not None),
    "from_prior_storage": kinds_where(lambda r: r.prior_storage_allowed),
    "counterparty_name": kinds_where(lambda r: r.counterparty),
    "counterparty_credit_code": kinds_where(lambda r: r.counterparty),
    "carrier_name": kinds_where(lambda r: r.shipment),
    "plate_number": kinds_where(lambda r: r.shipment),
    "contract_number": kinds_where(lambda r: r.shipment),
    "product": kinds_where(lambda r: r.route is RouteKind.UTILISATION),
}


def kind_choices() -> list:
    """Each option names the facility kind and route kind it needs (read by app.js)."""
    choices = []
    for kind in RECORDABLE:
        rule = RULES[kind]
        attrs = {"data-facility": rule.facility.value if rule.facility else "",
                 "data-route": rule.route.value if rule.route else ""}
        choices.append(choice(kind.value, KIND_LABELS[kind.value], attrs))
    return choices


class EntryForm(FlaskForm):
    kind = SelectField(_l("Kind"), validate_choice=False)
    period_date = DateField(_l("Date"), validators=[Optional()])
    tonnes = StringField(_l("Quantity (t)"), description=_l("Tonnes, at most 3 decimals (1 kg)."))
    handler = StringField(_l("Handled by"), validators=[Length(max=120)])
    stream_id = SelectField(_l("Waste stream"), default="")
    sw_code = SelectField(_l("Waste code (SW)"), default="", validate_choice=False)
    facility_code = SelectField(_l("Facility"), default="", validate_choice=False)
    route_key = SelectField(_l("Route"), default="", validate_choice=False)
    from_prior_storage = BooleanField(_l("Taken from prior years' storage"))
    counterparty_name = StringField(_l("Counterparty"), validators=[Length(max=255)],
                                    description=_l("The receiver (sent out) or the sender (received)."))
    counterparty_credit_code = StringField(_l("Counterparty credit code"), validators=[Length(max=18)])
    carrier_name = StringField(_l("Carrier"), validators=[Length(max=255)])
    plate_number = StringField(_l("Plate number"), validators=[Length(max=16)],
                               description=_l("For example 蒙K12345."))
    contract_number = StringField(_l("Contract number"), validators=[Length(max=64)])
    product = StringField(_l("Product (optional)"), validators=[Length(max=255)])
    reference = StringField(_l("Reference (optional)"), validators=[Length(max=64)],
                            description=_l("Your own number (weighbridge ticket, slip); recorded once only."))

    shown_for = SHOWN_FOR

    def with_choices(self, streams, facilities) -> "EntryForm":
        self.kind.choices = kind_choices()
        self.stream_id.choices = [choice("", _l("Choose…"))] + [
            choice(str(s.id), f"{s.name} · {s.category.sw_code}", {"data-sw": s.category.sw_code}) for s in streams
        ]
        self.sw_code.choices = category_choices()
        self.facility_code.choices = [choice("", "—")] + [
            choice(f.code, f"{f.code} {f.name}", {"data-facility-kind": f.kind.value}) for f in facilities if f.active
        ]
        self.route_key.choices = route_choices()
        return self

    def entry_input(self) -> EntryInput:
        def text(name):
            return (getattr(self, name).data or "").strip() or None

        return EntryInput(
            kind=self.kind.data or "", period_date=self.period_date.data, tonnes=(self.tonnes.data or "").strip(),
            handler=self.handler.data or "", stream_id=int(self.stream_id.data) if self.stream_id.data else None,
            sw_code=text("sw_code"), facility_code=text("facility_code"), route_key=text("route_key"),
            from_prior_storage=bool(self.from_prior_storage.data), counterparty_name=text("counterparty_name"),
            counterparty_credit_code=text("counterparty_credit_code"), carrier_name=text("carrier_name"),
            plate_number=text("plate_number"), contract_number=text("contract_number"), product=text("product"),
            reference=text("reference"),
        )

    @staticmethod
    def initial(entry: LedgerEntry) -> dict:
        """An existing entry's values, to start a replacement from."""
        return {
            "kind": entry.kind.value, "period_date": entry.period_date,
            "tonnes": kg_to_tonnes_str(abs(entry.quantity_kg)), "handler": entry.handler,
            "stream_id": str(entry.stream_id or ""), "sw_code": entry.sw_code,
            "facility_code": entry.facility.code if entry.facility else "",
            "route_key": entry.route.key if entry.route else "", "from_prior_storage": entry.from_prior_storage,
            **{name: getattr(entry, name) or "" for name in (
                "counterparty_name", "counterparty_credit_code", "carrier_name", "plate_number",
                "contract_number", "product")},
        }


class CorrectionForm(EntryForm):
    reason = TextAreaField(_l("Reason for the correction"), validators=[Length(max=2000)])
    replace = BooleanField(_l("Also record the corrected values"),
                           description=_l("Without this, the entry is only reversed."))


class ImportForm(FlaskForm):
    file = FileField(_l("Excel workbook (.xlsx)"), validators=[
        FileRequired(_l("Choose the filled-in workbook.")),
        FileAllowed(["xlsx"], _l("Only .xlsx workbooks are accepted.")),
    ], description=_l("Start from the import template; each line is added, skipped or refused on its own."))


def year_choices(today: date | None = None, span: int = 6) -> list[int]:
    """The ledger is kept at least five years: this year and the five before."""
    today = today or date.today()
    return list(range(today.year, today.year - span, -1))

