"""Stream, quality-value and lab-report forms. Business rules live in the service, not here.

Choices that depend on the enterprise (sites, facilities, lab reports) are filled
in by the view through ``with_choices``; the catalog choices follow the locale.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from wasteex.catalog import service as catalog
from wasteex.enterprises.models import FacilityKind
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.streams.models import GbClass, PhysicalForm
from wasteex.templating import is_english
from wasteex.numbers import plain

GB_CLASS_LABELS = {GbClass.I.value: _l("Class I"), GbClass.II.value: _l("Class II")}
PHYSICAL_FORM_LABELS = {
    PhysicalForm.SOLID.value: _l("Solid"),
    PhysicalForm.POWDER.value: _l("Powder"),
    PhysicalForm.SEMI_SOLID.value: _l("Semi-solid"),
    PhysicalForm.SLUDGE.value: _l("Sludge"),
    PhysicalForm.SLURRY.value: _l("Slurry"),
}


def choice(value: str, label, attrs: dict | None = None) -> SelectChoice:
    return SelectChoice(value, label, attrs or {})


def choices_of(labels: dict) -> list[SelectChoice]:
    return [choice(value, label) for value, label in labels.items()]


def local_name(item) -> str:
    """A catalog item's name in the page's language."""
    return item.name_en if is_english() else item.name_zh


def facility_choices(facilities, kind: FacilityKind) -> list:
    return [choice("", "—")] + [choice(str(f.id), f"{f.code} {f.name}")
                                 for f in facilities if f.kind is kind and f.active]


def route_choices() -> list:
    """Every active route; each option names the SW codes it fits (app.js hides misfits)."""
    return [choice("", "—")] + [
        choice(r.key, local_name(r), {"data-sw": " ".join(c.sw_code for c in r.categories), "data-kind": r.kind.value})
        for r in catalog.routes(active_only=True)
    ]


def category_choices() -> list:
    return [choice("", _l("Choose…"))] + [choice(c.sw_code, f"{c.sw_code} {local_name(c)}")
                                          for c in catalog.categories(active_only=True)]


class StreamForm(FlaskForm):
    site_id = SelectField(_l("Site"), coerce=str)
    name = StringField(_l("Waste name"), validators=[Length(max=255)],
                       description=_l("As the plant calls it, for example 1号机组粉煤灰."))
    sw_code = SelectField(_l("Waste code (SW)"))
    code_2024 = StringField(_l("2024 code (optional)"), validators=[Length(max=9)],
                            description=_l("9 characters: industry (3 digits), sequence (3 digits), S and 2 digits."))
    gb_class = SelectField(_l("GB 18599 class"), choices=choices_of(GB_CLASS_LABELS))
    physical_form = SelectField(_l("Physical form"), choices=choices_of(PHYSICAL_FORM_LABELS))
    process_step = StringField(_l("Process step"), validators=[Length(max=255)],
                               description=_l("The step of production that generates the waste."))
    generating_facility_id = SelectField(_l("Generating facility"), default="")
    storage_facility_id = SelectField(_l("Storage facility"), default="")
    main_components = TextAreaField(_l("Main components"), validators=[Length(max=4000)])
    hazardous_components = TextAreaField(_l("Hazardous components"), validators=[Length(max=4000)])
    expected_annual_tonnes = StringField(_l("Expected tonnes per year"))
    planned_route_key = SelectField(_l("Planned route"), default="", validate_choice=False,
                                    description=_l("Only routes that fit the chosen waste code are offered."))

    def with_choices(self, sites, facilities) -> "StreamForm":
        self.site_id.choices = [choice(str(s.id), f"{s.code} {s.name}") for s in sites]
        self.sw_code.choices = category_choices()
        self.generating_facility_id.choices = facility_choices(facilities, FacilityKind.GENERATION)
        self.storage_facility_id.choices = facility_choices(facilities, FacilityKind.STORAGE)
        self.planned_route_key.choices = route_choices()
        return self

    @staticmethod
    def initial(stream) -> dict:
        """The form's data for an existing stream."""
        return {
            "site_id": str(stream.site_id), "name": stream.name, "sw_code": stream.category.sw_code,
            "code_2024": stream.code_2024 or "", "gb_class": stream.gb_class.value,
            "physical_form": stream.physical_form.value, "process_step": stream.process_step,
            "generating_facility_id": str(stream.generating_facility_id or ""),
            "storage_facility_id": str(stream.storage_facility_id or ""),
            "main_components": stream.main_components, "hazardous_components": stream.hazardous_components,
            "expected_annual_tonnes": kg_to_tonnes_str(stream.expected_annual_kg),
            "planned_route_key": stream.planned_route.key if stream.planned_route else "",
            "active": stream.active,
        }


class StreamEditForm(StreamForm):
    active = BooleanField(_l("In use"), description=_l("Clear this when the process no longer generates the waste."))


class QualityForm(FlaskForm):
    attribute = SelectField(_l("Attribute"), validate_choice=False)
    value = StringField(_l("Value"))
    measured_on = DateField(_l("Measured on"), validators=[Optional()])
    lab_report_id = SelectField(_l("Lab report (optional)"), default="")

    def with_choices(self, reports) -> "QualityForm":
        self.attribute.choices = [choice("", _l("Choose…"))] + [
            choice(a.key, f"{local_name(a)} ({a.unit or '—'}, {plain(a.min_value)}–{plain(a.max_value)})")
            for a in catalog.attributes()
        ]
        self.lab_report_id.choices = [choice("", "—")] + [
            choice(str(r.id), f"{r.report_date.isoformat()} {r.laboratory}") for r in reports
        ]
        return self


class LabReportForm(FlaskForm):
    file = FileField(_l("Report file"), validators=[
        FileRequired(_l("Choose the report file.")),
        FileAllowed(["pdf", "png", "jpg", "jpeg"], _l("Only PDF, PNG and JPEG files are accepted.")),
    ], description=_l("PDF, PNG or JPEG, at most 10 MB."))
    laboratory = StringField(_l("Laboratory"), validators=[Length(max=120)])
    report_date = DateField(_l("Report date"), validators=[Optional()])
