"""Forms for correcting catalog entries (platform admins)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length


class NamesForm(FlaskForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=120)])


class CategoryForm(NamesForm):
    s_code = StringField(_l("2024 category (S##)"), validators=[DataRequired(), Length(max=3)])
    active = BooleanField(_l("In use"))


class AttributeForm(NamesForm):
    unit = StringField(_l("Unit"), validators=[Length(max=16)])
    min_value = DecimalField(_l("Minimum"), validators=[DataRequired()])
    max_value = DecimalField(_l("Maximum"), validators=[DataRequired()])


class RouteForm(NamesForm):
    kind = SelectField(_l("Kind"), choices=[("utilisation", _l("Utilisation")), ("disposal", _l("Disposal"))])
    sw_codes = SelectMultipleField(_l("Waste codes it fits (none: any)"))
    active = BooleanField(_l("In use"))
