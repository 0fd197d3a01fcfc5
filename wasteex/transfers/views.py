"""Transfer-slip pages: the boxes, a new slip, the slip with its signing forms, bulk signing, print, verify.

Views validate, call the service, commit once (``perform``) and redirect.
Signing needs a recent authentication: ``recent_auth_required`` sends a stale
session to confirm the password first, and the service checks it again from
the request's evidence. Everything needs a signed-in user except the public
verification page that a printed slip's QR code opens.
"""
from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wasteex.accounts.permissions import can_read_enterprise, can_write_enterprise
from wasteex.accounts.reauth import evidence_from_request, recent_auth_required
from wasteex.agreements import service as agreements
from wasteex.agreements.models import Agreement, AgreementStatus
from wasteex.database import utcnow
from wasteex.extensions import db
from wasteex.forms_support import form_data, page_arg, perform
from wasteex.ledger.models import LedgerEntry
from wasteex.listing import paginate
from wasteex.transfers import printout, queries, service, signing
from wasteex.transfers.forms import (
    ACCEPTANCE_LABELS, ACT_LABELS, BOX_LABELS, BULK_ACTS, FLAG_LABELS, REVISION_FIELD_LABELS, REVISION_STATUS_LABELS,
    SIGN_FORMS, STATUS_COLOURS, STATUS_LABELS, ActionForm, BulkForm, OperationForm, SlipForm, TagForm,
    with_form_fields,
)
from wasteex.transfers.models import TransferSlip
from wasteex.transfers.queries import Box
from wasteex.transfers.states import Act, SlipStatus

bp = Blueprint("transfers", __name__)
bp.add_app_template_global(STATUS_LABELS, "slip_status_labels")
bp.add_app_template_global(STATUS_COLOURS, "slip_status_colours")
bp.add_app_template_global(ACT_LABELS, "slip_act_labels")
bp.add_app_template_global(ACCEPTANCE_LABELS, "acceptance_labels")
bp.add_app_template_global(FLAG_LABELS, "slip_flag_labels")
bp.add_app_template_global(REVISION_FIELD_LABELS, "revision_field_labels")
bp.add_app_template_global(REVISION_STATUS_LABELS, "revision_status_labels")

PER_PAGE = 25
PRINT_LOCALE = "zh_Hans_CN"
# The date each bulk-signed section states.
BULK_DATE_FIELD = {Act.TRANSPORT: "taken_over_on", Act.RECEPTION: "received_on", Act.OPERATION: "operated_on"}


def _origin() -> signing.Origin:
    return signing.Origin(request.remote_addr, request.user_agent.string)


@bp.app_template_global()
def may_write_slips(agreement: Agreement) -> bool:
    """Whether the agreement page offers "New slip": a writer of either party, while it is in force."""
    return agreement.status is AgreementStatus.ACTIVE and any(
        can_write_enterprise(current_user, e) for e in (agreement.producer_id, agreement.utiliser_id))


@bp.app_template_global()
def agreement_slips(agreement: Agreement) -> list[TransferSlip]:
    """The agreement's slips the reader may see (the agreement page's section)."""
    return list(db.session.scalars(queries.slips_for(current_user).where(TransferSlip.agreement_id == agreement.id)))


# The boxes --------------------------------------------------------------------------

def _boxes() -> list[Box]:
    """Read-all accounts sign nothing and write no drafts: they get the other boxes."""
    if current_user.memberships:
        return list(Box)
    return [Box.IN_TRANSIT, Box.DONE, Box.ALL]


@bp.get("/transfers")
@login_required
def index():
    boxes = _boxes()
    box = next((b for b in boxes if b.value == request.args.get("box")), boxes[0])
    status = next((s for s in SlipStatus if s.value == request.args.get("status")), None)
    q = request.args.get("q", "").strip()[:64]
    stmt = queries.slips_for(current_user, box, q, status).options(
        selectinload(TransferSlip.producer), selectinload(TransferSlip.receiver))
    page = paginate(stmt, queries.SORTS, request.args.get("sort"), page_arg(), PER_PAGE)
    now = utcnow()
    return render_template(
        "transfers/index.html", page=page, boxes=boxes, box=box, status=status, q=q, box_labels=BOX_LABELS,
        flags={s.id: queries.flags_of(s, now) for s in page.items},
        references=queries.references_of(current_user, [s.id for s in page.items]),
        can_bulk=any(m.enterprise.is_carrier or m.enterprise.is_utiliser for m in current_user.memberships))


# A new slip ------------------------------------------------------------------------

@bp.route("/transfers/new", methods=["GET", "POST"])
@login_required
def new():
    raw = request.args.get("agreement", "")
    agreement = agreements.get_agreement(current_user, int(raw) if raw.isdigit() and len(raw) < 10 else 0)
    if not may_write_slips(agreement):
        abort(403)
    form = SlipForm().with_carriers(service.carrier_candidates(agreement))
    if request.method == "GET":
        today = date.today()
        form.planned_on.data = min(max(today, agreement.period_start), agreement.period_end).isoformat()
    created = perform(form, with_form_fields(lambda: service.create(current_user, agreement.id, form.service_data())))
    if created:
        flash(_("Draft %(number)s saved. Check it, then publish it: only then do the other parties see it.",
                number=created.number), "success")
        return redirect(url_for(".slip", slip_id=created.id))
    return render_template("transfers/new.html", form=form, agreement=agreement), \
        422 if request.method == "POST" else 200


@bp.post("/transfers/<int:slip_id>/publish")
@login_required
def publish(slip_id: int):
    if perform(ActionForm(), lambda: service.publish(current_user, slip_id),
               _("Published: the producer, the carriers and the receiver can now read and sign it.")):
        return redirect(url_for(".slip", slip_id=slip_id))
    return _slip_page(service.get_slip(current_user, slip_id), status=400)


@bp.post("/transfers/<int:slip_id>/discard")
@login_required
def discard(slip_id: int):
    slip = service.get_slip(current_user, slip_id)
    agreement_id, number = slip.agreement_id, slip.number
    if perform(ActionForm(), lambda: service.discard(current_user, slip_id),
               _("Draft %(number)s discarded; its tonnes are back on the agreement.", number=number)):
        return redirect(url_for("agreements.agreement", agreement_id=agreement_id))
    return _slip_page(slip, status=400)


# One slip --------------------------------------------------------------------------

def _sign_form(act: Act, slip: TransferSlip, fresh: bool = False):
    """The signing form of ``act``: from the request, or ``fresh`` (not submitted) for a page."""
    form = SIGN_FORMS[act](formdata=None) if fresh else SIGN_FORMS[act]()
    if isinstance(form, OperationForm):
        form.with_routes(slip.sw_code, slip.route.key)
    return form


def _blank_sign_form(act: Act, slip: TransferSlip):
    """A signing form as first shown: today's date and the signer as handler, weights left to the scale."""
    form = _sign_form(act, slip, fresh=True)
    today = date.today().isoformat()
    for name in ("dispatched_on", "taken_over_on", "received_on", "operated_on"):
        if hasattr(form, name):
            getattr(form, name).data = today
    if hasattr(form, "handler"):
        form.handler.data = current_user.name
    return form


def _readable_entries(slip: TransferSlip) -> dict[int, LedgerEntry]:
    """The ledger lines the signatures wrote that the reader may open (each enterprise's ledger is its own)."""
    ids = [entry_id for s in slip.signatures for entry_id in s.ledger_entry_ids]
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(ids or [-1])))
    return {e.id: e for e in entries if can_read_enterprise(current_user, e.enterprise_id)}


def _slip_page(slip: TransferSlip, submitted: dict | None = None, tag_form: TagForm | None = None, status: int = 200):
    acts = signing.open_acts(current_user, slip)
    forms = {act.value: (submitted or {}).get(act) or _blank_sign_form(act, slip) for act in acts}
    tags = service.tags_for(current_user, slip)
    may_tag = slip.status is not SlipStatus.DRAFT and any(
        can_write_enterprise(current_user, e) for e in service.party_ids(slip))
    if tag_form is None and may_tag:
        tag_form = TagForm(formdata=None, reference=tags[0].reference if tags else "")
    return render_template(
        "transfers/slip.html", slip=slip, forms=forms, next_leg=signing.next_leg(slip),
        signed={(s.act.value, s.leg_position): s for s in slip.signatures}, entries=_readable_entries(slip),
        flags=queries.flags_of(slip, utcnow()), tags=tags, tag_form=tag_form if may_tag else None,
        may_author=slip.status is SlipStatus.DRAFT and can_write_enterprise(current_user, slip.author_id),
        action_form=ActionForm()), status


@bp.get("/transfers/<int:slip_id>")
@login_required
def slip(slip_id: int):
    return _slip_page(service.get_slip(current_user, slip_id))


@bp.post("/transfers/<int:slip_id>/sign/<any(emission, transport, reception, operation):kind>")
@recent_auth_required()
def sign(slip_id: int, kind: str):
    act = Act(kind)
    slip = service.get_slip(current_user, slip_id)
    form = _sign_form(act, slip)
    signed = perform(form, lambda: signing.sign(current_user, slip.id, act, form_data(form),
                                                evidence=evidence_from_request(), origin=_origin()))
    if signed:
        flash(_("%(section)s signed; the ledger lines are written.", section=ACT_LABELS[act.value]), "success")
        return redirect(url_for(".slip", slip_id=slip.id))
    return _slip_page(slip, {act: form}, status=422)


@bp.post("/transfers/<int:slip_id>/tag")
@login_required
def tag(slip_id: int):
    form = TagForm()
    if perform(form, lambda: service.tag(current_user, slip_id, form.reference.data or ""), _("Reference saved.")):
        return redirect(url_for(".slip", slip_id=slip_id))
    return _slip_page(service.get_slip(current_user, slip_id), tag_form=form, status=422)


# Bulk signing ----------------------------------------------------------------------

def _bulk_act() -> Act:
    wanted = request.args.get("act")
    act = next((a for a in BULK_ACTS if a.value == wanted), None)
    if act is None:
        carries = any(m.enterprise.is_carrier for m in current_user.memberships)
        act = Act.TRANSPORT if carries else Act.RECEPTION
    return act


def _bulk_page(act: Act, form: BulkForm, outcomes=None, numbers: dict | None = None, status: int = 200):
    return render_template("transfers/sign_many.html", act=act, acts=BULK_ACTS, form=form,
                           slips=signing.ready_to_sign(current_user, act),
                           outcomes=outcomes, numbers=numbers or {}), status


@bp.get("/transfers/sign-many")
@login_required
def sign_many():
    form = BulkForm(formdata=None, signed_on=date.today().isoformat(), handler=current_user.name).with_routes()
    return _bulk_page(_bulk_act(), form)


@bp.post("/transfers/sign-many")
@recent_auth_required()
def sign_many_submit():
    act = _bulk_act()
    form = BulkForm().with_routes()
    ids = [int(raw) for raw in request.form.getlist("slip_ids") if raw.isdigit() and len(raw) < 11]
    data = {BULK_DATE_FIELD[act]: form.signed_on.data, "handler": form.handler.data,
            "route_key": form.route_key.data, "product": form.product.data,
            "weights": _per_slip(act, ids, form.route_key.data)}
    numbers = {s.id: s.number for s in signing.ready_to_sign(current_user, act)}
    outcomes = perform(form, lambda: signing.sign_many(current_user, ids, act, data,
                                                       evidence=evidence_from_request(), origin=_origin()))
    if outcomes:
        signed = sum(1 for o in outcomes if o.ok)
        flash(_("%(signed)s of %(total)s slips signed.", signed=signed, total=len(outcomes)),
              "success" if signed == len(outcomes) else "warning")
        return _bulk_page(act, form, outcomes, numbers)
    return _bulk_page(act, form, status=422)


def _per_slip(act: Act, ids: list[int], route_key: str) -> dict:
    """What differs per slip: the weighed tonnes at reception; the agreed route at operation, unless one is chosen."""
    if act is Act.RECEPTION:
        return {str(i): {"received_t": request.form.get(f"received_t-{i}", "")} for i in ids}
    if act is Act.OPERATION and not route_key:
        slips = db.session.scalars(select(TransferSlip).where(TransferSlip.id.in_(ids or [-1]))
                                   .options(selectinload(TransferSlip.route)))
        return {str(s.id): {"route_key": s.route.key} for s in slips}
    return {}


# Printing and verifying ------------------------------------------------------------

def _printout(slip_id: int, for_pdf: bool) -> str:
    """The slip on one A4 sheet, in Chinese whatever the reader's language: it is the paper that travels."""
    slip = service.get_slip(current_user, slip_id)
    url = printout.verification_url(slip)
    with force_locale(PRINT_LOCALE):
        return render_template("transfers/print.html", slip=slip, verification_url=url, now=utcnow(), for_pdf=for_pdf,
                               qr=printout.qr_svg(url, slip.number), entries=_readable_entries(slip),
                               signed={(s.act.value, s.leg_position): s for s in slip.signatures})


@bp.get("/transfers/<int:slip_id>/print")
@login_required
def printable(slip_id: int):
    return _printout(slip_id, for_pdf=False)


def pdf_download(slip_id: int):
    """The printed slip as a PDF attachment (the page and the API serve the same document)."""
    document = printout.pdf(_printout(slip_id, for_pdf=True))
    number = service.get_slip(current_user, slip_id).number
    return send_file(BytesIO(document), mimetype="application/pdf", download_name=f"{number}.pdf", max_age=0,
                     as_attachment=True)


@bp.get("/transfers/<int:slip_id>.pdf")
@login_required
def pdf(slip_id: int):
    return pdf_download(slip_id)


@bp.get("/verify/<number>/<token>")
def verify(number: str, token: str):
    """Public: what a printed slip's QR code opens. An unknown number and a wrong token look the same."""
    public = printout.verify(number, token)
    if public is None:
        abort(404)
    return render_template("transfers/verify.html", slip=public)
