"""Offer, demand and browse forms. Business rules live in the service, not here.

The quality fields depend on the catalog, so the form classes are built per
request (``offer_form``, ``demand_form``) with two fields per attribute: the
offer's newer value and its date, or the demand's minimum and maximum. The
service names those ``quality.<key>.value`` and ``limits.<key>.min``;
``service_fields`` renames its errors so they land next to the right input.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from wasteex.errors import ValidationFailed
from wasteex.geo import DIVISIONS
from wasteex.market.search import SORTS, ListingFilter
from wasteex.market.terms import plain
from wasteex.streams.forms import GB_CLASS_LABELS, category_choices, choice, choices_of, local_name, route_choices

SUPPLY_LABELS = {"one_off": _l("One-off"), "recurring": _l("Recurring (per month)")}
TRANSPORT_LABELS = {"producer": _l("The producer"), "utiliser": _l("The utiliser"), "either": _l("Either side")}
STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Published"), "paused": _l("Paused"), "closed": _l("Closed")}
SORT_LABELS = {
    "newest": _l("Newest first"), "price": _l("Price, lowest first"), "-price": _l("Price, highest first"),
    "tonnes": _l("Tonnes left, fewest first"), "-tonnes": _l("Tonnes left, most first"),
    "distance": _l("Distance, nearest first"),
}
MONTH = {"type": "month", "placeholder": "YYYY-MM"}


class ActionForm(FlaskForm):
    """Publish, pause and close buttons: no fields, only the CSRF token."""


class TermsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    supply = SelectField(_l("One-off or recurring"), choices=choices_of(SUPPLY_LABELS))
    tonnes = StringField(_l("Tonnes (one-off)"), description=_l("At most 3 decimals."))
    tonnes_per_month = StringField(_l("Tonnes per month (recurring)"))
    window_start = StringField(_l("First month (recurring)"), render_kw=MONTH)
    window_end = StringField(_l("Last month (recurring)"), render_kw=MONTH,
                             description=_l("The total is the monthly tonnes times the months, both ends included."))
    price_per_t = StringField(_l("Price (yuan per tonne)"))
    max_km = StringField(_l("Maximum transport distance (km)"))

    @staticmethod
    def terms_of(values: dict) -> dict:
        """Service input values as form data (months as YYYY-MM)."""
        out = {k: v for k, v in values.items() if not isinstance(v, (dict, list))}
        for key in ("window_start", "window_end"):
            out[key] = values[key].strftime("%Y-%m") if values.get(key) else ""
        out["max_km"] = "" if values.get("max_km") is None else str(values["max_km"])
        return out


class OfferForm(TermsForm):
    transport_by = SelectField(_l("Transport arranged by"), choices=choices_of(TRANSPORT_LABELS))
    lab_report_id = SelectField(_l("Lab report (optional)"), default="")

    quality_keys: tuple[str, ...] = ()

    def quality_fields(self):
        return [(key, self[f"q_{key}"], self[f"q_{key}_on"]) for key in self.quality_keys]

    def data_for_service(self) -> dict:
        quality_names = {f"q_{key}{end}" for key in self.quality_keys for end in ("", "_on")}
        data = {k: v for k, v in self.data.items() if k != "csrf_token" and k not in quality_names}
        data["quality"] = {key: {"value": value.data, "measured_on": on.data}
                           for key, value, on in self.quality_fields() if (value.data or "").strip() or on.data}
        return data


def offer_form(attributes, reports, **kwargs) -> OfferForm:
    """An offer form with a newer-value field and a date field per catalog attribute."""
    fields = {"quality_keys": tuple(a.key for a in attributes)}
    for a in attributes:
        fields[f"q_{a.key}"] = StringField(f"{local_name(a)} ({a.unit or '—'})")
        fields[f"q_{a.key}_on"] = DateField(_l("Measured on"), validators=[Optional()])
    form = type("BoundOfferForm", (OfferForm,), fields)(**kwargs)
    form.lab_report_id.choices = [choice("", "—")] + [
        choice(str(r.id), f"{r.report_date.isoformat()} {r.laboratory}") for r in reports]
    return form


def offer_initial(values: dict) -> dict:
    data = TermsForm.terms_of(values)
    data["lab_report_id"] = str(values.get("lab_report_id") or "")
    for key, stated in values.get("quality", {}).items():
        data[f"q_{key}"] = plain(stated["value"])
        data[f"q_{key}_on"] = stated["measured_on"]
    return data


class DemandForm(TermsForm):
    site_id = SelectField(_l("Site"))
    accepts = SelectMultipleField(_l("Accepted waste codes"), widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
    route_key = SelectField(_l("Utilisation route"), validate_choice=False)
    accepts_class = SelectMultipleField(_l("Accepted GB 18599 classes"), choices=choices_of(GB_CLASS_LABELS),
                                        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    limit_keys: tuple[str, ...] = ()

    def limit_fields(self):
        return [(key, self[f"min_{key}"], self[f"max_{key}"]) for key in self.limit_keys]

    def data_for_service(self) -> dict:
        limit_names = {f"{side}_{key}" for key in self.limit_keys for side in ("min", "max")}
        data = {k: v for k, v in self.data.items() if k != "csrf_token" and k not in limit_names}
        data["limits"] = {key: {"min": low.data, "max": high.data} for key, low, high in self.limit_fields()
                          if (low.data or "").strip() or (high.data or "").strip()}
        return data


def demand_form(attributes, sites, **kwargs) -> DemandForm:
    """A demand form with a minimum and a maximum field per catalog attribute."""
    fields = {"limit_keys": tuple(a.key for a in attributes)}
    for a in attributes:
        label = f"{local_name(a)} ({a.unit or '—'}, {plain(a.min_value)}–{plain(a.max_value)})"
        fields[f"min_{a.key}"] = StringField(label)
        fields[f"max_{a.key}"] = StringField(label)
    form = type("BoundDemandForm", (DemandForm,), fields)(**kwargs)
    form.site_id.choices = [choice(str(s.id), f"{s.code} {s.name}") for s in sites]
    form.accepts.choices = category_choices()[1:]
    form.route_key.choices = [c for c in route_choices() if not c.value or c.render_kw.get("data-kind") == "utilisation"]
    return form


def demand_initial(values: dict) -> dict:
    data = TermsForm.terms_of(values)
    data.update(site_id=str(values["site_id"]), accepts=values["accepts"], accepts_class=values["accepts_class"])
    for key, bounds in values.get("limits", {}).items():
        for side in ("min", "max"):
            data[f"{side}_{key}"] = plain(bounds[side])
    return data


def _form_field(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "quality" and len(parts) > 1:
        return f"q_{parts[1]}_on" if parts[-1] == "measured_on" else f"q_{parts[1]}"
    if parts[0] == "limits" and len(parts) > 1:
        return f"max_{parts[1]}" if parts[-1] == "max" else f"min_{parts[1]}"
    return name


def service_fields(action):
    """Run a service call, renaming the fields of its refusal to the form's field names."""
    def run():
        try:
            return action()
        except ValidationFailed as error:
            raise ValidationFailed(error.message, {_form_field(k): v for k, v in error.fields.items()}) from error
    return run


# Browsing ------------------------------------------------------------------------

def _decimal(raw: str | None) -> Decimal | None:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < 10**12 else None


def _int(raw: str | None, low: int, high: int) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and low <= int(raw) <= high else None


def filter_from_args(args, attribute_keys, my_site_ids) -> tuple[ListingFilter, str]:
    """A lenient reading of the browse query string: what is not understood is ignored.

    Quality bounds come as ``<key>_min`` / ``<key>_max`` (as in the API) or
    from the page's one-attribute picker ``quality``, ``quality_min``, ``quality_max``.
    """
    quality = {}
    for key in attribute_keys:
        low, high = _decimal(args.get(f"{key}_min")), _decimal(args.get(f"{key}_max"))
        if args.get("quality") == key:
            low = low if low is not None else _decimal(args.get("quality_min"))
            high = high if high is not None else _decimal(args.get("quality_max"))
        if low is not None or high is not None:
            quality[key] = (low, high)
    near = _int(args.get("near"), 1, 2**62)
    flt = ListingFilter(
        q=args.get("q", "")[:100], sw_code=args.get("sw", "")[:4], base=args.get("base", ""),
        division=args.get("division", "") if args.get("division") in DIVISIONS else "",
        status=args.get("status", "open") or "open", enterprise_id=_int(args.get("enterprise"), 1, 2**62),
        min_tonnes=_decimal(args.get("min_tonnes")), quality=quality,
        near=near if near in my_site_ids else None, within_km=_int(args.get("km"), 1, 1000))
    sort = args.get("sort", "")
    return flt, sort if sort in SORTS else ""

