"""A human-readable page for the OpenAPI document (rendered server-side, no CDN)."""
from __future__ import annotations

from flask import Blueprint, render_template

from wasteex.extensions import api

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs():
    return render_template("api/docs.html", spec=api.spec.to_dict())
