"""Forms of the planner, the capacity declaration, the worklist and 以渣定产. Rules live in the services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from wasteex.catalog import service as catalog
from wasteex.catalog.models import RouteKind
from wasteex.streams.forms import choice, choices_of, local_name

STATUS_LABELS = {"open": _l("To handle"), "under_review": _l("Under review"), "closed": _l("Closed")}
KIND_LABELS = {
    "balance": _l("Mass balance does not close"),
    "chain": _l("Ledger chain broken"),
    "missing_generation": _l("No generation recorded"),
    "storage_rising": _l("Storage rising"),
    "over_capacity": _l("Over declared capacity"),
    "unverified_trading": _l("Trading while unverified"),
    "slip": _l("Transfer slip overdue or disputed"),
}
EVIDENCE_LABELS = {
    "generated_kg": _l("Generated"), "self_utilised_kg": _l("Self-utilised"),
    "entrusted_utilised_kg": _l("Sent for utilisation"), "utilised_from_prior_storage_kg": _l("of which from prior storage"),
    "self_disposed_kg": _l("Self-disposed"), "entrusted_disposed_kg": _l("Sent for disposal"),
    "disposed_from_prior_storage_kg": _l("of which disposed from prior storage"), "stored_kg": _l("Stored (net)"),
    "dumped_kg": _l("Dumped"), "difference_kg": _l("Not accounted for"),
    "entry_id": _l("Entry"), "seq": _l("Position in the chain"), "reason": _l("Reason"), "message": _l("Detail"),
    "entries_checked": _l("Entries checked"),
    "expected_annual_kg": _l("Declared generation a year"), "expected_monthly_kg": _l("Expected a month"),
    "months": _l("Months"), "rise_kg": _l("Rise"),
    "received_by_code_kg": _l("Received by waste code"),
    "declared_kg_per_year": _l("Declared capacity a year"), "excess_kg": _l("Above capacity"),
    "offers": _l("Published offers"), "demands": _l("Published demands"), "proposals": _l("Pending proposals"),
    "agreements": _l("Active agreements"),
    "slip_id": _l("Slip"), "number": _l("Slip number"), "flags": _l("Flags"), "producer_id": _l("Producer"),
    "receiver_id": _l("Receiver"), "planned_kg": _l("Planned"), "dispatched_kg": _l("Dispatched"),
    "received_kg": _l("Received"), "discrepancy_kg": _l("Discrepancy"),
}
SECTOR_LABELS = {"coal": _l("Coal"), "coking": _l("Coking"), "metallurgy": _l("Metallurgy")}
COORDINATE = {"inputmode": "decimal", "placeholder": "39.865"}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def code_choices() -> list:
    return [choice(c.sw_code, f"{c.sw_code} {local_name(c)}") for c in catalog.categories(active_only=True)]


class CapacityForm(FlaskForm):
    site_id = SelectField(_l("Site"), validate_choice=False)
    route_key = SelectField(_l("Utilisation route"), validate_choice=False)
    sw_codes = CheckboxesField(_l("Waste codes accepted"), validate_choice=False)
    tonnes_per_year = StringField(_l("Capacity (tonnes per year)"), description=_l("At most 3 decimals."))
    max_km = StringField(_l("Farthest source (km)"),
                         description=_l("How far the site fetches waste from; the planner matches within it."))

    def with_choices(self, sites) -> "CapacityForm":
        self.site_id.choices = [choice(str(s.id), f"{s.code} {s.name}") for s in sites]
        self.route_key.choices = [choice("", _l("Choose…"))] + [
            choice(r.key, local_name(r)) for r in catalog.routes(active_only=True) if r.kind is RouteKind.UTILISATION]
        self.sw_codes.choices = code_choices()
        return self


class ScenarioForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    removed_enterprise_ids = CheckboxesField(_l("Producers taken out of the city"), validate_choice=False,
                                             description=_l("Their generation leaves the figures (a plant closes)."))

    def with_choices(self, producers) -> "ScenarioForm":
        self.removed_enterprise_ids.choices = [choice(str(e.id), e.name) for e in producers]
        return self


class UtiliserForm(FlaskForm):
    name = StringField(_l("Name of the plant"), validators=[Length(max=120)])
    lat = StringField(_l("Latitude"), render_kw=COORDINATE)
    lon = StringField(_l("Longitude"), render_kw={**COORDINATE, "placeholder": "111.216"})
    sw_codes = CheckboxesField(_l("Waste codes it would take"), validate_choice=False)
    tonnes_per_year = StringField(_l("Capacity (tonnes per year)"))
    max_km = StringField(_l("Farthest source (km)"))

    def with_choices(self) -> "UtiliserForm":
        self.sw_codes.choices = code_choices()
        return self


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=choices_of(STATUS_LABELS))
    note = TextAreaField(_l("Note"), validators=[Length(max=4000)],
                         description=_l("Required when closing: what was found and done."))


class ThresholdForm(FlaskForm):
    sector = SelectField(_l("Sector"), choices=choices_of(SECTOR_LABELS))
    threshold_pct = StringField(_l("Threshold: per cent of own waste utilised"), render_kw={"inputmode": "decimal"})
    floor_factor = StringField(_l("Lowest factor (0–1)"), render_kw={"inputmode": "decimal"},
                               description=_l("Below the threshold the factor is share ÷ threshold, never below this."))
    effective_from = StringField(_l("Effective from"), render_kw={"type": "date"})
    note = TextAreaField(_l("Note (decision, document number)"), validators=[Length(max=2000)])


class KeywordForm(FlaskForm):
    keyword = StringField(_l("Industry keyword"), validators=[Length(max=40)])
    sector = SelectField(_l("Sector"), choices=choices_of(SECTOR_LABELS))
