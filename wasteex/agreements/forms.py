"""Answering a proposal and proposing directly. The rules live in the service."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

DECISION_LABELS = {"pending": _l("Waiting"), "accepted": _l("Accepted"), "declined": _l("Declined")}
PROPOSAL_STATUS_LABELS = {"pending": _l("Under negotiation"), "agreed": _l("Agreed"), "declined": _l("Declined"),
                          "withdrawn": _l("Withdrawn")}
AGREEMENT_STATUS_LABELS = {"active": _l("In force"), "completed": _l("Completed"), "cancelled": _l("Cancelled")}
ALTERNATIVE_LABELS = {
    "incompatible": _l("Not compatible"),
    "full": _l("This demand is already full with supply that costs the market fewer tonne-km."),
    "lose_tonnes": _l("Its tonnes went elsewhere; bringing them here would lose matched tonnes in the market."),
    "costlier": _l("Its tonnes went elsewhere; bringing them here would cost the market more tonne-km."),
    "tie": _l("Its tonnes went elsewhere at equal cost to the market (a tie)."),
}


class AcceptForm(FlaskForm):
    """The accept button: only the CSRF token."""


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why do you decline?"), validators=[Length(max=1000)],
                           description=_l("The other party reads this."))


class ProposeForm(FlaskForm):
    counterpart = SelectField(_l("With"), validate_choice=False)
    tonnes = StringField(_l("Tonnes"), description=_l("At most 3 decimals; no more than both listings have left."))
    price_per_t = StringField(_l("Price (yuan per tonne)"),
                              description=_l("Negative: the producer pays a gate fee. Empty: halfway between "
                                             "the asking and the offered price."))
    period_start = DateField(_l("From"), validators=[Optional()])
    period_end = DateField(_l("Until"), validators=[Optional()])
