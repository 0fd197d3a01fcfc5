"""Account forms; labels are lazily translated so they follow the request's language."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from wasteex.accounts.models import MemberRole


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)],
                             description=_l("12 to 128 characters; avoid common words and dates."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The passwords differ."))])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=120)])


class MemberForm(FlaskForm):
    email = EmailField(_l("E-mail of a registered user"), validators=[DataRequired(), Email()])
    role = SelectField(_l("Role"), choices=[
        (MemberRole.MEMBER.value, _l("Member (writes data)")),
        (MemberRole.READER.value, _l("Reader (reads only)")),
        (MemberRole.ADMIN.value, _l("Admin (manages members)")),
    ])


class CodeForm(FlaskForm):
    code = StringField(_l("6-digit code from your authenticator app"),
                       validators=[DataRequired(), Length(max=16)])


class ReauthForm(FlaskForm):
    """Either field proves it is still the user; the view checks that one of them is filled."""

    password = PasswordField(_l("Password"), validators=[Length(max=128)])
    code = StringField(_l("Or a 6-digit code from your authenticator app"), validators=[Length(max=16)])
