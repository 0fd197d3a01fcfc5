"""Home page: the platform's purpose, the demonstration bases and the user's next steps."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user

from wasteex.main.overview import platform_overview

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    my = current_user.memberships if current_user.is_authenticated else []
    return render_template("main/home.html", overview=platform_overview(), memberships=my)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
