"""Jinja globals and filters shared by every template."""
from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import get_locale

from wasteex.geo import BASE_NAMES, DIVISIONS, Base
from wasteex.numbers import plain


def is_english() -> bool:
    return str(get_locale()) == "en"


def division_name(code: str | None) -> str:
    division = DIVISIONS.get(code or "")
    if division is None:
        return code or "—"
    return division.name_en if is_english() else division.name_zh


def base_name(base: Base | str | None) -> str:
    if base is None:
        return "—"
    zh, en = BASE_NAMES[Base(base) if isinstance(base, str) else base]
    return en if is_english() else zh


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (for sort and page links)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["plain"] = plain
    app.jinja_env.globals.update(
        division_name=division_name, base_name=base_name, url_with=url_with, is_english=is_english,
        DIVISIONS=DIVISIONS, LANGUAGES=app.config["LANGUAGES"], Base=Base,
        current_locale=lambda: str(get_locale()),
    )
