"""Transfer-slip forms: a new slip, the four signatures, bulk signing, the enterprise's own reference.

The rules live in ``service`` and ``signing``; the forms only carry what the
user typed, as strings, so a refusal can show the value next to its message.
The service names a later leg's fields ``legs.1.plates``; the form's second
leg is flat (``second_plates``), and ``form_field`` translates between them.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from wasteex.catalog import service as catalog
from wasteex.errors import ValidationFailed
from wasteex.streams.forms import choice, local_name
from wasteex.transfers.queries import Box, Flag
from wasteex.transfers.states import Acceptance, Act, SlipStatus

STATUS_LABELS = {
    SlipStatus.DRAFT.value: _l("Draft"),
    SlipStatus.PUBLISHED.value: _l("Published, awaiting emission"),
    SlipStatus.EMITTED.value: _l("Dispatched"),
    SlipStatus.TRANSPORTED.value: _l("In transport"),
    SlipStatus.RECEIVED.value: _l("Received, awaiting operation"),
    SlipStatus.CLOSED.value: _l("Closed"),
    SlipStatus.REFUSED.value: _l("Refused and returned"),
    SlipStatus.CANCELLED.value: _l("Cancelled"),
}
STATUS_COLOURS = {
    SlipStatus.DRAFT.value: "secondary", SlipStatus.PUBLISHED.value: "info", SlipStatus.EMITTED.value: "primary",
    SlipStatus.TRANSPORTED.value: "primary", SlipStatus.RECEIVED.value: "warning",
    SlipStatus.CLOSED.value: "success", SlipStatus.REFUSED.value: "danger", SlipStatus.CANCELLED.value: "dark",
}
ACT_LABELS = {
    Act.EMISSION.value: _l("Emission (producer)"),
    Act.TRANSPORT.value: _l("Transport (carrier)"),
    Act.RECEPTION.value: _l("Reception (receiver)"),
    Act.OPERATION.value: _l("Operation (receiver)"),
}
ACCEPTANCE_LABELS = {
    Acceptance.ACCEPTED.value: _l("Accepted"),
    Acceptance.PARTIAL.value: _l("Partially refused"),
    Acceptance.REFUSED.value: _l("Refused"),
}
FLAG_LABELS = {
    Flag.OVERDUE_IN_TRANSIT.value: _l("Overdue in transit"),
    Flag.OVERDUE_OPERATION.value: _l("Operation overdue"),
    Flag.DISCREPANCY.value: _l("Weight discrepancy"),
    Flag.LEG_UNSIGNED.value: _l("Carrier leg unsigned"),
}
BOX_LABELS = {
    Box.TO_SIGN.value: _l("To sign"),
    Box.IN_TRANSIT.value: _l("In transit"),
    Box.DONE.value: _l("Done"),
    Box.DRAFTS.value: _l("Drafts"),
    Box.ALL.value: _l("All"),
}
REVISION_FIELD_LABELS = {
    "planned_t": _l("Planned tonnes"), "planned_on": _l("Planned dispatch date"), "itinerary": _l("Itinerary"),
    "plates": _l("Plate numbers"), "driver": _l("Driver"), "dispatched_t": _l("Dispatched tonnes (weighbridge)"),
}
REVISION_STATUS_LABELS = {"pending": _l("Waiting for an answer"), "approved": _l("Approved"),
                          "rejected": _l("Rejected")}
# The acts a weighbridge office signs in bulk; emission is signed slip by slip, over the producer's scale.
BULK_ACTS = (Act.TRANSPORT, Act.RECEPTION, Act.OPERATION)
DATE = {"type": "date"}
TONNES = {"inputmode": "decimal"}

_SECOND_LEG = {"legs.1.carrier_id": "second_carrier_id", "legs.1.plates": "second_plates",
               "legs.1.driver": "second_driver"}


def form_field(name: str) -> str:
    """The form field that shows the service's error on ``name``."""
    if name.startswith("legs.") and name not in _SECOND_LEG:
        return "second_carrier_id"  # the form has two legs; a service complaint about more lands on the second
    return _SECOND_LEG.get(name, name)


def with_form_fields(action):
    """Run a service call, renaming the fields of its refusal to the form's field names."""
    def run():
        try:
            return action()
        except ValidationFailed as error:
            raise ValidationFailed(error.message, {form_field(k): v for k, v in error.fields.items()}) from error
    return run


class ActionForm(FlaskForm):
    """Publish and discard buttons: only the CSRF token."""


class SlipForm(FlaskForm):
    planned_t = StringField(_l("Planned tonnes"), render_kw=TONNES,
                            description=_l("At most 3 decimals; taken from what the agreement has left."))
    planned_on = StringField(_l("Planned dispatch date"), render_kw=DATE)
    itinerary = TextAreaField(_l("Itinerary"), validators=[Length(max=2000)], render_kw={"rows": 2},
                              description=_l("The road taken, e.g. 薛家湾 → S24 → 大路工业园区."))
    carrier_id = SelectField(_l("Carrier"), validate_choice=False)
    plates = StringField(_l("Plate numbers"),
                         description=_l("Separate several trucks with commas, e.g. 蒙K12345, 蒙K2345D."))
    driver = StringField(_l("Driver"), validators=[Length(max=120)])
    second_carrier_id = SelectField(_l("Carrier of the second leg"), validate_choice=False)
    second_plates = StringField(_l("Plate numbers"))
    second_driver = StringField(_l("Driver"), validators=[Length(max=120)])

    def with_carriers(self, carriers) -> "SlipForm":
        options = [choice(str(e.id), e.name) for e in carriers]
        self.carrier_id.choices = [choice("", _l("Choose…"))] + options
        self.second_carrier_id.choices = [choice("", _l("No second leg"))] + options
        return self

    def service_data(self) -> dict:
        legs = [{"carrier_id": self.carrier_id.data, "plates": self.plates.data, "driver": self.driver.data}]
        second = {"carrier_id": self.second_carrier_id.data, "plates": self.second_plates.data,
                  "driver": self.second_driver.data}
        if any((value or "").strip() for value in second.values()):
            legs.append(second)
        return {"planned_t": self.planned_t.data, "planned_on": self.planned_on.data,
                "itinerary": self.itinerary.data or "", "legs": legs}


class EmissionForm(FlaskForm):
    dispatched_t = StringField(_l("Dispatched tonnes (weighbridge)"), render_kw=TONNES)
    dispatched_on = StringField(_l("Dispatch date"), render_kw=DATE)
    handler = StringField(_l("Handler"), validators=[Length(max=120)])


class TransportForm(FlaskForm):
    taken_over_on = StringField(_l("Taken over on"), render_kw=DATE)


class ReceptionForm(FlaskForm):
    received_t = StringField(_l("Received tonnes (weighbridge)"), render_kw=TONNES)
    refused_t = StringField(_l("Refused tonnes"), render_kw=TONNES, default="0",
                            description=_l("0 when you accept everything; the refused tonnes go back to the producer."))
    refusal_reason = TextAreaField(_l("Reason for the refusal"), validators=[Length(max=2000)], render_kw={"rows": 2})
    received_on = StringField(_l("Reception date"), render_kw=DATE)
    handler = StringField(_l("Handler"), validators=[Length(max=120)])


class OperationForm(FlaskForm):
    route_key = SelectField(_l("Route applied"), validate_choice=False)
    operated_on = StringField(_l("Operation date"), render_kw=DATE)
    product = StringField(_l("Product"), validators=[Length(max=255)],
                          description=_l("What was made of it, e.g. 烧结砖."))
    handler = StringField(_l("Handler"), validators=[Length(max=120)])

    def with_routes(self, sw_code: str, agreed_key: str) -> "OperationForm":
        """Only the routes that fit the slip's waste code; the agreed one preselected."""
        self.route_key.choices = [choice(r.key, local_name(r)) for r in catalog.routes(active_only=True)
                                  if r.fits(sw_code)]
        if not self.route_key.data:
            self.route_key.data = agreed_key
        return self


SIGN_FORMS = {Act.EMISSION: EmissionForm, Act.TRANSPORT: TransportForm, Act.RECEPTION: ReceptionForm,
              Act.OPERATION: OperationForm}


class TagForm(FlaskForm):
    reference = StringField(_l("Our reference"), validators=[Length(max=64)],
                            description=_l("Your own number for this slip (e.g. from your ERP); only your "
                                           "enterprise sees it and can search by it."))


class BulkForm(FlaskForm):
    """One date, handler (and route) for all the ticked slips; their ids and weights are read per row."""

    signed_on = StringField(_l("Date"), render_kw=DATE)
    handler = StringField(_l("Handler"), validators=[Length(max=120)])
    route_key = SelectField(_l("Route applied"), validate_choice=False,
                            description=_l("Leave it on the agreed route to apply each slip's own."))
    product = StringField(_l("Product"), validators=[Length(max=255)])

    def with_routes(self) -> "BulkForm":
        self.route_key.choices = [choice("", _l("The agreed route of each slip"))] + [
            choice(r.key, local_name(r)) for r in catalog.routes(active_only=True)]
        return self


class RevisionForm(FlaskForm):
    """A revision request: the fields revisable at the slip's step (the view drops the others),
    pre-filled with the slip's values; only those changed are sent."""

    planned_t = StringField(REVISION_FIELD_LABELS["planned_t"], render_kw=TONNES)
    planned_on = StringField(REVISION_FIELD_LABELS["planned_on"], render_kw=DATE)
    itinerary = TextAreaField(REVISION_FIELD_LABELS["itinerary"], validators=[Length(max=2000)], render_kw={"rows": 2})
    plates = StringField(REVISION_FIELD_LABELS["plates"])
    driver = StringField(REVISION_FIELD_LABELS["driver"], validators=[Length(max=120)])
    dispatched_t = StringField(REVISION_FIELD_LABELS["dispatched_t"], render_kw=TONNES)
    cancel = BooleanField(_l("Cancel the slip instead (before emission only)"))
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)], render_kw={"rows": 2},
                           description=_l("The other party reads it before approving or rejecting."))

    def keep_only(self, names: set[str]) -> RevisionForm:
        for name in set(REVISION_FIELD_LABELS) - names:
            delattr(self, name)
        return self


class RevisionDecisionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Length(max=2000)], description=_l("Required when rejecting."))
