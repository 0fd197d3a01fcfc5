"""The market map: a page (ECharts draws it from static/js/ordos-map.js) and its JSON."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from wasteex.catalog import service as catalog
from wasteex.maps import data
from wasteex.market.forms import filter_from_args

bp = Blueprint("maps", __name__)


@bp.before_request
@login_required
def require_login():
    """Every map needs a signed-in user."""


def _filter():
    """The list view's filters (sorting and distance do not apply to a map)."""
    flt, _sort = filter_from_args(request.args, [a.key for a in catalog.attributes()], set())
    return flt


@bp.get("/market/map")
def market():
    query = urlencode(list(request.args.items(multi=True)))  # the page's filters, passed on as they came
    points_url = url_for(".market_json") + (f"?{query}" if query else "")
    return render_template("maps/market.html", flt=_filter(), kind=request.args.get("kind", ""),
                           categories=catalog.categories(active_only=True), points_url=points_url)


@bp.get("/market/map.json")
def market_json():
    found = data.map_listings(current_user, _filter(), data.kinds_of(request.args.get("kind")))
    return jsonify(data.payload(found))
