"""The exchange pages: browse offers and demands, their pages with recommendations,
create and edit them, publish / pause / close, and an enterprise's own listings.

Views validate, call the service, commit once (``perform``) and redirect.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from wasteex.accounts.permissions import can_write_enterprise, require_enterprise_writer
from wasteex.agreements import service as agreements
from wasteex.catalog import service as catalog
from wasteex.enterprises import service as enterprises
from wasteex.forms_support import page_arg, perform
from wasteex.market import recommend, search, service
from wasteex.market.forms import (
    SORT_LABELS,
    STATUS_LABELS,
    SUPPLY_LABELS,
    TRANSPORT_LABELS,
    ActionForm,
    demand_form,
    demand_initial,
    filter_from_args,
    offer_form,
    offer_initial,
    service_fields,
)
from wasteex.streams import service as streams

bp = Blueprint("market", __name__)

# Globals rather than a context processor, so that imported macros see them too.
bp.add_app_template_global(SUPPLY_LABELS, "supply_labels")
bp.add_app_template_global(TRANSPORT_LABELS, "transport_labels")
bp.add_app_template_global(STATUS_LABELS, "listing_status_labels")
bp.add_app_template_global(SORT_LABELS, "sort_labels")

DONE = {"publish": _l("Published: the listing is open to the market."), "pause": _l("Paused."),
        "close": _l("Closed.")}


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user."""


def _status() -> int:
    """A form sent back with errors answers 422, so clients and tests can tell."""
    return 422 if request.method == "POST" else 200


def _initial(data: dict) -> dict:
    """Form defaults on GET; on POST the submitted data wins."""
    return {} if request.method == "POST" else {"data": data}


def _my_sites() -> list:
    return [site for m in current_user.memberships for site in m.enterprise.sites]


# Browsing ------------------------------------------------------------------------

def _browse(kind: str):
    attributes = catalog.attributes()
    my_sites = _my_sites()
    flt, sort = filter_from_args(request.args, [a.key for a in attributes], {s.id for s in my_sites})
    find = search.search_offers if kind == "offer" else search.search_demands
    page = find(current_user, flt, sort or None, page_arg(), current_app.config["PAGE_SIZE"])
    return render_template("market/browse.html", kind=kind, page=page, flt=flt, attributes=attributes,
                           my_sites=my_sites, categories=catalog.categories(active_only=True),
                           picked=request.args.get("quality", ""))


@bp.get("/market/offers")
def offers():
    return _browse("offer")


@bp.get("/market/demands")
def demands():
    return _browse("demand")


@bp.get("/market/mine")
def mine():
    """The first of my enterprises' listings (the page links to the others)."""
    if not current_user.memberships:
        return redirect(url_for(".offers"))
    return redirect(url_for(".listings", enterprise_id=current_user.memberships[0].enterprise_id))


@bp.get("/enterprises/<int:enterprise_id>/listings")
def listings(enterprise_id: int):
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    offers_, demands_ = service.listings_of(current_user, enterprise.id)
    return render_template("market/listings.html", enterprise=enterprise, offers=offers_, demands=demands_,
                           streams=streams.streams_of(current_user, enterprise.id, active_only=True),
                           can_write=can_write_enterprise(current_user, enterprise.id),
                           mine=[m.enterprise for m in current_user.memberships])


# Offers --------------------------------------------------------------------------

@bp.get("/market/offers/<int:offer_id>")
def offer(offer_id: int):
    offer = service.get_offer(current_user, offer_id)
    return render_template("market/offer.html", offer=offer, can_change=service.can_change(current_user, offer),
                           recs=recommend.for_offer(current_user, offer.id), action_form=ActionForm(),
                           counterparts=agreements.counterparts_for(current_user, offer))


@bp.route("/streams/<int:stream_id>/offers/new", methods=["GET", "POST"])
def new_offer(stream_id: int):
    stream = streams.get_stream(current_user, stream_id)
    require_enterprise_writer(current_user, stream.enterprise_id)
    form = offer_form(catalog.attributes(), streams.lab_reports_of(stream),
                      **_initial({"title": stream.name, "supply": "one_off", "transport_by": "either"}))
    created = perform(form, service_fields(lambda: service.create_offer(
        current_user, {**form.data_for_service(), "stream_id": stream.id})), _("Offer saved as a draft."))
    if created:
        return redirect(url_for(".offer", offer_id=created.id))
    return render_template("market/offer_form.html", form=form, stream=stream, offer=None,
                           inherited=stream.latest_quality()), _status()


@bp.route("/market/offers/<int:offer_id>/edit", methods=["GET", "POST"])
def edit_offer(offer_id: int):
    offer = service.get_offer(current_user, offer_id)
    service.require_changeable(current_user, offer)
    form = offer_form(catalog.attributes(), streams.lab_reports_of(offer.stream),
                      **_initial(offer_initial(service.offer_input(offer))))
    if perform(form, service_fields(lambda: service.update_offer(current_user, offer.id, form.data_for_service())),
               _("Saved.")):
        return redirect(url_for(".offer", offer_id=offer.id))
    return render_template("market/offer_form.html", form=form, stream=offer.stream, offer=offer,
                           inherited=offer.stream.latest_quality()), _status()


@bp.post("/market/offers/<int:offer_id>/<any(publish, pause, close):action>")
def offer_status(offer_id: int, action: str):
    perform(ActionForm(), lambda: service.offer_action(current_user, offer_id, action), str(DONE[action]))
    return redirect(url_for(".offer", offer_id=offer_id))


# Demands -------------------------------------------------------------------------

@bp.get("/market/demands/<int:demand_id>")
def demand(demand_id: int):
    demand = service.get_demand(current_user, demand_id)
    return render_template("market/demand.html", demand=demand, can_change=service.can_change(current_user, demand),
                           recs=recommend.for_demand(current_user, demand.id), action_form=ActionForm(),
                           counterparts=agreements.counterparts_for(current_user, demand))


@bp.route("/enterprises/<int:enterprise_id>/demands/new", methods=["GET", "POST"])
def new_demand(enterprise_id: int):
    enterprise = enterprises.get_enterprise(current_user, enterprise_id)
    require_enterprise_writer(current_user, enterprise.id)
    form = demand_form(catalog.attributes(), enterprises.sites_of(current_user, enterprise.id),
                       **_initial({"supply": "one_off", "accepts_class": ["I", "II"], "max_km": "100"}))
    created = perform(form, service_fields(lambda: service.create_demand(current_user, form.data_for_service())),
                      _("Demand saved as a draft."))
    if created:
        return redirect(url_for(".demand", demand_id=created.id))
    return render_template("market/demand_form.html", form=form, enterprise=enterprise, demand=None), _status()


@bp.route("/market/demands/<int:demand_id>/edit", methods=["GET", "POST"])
def edit_demand(demand_id: int):
    demand = service.get_demand(current_user, demand_id)
    service.require_changeable(current_user, demand)
    form = demand_form(catalog.attributes(), enterprises.sites_of(current_user, demand.enterprise_id),
                       **_initial(demand_initial(service.demand_input(demand))))
    if perform(form, service_fields(lambda: service.update_demand(current_user, demand.id, form.data_for_service())),
               _("Saved.")):
        return redirect(url_for(".demand", demand_id=demand.id))
    return render_template("market/demand_form.html", form=form, enterprise=demand.enterprise,
                           demand=demand), _status()


@bp.post("/market/demands/<int:demand_id>/<any(publish, pause, close):action>")
def demand_status(demand_id: int, action: str):
    perform(ActionForm(), lambda: service.demand_action(current_user, demand_id, action), str(DONE[action]))
    return redirect(url_for(".demand", demand_id=demand_id))
