"""Enterprise, site and facility forms. Business rules live in the service, not here."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation

from wasteex.enterprises.models import FacilityKind
from wasteex.geo import DIVISIONS, GAZETTEER


def division_choices():
    return [("", _l("Choose…"))] + [(d.code, f"{d.name_zh} {d.code}") for d in DIVISIONS.values()]


class EnterpriseForm(FlaskForm):
    name = StringField(_l("Enterprise name"), validators=[DataRequired(), Length(max=255)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=18)],
                              description=_l("18 characters, as printed on the business licence."))
    is_producer = BooleanField(_l("Producer (产废单位)"))
    is_utiliser = BooleanField(_l("Utiliser (利用单位)"))
    is_carrier = BooleanField(_l("Carrier (运输单位)"))
    industry = StringField(_l("Industry"), validators=[DataRequired(), Length(max=120)],
                           description=_l("For example: thermal power, coal mining, cement."))
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=255)])
    division_code = SelectField(_l("Banner or district"), validators=[DataRequired()])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=120)])
    contact_phone = StringField(_l("Contact phone"), validators=[DataRequired(), Length(max=32)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.division_code.choices = division_choices()


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


def finite(form, field):
    """NaN and infinities stop here: NumberRange cannot compare a signalling NaN."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Enter a number."))


class SiteForm(FlaskForm):
    name = StringField(_l("Site name"), validators=[DataRequired(), Length(max=255)])
    code = StringField(_l("Site code"), validators=[DataRequired(), Length(max=40)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=255)])
    place = SelectField(_l("Pick a known town or industrial park"), validators=[Optional()],
                        description=_l("Fills in the banner and coordinates; you can refine them."))
    division_code = SelectField(_l("Banner or district"), validators=[DataRequired()])
    latitude = DecimalField(_l("Latitude (WGS-84)"), places=6,
                            validators=[DataRequired(), finite, NumberRange(-90, 90)])
    longitude = DecimalField(_l("Longitude (WGS-84)"), places=6,
                             validators=[DataRequired(), finite, NumberRange(-180, 180)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.division_code.choices = division_choices()
        self.place.choices = [SelectChoice("", "—")] + [
            SelectChoice(p.key, p.name_zh,
                         {"data-lat": str(p.lat), "data-lon": str(p.lon), "data-division": p.division_code})
            for p in GAZETTEER
        ]


class FacilityForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[
        (FacilityKind.GENERATION.value, _l("Generation facility")),
        (FacilityKind.STORAGE.value, _l("Storage facility")),
        (FacilityKind.SELF_UTILISATION.value, _l("Self-utilisation facility")),
        (FacilityKind.SELF_DISPOSAL.value, _l("Self-disposal facility")),
    ])
    code = StringField(_l("Facility code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Facility name"), validators=[DataRequired(), Length(max=255)])
    responsible_person = StringField(_l("Responsible person"), validators=[DataRequired(), Length(max=120)])
